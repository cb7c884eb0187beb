"""Round windows (SPEC §4): a round takes writes from its opening day until 24:00 Bangkok time
of its closing day; outside that only the department level writes to it.

The clock is `clock`; tests freeze it by replacing `clock.now`.
"""

from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, inspect, select
from sqlalchemy.orm import Session

import clock
from i18n import be_date
from models import Confirmation, Enrolment, OtherSchoolCount, Round, SpotCheck
from models.people import EnrolmentStatus
from models.rounds import ConfirmLevel

from . import RuleViolation, current_actor, validates
from .permissions import confirms, may_write_outside_window


def opens_at(round_: Round) -> datetime:
    return datetime.combine(round_.opens_on, time(0), clock.BANGKOK)


def closes_at(round_: Round) -> datetime:
    """24:00 Bangkok time on the closing day, i.e. the first instant of the next day."""
    return datetime.combine(round_.closes_on + timedelta(days=1), time(0), clock.BANGKOK)


def is_open(round_: Round, at: datetime | None = None) -> bool:
    at = at or clock.now()
    return opens_at(round_) <= at < closes_at(round_)


def is_closed(round_: Round, at: datetime | None = None) -> bool:
    """Past its closing time (a round not yet opened is not closed)."""
    return (at or clock.now()) >= closes_at(round_)


def days_to(deadline: date) -> int:
    """Days from today (Bangkok) to `deadline`; negative once it has passed."""
    return (deadline - clock.today()).days


def deadline_of(round_: Round, user: Any) -> date:
    """The deadline `user` works to: their own confirmation's; the department follows the
    provinces'."""
    return getattr(round_, f"{confirms(user) or ConfirmLevel.PROVINCE}_deadline")


def is_late(round_: Round, level: str) -> bool:
    """Whether `level`'s deadline in the round (institution, LAO, province) has passed."""
    return days_to(getattr(round_, f"{level}_deadline")) < 0


def window_problem(round_: Round) -> str | None:
    """Why a non-department write to `round_` is refused now, or None while it is open."""
    if is_open(round_):
        return None
    if clock.now() < opens_at(round_):
        return _("Round %(round)s opens for recording on %(date)s. Please wait until then; only "
                 "the department can record data before it opens.",
                 round=str(round_), date=be_date(round_.opens_on))
    return _("Round %(round)s closed for recording on %(date)s at 24:00. Ask the department to "
             "extend or reopen the round.", round=str(round_), date=be_date(round_.closes_on))


def year_problem(session: Session, academic_year: int) -> str | None:
    """A year's records are open while one of its rounds is; a year without rounds is open."""
    rounds = session.scalars(select(Round).where(Round.academic_year == academic_year)).all()
    if not rounds or any(is_open(r) for r in rounds):
        return None
    latest = max(rounds, key=lambda r: r.closes_on)
    return window_problem(latest)


def intake_year_problem(session: Session, academic_year: int) -> str | None:
    """Why learners may not be brought into `academic_year` now by an import or a rollover, or
    None: once rounds exist, only a year with an open round takes them, so neither path reaches
    ahead of the rounds (next year, typed by hand or rolled into too early)."""
    if may_write_outside_window(current_actor()):
        return None
    with session.no_autoflush:
        if session.scalar(select(Round.id).where(Round.academic_year == academic_year).limit(1)):
            return year_problem(session, academic_year)
        if session.scalar(select(Round.id).limit(1)) is None:
            return None  # a fresh install without rounds yet
    return _("Academic year %(year)d has no collection round yet: learners are imported or "
             "rolled over into a year only while its round is open. Ask the department to open "
             "the round first.", year=academic_year)


#: What a rollover records of how a finished year ended: its only change to that year's row.
YEAR_END_STATUSES = (EnrolmentStatus.GRADUATED, EnrolmentStatus.WITHDRAWN)


