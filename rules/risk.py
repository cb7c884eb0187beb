"""Risk flags (ghost learners and duplicates): each rule is one set-wise query over a round's
data that returns the rows it finds, and a function that writes the reason in the user's words
from the figures the row carries. `compute()` stores them, a DELETE and an INSERT … SELECT per
rule, so a round costs a fixed number of statements whatever its size.
"""

import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Float,
    Select,
    String,
    and_,
    case,
    cast,
    delete,
    distinct,
    func,
    insert,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.orm import Session

import clock
from i18n import be_date
from models import (
    CentreBasicData,
    Confirmation,
    Enrolment,
    Institution,
    Lao,
    Learner,
    OtherSchool,
    OtherSchoolCount,
    Round,
    SnapshotCount,
)
from models.people import GRADE_AGE, GRADE_LABELS, EnrolmentStatus
from models.risk import ObecCount, RiskFlag, RiskThreshold
from models.rounds import ConfirmLevel

#: The thresholds every year starts with; the department edits them per year.
DEFAULTS: dict[str, float] = {
    "shared_phone.learners": 5,
    "g_code_share.factor": 3,
    "g_code_share.min_share": 0.2,
    "g_code_share.min_learners": 10,
    "age_grade.years": 2,
    "late_enrolment.days": 0,
    "count_jump.ratio": 0.3,
    "count_jump.min_change": 10,
    "other_school_jump.ratio": 0.3,
    "other_school_jump.min_change": 10,
    # What each flag adds to a learner's weight (1) in the province's spot-check sample.
    "weight.incomplete": 1,
    "weight.age_grade": 2,
    "weight.late_enrolment": 3,
    "weight.shared_phone": 3,
    "weight.same_person": 4,
    "weight.g_code_share": 1,
    "weight.count_jump": 1,
    "weight.centre_no_staff": 1,
}
SETTING_LABELS = {
    "shared_phone.learners": _l("Learners behind one guardian phone before it is flagged"),
    "g_code_share.factor": _l("G-code share above the province's share, as a multiple"),
    "g_code_share.min_share": _l("Smallest G-code share flagged (0 to 1)"),
    "g_code_share.min_learners": _l("Smallest institution checked for its G-code share"),
    "age_grade.years": _l("Years from the usual age of the grade before a learner is flagged"),
    "late_enrolment.days": _l("Days after the count date an enrolment is still accepted"),
    "count_jump.ratio": _l("Change against the last confirmed count flagged (0.3 = 30%)"),
    "count_jump.min_change": _l("Smallest change in learners flagged against the last count"),
    "other_school_jump.ratio": _l("Change of an other-affiliation count against its past "
                                  "flagged (0.3 = 30%)"),
    "other_school_jump.min_change": _l("Smallest change in pupils flagged for an "
                                       "other-affiliation school"),
}

COLUMNS = ("round_id", "rule", "province_code", "lao_id", "institution_id", "other_school_id",
           "enrolment_id", "learner_id", "measure", "expected", "detail")


def thresholds(session: Session, academic_year: int) -> dict[str, float]:
    """The year's thresholds: the department's values over the defaults."""
    rows = session.execute(select(RiskThreshold.setting, RiskThreshold.value)
                           .where(RiskThreshold.academic_year == academic_year))
    return {**DEFAULTS, **{setting: value for setting, value in rows}}


def seed_thresholds(session: Session, academic_year: int) -> int:
    """Write the defaults the year does not have yet, so the department sees what is used."""
    have = set(session.scalars(select(RiskThreshold.setting)
                               .where(RiskThreshold.academic_year == academic_year)))
    missing = [RiskThreshold(academic_year=academic_year, setting=k, value=v)
               for k, v in DEFAULTS.items() if k not in have]
    session.add_all(missing)
    return len(missing)


# --- the rules -------------------------------------------------------------------------------

def _active(round_: Round) -> list[Any]:
    return [Enrolment.academic_year == round_.academic_year,
            Enrolment.status == EnrolmentStatus.ACTIVE]


def _learner_rows(round_: Round, rule: str, measure: Any = None, expected: Any = None,
                  detail: Any = None) -> Select:
    """A round's active enrolments as flag rows; each rule adds its joins and conditions."""
    return (select(literal(round_.id), literal(rule), Lao.province_code, Institution.lao_id,
                   Enrolment.institution_id, null(), Enrolment.id, Enrolment.learner_id,
                   measure if measure is not None else null(),
                   expected if expected is not None else null(),
                   detail if detail is not None else null())
            .select_from(Enrolment)
            .join(Learner, Learner.id == Enrolment.learner_id)
            .join(Institution, Institution.id == Enrolment.institution_id)
            .join(Lao, Lao.id == Institution.lao_id)
            .where(*_active(round_)))


