"""How far a round's confirmation has come (SPEC §5): who has confirmed, who still holds a unit
back and with which databases, as set-based queries whose count does not grow with the units."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import Session

import clock
from models import (
    Confirmation,
    Enrolment,
    Institution,
    InstitutionKind,
    Lao,
    OtherSchool,
    OtherSchoolCount,
    Province,
    Round,
    User,
)
from models.accounts import LEVEL_LABELS, Level
from models.people import EnrolmentStatus
from models.profiles import Profile, held_at
from models.rounds import DATABASE_LABELS, ConfirmLevel, Database

DATABASE_OF_KIND = {InstitutionKind.SCHOOL: Database.STUDENTS,
                    InstitutionKind.CDC: Database.CHILDREN}
KIND_OF_DATABASE = {v: k for k, v in DATABASE_OF_KIND.items()}
LAO_DATABASES = (Database.STUDENTS, Database.CHILDREN, Database.OTHER)


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


@dataclass(frozen=True)
class Cancelled:
    """A unit's confirmation cancelled from above, and not made again since: who cancelled it
    (the person answering for the account then, and that account's unit) and why."""

    level: str
    database: str
    cancelled_at: datetime
    person: str
    unit: str
    reason: str


def cancelled_confirmations(session: Session, round_id: int, level: str, *,
                            institution_id: int | None = None, lao_id: int | None = None,
                            province_code: str | None = None) -> list[Cancelled]:
    """Per database, the unit's latest confirmation of the round when it stands cancelled: what
    the unit is told until it confirms again. One query, whoever cancelled and however often."""
    unit = {ConfirmLevel.INSTITUTION: Confirmation.institution_id == institution_id,
            ConfirmLevel.LAO: Confirmation.lao_id == lao_id,
            ConfirmLevel.PROVINCE: Confirmation.province_code == province_code}[level]
    rows = session.execute(
        select(Confirmation, Lao, Province, Profile)
        .outerjoin(User, User.login == Confirmation.cancelled_by)
        .outerjoin(Lao, Lao.id == User.lao_id)
        .outerjoin(Province, Province.code == User.province_code)
        .outerjoin(Profile, Profile.user_id == User.id)
        .where(Confirmation.round_id == round_id, Confirmation.level == level, unit)
        .order_by(Confirmation.id.desc()))
    latest: dict[str, Confirmation] = {}
    units: dict[int, str] = {}
    names: dict[int, str] = {}
    for confirmation, lao, province, profile in rows:  # a row per term of the canceller
        seen = latest.setdefault(confirmation.database, confirmation)
        if seen is not confirmation or seen.live:
            continue
        # Only an LAO or a province cancel below them; anyone else acts as the department.
        units[seen.id] = (str(lao) if lao is not None else province.title
                          if province is not None else str(LEVEL_LABELS[Level.DEPARTMENT]))
        if profile is not None and held_at(profile, seen.cancelled_at):
            names[seen.id] = profile.full_name
    return [Cancelled(level, c.database, c.cancelled_at, names.get(c.id, c.cancelled_by or ""),
                      units[c.id], c.cancel_reason or "")
            for c in latest.values() if not c.live]


@dataclass(frozen=True)
class Missing:
    """A unit below that has not confirmed yet, with the contacts to chase it."""

    code: str
    name: str
    phone: str | None = None
    email: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        """How a refusal or a note names the unit: code, name and what it still owes."""
        named = f"{self.code} {self.name}"
        return f"{named} ({self.detail})" if self.detail else named


#: How many waiting units a refusal or a note names before it links to the full list: a
#: province may wait for some 200 LAOs, an LAO for as many institutions, too many names to
#: read in a message.
NAMED_AT_MOST = 5


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


def lao_flags(round_id: int) -> list[Any]:
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


def lao_flag_rows(round_id: int) -> Any:
    """Per LAO its province and `lao_flags`, worked out once per LAO: OFFSET 0 keeps PostgreSQL
    from pulling the subquery up and running each EXISTS again wherever a sum names it (the
    national tally took 0.5 s that way, not 50 ms)."""
    return select(Lao.province_code, *lao_flags(round_id)).offset(0).subquery()


def pending_databases(row: Any) -> list[str]:
    """The databases that apply to an LAO row of `lao_flags` and are not confirmed yet."""
    return [str(d) for d in LAO_DATABASES
            if getattr(row, f"has_{d}") and not getattr(row, f"done_{d}")]


class LaoTally(NamedTuple):
    """"LAOs confirmed", as every page counts them: `done` of the `total` LAOs that have
    something to confirm. The `idle` LAOs (no active institution of either kind, no open
    other-affiliation school) have nothing to confirm, so they are in neither number."""

    done: int
    total: int
    idle: int


def lao_tally(rows: list[dict[str, Any]]) -> LaoTally:
    """The tally of the LAO rows of `lao_rows`."""
    counted = [r for r in rows if r["applies"]]
    return LaoTally(sum(not r["pending"] for r in counted), len(counted),
                    len(rows) - len(counted))


def lao_tally_columns(flags: Any) -> list[Any]:
    """The same tally in SQL, as sums over a subquery of `lao_flags` (its `GROUP BY` picks
    whose LAOs are tallied): labelled `done`, `total` and `idle`."""
    applies = or_(*(flags.c[f"has_{d}"] for d in LAO_DATABASES))
    pending = or_(*(flags.c[f"has_{d}"] & ~flags.c[f"done_{d}"] for d in LAO_DATABASES))
    return [func.sum(case((applies & ~pending, 1), else_=0)).label("done"),
            func.sum(case((applies, 1), else_=0)).label("total"),
            func.sum(case((applies, 0), else_=1)).label("idle")]


def lao_confirmed_all(session: Session, round_id: int, lao_id: int) -> bool:
    """Whether the LAO has confirmed the overall data of every database that applies to it:
    the status the province's pages give it, so its own pages say the same."""
    row = session.execute(select(*lao_flags(round_id)).where(Lao.id == lao_id)).one()
    return any(getattr(row, f"has_{d}") for d in LAO_DATABASES) and not pending_databases(row)


def province_missing(session: Session, round_id: int, province_code: str) -> list[Missing]:
    """The LAOs of the province still holding it back, with the databases they owe."""
    rows = session.execute(select(Lao.code, Lao.name, Lao.phone, Lao.email, *lao_flags(round_id))
                           .where(Lao.province_code == province_code).order_by(Lao.code)).all()
    return [Missing(r.code, r.name, r.phone, r.email,
                    ", ".join(str(DATABASE_LABELS[Database(d)]) for d in pending_databases(r)))
            for r in rows if pending_databases(r)]


def current_round(session: Session, round_id: Any = None) -> Round | None:
    """The round asked for, else the one people are working on: the latest that has opened,
    so a round the department enters ahead of its opening day does not hide the open one
    (the latest of all while none has opened yet)."""
    if round_id:
        text = str(round_id)
        # ASCII digits of a 32-bit id only: '²' or 20 digits are "no such round", not a 500.
        fits = text.isascii() and text.isdigit() and len(text) <= 10 and int(text) < 2**31
        return session.get(Round, int(text)) if fits else None
    latest_first = select(Round).order_by(Round.academic_year.desc(), Round.number.desc())
    return (session.scalars(latest_first.where(Round.opens_on <= clock.today())).first()
            or session.scalars(latest_first).first())


def _live_by(session: Session, round_id: int, level: str, key: Any, *where: Any
             ) -> dict[Any, list[Confirmation]]:
    rows = session.scalars(select(Confirmation).where(
        Confirmation.round_id == round_id, Confirmation.level == level,
        Confirmation.cancelled_at.is_(None), *where))
    found: dict[Any, list[Confirmation]] = {}
    for row in rows:
        found.setdefault(getattr(row, key), []).append(row)
    return found


def province_tallies(session: Session, round_id: int) -> dict[str, LaoTally]:
    """Per province with LAOs its `LaoTally`, in one statement whatever the number of LAOs."""
    flags = lao_flag_rows(round_id)
    return {r.province_code: LaoTally(int(r.done or 0), int(r.total or 0), int(r.idle or 0))
            for r in session.execute(select(flags.c.province_code, *lao_tally_columns(flags))
                                     .group_by(flags.c.province_code))}


def province_rows(session: Session, round_: Round) -> list[dict[str, Any]]:
    """The nation: per province with LAOs, its `LaoTally` and the province's confirmation."""
    counts = province_tallies(session, round_.id)
    live = _live_by(session, round_.id, ConfirmLevel.PROVINCE, "province_code")
    return [{"province": p, "laos": counts[p.code].total, "done": counts[p.code].done,
             "idle": counts[p.code].idle, "confirmation": (live.get(p.code) or [None])[0]}
            for p in session.scalars(select(Province).order_by(Province.code))
            if p.code in counts]


def province_laos(session: Session, round_id: int, province_code: str) -> list[Any]:
    """A province's LAOs, each with its `lao_flags`: one statement, as every page reads them."""
    return session.execute(select(Lao, *lao_flags(round_id))
                           .where(Lao.province_code == province_code)
                           .order_by(Lao.code)).all()


def lao_rows(session: Session, round_: Round, province_code: str) -> list[dict[str, Any]]:
    """A province's LAOs: which databases apply, which are confirmed (when, by whom), how many
    of their institutions have confirmed and learners recorded, and per database how many units
    below still hold the LAO back (`waiting`, as lao_status counts them). Five queries whatever
    the number of LAOs."""
    laos = province_laos(session, round_.id, province_code)
    live = _live_by(session, round_.id, ConfirmLevel.LAO, "lao_id",
                    Confirmation.province_code == province_code)
    confirmed = select(Confirmation.institution_id).where(
        Confirmation.round_id == round_.id, Confirmation.level == ConfirmLevel.INSTITUTION,
        Confirmation.cancelled_at.is_(None), Confirmation.province_code == province_code)
    institutions: dict[int, dict[str, tuple[int, int]]] = {}
    for r in session.execute(
            select(Institution.lao_id, Institution.kind, func.count().label("total"),
                   func.sum(case((Institution.id.in_(confirmed), 1), else_=0)).label("done"))
            .join(Lao, Lao.id == Institution.lao_id)
            .where(Lao.province_code == province_code, Institution.active.is_(True))
            .group_by(Institution.lao_id, Institution.kind)):
        institutions.setdefault(r.lao_id, {})[DATABASE_OF_KIND[r.kind]] = (r.total,
                                                                           int(r.done or 0))
    has_counts = exists().where(OtherSchoolCount.round_id == round_.id,
                                OtherSchoolCount.other_school_id == OtherSchool.id)
    uncounted = dict(session.execute(
        select(OtherSchool.lao_id, func.count())
        .join(Lao, Lao.id == OtherSchool.lao_id)
        .where(Lao.province_code == province_code, OtherSchool.closed.is_(False), ~has_counts)
        .group_by(OtherSchool.lao_id)).all())
    learners = {r[0]: r[1] for r in session.execute(
        select(Institution.lao_id, func.count(Enrolment.id))
        .join(Enrolment, Enrolment.institution_id == Institution.id)
        .join(Lao, Lao.id == Institution.lao_id)
        .where(Lao.province_code == province_code,
               Enrolment.academic_year == round_.academic_year,
               Enrolment.status == EnrolmentStatus.ACTIVE)
        .group_by(Institution.lao_id))}
    rows = []
    for row in laos:
        lao = row[0]
        done = {c.database: c for c in live.get(lao.id, [])}
        counts = institutions.get(lao.id, {})
        waiting = {d: total - confirmed for d, (total, confirmed) in counts.items()}
        waiting[Database.OTHER] = uncounted.get(lao.id, 0)
        rows.append({"lao": lao, "pending": pending_databases(row),
                     "applies": [d for d in LAO_DATABASES if getattr(row, f"has_{d}")],
                     "confirmed": done, "total": sum(t for t, _d in counts.values()),
                     "done": sum(d for _t, d in counts.values()),
                     "waiting": waiting, "learners": learners.get(lao.id, 0)})
    return rows


def institution_rows(session: Session, round_: Round, lao_id: int) -> list[dict[str, Any]]:
    """An LAO's institutions: learners recorded, confirmed when and by whom."""
    institutions = session.scalars(select(Institution).where(
        Institution.lao_id == lao_id, Institution.active.is_(True)).order_by(Institution.code))
    learners = {r[0]: r[1] for r in session.execute(
        select(Enrolment.institution_id, func.count())
        .join(Institution, Institution.id == Enrolment.institution_id)
        .where(Institution.lao_id == lao_id, Enrolment.academic_year == round_.academic_year,
               Enrolment.status == EnrolmentStatus.ACTIVE)
        .group_by(Enrolment.institution_id))}
    live = _live_by(session, round_.id, ConfirmLevel.INSTITUTION, "institution_id",
                    Confirmation.lao_id == lao_id)
    return [{"institution": i, "learners": learners.get(i.id, 0),
             "confirmation": (live.get(i.id) or [None])[0]} for i in institutions]
