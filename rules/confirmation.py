"""Bottom-up confirmation (SPEC §5): institution, then LAO per database, then province; cancels
come from above with a reason; while a confirmation is live, nothing under it changes.

Concurrency on PostgreSQL: every confirm and cancel first locks the row of the unit that
decides (FOR UPDATE on the LAO when an LAO confirms or cancels an institution, on the province
when a province confirms or cancels an LAO, on the institution when it confirms), and every
write under an institution or LAO takes a FOR SHARE lock on that row before it checks the
confirmations. So a confirm and a cancel or edit of the same unit run one after the other,
and each sees what the other committed.
"""

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, func, inspect, literal, select
from sqlalchemy.orm import Session

import clock
from models import (
    Building,
    CentreBasicData,
    Confirmation,
    Enrolment,
    Institution,
    InstitutionKind,
    Lao,
    Learner,
    Level,
    OtherSchool,
    OtherSchoolCount,
    Province,
    Round,
    SnapshotCount,
)
from models.people import EnrolmentStatus, Gender
from models.rounds import ConfirmLevel, Database

from . import RuleViolation, current_actor, validates, windows

DATABASE_OF_KIND = {InstitutionKind.SCHOOL: Database.STUDENTS,
                    InstitutionKind.CDC: Database.CHILDREN}
KIND_OF_DATABASE = {v: k for k, v in DATABASE_OF_KIND.items()}
LAO_DATABASES = (Database.STUDENTS, Database.CHILDREN, Database.OTHER)


def _audit(action: str, confirmation: Confirmation, **details: Any) -> None:
    """Leave the confirm or cancel in the audit log when the security module is installed."""
    try:
        from rules.audit import record
    except ImportError:
        return
    record(action, target=f"confirmation:{confirmation.id}", round_id=confirmation.round_id,
           level=confirmation.level, database=confirmation.database,
           province_code=confirmation.province_code, lao_id=confirmation.lao_id,
           institution_id=confirmation.institution_id, **details)


def _login(actor: Any) -> str:
    return actor.login if actor is not None else "system"


def _live(*conditions: Any) -> Any:
    return select(Confirmation).where(Confirmation.cancelled_at.is_(None), *conditions)


def live_confirmation(session: Session, round_id: int, level: str, database: str, *,
                      institution_id: int | None = None, lao_id: int | None = None,
                      province_code: str | None = None) -> Confirmation | None:
    """The unit's live confirmation of `database` in the round, if any."""
    unit = {ConfirmLevel.INSTITUTION: Confirmation.institution_id == institution_id,
            ConfirmLevel.LAO: Confirmation.lao_id == lao_id,
            ConfirmLevel.PROVINCE: Confirmation.province_code == province_code}[level]
    return session.scalars(_live(Confirmation.round_id == round_id, Confirmation.level == level,
                                 Confirmation.database == database, unit)).first()


def _new_confirmation(session: Session, round_: Round, level: str, database: str,
                      **unit: Any) -> Confirmation:
    confirmation = Confirmation(round=round_, level=level, database=database,
                                confirmed_at=clock.now(),
                                confirmed_by=_login(current_actor()), **unit)
    confirmation.made_by_rules = True
    session.add(confirmation)
    session.flush()
    return confirmation


@validates(Confirmation)
def made_by_the_rules(session: Session, confirmation: Confirmation) -> list[str]:
    """A confirmation is written only by the functions below, which check SPEC §5 first."""
    if confirmation.__dict__.pop("made_by_rules", False):
        return []
    return [_("Confirmations are made and cancelled only with the confirm and cancel buttons.")]


# --- who may do what -------------------------------------------------------------------------

def _own_level(actor: Any, level: str) -> bool:
    """Each unit confirms its own data; the department and trusted code may act for any unit."""
    return actor is None or actor.level in (level, Level.DEPARTMENT)


RANK = {Level.INSTITUTION: 0, Level.LAO: 1, Level.PROVINCE: 2, Level.DEPARTMENT: 3}


def _above(actor: Any, level: str) -> bool:
    return actor is None or RANK[actor.level] > RANK[level]


# --- institution -----------------------------------------------------------------------------

