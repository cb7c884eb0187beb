"""The flush lock of SPEC §5: while a confirmation is live, nothing under it changes, whoever
writes it.

Concurrency on PostgreSQL: every write under an institution or LAO takes a FOR SHARE lock on that
row before it checks the confirmations, while confirm and cancel (rules/confirmation.py) hold
FOR UPDATE on the unit that decides. So a confirm and an edit of the same unit run one after
the other, and each sees what the other committed.
"""

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from models import (
    Building,
    CentreBasicData,
    Confirmation,
    Enrolment,
    Institution,
    InstitutionKind,
    Lao,
    Learner,
    OtherSchool,
    OtherSchoolCount,
    Round,
    SnapshotCount,
)
from models.rounds import ConfirmLevel, Database

from . import RuleViolation, windows
from .progress import DATABASE_OF_KIND


def _values(obj: Any, key: str) -> set[Any]:
    """The attribute's value now and, for a changed row, before the change."""
    history = inspect(obj).attrs[key].history
    values = set(history.added) | set(history.deleted) | set(history.unchanged)
    if not values:
        values = {getattr(obj, key)}
    if None in values and key.endswith("_id"):
        # A new row linked by relationship (`institution=...`) has no foreign key until the
        # flush writes it: take the id from the related object so the lock still sees it.
        related = getattr(obj, key.removesuffix("_id"), None)
        values.add(getattr(related, "id", None))
    return {v for v in values if v is not None}


@dataclass
class _Touched:
    """What a flush writes under institutions and LAOs, gathered before one locking query."""

    # institution id -> academic years written (None: undated basic data of running rounds)
    years: dict[int, set[int | None]] = field(default_factory=dict)
    # institution id -> years whose enrolments only close the year (windows.closes_the_year)
    closing: dict[int, set[int]] = field(default_factory=dict)
    learner_ids: set[int] = field(default_factory=set)
    count_schools: dict[int, set[int]] = field(default_factory=dict)  # round -> other schools
    laos: dict[int, set[str]] = field(default_factory=dict)  # LAO -> databases whose units change


def _touched(session: Session) -> _Touched:
    t = _Touched()
    changed = [(o, False) for o in session.new] + [(o, True) for o in session.deleted] + [
        (o, False) for o in session.dirty if session.is_modified(o)]
    for obj, deleting in changed:
        if isinstance(obj, Enrolment):
            written = t.closing if windows.closes_the_year(obj) else t.years
            for institution_id in _values(obj, "institution_id"):
                written.setdefault(institution_id, set()).update(_values(obj, "academic_year"))
        elif isinstance(obj, CentreBasicData | Building):
            for institution_id in _values(obj, "institution_id"):
                t.years.setdefault(institution_id, set()).add(None)
        elif isinstance(obj, Learner) and obj.id is not None:
            t.learner_ids.add(obj.id)
        elif isinstance(obj, OtherSchoolCount):
            for round_id in _values(obj, "round_id"):
                t.count_schools.setdefault(round_id, set()).update(
                    _values(obj, "other_school_id"))
        elif isinstance(obj, Institution) and (
                deleting or inspect(obj).pending or _changed(obj, "active", "kind", "lao_id")):
            for lao_id in _values(obj, "lao_id"):
                t.laos.setdefault(lao_id, set()).update(
                    str(DATABASE_OF_KIND[InstitutionKind(k)]) for k in _values(obj, "kind"))
        elif isinstance(obj, OtherSchool) and (
                deleting or inspect(obj).pending or _changed(obj, "closed", "lao_id")):
            for lao_id in _values(obj, "lao_id"):
                t.laos.setdefault(lao_id, set()).add(str(Database.OTHER))
    return t


def _changed(obj: Any, *keys: str) -> bool:
    state = inspect(obj)
    return any(state.attrs[k].history.has_changes() for k in keys)