def closes_the_year(enrolment: Enrolment) -> bool:
    """Whether this flush only marks an active enrolment graduated or withdrawn (a rollover's
    graduate or withdraw). Once every round of its year has closed, that changes no round's
    counts (their snapshots are final), so neither the windows nor the locks refuse it."""
    state = inspect(enrolment)
    if state.pending or state.deleted or enrolment.status not in YEAR_END_STATUSES:
        return False
    changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
    return (changed <= {"status", "status_changed_at"}
            and list(state.attrs.status.history.deleted) == [EnrolmentStatus.ACTIVE])


def year_has_ended(session: Session, academic_year: int) -> bool:
    """Every round of `academic_year` has closed (a year without rounds has not ended)."""
    rounds = session.scalars(select(Round).where(Round.academic_year == academic_year)).all()
    return bool(rounds) and all(is_closed(r) for r in rounds)


def _round(session: Session, round_id: int | None) -> Round | None:
    with session.no_autoflush:
        return session.get(Round, round_id) if round_id is not None else None


def problems(session: Session) -> list[str]:
    """What the pending flush writes to a round outside its window."""
    found: list[str | None] = []
    years: set[int] = set()
    closing: set[int] = set()
    changed = list(session.new) + list(session.deleted) + [
        o for o in session.dirty if session.is_modified(o)]
    for obj in changed:
        if isinstance(obj, Confirmation | OtherSchoolCount):
            round_ = obj.round or _round(session, obj.round_id)
            if round_ is not None:
                found.append(window_problem(round_))
        elif isinstance(obj, Enrolment) and obj.academic_year is not None:
            (closing if closes_the_year(obj) else years).add(obj.academic_year)
    with session.no_autoflush:
        years |= {year for year in closing - years if not year_has_ended(session, year)}
        found += [year_problem(session, year) for year in sorted(years)]
    return [p for p in dict.fromkeys(found) if p]


#: Round numbers of one year: ครั้งที่ 1 and the few later rounds that may follow (SPEC §4).
ROUND_NUMBERS = range(1, 11)


def round_date_bounds(academic_year: int) -> tuple[date, date]:
    """The earliest and latest dates a round of `academic_year` may carry: from the start of
    the year before (a round opens ahead of the term) to the end of the second year after (the
    department extends and reopens rounds late), so a mistyped year is caught."""
    first_year = clock.ce_year(academic_year)
    return date(first_year - 1, 1, 1), date(first_year + 2, 12, 31)


def date_order_problems(round_: Round) -> list[str]:
    """The round opens, then institutions, LAOs and provinces confirm in turn, then it closes."""
    opens, closes = round_.opens_on, round_.closes_on
    institution, lao, province = (
        round_.institution_deadline, round_.lao_deadline, round_.province_deadline)
    if closes < opens:
        return [_("The round closes on %(closes)s, before it opens on %(opens)s.",
                  closes=be_date(closes), opens=be_date(opens))]
    found = []
    if institution < opens:
        found.append(_("The institution deadline %(deadline)s is before the round opens on "
                       "%(opens)s.", deadline=be_date(institution), opens=be_date(opens)))
    if lao < institution:
        found.append(_("The LAO deadline %(lao)s is before the institution deadline "
                       "%(institution)s: an LAO confirms after its institutions.",
                       lao=be_date(lao), institution=be_date(institution)))
    if province < lao:
        found.append(_("The province deadline %(province)s is before the LAO deadline %(lao)s: "
                       "a province confirms after its LAOs.",
                       province=be_date(province), lao=be_date(lao)))
    if closes < province:
        found.append(_("The round closes on %(closes)s, before the province deadline "
                       "%(province)s: it closes on that deadline or later.",
                       closes=be_date(closes), province=be_date(province)))
    return found


def date_range_problems(round_: Round) -> list[str]:
    """A date far from the round's academic year is a mistyped year (2500 for 2569)."""
    first, last = round_date_bounds(round_.academic_year)
    found = []
    if round_.opens_on < first:
        found.append(_("The round opens on %(opens)s, too long before academic year %(year)d: "
                       "a round of that year opens on %(first)s or later.",
                       opens=be_date(round_.opens_on), year=round_.academic_year,
                       first=be_date(first)))
    if round_.closes_on > last:
        found.append(_("The round closes on %(closes)s, too long after academic year %(year)d: "
                       "a round of that year closes by %(last)s.",
                       closes=be_date(round_.closes_on), year=round_.academic_year,
                       last=be_date(last)))
    return found