def confirm_institution(session: Session, round_: Round, institution: Institution
                        ) -> Confirmation:
    """The institution confirms its database for the round and freezes its counts."""
    actor = current_actor()
    if not _own_level(actor, Level.INSTITUTION):
        raise RuleViolation(_("The institution itself confirms its data (ยืนยันข้อมูล). "
                              "Ask the institution to sign in and confirm."))
    # FOR UPDATE waits for edits in flight (they hold FOR SHARE) and keeps new ones out.
    session.execute(select(Institution.id).where(Institution.id == institution.id)
                    .with_for_update())
    if not institution.active:
        raise RuleViolation(_("This institution is marked inactive, so it has nothing to "
                              "confirm. Ask your LAO if it should be active."))
    database = DATABASE_OF_KIND[InstitutionKind(institution.kind)]
    if live_confirmation(session, round_.id, ConfirmLevel.INSTITUTION, database,
                         institution_id=institution.id):
        raise RuleViolation(_("This institution has already confirmed its data for this round."))
    lao = session.get(Lao, institution.lao_id)
    confirmation = _new_confirmation(
        session, round_, ConfirmLevel.INSTITUTION, database, institution_id=institution.id,
        lao_id=institution.lao_id, province_code=lao.province_code)
    counts = (select(literal(confirmation.id), Enrolment.grade, Learner.gender,
                     func.count(Enrolment.id))
              .join(Learner, Learner.id == Enrolment.learner_id)
              .where(Enrolment.institution_id == institution.id,
                     Enrolment.academic_year == round_.academic_year,
                     Enrolment.status == EnrolmentStatus.ACTIVE)
              .group_by(Enrolment.grade, Learner.gender))
    _store_snapshot(session, counts)
    _audit("confirm", confirmation)
    return confirmation


def _store_snapshot(session: Session, counts: Any) -> None:
    """One INSERT … SELECT, so a snapshot costs one statement whatever its size."""
    session.execute(SnapshotCount.__table__.insert().from_select(
        ["confirmation_id", "grade", "gender", "count"], counts))


# --- LAO -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Missing:
    """A unit below that has not confirmed yet, with the contacts to chase it."""

    code: str
    name: str
    phone: str | None = None
    email: str | None = None
    detail: str = ""


def lao_status(session: Session, round_id: int, lao_id: int, database: str
               ) -> tuple[int, list[Missing]]:
    """How many units the LAO's `database` covers, and which of them still hold it back."""
    if database == Database.OTHER:
        has_counts = exists().where(OtherSchoolCount.round_id == round_id,
                                    OtherSchoolCount.other_school_id == OtherSchool.id)
        rows = session.execute(
            select(OtherSchool.code, OtherSchool.name, has_counts.label("done"))
            .where(OtherSchool.lao_id == lao_id, OtherSchool.closed.is_(False))
            .order_by(OtherSchool.code)).all()
        return len(rows), [Missing(r.code, r.name) for r in rows if not r.done]
    confirmed = exists().where(
        Confirmation.round_id == round_id, Confirmation.level == ConfirmLevel.INSTITUTION,
        Confirmation.institution_id == Institution.id, Confirmation.cancelled_at.is_(None))
    rows = session.execute(
        select(Institution.code, Institution.name, Institution.phone, Institution.email,
               confirmed.label("done"))
        .where(Institution.lao_id == lao_id, Institution.active.is_(True),
               Institution.kind == KIND_OF_DATABASE[Database(database)])
        .order_by(Institution.code)).all()
    return len(rows), [Missing(r.code, r.name, r.phone, r.email) for r in rows if not r.done]


def confirm_lao(session: Session, round_: Round, lao: Lao, database: str) -> Confirmation:
    """The LAO confirms one database once every unit of it below has (SPEC §5 rule 2)."""
    actor = current_actor()
    if not _own_level(actor, Level.LAO):
        raise RuleViolation(_("The LAO itself confirms the overall data (ยืนยันภาพรวมของข้อมูล). "
                              "Ask the LAO to sign in and confirm."))
    if database not in LAO_DATABASES:
        raise RuleViolation(_("Unknown database."))
    session.execute(select(Lao.id).where(Lao.id == lao.id).with_for_update())
    if live_confirmation(session, round_.id, ConfirmLevel.LAO, database, lao_id=lao.id):
        raise RuleViolation(_("This LAO has already confirmed this database for this round."))
    total, missing = lao_status(session, round_.id, lao.id, database)
    if total == 0:
        raise RuleViolation(_("This LAO has no unit in this database, so there is nothing to "
                              "confirm for it."))
    if missing:
        names = ", ".join(f"{m.code} {m.name}" for m in missing)
        if database == Database.OTHER:
            raise RuleViolation(_("Record the head counts of every funded other-affiliation "
                                  "school first; the LAO must enter them for: %(names)s.",
                                  names=names))
        raise RuleViolation(_("Every institution must confirm its data (ยืนยันข้อมูล) before "
                              "the LAO confirms the overall data. Not yet confirmed: "
                              "%(names)s.", names=names))
    confirmation = _new_confirmation(session, round_, ConfirmLevel.LAO, database,
                                     lao_id=lao.id, province_code=lao.province_code)
    if database == Database.OTHER:
        schools = (select(OtherSchoolCount.grade, OtherSchoolCount.boys, OtherSchoolCount.girls)
                   .join(OtherSchool, OtherSchool.id == OtherSchoolCount.other_school_id)
                   .where(OtherSchoolCount.round_id == round_.id,
                          OtherSchool.lao_id == lao.id, OtherSchool.closed.is_(False))
                   .subquery())
        for gender, column in ((Gender.MALE, schools.c.boys), (Gender.FEMALE, schools.c.girls)):
            _store_snapshot(session, select(literal(confirmation.id), schools.c.grade,
                                            literal(str(gender)), func.sum(column))
                            .group_by(schools.c.grade))
    else:
        _sum_snapshots(session, confirmation, Confirmation.lao_id == lao.id,
                       Confirmation.level == ConfirmLevel.INSTITUTION,
                       Confirmation.database == database)
    _audit("confirm", confirmation)
    return confirmation


