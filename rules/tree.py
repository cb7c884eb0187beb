"""Where each object hangs in the tree of units (SPEC §1): `Unit` is a place in the tree, and
`PATHS` says, per model, how its rows hang under a province, an LAO and an institution, in SQL
and in Python, and which levels write them. rules/scope.py keeps each level inside its subtree
with these, and rules/permissions.py answers "may this user …" from them.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, false, or_, select, true, tuple_
from sqlalchemy.orm import Session, aliased

from models import (
    Application,
    Building,
    CentreBasicData,
    CodeException,
    District,
    Enrolment,
    Institution,
    Lao,
    Learner,
    Level,
    OtherSchool,
    OtherSchoolCount,
    Province,
    Subdistrict,
    User,
)
from models.audit import AuditEntry
from models.budget import BudgetRate
from models.people import EnrolmentStatus
from models.profiles import Profile
from models.risk import ObecCount, QualityScore, RiskFlag, RiskThreshold
from models.roster import RosterEntry
from models.rounds import Confirmation, Round, SnapshotCount, SpotCheck, SpotCheckItem
from models.tokens import AgencyToken


@dataclass(frozen=True)
class Unit:
    """Where an object hangs in the tree; None where it sits above that level."""

    province_code: str | None = None
    lao_id: int | None = None
    institution_id: int | None = None


Getter = Callable[[str], Any]


@dataclass(frozen=True)
class Path:
    """How one model hangs in the tree, in SQL and in Python."""

    province: Callable[[str], ColumnElement[bool]]
    lao: Callable[[int], ColumnElement[bool]]
    institution: Callable[[int], ColumnElement[bool]]
    unit: Callable[[Session, Getter], Unit]
    writers: frozenset[str]


def _lao_province(session: Session, lao_id: int | None) -> str | None:
    with session.no_autoflush:
        lao = session.get(Lao, lao_id) if lao_id is not None else None
    return lao.province_code if lao else None


def _lao_ids_in(province_code: str) -> Any:
    return select(Lao.id).where(Lao.province_code == province_code).scalar_subquery()


ALL = frozenset(Level)
PATHS: dict[type, Path] = {
    Lao: Path(
        province=lambda p: Lao.province_code == p,
        lao=lambda lao_id: Lao.id == lao_id,
        institution=lambda i: false(),  # an institution works below its LAO, not on it
        unit=lambda s, get: Unit(get("province_code"), get("id")),
        writers=frozenset({Level.DEPARTMENT}),
    ),
    Institution: Path(
        province=lambda p: Institution.lao_id.in_(_lao_ids_in(p)),
        lao=lambda lao_id: Institution.lao_id == lao_id,
        institution=lambda i: Institution.id == i,
        unit=lambda s, get: Unit(_lao_province(s, get("lao_id")), get("lao_id"), get("id")),
        writers=ALL,
    ),
    OtherSchool: Path(
        province=lambda p: OtherSchool.lao_id.in_(_lao_ids_in(p)),
        lao=lambda lao_id: OtherSchool.lao_id == lao_id,
        institution=lambda i: false(),
        unit=lambda s, get: Unit(_lao_province(s, get("lao_id")), get("lao_id")),
        writers=frozenset({Level.DEPARTMENT, Level.PROVINCE, Level.LAO}),
    ),
    User: Path(
        province=lambda p: User.province_code == p,
        lao=lambda lao_id: User.lao_id == lao_id,
        institution=lambda i: User.institution_id == i,
        unit=lambda s, get: Unit(get("province_code"), get("lao_id"), get("institution_id")),
        writers=frozenset({Level.DEPARTMENT, Level.PROVINCE}),
    ),
}


def _institution_unit(session: Session, institution_id: int | None) -> Unit:
    with session.no_autoflush:
        institution = session.get(Institution, institution_id) if institution_id else None
    if institution is None:
        return Unit()
    return Unit(_lao_province(session, institution.lao_id), institution.lao_id, institution.id)


def _institution_id(get: Getter, key: str) -> int | None:
    """The institution id, also for a new row that so far only has the relationship set."""
    institution = get("institution")
    return get(key) or (institution.id if institution is not None else None)


def _institution_ids_in(province_code: str) -> Any:
    return select(Institution.id).join(Lao).where(Lao.province_code == province_code)


def _by_institution(column: Any, writers: frozenset[str]) -> Path:
    """The Path of a model that hangs under an institution through `column`."""
    return Path(
        province=lambda p: column.in_(_institution_ids_in(p)),
        lao=lambda lao_id: column.in_(select(Institution.id).where(Institution.lao_id == lao_id)),
        institution=lambda i: column == i,
        unit=lambda s, get: _institution_unit(s, _institution_id(get, column.key)),
        writers=writers,
    )


def holding_rank(enrolment: Any = Enrolment) -> tuple[ColumnElement[Any], ...]:
    """How strongly an enrolment holds its learner, highest first (SPEC §3: where the learner
    is active, or last was): active before any other status, then the later year, then the
    later row. The learner's identity belongs to the enrolment that ranks first."""
    return (case((enrolment.status == EnrolmentStatus.ACTIVE, 1), else_=0),
            enrolment.academic_year, enrolment.id)