#: What is recorded against a round, each kind in the words of the refused renaming. A
#: confirmation's snapshot, learner list and province totals hang off it; risk flags and quality
#: scores do not lock the round, as they are recomputed from its data on demand.
RECORDED_AGAINST: tuple[tuple[Any, Any], ...] = (
    (Confirmation, _l("confirmations (including cancelled ones)")),
    (OtherSchoolCount, _l("head counts of other-affiliation schools")),
    (SpotCheck, _l("spot checks")),
)


def recorded_against(session: Session, round_id: int) -> list[str]:
    """The kinds of data recorded against the round, asked in one statement of EXISTS tests."""
    found = session.execute(select(*(exists().where(model.round_id == round_id)
                                     for model, _label in RECORDED_AGAINST))).one()
    return [str(label) for (_model, label), there in zip(RECORDED_AGAINST, found, strict=True)
            if there]


def renaming_problem(session: Session, round_: Round) -> str | None:
    """A round's year and number are what its data was recorded for: once any exists (a
    confirmation, live or cancelled, with its snapshot and learner list kept as history; an
    LAO's head counts of its other-affiliation schools; a province's spot check), renaming the
    round would relabel that data and leave it outside the year it was recorded in."""
    state = inspect(round_)
    if not state.has_identity or not (state.attrs.academic_year.history.has_changes()
                                      or state.attrs.number.history.has_changes()):
        return None
    with session.no_autoflush:
        stored = session.execute(select(Round.academic_year, Round.number)
                                 .where(Round.id == round_.id)).one_or_none()
        if stored is None or tuple(stored) == (round_.academic_year, round_.number):
            return None
        recorded = recorded_against(session, round_.id)
    if not recorded:
        return None
    return _("Round %(round)s already has data recorded for it: %(recorded)s. Its academic "
             "year and round number can therefore no longer change, since that data belongs to "
             "this year and round. To collect data for another year or round, add a new round "
             "instead.",
             round=f"{stored.academic_year}/{stored.number}", recorded=", ".join(recorded))


def taken_name(session: Session, round_: Round) -> str | None:
    """A year and number name one round only: said in those words, not as the database's
    clash of a code or name that must be unique."""
    state = inspect(round_)
    if state.has_identity and not (state.attrs.academic_year.history.has_changes()
                                   or state.attrs.number.history.has_changes()):
        return None
    with session.no_autoflush:
        other = session.scalar(select(Round.id).where(
            Round.academic_year == round_.academic_year, Round.number == round_.number,
            Round.id != round_.id if round_.id is not None else True).limit(1))
    if other is None:
        return None
    return _("Round %(round)s already exists.", round=f"{round_.academic_year}/{round_.number}")


@validates(Round)
def check_round(session: Session, round_: Round) -> list[str]:
    """A round is named by its BE academic year and a small number, and its dates follow the
    order of the work (SPEC §4) within reach of that year."""
    if (renamed := renaming_problem(session, round_)) is not None:
        return [renamed]
    if round_.academic_year not in clock.BE_YEARS:
        return [_("The academic year is a Buddhist Era year such as 2568.")]
    found = []
    if round_.number not in ROUND_NUMBERS:
        found.append(_("The round number is a whole number from %(low)d to %(high)d.",
                       low=ROUND_NUMBERS[0], high=ROUND_NUMBERS[-1]))
    elif (taken := taken_name(session, round_)) is not None:
        found.append(taken)
    if None in (round_.opens_on, round_.closes_on, round_.institution_deadline,
                round_.lao_deadline, round_.province_deadline):
        return [*found, _("Enter every date of the round: its opening, each level's deadline "
                          "and its closing.")]
    return found + date_order_problems(round_) + date_range_problems(round_)


def check_windows(session: Session, flush_context: Any, instances: Any) -> None:
    """Refuse writes to a closed round by anyone but the department."""
    if may_write_outside_window(current_actor()):
        return
    found = problems(session)
    if found:
        raise RuleViolation(found)