def _sum_snapshots(session: Session, confirmation: Confirmation, *below: Any) -> None:
    """A level's snapshot is the sum of the live snapshots of the level below."""
    _store_snapshot(session, select(literal(confirmation.id), SnapshotCount.grade,
                                    SnapshotCount.gender, func.sum(SnapshotCount.count))
                    .join(Confirmation, Confirmation.id == SnapshotCount.confirmation_id)
                    .where(Confirmation.round_id == confirmation.round_id,
                           Confirmation.cancelled_at.is_(None), *below)
                    .group_by(SnapshotCount.grade, SnapshotCount.gender))


# --- province --------------------------------------------------------------------------------

def _lao_flags(round_id: int) -> list[Any]:
    """Per LAO: which databases apply to it and which it has confirmed, as SQL columns."""

    def has(kind: str) -> Any:
        return exists().where(Institution.lao_id == Lao.id, Institution.kind == kind,
                              Institution.active.is_(True))

    def done(database: str) -> Any:
        return exists().where(Confirmation.round_id == round_id,
                              Confirmation.level == ConfirmLevel.LAO,
                              Confirmation.lao_id == Lao.id, Confirmation.database == database,
                              Confirmation.cancelled_at.is_(None))

    has_other = exists().where(OtherSchool.lao_id == Lao.id, OtherSchool.closed.is_(False))
    return [has(InstitutionKind.SCHOOL).label("has_students"),
            has(InstitutionKind.CDC).label("has_children"), has_other.label("has_other"),
            done(Database.STUDENTS).label("done_students"),
            done(Database.CHILDREN).label("done_children"),
            done(Database.OTHER).label("done_other")]


def pending_databases(row: Any) -> list[str]:
    """The databases that apply to an LAO row of `_lao_flags` and are not confirmed yet."""
    return [str(d) for d in LAO_DATABASES
            if getattr(row, f"has_{d}") and not getattr(row, f"done_{d}")]


def province_missing(session: Session, round_id: int, province_code: str) -> list[Missing]:
    """The LAOs of the province still holding it back, with the databases they owe."""
    rows = session.execute(select(Lao.code, Lao.name, Lao.phone, Lao.email, *_lao_flags(round_id))
                           .where(Lao.province_code == province_code).order_by(Lao.code)).all()
    from models.rounds import DATABASE_LABELS

    return [Missing(r.code, r.name, r.phone, r.email,
                    ", ".join(str(DATABASE_LABELS[Database(d)]) for d in pending_databases(r)))
            for r in rows if pending_databases(r)]


def confirm_province(session: Session, round_: Round, province_code: str) -> Confirmation:
    """The province confirms once every LAO in it has confirmed all that applies (rule 3)."""
    actor = current_actor()
    if not _own_level(actor, Level.PROVINCE):
        raise RuleViolation(_("The provincial office itself confirms the overall data "
                              "(ยืนยันภาพรวมของข้อมูล)."))
    session.execute(select(Province.code).where(Province.code == province_code)
                    .with_for_update())
    if live_confirmation(session, round_.id, ConfirmLevel.PROVINCE, Database.ALL,
                         province_code=province_code):
        raise RuleViolation(_("This province has already confirmed this round."))
    missing = province_missing(session, round_.id, province_code)
    if missing:
        raise RuleViolation(_("Every LAO must confirm the overall data (ยืนยันภาพรวมของข้อมูล) "
                              "before the province confirms. Not yet confirmed: %(names)s.",
                              names=", ".join(f"{m.code} {m.name} ({m.detail})"
                                              for m in missing)))
    confirmation = _new_confirmation(session, round_, ConfirmLevel.PROVINCE, Database.ALL,
                                     province_code=province_code)
    _sum_snapshots(session, confirmation, Confirmation.province_code == province_code,
                   Confirmation.level == ConfirmLevel.LAO)
    _audit("confirm", confirmation)
    return confirmation


# --- cancel ----------------------------------------------------------------------------------

