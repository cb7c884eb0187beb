"""The shape every risk rule's query returns (one row of `RiskFlag`), and the parts its queries
share: a round's active enrolments and its count date."""

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import Select, literal, null, or_, select

from models import Enrolment, Institution, Lao, Learner, Round
from models.people import EnrolmentStatus

COLUMNS = ("round_id", "rule", "province_code", "lao_id", "institution_id", "other_school_id",
           "enrolment_id", "learner_id", "measure", "expected", "detail")


def active(round_: Round) -> list[Any]:
    """The conditions that keep a round's active enrolments."""
    return [Enrolment.academic_year == round_.academic_year,
            Enrolment.status == EnrolmentStatus.ACTIVE]


def learner_rows(round_: Round, rule: str, measure: Any = None, expected: Any = None,
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
            .where(*active(round_)))


def within(query: Select, column: Any, ids: Collection[int] | None) -> Select:
    """`query` kept to some institutions (a recompute after an import), or all of them."""
    return query if ids is None else query.where(column.in_(list(ids)))


def blank(column: Any) -> Any:
    """A text field left empty, whether NULL or ''."""
    return or_(column.is_(None), column == "")


def count_date(round_: Round) -> date:
    """The day a round counts learners at: the institutions' deadline (10 June for round 1)."""
    return round_.institution_deadline
