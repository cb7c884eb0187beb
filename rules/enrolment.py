"""Enrolment rules of SPEC §3: grades, one active enrolment nationwide, removal, rollover."""

from collections.abc import Iterable
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

import clock
from i18n import be_cell_date, be_date
from models import Enrolment, Institution, Learner, Round
from models.people import (
    GRADE_AGE,
    GRADE_LABELS,
    GRADES_BY_KIND,
    REMOVAL_REASON_LABELS,
    EnrolmentStatus,
    RemovalReason,
    next_grade,
)

from . import RuleViolation, validates
from .identity import THAI_DIGITS
from .windows import intake_year_problem

ROLLOVER_ACTIONS = ("promote", "repeat", "graduate", "withdraw")


def current_academic_year(session: Session, today: date | None = None) -> int:
    """The latest year with a round, else the BE year whose term began on 16 May."""
    latest = session.scalar(select(func.max(Round.academic_year)))
    if latest:
        return latest
    return clock.academic_year(today)


def grade_problems(grade: str | None, kind: str) -> list[str]:
    """A school teaches K1-M6; a centre takes children aged 2 to 5."""
    if grade not in GRADES_BY_KIND.get(kind, ()):
        return [_("Grade %(grade)s is not taught at this kind of institution.",
                  grade=GRADE_LABELS.get(grade or "", grade or "-"))]
    return []


def age_at_year_start(birth_date: date, academic_year: int) -> int:
    """Completed years of age on the first day of academic year `academic_year` (BE)."""
    start = clock.term_start(academic_year)
    return start.year - birth_date.year - ((start.month, start.day)
                                           < (birth_date.month, birth_date.day))


def age_warning(birth_date: date | None, grade: str, academic_year: int,
                on_form: bool = True) -> str | None:
    """A warning (not a refusal) when a learner is two or more years off the usual age; on a
    form it asks for the confirmation box, in an import's lines to check for a second look."""
    if birth_date is None or grade not in GRADE_AGE:
        return None
    age = age_at_year_start(birth_date, academic_year)
    if age < 0:  # never show a negative age: say what is wrong with the date instead
        if not on_form:
            return _("By this birth date the learner was not yet born when academic year "
                     "%(year)d began. Check the birth date.", year=academic_year)
        return _("By this birth date the learner was not yet born when academic year %(year)d "
                 "began. Check the birth date; tick the confirmation box only if it is correct.",
                 year=academic_year)
    if abs(age - GRADE_AGE[grade]) < 2:
        return None
    if not on_form:
        return _("The learner is %(age)d years old at the start of the year, unusual for "
                 "%(grade)s (usually %(usual)d). Check the birth date and the grade.",
                 age=age, grade=GRADE_LABELS[grade], usual=GRADE_AGE[grade])
    return _("The learner is %(age)d years old at the start of the year, unusual for "
             "%(grade)s (usually %(usual)d). Tick the confirmation box if this is correct.",
             age=age, grade=GRADE_LABELS[grade], usual=GRADE_AGE[grade])


def _learner_keys(enrolment: Enrolment) -> set[tuple[str, int, int]]:
    """Ways to recognise the learner of a pending row: the object itself or its saved id."""
    keys = set()
    if enrolment.learner is not None:
        keys.add(("object", id(enrolment.learner), enrolment.academic_year))
    if enrolment.learner_id is not None:
        keys.add(("id", enrolment.learner_id, enrolment.academic_year))
    return keys


def _pending_active(session: Session) -> dict[tuple[str, int, int], list[Enrolment]]:
    """New active enrolments of this flush by (learner object, year), built once per flush."""
    pending = session.info.get("lec_pending_active")
    if pending is None:
        pending = {}
        for other in session.new:
            if isinstance(other, Enrolment) and other.status in (None, EnrolmentStatus.ACTIVE):
                for key in _learner_keys(other):
                    pending.setdefault(key, []).append(other)
        session.info["lec_pending_active"] = pending
    return pending


def active_elsewhere(session: Session, enrolment: Enrolment) -> Enrolment | None:
    """Another active enrolment of the same learner in the same year, saved or pending."""
    learner_id = enrolment.learner_id or (enrolment.learner.id if enrolment.learner else None)
    pending = _pending_active(session)
    for key in _learner_keys(enrolment):
        for other in pending.get(key, ()):
            if other is not enrolment:
                return other
    if learner_id is None:
        return None
    with session.no_autoflush:
        return session.scalar(select(Enrolment).where(
            Enrolment.learner_id == learner_id,
            Enrolment.academic_year == enrolment.academic_year,
            Enrolment.status == EnrolmentStatus.ACTIVE,
            Enrolment.id != (enrolment.id or 0)).limit(1))