def cancel(session: Session, confirmation: Confirmation, reason: str) -> Confirmation:
    """A higher level cancels a confirmation with a reason, unless its own level is confirmed."""
    actor = current_actor()
    reason = (reason or "").strip()
    if not _above(actor, confirmation.level):
        raise RuleViolation({
            ConfirmLevel.INSTITUTION: _("Only the LAO (or a higher level) can cancel an "
                                        "institution's confirmation (ยกเลิกการยืนยันข้อมูล). "
                                        "Ask your LAO to cancel it."),
            ConfirmLevel.LAO: _("Only the provincial office (or the department) can cancel an "
                                "LAO's confirmation (ยกเลิกการยืนยันข้อมูล). Ask your provincial "
                                "office to cancel it."),
            ConfirmLevel.PROVINCE: _("Only the department can cancel a province's confirmation "
                                     "(ยกเลิกการยืนยันข้อมูล)."),
        }[confirmation.level])
    if not reason:
        raise RuleViolation(_("Give the reason for cancelling the confirmation."))
    # Lock the level above, then the unit itself: the same order confirms use.
    if confirmation.level == ConfirmLevel.INSTITUTION:
        session.execute(select(Lao.id).where(Lao.id == confirmation.lao_id).with_for_update())
        session.execute(select(Institution.id).where(
            Institution.id == confirmation.institution_id).with_for_update())
        above = live_confirmation(session, confirmation.round_id, ConfirmLevel.LAO,
                                  confirmation.database, lao_id=confirmation.lao_id)
        blocked = _("The LAO has already confirmed the overall data (ยืนยันภาพรวมของข้อมูล). "
                    "The LAO must first ask the provincial office to cancel the LAO's "
                    "confirmation; then the LAO can cancel this institution's.")
    elif confirmation.level == ConfirmLevel.LAO:
        session.execute(select(Province.code).where(
            Province.code == confirmation.province_code).with_for_update())
        session.execute(select(Lao.id).where(Lao.id == confirmation.lao_id).with_for_update())
        above = live_confirmation(session, confirmation.round_id, ConfirmLevel.PROVINCE,
                                  Database.ALL, province_code=confirmation.province_code)
        blocked = _("The province has already confirmed this round. The department must "
                    "first cancel the province's confirmation; then the province can cancel "
                    "this LAO's.")
    else:
        session.execute(select(Province.code).where(
            Province.code == confirmation.province_code).with_for_update())
        above, blocked = None, ""
    if above is not None:
        raise RuleViolation(blocked)
    session.refresh(confirmation)  # it may have been cancelled while we waited for the lock
    if not confirmation.live:
        raise RuleViolation(_("This confirmation has already been cancelled."))
    confirmation.made_by_rules = True
    confirmation.cancelled_at = clock.now()
    confirmation.cancelled_by = _login(actor)
    confirmation.cancel_reason = reason
    session.flush()
    _audit("cancel", confirmation, reason=reason)
    return confirmation


# --- the lock: nothing under a live confirmation changes --------------------------------------

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
    learner_ids: set[int] = field(default_factory=set)
    count_schools: dict[int, set[int]] = field(default_factory=dict)  # round -> other schools
    laos: dict[int, set[str]] = field(default_factory=dict)  # LAO -> databases whose units change


def _touched(session: Session) -> _Touched:
    t = _Touched()
    changed = [(o, False) for o in session.new] + [(o, True) for o in session.deleted] + [
        (o, False) for o in session.dirty if session.is_modified(o)]
    for obj, deleting in changed:
        if isinstance(obj, Enrolment):
            for institution_id in _values(obj, "institution_id"):
                t.years.setdefault(institution_id, set()).update(_values(obj, "academic_year"))
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
    if not t.years:
        return []
    ids = sorted(t.years)
    session.execute(select(Institution.id).where(Institution.id.in_(ids))
                    .order_by(Institution.id).with_for_update(read=True))
    rows = session.execute(
        select(Confirmation.institution_id, Round, Institution.name)
        .join(Round, Round.id == Confirmation.round_id)
        .join(Institution, Institution.id == Confirmation.institution_id)
        .where(Confirmation.level == ConfirmLevel.INSTITUTION,
               Confirmation.cancelled_at.is_(None), Confirmation.institution_id.in_(ids))).all()
    problems = []
    for institution_id, round_, name in rows:
        years = t.years[institution_id]
        running = not windows.is_closed(round_)
        if round_.academic_year in years or (running and (
                None in years or round_.academic_year in learner_years.get(institution_id, ()))):
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
    if not (t.years or t.learner_ids or t.count_schools or t.laos):
        return
    with session.no_autoflush:
        problems = _institution_problems(session, t) + _lao_problems(session, t)
    if problems:
        raise RuleViolation(list(dict.fromkeys(problems)))


