"""Other-affiliation head counts of SPEC §3: per grade K1-P6, boys and girls, zero when closed."""

from flask_babel import gettext as _
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from models import OtherSchool, OtherSchoolCount, Round
from models.people import COUNT_GRADES

from . import validates, windows


@validates(OtherSchoolCount)
def check_count(session: Session, count: OtherSchoolCount) -> list[str]:
    """Counts are whole numbers from zero, K1 to P6, and zero for a closed school (an empty
    count is stored as 0)."""
    problems = []
    count.boys = 0 if count.boys is None else count.boys
    count.girls = 0 if count.girls is None else count.girls
    if count.grade not in COUNT_GRADES:
        problems.append(_("Counts are entered for grades K1 to P6 only."))
    for value in (count.boys, count.girls):
        if not isinstance(value, int) or value < 0:
            problems.append(_("The number of boys and girls must be whole numbers, 0 or more."))
            break
    with session.no_autoflush:
        school = count.other_school
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