def already_active_message(other: Enrolment, enrolling: Institution | None = None) -> str:
    """Who holds the learner, so the two institutions can agree on a transfer; when it is the
    enrolling institution itself there is nobody to ask, only the enrolment to open."""
    institution = other.institution
    if enrolling is not None and (institution is enrolling or (
            enrolling.id is not None and other.institution_id == enrolling.id)):
        return _("This learner is already enrolled at this institution for academic year "
                 "%(year)d, in %(grade)s. Open their enrolment in the list to change it.",
                 year=other.academic_year, grade=GRADE_LABELS.get(other.grade, other.grade))
    return _("This learner is already studying in academic year %(year)d at %(code)s %(name)s "
             "(%(lao)s, contact %(contact)s). Ask that institution to record the learner as "
             "transferred out first.",
             year=other.academic_year, code=institution.code, name=institution.name,
             lao=institution.lao.name,
             contact=institution.phone or institution.email or institution.lao.phone or "-")


def duplicate_message(session: Session, learner_id: int, academic_year: int) -> str:
    """The same message when the database's unique index, not the rule, caught a race."""
    other = session.scalar(select(Enrolment).where(
        Enrolment.learner_id == learner_id, Enrolment.academic_year == academic_year,
        Enrolment.status == EnrolmentStatus.ACTIVE))
    if other is None:
        return _("Another institution enrolled this learner at the same moment. Try again.")
    return already_active_message(other)


def enrol(learner: Learner, institution: Institution, academic_year: int, grade: str | None,
          *, classroom: str | None = None, enrolled_on: date | None = None) -> Enrolment:
    """The active enrolment of `learner` at `institution` for the year: the one way the learner
    form, admission and the importer enrol someone; the rules check it when it is flushed."""
    # institution_id too: the confirmation lock reads the column before the flush.
    return Enrolment(learner=learner, institution=institution, institution_id=institution.id,
                     academic_year=academic_year, grade=grade, classroom=classroom,
                     enrolled_on=enrolled_on, status=EnrolmentStatus.ACTIVE)


def commit_enrolment(session: Session, national_id: str, academic_year: int) -> None:
    """Commit a new enrolment; if a concurrent request enrolled the learner first (the unique
    indexes catch it), roll back and raise the rule's message naming who holds them."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = session.scalar(select(Learner.id).where(Learner.national_id == national_id))
        if existing is None:
            raise RuleViolation(_("Another user saved this learner at the same moment. "
                                  "Check the ID again.")) from None
        raise RuleViolation(duplicate_message(session, existing, academic_year)) from None


def enrolment_date_problems(enrolled_on: date | None, academic_year: int | None) -> list[str]:
    """An enrolment date after its academic year has ended is a mistyped year (16/05/2572 for
    2569), not a date the learner came: it would also read as a late enrolment in every check.
    A date years before is kept: old registers give the day the learner first came."""
    if enrolled_on is None or academic_year not in clock.BE_YEARS:
        return []
    last_day = clock.term_start(academic_year + 1) - timedelta(days=1)
    if enrolled_on <= last_day:
        return []
    return [_("The enrolment date %(date)s is after academic year %(year)d ends (%(last)s). "
              "Check the year: it is a Buddhist Era year such as %(year)d.",
              date=be_cell_date(enrolled_on), year=academic_year, last=be_cell_date(last_day))]


def file_year_warning(file_year: int | None, year: int) -> str | None:
    """A file that names another academic year than the one imported into is most likely last
    year's report: its grades are last year's. Said, not refused: a school may knowingly start
    from it."""
    if file_year is None or file_year == year:
        return None
    return _("The file is of academic year %(file_year)d, but it is being imported into "
             "academic year %(year)d: its grades and classrooms would be recorded as this "
             "year's. Check that this is the file of academic year %(year)d before you "
             "confirm.", file_year=file_year, year=year)


def _stored_status(session: Session, enrolment: Enrolment) -> str | None:
    """The status saved before this change, read only when a saved row's status changes."""
    state = inspect(enrolment)
    history = state.attrs.status.history
    if not state.persistent or not history.has_changes():
        return None
    if history.deleted:
        return history.deleted[0]
    with session.no_autoflush:  # the row was expired: ask the database what it holds
        return session.scalar(select(Enrolment.status).where(Enrolment.id == enrolment.id))


