"""Round windows (SPEC §4): a round takes writes from its opening day until 24:00 Bangkok time
of its closing day; outside that only the department level writes to it.

The clock is `clock`; tests freeze it by replacing `clock.now`.
"""

from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

import clock
from i18n import be_date
from models import Confirmation, Enrolment, OtherSchoolCount, Round
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


def import_year_problem(session: Session, academic_year: int) -> str | None:
    """A file is imported into the year of an open round; once rounds exist, a year without
    one (next year, typed by hand) is refused, so an import cannot reach ahead of the rounds."""
    if may_write_outside_window(current_actor()):
        return None
    with session.no_autoflush:
        if session.scalar(select(Round.id).where(Round.academic_year == academic_year).limit(1)):
            return year_problem(session, academic_year)
        if session.scalar(select(Round.id).limit(1)) is None:
            return None  # a fresh install without rounds yet
    return _("No collection round exists for academic year %(year)d: learners are imported only "
             "into the year of an open round.", year=academic_year)


def _round(session: Session, round_id: int | None) -> Round | None:
    with session.no_autoflush:
        return session.get(Round, round_id) if round_id is not None else None


def problems(session: Session) -> list[str]:
    """What the pending flush writes to a round outside its window."""
    found: list[str | None] = []
    years: set[int] = set()
    changed = list(session.new) + list(session.deleted) + [
        o for o in session.dirty if session.is_modified(o)]
    for obj in changed:
        if isinstance(obj, Confirmation | OtherSchoolCount):
            round_ = obj.round or _round(session, obj.round_id)
            if round_ is not None:
                found.append(window_problem(round_))
        elif isinstance(obj, Enrolment) and obj.academic_year is not None:
            years.add(obj.academic_year)
    with session.no_autoflush:
        found += [year_problem(session, year) for year in sorted(years)]
    return [p for p in dict.fromkeys(found) if p]


@validates(Round)
def check_round(session: Session, round_: Round) -> list[str]:
    """A round is named by its academic year in the Buddhist Era."""
    if round_.academic_year not in clock.BE_YEARS:
        return [_("The academic year is a Buddhist Era year such as 2568.")]
    return []


def check_windows(session: Session, flush_context: Any, instances: Any) -> None:
    """Refuse writes to a closed round by anyone but the department."""
    if may_write_outside_window(current_actor()):
        return
    found = problems(session)
    if found:
        raise RuleViolation(found)