def _within(query: Select, column: Any, ids: Collection[int] | None) -> Select:
    return query if ids is None else query.where(column.in_(list(ids)))


def _blank(column: Any) -> Any:
    return or_(column.is_(None), column == "")


MISSING_FIELDS = {
    "birth_date": _l("birth date"), "guardian_name": _l("guardian's name"),
    "guardian_phone": _l("guardian's phone"), "address": _l("address"),
}


def incomplete(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """Learners whose record lacks a field the counts and the checks depend on."""
    checks = {"birth_date": Learner.birth_date.is_(None),
              "guardian_name": _blank(Learner.guardian_name),
              "guardian_phone": _blank(Learner.guardian_phone),
              "address": and_(_blank(Learner.current_address),
                              _blank(Learner.registered_address))}
    listed = None
    for key, missing in checks.items():
        part = case((missing, literal(key + " ")), else_=literal(""))
        listed = part if listed is None else listed + part
    count = sum((case((missing, 1), else_=0) for missing in checks.values()), literal(0))
    query = _learner_rows(round_, "incomplete", count, None, listed).where(or_(*checks.values()))
    return _within(query, Enrolment.institution_id, ids)


def _phone() -> Any:
    return func.replace(func.replace(Learner.guardian_phone, " ", ""), "-", "")


def shared_phone(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """One guardian phone behind many learners, across institutions too."""
    phone = _phone()
    groups = (select(phone.label("phone"), func.count().label("n"),
                     func.count(distinct(Enrolment.institution_id)).label("k"))
              .select_from(Enrolment).join(Learner, Learner.id == Enrolment.learner_id)
              .where(*_active(round_), ~_blank(Learner.guardian_phone)))
    if ids is not None:  # only the phones the institutions use, checked against everyone
        groups = groups.where(phone.in_(
            select(phone).select_from(Enrolment).join(Learner, Learner.id == Enrolment.learner_id)
            .where(*_active(round_), Enrolment.institution_id.in_(list(ids)))))
    groups = (groups.group_by(phone)
              .having(func.count() >= t["shared_phone.learners"]).subquery())
    query = _learner_rows(round_, "shared_phone", groups.c.n, groups.c.k, groups.c.phone).join(
        groups, groups.c.phone == phone)
    return _within(query, Enrolment.institution_id, ids)


def same_person(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """The same name and birth date at two institutions under different national IDs."""
    key = (Learner.first_name, Learner.last_name, Learner.birth_date)
    groups = (select(*key, func.count().label("n"),
                     func.count(distinct(Enrolment.institution_id)).label("k"))
              .select_from(Enrolment).join(Learner, Learner.id == Enrolment.learner_id)
              .where(*_active(round_), Learner.birth_date.is_not(None))
              .group_by(*key).having(func.count(distinct(Enrolment.institution_id)) > 1)
              .subquery())
    query = _learner_rows(round_, "same_person", groups.c.n, groups.c.k,
                          Learner.first_name + literal(" ") + Learner.last_name).join(
        groups, and_(groups.c.first_name == Learner.first_name,
                     groups.c.last_name == Learner.last_name,
                     groups.c.birth_date == Learner.birth_date))
    return _within(query, Enrolment.institution_id, ids)


def g_code_share(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """An institution whose share of G-code learners is far above its province's."""
    is_g = case((Learner.national_id.like("G%"), 1), else_=0)
    per = (select(Enrolment.institution_id, Institution.lao_id, Lao.province_code,
                  func.count().label("n"), func.sum(is_g).label("g"))
           .select_from(Enrolment).join(Learner, Learner.id == Enrolment.learner_id)
           .join(Institution, Institution.id == Enrolment.institution_id)
           .join(Lao, Lao.id == Institution.lao_id).where(*_active(round_))
           .group_by(Enrolment.institution_id, Institution.lao_id, Lao.province_code)
           .subquery())
    province = (select(per.c.province_code,
                       (cast(func.sum(per.c.g), Float) / func.sum(per.c.n)).label("share"))
                .group_by(per.c.province_code).subquery())
    share = cast(per.c.g, Float) / per.c.n
    query = (select(literal(round_.id), literal("g_code_share"), per.c.province_code,
                    per.c.lao_id, per.c.institution_id, null(), null(), null(), share,
                    province.c.share, null())
             .join(province, province.c.province_code == per.c.province_code)
             .where(per.c.n >= t["g_code_share.min_learners"],
                    share >= t["g_code_share.min_share"],
                    share > province.c.share * t["g_code_share.factor"]))
    return _within(query, per.c.institution_id, ids)


def _years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)


def age_grade(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """A learner whose age on 16 May is far from the usual age of their grade."""
    start, years = clock.term_start(round_.academic_year), int(t["age_grade.years"])
    # Completed years on `start` below usual-years: born after start minus (usual-years) years.
    too_young = case({g: _years_before(start, a - years) for g, a in GRADE_AGE.items()},
                     value=Enrolment.grade)
    too_old = case({g: _years_before(start, a + years + 1) for g, a in GRADE_AGE.items()},
                   value=Enrolment.grade)
    usual = case(GRADE_AGE, value=Enrolment.grade)
    query = _learner_rows(round_, "age_grade", null(), usual,
                          cast(Learner.birth_date, String)).where(
        Learner.birth_date.is_not(None),
        or_(Learner.birth_date > too_young, Learner.birth_date <= too_old))
    return _within(query, Enrolment.institution_id, ids)


def count_date(round_: Round) -> date:
    """The day a round counts learners at: the institutions' deadline (10 June for round 1)."""
    return round_.institution_deadline


def late_enrolment(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """A learner enrolled after the round's count date."""
    last = count_date(round_) + timedelta(days=int(t["late_enrolment.days"]))
    query = _learner_rows(round_, "late_enrolment", None, None,
                          cast(Enrolment.enrolled_on, String)).where(Enrolment.enrolled_on > last)
    return _within(query, Enrolment.institution_id, ids)


def _earlier_rounds(round_: Round) -> Any:
    return select(Round.id).where(or_(
        Round.academic_year < round_.academic_year,
        and_(Round.academic_year == round_.academic_year, Round.number < round_.number)))


def _changed(now: Any, before: Any, ratio: float, least: float) -> Any:
    change = func.abs(now - before)
    return and_(change >= least, change > before * ratio)


def count_jump(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """An institution whose learners jump against its last confirmed snapshot."""
    now = (select(Enrolment.institution_id, func.count().label("n")).where(*_active(round_))
           .group_by(Enrolment.institution_id).subquery())
    last = (select(Confirmation.institution_id, func.max(Confirmation.id).label("id"))
            .where(Confirmation.level == ConfirmLevel.INSTITUTION,
                   Confirmation.cancelled_at.is_(None),
                   Confirmation.round_id.in_(_earlier_rounds(round_)))
            .group_by(Confirmation.institution_id).subquery())
    before = (select(last.c.institution_id, func.sum(SnapshotCount.count).label("n"))
              .join(SnapshotCount, SnapshotCount.confirmation_id == last.c.id)
              .group_by(last.c.institution_id).subquery())
    learners = func.coalesce(now.c.n, 0)
    query = (select(literal(round_.id), literal("count_jump"), Lao.province_code,
                    Institution.lao_id, Institution.id, null(), null(), null(), learners,
                    before.c.n, null())
             .select_from(Institution).join(Lao, Lao.id == Institution.lao_id)
             .join(before, before.c.institution_id == Institution.id)
             .outerjoin(now, now.c.institution_id == Institution.id)
             .where(Institution.active.is_(True),
                    _changed(learners, before.c.n, t["count_jump.ratio"],
                             t["count_jump.min_change"])))
    return _within(query, Institution.id, ids)


def centre_no_staff(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """A centre with children but no staff or no classrooms in its basic data."""
    children = (select(Enrolment.institution_id, func.count().label("n")).where(*_active(round_))
                .group_by(Enrolment.institution_id).subquery())
    staff = (CentreBasicData.teachers + CentreBasicData.assistant_teachers
             + CentreBasicData.caretakers + CentreBasicData.other_staff)
    detail = case((CentreBasicData.id.is_(None), literal("no_data")),
                  (staff == 0, literal("no_staff")), else_=literal("no_rooms"))
    query = (select(literal(round_.id), literal("centre_no_staff"), Lao.province_code,
                    Institution.lao_id, Institution.id, null(), null(), null(), children.c.n,
                    staff, detail)
             .select_from(Institution).join(Lao, Lao.id == Institution.lao_id)
             .join(children, children.c.institution_id == Institution.id)
             .outerjoin(CentreBasicData, CentreBasicData.institution_id == Institution.id)
             .where(Institution.kind == "cdc", Institution.active.is_(True),
                    or_(CentreBasicData.id.is_(None), staff == 0,
                        CentreBasicData.classrooms == 0)))
    return _within(query, Institution.id, ids)


def other_school_jump(round_: Round, t: dict[str, float], ids: Collection[int] | None
                      ) -> Select:
    """An other-affiliation school whose LAO-entered count does not fit its past rounds."""
    totals = (select(OtherSchoolCount.other_school_id, OtherSchoolCount.round_id,
                     func.sum(OtherSchoolCount.boys + OtherSchoolCount.girls).label("n"))
              .group_by(OtherSchoolCount.other_school_id, OtherSchoolCount.round_id).subquery())
    past = (select(totals.c.other_school_id, func.avg(totals.c.n).label("n"))
            .where(totals.c.round_id.in_(_earlier_rounds(round_)))
            .group_by(totals.c.other_school_id).subquery())
    now = select(totals).where(totals.c.round_id == round_.id).subquery()
    return (select(literal(round_.id), literal("other_school_jump"), Lao.province_code,
                   OtherSchool.lao_id, null(), OtherSchool.id, null(), null(), now.c.n,
                   past.c.n, null())
            .select_from(OtherSchool).join(Lao, Lao.id == OtherSchool.lao_id)
            .join(now, now.c.other_school_id == OtherSchool.id)
            .join(past, past.c.other_school_id == OtherSchool.id)
            .where(OtherSchool.closed.is_(False),
                   _changed(now.c.n, past.c.n, t["other_school_jump.ratio"],
                            t["other_school_jump.min_change"])))


def obec_mismatch(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """An OBEC school whose LAO-entered count of a grade differs from OBEC's published count at
    the round's count date; one row per grade, both numbers kept side by side."""
    day = count_date(round_)
    published = select(ObecCount.school_code).where(ObecCount.count_date == day)
    schools = and_(OtherSchool.affiliation == "obec", OtherSchool.closed.is_(False))
    entered = (select(OtherSchool.id.label("school_id"), OtherSchool.lao_id,
                      OtherSchoolCount.grade, OtherSchoolCount.boys.label("lec_boys"),
                      OtherSchoolCount.girls.label("lec_girls"),
                      func.coalesce(ObecCount.boys, 0).label("obec_boys"),
                      func.coalesce(ObecCount.girls, 0).label("obec_girls"))
               .join(OtherSchoolCount, and_(OtherSchoolCount.other_school_id == OtherSchool.id,
                                            OtherSchoolCount.round_id == round_.id))
               .outerjoin(ObecCount, and_(ObecCount.school_code == OtherSchool.code,
                                          ObecCount.grade == OtherSchoolCount.grade,
                                          ObecCount.count_date == day))
               .where(schools, OtherSchool.code.in_(published)))
    only_obec = (select(OtherSchool.id, OtherSchool.lao_id, ObecCount.grade, literal(0),
                        literal(0), ObecCount.boys, ObecCount.girls)
                 .select_from(ObecCount)
                 .join(OtherSchool, OtherSchool.code == ObecCount.school_code)
                 .outerjoin(OtherSchoolCount, and_(
                     OtherSchoolCount.other_school_id == OtherSchool.id,
                     OtherSchoolCount.grade == ObecCount.grade,
                     OtherSchoolCount.round_id == round_.id))
                 .where(schools, ObecCount.count_date == day, OtherSchoolCount.id.is_(None),
                        ObecCount.boys + ObecCount.girls > 0))
    rows = entered.union_all(only_obec).subquery()

    def text_of(column: Any) -> Any:
        return cast(column, String)

    detail = (rows.c.grade + literal(":") + text_of(rows.c.lec_boys) + literal(":")
              + text_of(rows.c.lec_girls) + literal(":") + text_of(rows.c.obec_boys)
              + literal(":") + text_of(rows.c.obec_girls))
    return (select(literal(round_.id), literal("obec_mismatch"), Lao.province_code,
                   rows.c.lao_id, null(), rows.c.school_id, null(), null(),
                   rows.c.lec_boys + rows.c.lec_girls, rows.c.obec_boys + rows.c.obec_girls,
                   detail)
            .select_from(rows).join(Lao, Lao.id == rows.c.lao_id)
            .where(or_(rows.c.lec_boys != rows.c.obec_boys,
                       rows.c.lec_girls != rows.c.obec_girls)))


def load_obec_counts(session: Session, counts: dict[tuple[str, str], tuple[int, int]],
                     day: date) -> int:
    """Replace OBEC's published counts for `day` with `counts` (school, grade) → (boys, girls)."""
    session.execute(delete(ObecCount).where(ObecCount.count_date == day))
    rows = [{"count_date": day, "school_code": school, "grade": grade, "boys": boys,
             "girls": girls} for (school, grade), (boys, girls) in counts.items()]
    if rows:
        session.execute(insert(ObecCount), rows)
    return len(rows)


# --- reasons, in the user's words ------------------------------------------------------------

def _percent(value: float | None) -> str:
    return f"{(value or 0) * 100:.0f}%"


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _reason_incomplete(flag: Any, round_: Round) -> str:
    fields = ", ".join(str(MISSING_FIELDS[k]) for k in (flag.detail or "").split())
    return _("The record lacks: %(fields)s.", fields=fields)


def _reason_shared_phone(flag: Any, round_: Round) -> str:
    return _("The guardian phone %(phone)s is given for %(n)d learners at %(k)d institutions.",
             phone=flag.detail, n=int(flag.measure), k=int(flag.expected))


def _reason_same_person(flag: Any, round_: Round) -> str:
    return _("%(name)s, with the same birth date, is enrolled %(n)d times at %(k)d institutions "
             "under different national IDs.", name=flag.detail, n=int(flag.measure),
             k=int(flag.expected))


def _reason_g_code_share(flag: Any, round_: Round) -> str:
    return _("%(share)s of the learners have a G-code, against %(peers)s in the province.",
             share=_percent(flag.measure), peers=_percent(flag.expected))


def _reason_age_grade(flag: Any, round_: Round) -> str:
    age = _age_on(date.fromisoformat(flag.detail), clock.term_start(round_.academic_year))
    return _("Aged %(age)d on 16 May, but the usual age of this grade is %(usual)d.",
             age=age, usual=int(flag.expected))


def _reason_late_enrolment(flag: Any, round_: Round) -> str:
    return _("Enrolled on %(date)s, after the count date %(count_date)s.",
             date=be_date(date.fromisoformat(flag.detail)), count_date=be_date(count_date(round_)))


def _reason_count_jump(flag: Any, round_: Round) -> str:
    return _("%(now)d learners are recorded now, against %(before)d in the last confirmed "
             "count.", now=int(flag.measure), before=int(flag.expected))


def _reason_centre_no_staff(flag: Any, round_: Round) -> str:
    return {
        "no_data": _("The centre has %(n)d children but no basic data (staff, classrooms).",
                     n=int(flag.measure)),
        "no_staff": _("The centre has %(n)d children but no staff in its basic data.",
                      n=int(flag.measure)),
        "no_rooms": _("The centre has %(n)d children but no classrooms in its basic data.",
                      n=int(flag.measure)),
    }[flag.detail]


def _reason_other_school_jump(flag: Any, round_: Round) -> str:
    return _("%(now)d pupils are counted this round, against %(past)d on average in past "
             "rounds.", now=int(flag.measure), past=round(flag.expected))


def _reason_obec_mismatch(flag: Any, round_: Round) -> str:
    grade, lec_boys, lec_girls, obec_boys, obec_girls = flag.detail.split(":")
    return _("Grade %(grade)s: the LAO entered %(lec_boys)s boys and %(lec_girls)s girls; OBEC "
             "published %(obec_boys)s boys and %(obec_girls)s girls at %(date)s.",
             grade=GRADE_LABELS.get(grade, grade), lec_boys=lec_boys, lec_girls=lec_girls,
             obec_boys=obec_boys, obec_girls=obec_girls, date=be_date(count_date(round_)))


@dataclass(frozen=True)
class RiskRule:
    """One risk rule: what it finds (SQL), how it says why, and what part of quality it hits."""

    key: str
    label: Any
    part: str  # completeness, validity, consistency or unit
    rows: Callable[[Round, dict[str, float], Collection[int] | None], Select]
    reason: Callable[[Any, Round], str]
    per_institution: bool = True


RULES: dict[str, RiskRule] = {r.key: r for r in (
    RiskRule("incomplete", _l("Key fields missing"), "completeness", incomplete,
             _reason_incomplete),
    RiskRule("age_grade", _l("Age far from the grade"), "validity", age_grade,
             _reason_age_grade),
    RiskRule("late_enrolment", _l("Enrolled after the count date"), "validity", late_enrolment,
             _reason_late_enrolment),
    RiskRule("shared_phone", _l("One guardian phone behind many learners"), "consistency",
             shared_phone, _reason_shared_phone),
    RiskRule("same_person", _l("Same name and birth date under another ID"), "consistency",
             same_person, _reason_same_person),
    RiskRule("g_code_share", _l("G-code share far above the province"), "unit", g_code_share,
             _reason_g_code_share),
    RiskRule("count_jump", _l("Count jumps against the last confirmed count"), "unit",
             count_jump, _reason_count_jump),
    RiskRule("centre_no_staff", _l("Centre with children but no staff or classrooms"), "unit",
             centre_no_staff, _reason_centre_no_staff),
    RiskRule("other_school_jump", _l("Other-affiliation count does not fit its past"), "unit",
             other_school_jump, _reason_other_school_jump, per_institution=False),
    RiskRule("obec_mismatch", _l("Other-affiliation count differs from OBEC's"), "unit",
             obec_mismatch, _reason_obec_mismatch, per_institution=False),
)}


def find(session: Session, round_: Round, key: str,
         institution_ids: Collection[int] | None = None) -> list[tuple[Any, str]]:
    """The rows one rule finds in the round now, each with its reason (nothing is stored)."""
    rule = RULES[key]
    query = rule.rows(round_, thresholds(session, round_.academic_year), institution_ids)
    found = session.execute(query).all()
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in found]
    return [(row, rule.reason(_Row(row), round_)) for row in rows]


class _Row:
    """A found row read by attribute, as stored flags are."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def compute(session: Session, round_: Round,
            institution_ids: Collection[int] | None = None) -> None:
    """Store the round's flags: all of them, or again for some institutions only."""
    t = thresholds(session, round_.academic_year)
    for rule in RULES.values():
        if institution_ids is not None and not rule.per_institution:
            continue
        stale = delete(RiskFlag).where(RiskFlag.round_id == round_.id, RiskFlag.rule == rule.key)
        if institution_ids is not None:
            stale = stale.where(RiskFlag.institution_id.in_(list(institution_ids)))
        session.execute(stale)
        session.execute(insert(RiskFlag).from_select(COLUMNS, rule.rows(round_, t,
                                                                        institution_ids)))


SETTING_LABELS.update({
    f"weight.{key}": _l("Spot-check weight a learner gains from the flag: %(rule)s",
                        rule=rule.label)
    for key, rule in RULES.items() if rule.per_institution})


# --- risk-weighted spot checks ---------------------------------------------------------------

def sample_weights(session: Session, round_: Round, population: Sequence[tuple[int, int]],
                   lao_id: int) -> list[tuple[float, list[str]]]:
    """For each (learner, institution) of an LAO's population: 1 plus the year's weight of each
    stored flag on the learner or their institution, and those flags' rules (one query)."""
    t = thresholds(session, round_.academic_year)
    on_learner: dict[int, list[str]] = {}
    on_institution: dict[int, list[str]] = {}
    for learner_id, institution_id, rule in session.execute(
            select(RiskFlag.learner_id, RiskFlag.institution_id, RiskFlag.rule)
            .where(RiskFlag.round_id == round_.id, RiskFlag.lao_id == lao_id,
                   RiskFlag.institution_id.is_not(None)).order_by(RiskFlag.id)):
        if learner_id is not None:
            on_learner.setdefault(learner_id, []).append(rule)
        else:
            on_institution.setdefault(institution_id, []).append(rule)
    weighted = []
    for learner_id, institution_id in population:
        flags = on_learner.get(learner_id, []) + on_institution.get(institution_id, [])
        weighted.append((1 + sum(t.get(f"weight.{r}", 0) for r in flags), flags))
    return weighted


def weighted_sample(weights: Sequence[float], size: int, seed: str) -> list[int]:
    """Positions of `size` members drawn without replacement, each more likely the heavier it
    is (Efraimidis-Spirakis keys u ** (1 / w)); the same seed draws the same members."""
    generator = random.Random(seed)
    keys = [generator.random() ** (1 / w) for w in weights]
    return sorted(range(len(weights)), key=lambda i: keys[i], reverse=True)[:size]