def normalise_classroom(classroom: str | None) -> str | None:
    """A classroom as one spelling: "๑/๒" typed on a form and "1/2" in a file are one room of
    the counts by classroom; spaces trimmed and single, nothing typed is none."""
    if classroom is None:
        return None
    return " ".join(classroom.translate(THAI_DIGITS).split()) or None


@validates(Enrolment)
def check_enrolment(session: Session, enrolment: Enrolment) -> list[str]:
    """Grade fits the institution, one active enrolment per year, removal has a reason and is
    final. Also fills the default status and the time the status changed, and drops a removal
    reason the status no longer needs."""
    if enrolment.status is None:  # the column default comes too late for the rules
        enrolment.status = EnrolmentStatus.ACTIVE
    enrolment.classroom = normalise_classroom(enrolment.classroom)
    with session.no_autoflush:
        institution = enrolment.institution or session.get(Institution, enrolment.institution_id)
        if enrolment.learner is None and enrolment.learner_id is None:
            return [_("Choose the learner.")]
    if institution is None:
        return [_("Choose the institution.")]
    problems = grade_problems(enrolment.grade, institution.kind)
    if enrolment.academic_year not in clock.BE_YEARS:
        problems.append(_("The academic year is a Buddhist Era year such as 2568."))
    if enrolment.status not in tuple(EnrolmentStatus):
        problems.append(_("Choose a valid status."))
    state = inspect(enrolment)
    if not state.persistent or state.attrs.enrolled_on.history.has_changes():
        # One stored before the rule must not stop a change of grade or status.
        problems += enrolment_date_problems(enrolment.enrolled_on, enrolment.academic_year)
    if enrolment.status == EnrolmentStatus.ACTIVE:
        other = active_elsewhere(session, enrolment)
        if other is not None:
            problems.append(already_active_message(other, institution))
    if enrolment.status == EnrolmentStatus.REMOVED:
        if enrolment.removal_reason not in tuple(RemovalReason):
            problems.append(_("Choose the reason the learner is removed from the system."))
        elif (enrolment.removal_reason == RemovalReason.OTHER
              and not (enrolment.removal_note or "").strip()):
            problems.append(_("Describe the reason in the note when it is 'other'."))
    elif _stored_status(session, enrolment) == EnrolmentStatus.REMOVED:
        problems.append(_("A learner removed from the system stays removed; the removal is kept "
                          "for the record. If the learner does study here, enrol them again by "
                          "their ID."))
    elif enrolment.removal_reason:
        enrolment.removal_reason = None
    if state.attrs.status.history.has_changes():
        enrolment.status_changed_at = clock.now()
    return problems


def roll_over(session: Session, enrolment: Enrolment, action: str,
              carried: set[int] | None = None,
              years: dict[int, str | None] | None = None) -> Enrolment | None:
    """Apply one rollover action to last year's enrolment; the new year's row if one is made.

    Promote and repeat carry the learner into the next year at the same institution, if that
    year takes learners now (as an import would); graduate and withdraw close the year. A row
    already carried over is left alone, so re-running is safe. In bulk, `carried` (learner ids
    already active next year) and `years` (each year's answer, kept between rows) save queries
    per row.
    """
    if action not in ROLLOVER_ACTIONS:
        raise ValueError(action)
    if enrolment.status != EnrolmentStatus.ACTIVE:
        return None
    if action == "graduate":
        enrolment.status = EnrolmentStatus.GRADUATED
        return None
    if action == "withdraw":
        enrolment.status = EnrolmentStatus.WITHDRAWN
        return None
    year = enrolment.academic_year + 1
    if carried is not None:
        exists = enrolment.learner_id in carried
    else:
        with session.no_autoflush:
            exists = session.scalar(select(Enrolment.id).where(
                Enrolment.learner_id == enrolment.learner_id, Enrolment.academic_year == year,
                Enrolment.status == EnrolmentStatus.ACTIVE).limit(1))
    if exists:
        return None
    years = {} if years is None else years
    if year not in years:
        years[year] = intake_year_problem(session, year)
    if years[year]:
        raise RuleViolation(years[year])
    grade = enrolment.grade if action == "repeat" else next_grade(enrolment.grade)
    if grade is None:
        raise RuleViolation(_("%(name)s is in the last grade and cannot be promoted; "
                              "record them as graduated instead.", name=enrolment.learner))
    new = Enrolment(learner_id=enrolment.learner_id, institution_id=enrolment.institution_id,
                    academic_year=year, grade=grade, classroom=enrolment.classroom,
                    enrolled_on=clock.term_start(year), status=EnrolmentStatus.ACTIVE)
    # The learner is already loaded: named on the new row (for its audit entry) without a
    # change to the learner's own collection, which would send every learner through its rules.
    set_committed_value(new, "learner", enrolment.learner)
    session.add(new)
    return new