def _institution_problems(session: Session, t: _Touched) -> list[str]:
    """Writes under an institution whose confirmation for that year is live."""
    # A learner's identity is frozen by the confirmations of rounds still running, not by
    # every school that confirmed them in a past year.
    learner_years: dict[int, set[int]] = {}
    if t.learner_ids:
        for institution_id, year in session.execute(
                select(Enrolment.institution_id, Enrolment.academic_year)
                .where(Enrolment.learner_id.in_(t.learner_ids))):
            learner_years.setdefault(institution_id, set()).add(year)
            t.years.setdefault(institution_id, set())
    if not (t.years or t.closing):
        return []
    ids = sorted(set(t.years) | set(t.closing))
    session.execute(select(Institution.id).where(Institution.id.in_(ids))
                    .order_by(Institution.id).with_for_update(read=True))
    rows = session.execute(
        select(Confirmation.institution_id, Round, Institution.name)
        .join(Round, Round.id == Confirmation.round_id)
        .join(Institution, Institution.id == Confirmation.institution_id)
        .where(Confirmation.level == ConfirmLevel.INSTITUTION,
               Confirmation.cancelled_at.is_(None), Confirmation.institution_id.in_(ids))).all()
    later_open: dict[int, int] = {}  # year -> the highest number of its rounds open now
    for open_round in session.scalars(select(Round).where(
            Round.academic_year.in_({r.academic_year for _i, r, _n in rows}))):
        if windows.is_open(open_round):
            later_open[open_round.academic_year] = max(
                open_round.number, later_open.get(open_round.academic_year, 0))
    problems = []
    for institution_id, round_, name in rows:
        years = t.years.get(institution_id, set())
        running = not windows.is_closed(round_)
        # A closed round's snapshot is final: a later round of its year records anew, and
        # closing the year is the rollover's, so neither is refused for it.
        frozen = running or later_open.get(round_.academic_year, 0) <= round_.number
        if (frozen and round_.academic_year in years) or (running and (
                None in years or round_.academic_year in learner_years.get(institution_id, ())
                or round_.academic_year in t.closing.get(institution_id, ()))):
            problems.append(_(
                "%(institution)s has confirmed its data (ยืนยันข้อมูล) for round %(round)s, so "
                "its learners and basic data cannot be changed. To correct them, the LAO must "
                "first cancel the institution's confirmation (ยกเลิกการยืนยันข้อมูล).",
                institution=name, round=str(round_)))
    return problems


def _lao_problems(session: Session, t: _Touched) -> list[str]:
    """Other-affiliation counts, and the unit lists, of LAOs whose confirmation is live."""
    school_ids = set().union(*t.count_schools.values()) if t.count_schools else set()
    school_lao = {row.id: row.lao_id for row in session.execute(
        select(OtherSchool.id, OtherSchool.lao_id).where(OtherSchool.id.in_(school_ids)))}
    count_laos = {school_lao[s] for ss in t.count_schools.values() for s in ss if s in school_lao}
    lao_ids = sorted(set(t.laos) | count_laos)
    if not lao_ids:
        return []
    session.execute(select(Lao.id).where(Lao.id.in_(lao_ids)).order_by(Lao.id)
                    .with_for_update(read=True))
    rows = session.execute(
        select(Confirmation.lao_id, Confirmation.database, Round, Lao.name)
        .join(Round, Round.id == Confirmation.round_id).join(Lao, Lao.id == Confirmation.lao_id)
        .where(Confirmation.level == ConfirmLevel.LAO, Confirmation.cancelled_at.is_(None),
               Confirmation.lao_id.in_(lao_ids))).all()
    problems = []
    for lao_id, database, round_, name in rows:
        counts_frozen = database == Database.OTHER and any(
            school_lao.get(s) == lao_id for s in t.count_schools.get(round_.id, ()))
        units_frozen = database in t.laos.get(lao_id, ()) and not windows.is_closed(round_)
        if counts_frozen or units_frozen:
            problems.append(_(
                "%(lao)s has confirmed the overall data (ยืนยันภาพรวมของข้อมูล) for round "
                "%(round)s, so its units and other-affiliation counts cannot be changed. The "
                "provincial office must first cancel the LAO's confirmation "
                "(ยกเลิกการยืนยันข้อมูล).", lao=name, round=str(round_)))
    return problems


def check_locks(session: Session, flush_context: Any, instances: Any) -> None:
    """Refuse the flush if it writes anything under a live confirmation, whoever writes it."""
    if any(isinstance(o, Confirmation | SnapshotCount) for o in session.deleted):
        raise RuleViolation(_("Confirmations and their snapshots are kept for the record; "
                              "cancel a confirmation instead of deleting it."))
    t = _touched(session)
    if not (t.years or t.closing or t.learner_ids or t.count_schools or t.laos):
        return
    with session.no_autoflush:
        problems = _institution_problems(session, t) + _lao_problems(session, t)
    if problems:
        raise RuleViolation(list(dict.fromkeys(problems)))




def write_problems(session: Session, years: dict[int, set[int | None]],
                   learner_ids: set[int]) -> list[str]:
    """The same refusals as the flush, asked once for a set-based write (the bulk import)."""
    t = _Touched(years={k: set(v) for k, v in years.items()}, learner_ids=set(learner_ids))
    with session.no_autoflush:
        return list(dict.fromkeys(_institution_problems(session, t)))
