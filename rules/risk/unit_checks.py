"""The risk rules on whole units: a G-code share far above the province's, a count that jumps
against the last confirmed one, a centre without staff, other-affiliation counts that do not fit
their past or OBEC's published figures."""

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import (
    Float,
    Select,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.orm import Session

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
from models.risk import ObecCount
from models.rounds import ConfirmLevel

from .rows import active, count_date, within


def g_code_share(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """An institution whose share of G-code learners is far above its province's."""
    is_g = case((Learner.national_id.like("G%"), 1), else_=0)
    per = (select(Enrolment.institution_id, Institution.lao_id, Lao.province_code,
                  func.count().label("n"), func.sum(is_g).label("g"))
           .select_from(Enrolment).join(Learner, Learner.id == Enrolment.learner_id)
           .join(Institution, Institution.id == Enrolment.institution_id)
           .join(Lao, Lao.id == Institution.lao_id).where(*active(round_))
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
    return within(query, per.c.institution_id, ids)


def _earlier_rounds(round_: Round) -> Any:
    return select(Round.id).where(or_(
        Round.academic_year < round_.academic_year,
        and_(Round.academic_year == round_.academic_year, Round.number < round_.number)))


def _changed(now: Any, before: Any, ratio: float, least: float) -> Any:
    change = func.abs(now - before)
    return and_(change >= least, change > before * ratio)


def count_jump(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """An institution whose learners jump against its last confirmed snapshot."""
    now = (select(Enrolment.institution_id, func.count().label("n")).where(*active(round_))
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
    return within(query, Institution.id, ids)


def centre_no_staff(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """A centre with children but no staff or no classrooms in its basic data."""
    children = (select(Enrolment.institution_id, func.count().label("n")).where(*active(round_))
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
    return within(query, Institution.id, ids)


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
