"""Other-affiliation head counts of SPEC §3: per grade K1-P6, boys and girls, zero when closed,
never more than one school can have, and a word when they come from another year's table."""

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

import clock
from i18n import be_date
from models import OtherSchool, OtherSchoolCount, Round
from models.people import COUNT_GRADES, GRADE_LABELS

from . import validates, windows

#: The most learners of one gender in one grade of one school. Thailand's largest schools teach
#: a few hundred children in a grade, so even a boys' or girls' school has well under a thousand
#: of one gender there; 2,000 leaves room for any real school yet refuses a count typed with a
#: digit or more too many, which would otherwise swell the snapshot and the budget estimate, or
#: overflow PostgreSQL's integer column into a server error.
MOST_PER_GRADE = 2_000


def count_problem(value: Any, school: str, grade: str, gender: str) -> str | None:
    """What is wrong with the number of boys or girls (`gender`) in one grade of a school: the
    grid shows it beside the field, the OBEC reader for the row, the flush for any other path."""
    boys = gender == "boys"
    if not isinstance(value, int) or value < 0:
        if boys:
            return _("%(school)s, %(grade)s: the number of boys must be a whole number, 0 or "
                     "more.", school=school, grade=grade)
        return _("%(school)s, %(grade)s: the number of girls must be a whole number, 0 or more.",
                 school=school, grade=grade)
    if value <= MOST_PER_GRADE:
        return None
    if boys:
        return _("%(school)s, %(grade)s: %(count)s boys is more than one grade of a school has "
                 "(at most %(most)s). Check the number.", school=school, grade=grade,
                 count=f"{value:,}", most=f"{MOST_PER_GRADE:,}")
    return _("%(school)s, %(grade)s: %(count)s girls is more than one grade of a school has "
             "(at most %(most)s). Check the number.", school=school, grade=grade,
             count=f"{value:,}", most=f"{MOST_PER_GRADE:,}")


def as_of_warning(as_of: date | None, round_: Round) -> str | None:
    """A warning, not a refusal, when OBEC's table counts another academic year than the round:
    most likely last year's file, though an LAO may knowingly use it until OBEC's is out."""
    if as_of is None or clock.academic_year(as_of) == round_.academic_year:
        return None
    return _("This table gives OBEC's counts as of %(date)s, in academic year %(year)d, but "
             "round %(round)s counts academic year %(round_year)d. Check that it is the table "
             "of this year before saving its counts.", date=be_date(as_of),
             year=clock.academic_year(as_of), round=str(round_),
             round_year=round_.academic_year)


@validates(OtherSchoolCount)
def check_count(session: Session, count: OtherSchoolCount) -> list[str]:
    """Counts are whole numbers from zero to what one school can have, K1 to P6, and zero for a
    closed school (an empty count is stored as 0)."""
    problems = []
    count.boys = 0 if count.boys is None else count.boys
    count.girls = 0 if count.girls is None else count.girls
    if count.grade not in COUNT_GRADES:
        problems.append(_("Counts are entered for grades K1 to P6 only."))
    with session.no_autoflush:  # a new row may carry only the school's id
        school = count.other_school or (session.get(OtherSchool, count.other_school_id)
                                        if count.other_school_id is not None else None)
    name = school.name if school is not None else "-"
    grade = str(GRADE_LABELS.get(count.grade, count.grade or "-"))
    for value, gender in ((count.boys, "boys"), (count.girls, "girls")):
        if problem := count_problem(value, name, grade, gender):
            problems.append(problem)
    if school is not None and school.closed and (count.boys or count.girls):
        problems.append(_("%(school)s is closed: its counts must be zero.", school=school.name))
    return problems


@validates(OtherSchool)
def check_other_school(session: Session, school: OtherSchool) -> list[str]:
    """A school marked closed has no learners: refuse it while a running round still counts
    some, so the list and the grid never show counts beside "closed"."""
    state = inspect(school)
    if not school.closed or not (state.pending or state.attrs.closed.history.has_changes()):
        return []
    if school.id is None:
        return []
    with session.no_autoflush:
        rounds = session.scalars(
            select(Round).join(OtherSchoolCount, OtherSchoolCount.round_id == Round.id)
            .where(OtherSchoolCount.other_school_id == school.id,
                   (OtherSchoolCount.boys > 0) | (OtherSchoolCount.girls > 0))
            .distinct()).all()
    running = [r for r in rounds if not windows.is_closed(r)]
    if running:
        return [_("%(school)s still has learners counted in round %(round)s. Set its counts to "
                  "zero first, then mark it closed.", school=school.name,
                  round=str(running[0]))]
    return []