def carried_forward(session: Session, enrolment: Enrolment) -> list[Enrolment]:
    """The learner's later active years at the same institution, which a rollover carried over
    from `enrolment`: a learner removed as non-existent goes from those too (SPEC §3, removed
    learners count nowhere), while a later year somewhere else is that institution's."""
    return list(session.scalars(select(Enrolment).where(
        Enrolment.learner_id == enrolment.learner_id,
        Enrolment.institution_id == enrolment.institution_id,
        Enrolment.academic_year > enrolment.academic_year,
        Enrolment.status == EnrolmentStatus.ACTIVE).order_by(Enrolment.academic_year)))


def removed_here(session: Session, institution_id: int, academic_year: int,
                 learner_ids: Iterable[int]) -> dict[int, str]:
    """Why a file may not enrol each of `learner_ids` whom this institution removed as
    non-existent: their latest enrolment here up to `academic_year` is removed and none here
    came after it. A file is no decision that a removed learner exists after all; a person
    enrolling them by ID is (SPEC §3), so that path stays open, and a removal at another
    institution is that institution's, not this one's.

    One query however long the file: it starts from this institution's removals, which are
    few, and reads every enrolment here of those learners."""
    wanted = set(learner_ids)
    removed = select(Enrolment.learner_id).where(
        Enrolment.institution_id == institution_id, Enrolment.academic_year <= academic_year,
        Enrolment.status == EnrolmentStatus.REMOVED)
    latest: dict[int, Enrolment] = {}
    kept_later: set[int] = set()
    with session.no_autoflush:
        for row in session.scalars(select(Enrolment).where(
                Enrolment.institution_id == institution_id, Enrolment.learner_id.in_(removed))
                .order_by(Enrolment.academic_year, Enrolment.id)):
            if row.academic_year <= academic_year:
                latest[row.learner_id] = row
            elif row.status != EnrolmentStatus.REMOVED:
                kept_later.add(row.learner_id)
    return {learner_id: _removed_message(row) for learner_id, row in latest.items()
            if row.status == EnrolmentStatus.REMOVED and learner_id in wanted
            and learner_id not in kept_later}


def _removed_message(removal: Enrolment) -> str:
    """When and why the learner was removed, and the one way back: enrolling them by ID."""
    reason = (removal.removal_note if removal.removal_reason == RemovalReason.OTHER
              and removal.removal_note else
              str(REMOVAL_REASON_LABELS.get(removal.removal_reason, removal.removal_reason)))
    if removal.status_changed_at is None:
        return _("This institution removed this learner from the system as non-existent in "
                 "academic year %(year)d (reason: %(reason)s), so a file cannot enrol them "
                 "again. If the learner really does exist and study here, enrol them one by one "
                 "with \"Check by ID and enrol\" in the learner list.",
                 year=removal.academic_year, reason=reason)
    return _("This institution removed this learner from the system as non-existent in "
             "academic year %(year)d, on %(date)s (reason: %(reason)s), so a file cannot enrol "
             "them again. If the learner really does exist and study here, enrol them one by "
             "one with \"Check by ID and enrol\" in the learner list.",
             year=removal.academic_year, date=be_date(removal.status_changed_at), reason=reason)


def last_enrolment(session: Session, learner: Learner) -> Enrolment | None:
    """The learner's most recent enrolment, for 'check by ID' carry-over."""
    return session.scalar(select(Enrolment).where(Enrolment.learner_id == learner.id)
                          .order_by(Enrolment.academic_year.desc(), Enrolment.id.desc())
                          .limit(1))