def holds_learner() -> ColumnElement[bool]:
    """Whether an enrolment is the one holding its learner: none of the learner's others
    outranks it. An anti-join on ix_enrolment_learner_id, so a subtree's learners are still
    found from its institutions' enrolments, not by testing every learner in the country."""
    other = aliased(Enrolment)
    return ~select(other.id).where(
        other.learner_id == Enrolment.learner_id,
        tuple_(*holding_rank(other)) > tuple_(*holding_rank())).exists()


def _learner_has(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """A learner belongs where the enrolment holding them does, not wherever they once were:
    a school the learner left keeps its own enrolment rows but not the learner's identity."""
    return select(Enrolment.id).where(Enrolment.learner_id == Learner.id, condition,
                                      holds_learner()).exists()


def _held_rank(enrolment: Enrolment) -> tuple[bool, int, float]:
    """`holding_rank` of one row in Python; a row not saved yet is the newest, as it will be."""
    return (enrolment.status in (None, EnrolmentStatus.ACTIVE), enrolment.academic_year or 0,
            enrolment.id if enrolment.id is not None else math.inf)


def _learner_unit(session: Session, get: Getter) -> Unit:
    """The unit of the enrolment holding the learner: the same rank as `_learner_has`, so the
    one learner a page opens is seen by exactly those who find it in the list."""
    with session.no_autoflush:
        enrolments = get("enrolments") or []
    if isinstance(enrolments, Enrolment):  # the "before" side of a collection is one row
        enrolments = [enrolments]
    holding = max(enrolments, key=_held_rank, default=None)
    if holding is None:
        return Unit()
    return _institution_unit(session, _institution_id(lambda key: getattr(holding, key),
                                                      "institution_id"))


PATHS[Enrolment] = _by_institution(Enrolment.institution_id, ALL)
PATHS[CentreBasicData] = _by_institution(CentreBasicData.institution_id, ALL)
PATHS[Building] = _by_institution(Building.institution_id, ALL)
# Parents send applications without signing in; the institution decides them.
PATHS[Application] = _by_institution(Application.institution_id,
                                     frozenset({Level.DEPARTMENT, Level.INSTITUTION}))
PATHS[Learner] = Path(
    province=lambda p: _learner_has(Enrolment.institution_id.in_(_institution_ids_in(p))),
    lao=lambda lao_id: _learner_has(Enrolment.institution_id.in_(
        select(Institution.id).where(Institution.lao_id == lao_id))),
    institution=lambda i: _learner_has(Enrolment.institution_id == i),
    unit=_learner_unit,
    writers=ALL,
)
PATHS[OtherSchoolCount] = Path(
    province=lambda p: OtherSchoolCount.other_school_id.in_(
        select(OtherSchool.id).where(OtherSchool.lao_id.in_(_lao_ids_in(p)))),
    lao=lambda lao_id: OtherSchoolCount.other_school_id.in_(
        select(OtherSchool.id).where(OtherSchool.lao_id == lao_id)),
    institution=lambda i: false(),
    unit=lambda s, get: _other_school_unit(s, get("other_school_id")),
    writers=frozenset({Level.DEPARTMENT, Level.PROVINCE, Level.LAO}),
)


def _other_school_unit(session: Session, other_school_id: int | None) -> Unit:
    with session.no_autoflush:
        school = session.get(OtherSchool, other_school_id) if other_school_id else None
    if school is None:
        return Unit()
    return Unit(_lao_province(session, school.lao_id), school.lao_id)


def _account_unit(session: Session, user_id: int | None) -> Unit:
    with session.no_autoflush:
        user = session.get(User, user_id) if user_id is not None else None
    return Unit(user.province_code, user.lao_id, user.institution_id) if user else Unit()


# A profile hangs under its account. The audit log is read by the levels above the actor's
# unit and written only by rules/audit.py, never through the ORM.
PATHS[Profile] = Path(
    province=lambda p: Profile.user_id.in_(select(User.id).where(User.province_code == p)),
    lao=lambda lao_id: Profile.user_id.in_(select(User.id).where(User.lao_id == lao_id)),
    institution=lambda i: Profile.user_id.in_(select(User.id).where(User.institution_id == i)),
    unit=lambda s, get: _account_unit(s, get("user_id")),
    writers=ALL,
)
PATHS[AuditEntry] = Path(
    # The writer's units see an entry, and so do the units of the learner's institution.
    province=lambda p: or_(AuditEntry.province_code == p,
                           AuditEntry.subject_institution_id.in_(_institution_ids_in(p))),
    lao=lambda lao_id: or_(AuditEntry.lao_id == lao_id, AuditEntry.subject_institution_id.in_(
        select(Institution.id).where(Institution.lao_id == lao_id))),
    institution=lambda i: or_(AuditEntry.institution_id == i,
                              AuditEntry.subject_institution_id == i),
    unit=lambda s, get: Unit(get("province_code"), get("lao_id"), get("institution_id")),
    writers=frozenset(),
)

# Code exceptions and the agencies' API tokens belong to the department alone.
DEPARTMENT_ONLY = Path(province=lambda p: false(), lao=lambda lao_id: false(),
                       institution=lambda i: false(), unit=lambda s, get: Unit(),
                       writers=frozenset({Level.DEPARTMENT}))
# National data: every level reads it, the department sets it (the country's provinces,
# districts and subdistricts that forms pick from, rounds, subsidy rates, OBEC's published
# counts, the risk thresholds of each year).
NATIONAL = Path(province=lambda p: true(), lao=lambda lao_id: true(),
                institution=lambda i: true(), unit=lambda s, get: Unit(),
                writers=frozenset({Level.DEPARTMENT}))
for _model in (CodeException, AgencyToken):
    PATHS[_model] = DEPARTMENT_ONLY
for _model in (Province, District, Subdistrict, Round, BudgetRate, ObecCount, RiskThreshold):
    PATHS[_model] = NATIONAL

# Confirmations carry their unit's place; snapshots are written only by rules/confirmation.py;
# spot checks are the province's.
PATHS[Confirmation] = Path(
    province=lambda p: Confirmation.province_code == p,
    lao=lambda lao_id: Confirmation.lao_id == lao_id,
    institution=lambda i: Confirmation.institution_id == i,
    unit=lambda s, get: Unit(get("province_code"), get("lao_id"), get("institution_id")),
    writers=ALL,
)


def _confirmation_unit(session: Session, confirmation_id: int | None) -> Unit:
    with session.no_autoflush:
        row = session.get(Confirmation, confirmation_id) if confirmation_id else None
    return Unit(row.province_code, row.lao_id, row.institution_id) if row else Unit()


def _spot_check_unit(session: Session, spot_check_id: int | None) -> Unit:
    with session.no_autoflush:
        row = session.get(SpotCheck, spot_check_id) if spot_check_id else None
    return Unit(row.province_code) if row else Unit()


def _under_confirmation(model: Any) -> Path:
    """Rows frozen by a confirmation (its counts, its roster) sit where the confirmation does;
    only rules/confirmation.py writes them (INSERT … SELECT)."""

    def confirmations(condition: Any) -> Any:
        return model.confirmation_id.in_(select(Confirmation.id).where(condition))

    return Path(province=lambda p: confirmations(Confirmation.province_code == p),
                lao=lambda lao_id: confirmations(Confirmation.lao_id == lao_id),
                institution=lambda i: confirmations(Confirmation.institution_id == i),
                unit=lambda s, get: _confirmation_unit(s, get("confirmation_id")),
                writers=frozenset())


PATHS[SnapshotCount] = _under_confirmation(SnapshotCount)
# A spot check is the province's record about a unit below it, not that unit's own data.
PATHS[SpotCheck] = Path(
    province=lambda p: SpotCheck.province_code == p,
    lao=lambda lao_id: false(),
    institution=lambda i: false(),
    unit=lambda s, get: Unit(get("province_code")),
    writers=frozenset({Level.DEPARTMENT, Level.PROVINCE}),
)
PATHS[SpotCheckItem] = Path(
    province=lambda p: SpotCheckItem.spot_check_id.in_(
        select(SpotCheck.id).where(SpotCheck.province_code == p)),
    lao=lambda lao_id: false(),
    institution=lambda i: false(),
    unit=lambda s, get: _spot_check_unit(s, get("spot_check_id")),
    writers=frozenset({Level.DEPARTMENT, Level.PROVINCE}),
)

# Risk flags and quality scores are computed set-wise by rules/risk/ and rules/quality.py.
for _model in (RiskFlag, QualityScore):
    PATHS[_model] = Path(province=lambda p, m=_model: m.province_code == p,
                         lao=lambda lao_id, m=_model: m.lao_id == lao_id,
                         institution=lambda i, m=_model: m.institution_id == i,
                         unit=lambda s, get: Unit(get("province_code"), get("lao_id"),
                                                  get("institution_id")),
                         writers=frozenset())
PATHS[RosterEntry] = _under_confirmation(RosterEntry)
