"""The data-quality score of an institution, LAO and province: 100 less a deduction per part
(completeness, validity, consistency, timeliness, spot checks), each deduction its weight times
the share of rows behind it. One formula, read by SQL to store and sort and by Python to
explain; a level above sums its institutions' counts and applies the same formula.
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, case, cast, delete, distinct, func, insert, literal, select, update
from sqlalchemy.orm import Session

import clock
from models import Confirmation, Enrolment, Institution, Lao, Round, SpotCheck, SpotCheckItem
from models.people import EnrolmentStatus
from models.risk import QualityScore, RiskFlag
from models.rounds import ConfirmLevel, SpotOutcome

from .risk import RULES


def _rules(part: str) -> tuple[str, ...]:
    return tuple(k for k, r in RULES.items() if r.part == part)


@dataclass(frozen=True)
class Part:
    """One part of the score: its weight, the counts it is a share of, the rules behind it."""

    key: str
    label: Any
    weight: float
    numerator: str
    denominator: str
    rules: tuple[str, ...]
    explain: Callable[[int, int], str]


PARTS = (
    Part("completeness", _l("Completeness"), 25, "incomplete", "learners", _rules("completeness"),
         lambda n, of: _("%(n)d of %(of)d learners lack a key field (birth date, guardian, "
                         "address).", n=n, of=of)),
    Part("validity", _l("Validity"), 20, "invalid", "learners", _rules("validity"),
         lambda n, of: _("%(n)d of %(of)d learners have an age far from their grade or were "
                         "enrolled after the count date.", n=n, of=of)),
    Part("consistency", _l("Consistency of learners"), 20, "inconsistent", "learners",
         _rules("consistency"),
         lambda n, of: _("%(n)d of %(of)d learners share a guardian phone with many others or "
                         "appear at another institution under another ID.", n=n, of=of)),
    Part("counts", _l("Consistency of counts"), 10, "unit_flags", "units", _rules("unit"),
         lambda n, of: _("%(n)d unit warnings (count jumps, G-code share, centre without staff "
                         "or classrooms) for %(of)d institutions.", n=n, of=of)),
    Part("timeliness", _l("Timeliness"), 10, "late", "units", (),
         lambda n, of: _("%(n)d of %(of)d institutions confirmed late or are past their "
                         "deadline unconfirmed.", n=n, of=of)),
    Part("spot_checks", _l("Spot checks"), 15, "failed", "checked", (),
         lambda n, of: _("%(n)d of %(of)d spot-checked learners were not found or had wrong "
                         "data.", n=n, of=of)),
)
COUNTS = ("units", "learners", "incomplete", "invalid", "inconsistent", "unit_flags", "late",
          "checked", "failed")


def _deduction_sql(part: Part, column: Callable[[str], Any]) -> Any:
    n, of = column(part.numerator), column(part.denominator)
    return case((of == 0, 0.0), (n >= of, float(part.weight)),
                else_=part.weight * cast(n, Float) / of)


def score_sql(column: Callable[[str], Any]) -> Any:
    """The score as SQL over the counts `column(name)` gives (table columns or their sums)."""
    total: Any = literal(100.0)
    for part in PARTS:
        total = total - _deduction_sql(part, column)
    return total


@dataclass(frozen=True)
class Deduction:
    """Points taken off, why, and which flags are behind them (for the link to the rows)."""

    part: Part
    points: float
    reason: str


def deductions(counts: dict[str, int]) -> list[Deduction]:
    """Every deduction from a unit's counts, in the user's words; nothing for a clean part."""
    found = []
    for part in PARTS:
        n, of = counts.get(part.numerator) or 0, counts.get(part.denominator) or 0
        if of and n:
            points = part.weight if n >= of else part.weight * n / of
            found.append(Deduction(part, round(points, 1), part.explain(n, of)))
    return found


def score(counts: dict[str, int]) -> float:
    """The score of a unit from its counts: the same formula as `score_sql`."""
    return round(100 - sum(d.points for d in deductions(counts)), 1)


def _deadline_passed_at(round_: Round) -> datetime:
    """24:00 Bangkok time of the institutions' deadline, in UTC as timestamps are stored."""
    end = datetime.combine(round_.institution_deadline + timedelta(days=1), time(0),
                           clock.BANGKOK)
    return end.astimezone(UTC)


def compute(session: Session, round_: Round,
            institution_ids: Collection[int] | None = None) -> None:
    """Store the round's scores from its stored flags, confirmations and spot checks."""
    ids = list(institution_ids) if institution_ids is not None else None
    stale = delete(QualityScore).where(QualityScore.round_id == round_.id)
    if ids is not None:
        stale = stale.where(QualityScore.institution_id.in_(ids))
    session.execute(stale)
    learners = (select(Enrolment.institution_id, func.count().label("n"))
                .where(Enrolment.academic_year == round_.academic_year,
                       Enrolment.status == EnrolmentStatus.ACTIVE)
                .group_by(Enrolment.institution_id).subquery())

    def rows_of(part: str) -> Any:
        return func.count(distinct(case((RiskFlag.rule.in_(_rules(part)),
                                         RiskFlag.enrolment_id))))

    flags = (select(RiskFlag.institution_id, rows_of("completeness").label("incomplete"),
                    rows_of("validity").label("invalid"),
                    rows_of("consistency").label("inconsistent"),
                    func.sum(case((RiskFlag.rule.in_(_rules("unit")), 1), else_=0))
                    .label("unit_flags"))
             .where(RiskFlag.round_id == round_.id, RiskFlag.institution_id.is_not(None))
             .group_by(RiskFlag.institution_id).subquery())
    confirmed = (select(Confirmation.institution_id,
                        func.min(Confirmation.confirmed_at).label("at"))
                 .where(Confirmation.round_id == round_.id,
                        Confirmation.level == ConfirmLevel.INSTITUTION,
                        Confirmation.cancelled_at.is_(None))
                 .group_by(Confirmation.institution_id).subquery())
    due = _deadline_passed_at(round_)
    late = case((confirmed.c.at.is_(None), 1 if clock.now() >= due else 0),
                (confirmed.c.at >= due, 1), else_=0)
    spots = (select(SpotCheckItem.institution_id,
                    func.count(SpotCheckItem.outcome).label("checked"),
                    func.sum(case((SpotCheckItem.outcome.in_(
                        (SpotOutcome.NOT_FOUND, SpotOutcome.DATA_WRONG)), 1), else_=0))
                    .label("failed"))
             .join(SpotCheck, SpotCheck.id == SpotCheckItem.spot_check_id)
             .where(SpotCheck.round_id == round_.id)
             .group_by(SpotCheckItem.institution_id).subquery())
    zero = func.coalesce
    rows = (select(literal(round_.id), Lao.province_code, Institution.lao_id, Institution.id,
                   literal(1), zero(learners.c.n, 0), zero(flags.c.incomplete, 0),
                   zero(flags.c.invalid, 0), zero(flags.c.inconsistent, 0),
                   zero(flags.c.unit_flags, 0), late, zero(spots.c.checked, 0),
                   zero(spots.c.failed, 0), literal(100.0), literal(clock.now()))
            .select_from(Institution).join(Lao, Lao.id == Institution.lao_id)
            .outerjoin(learners, learners.c.institution_id == Institution.id)
            .outerjoin(flags, flags.c.institution_id == Institution.id)
            .outerjoin(confirmed, confirmed.c.institution_id == Institution.id)
            .outerjoin(spots, spots.c.institution_id == Institution.id)
            .where(Institution.active.is_(True)))
    if ids is not None:
        rows = rows.where(Institution.id.in_(ids))
    session.execute(insert(QualityScore).from_select(
        ["round_id", "province_code", "lao_id", "institution_id", *COUNTS, "score",
         "computed_at"], rows))
    scored = (update(QualityScore).where(QualityScore.round_id == round_.id)
              .values(score=score_sql(lambda name: getattr(QualityScore, name))))
    if ids is not None:
        scored = scored.where(QualityScore.institution_id.in_(ids))
    session.execute(scored)


def checked_at(session: Session, round_: Round, *where: Any) -> datetime | None:
    """When the round's data under `where` was last checked, as its least recent unit was (each
    check stores every unit's score): all its flags are at least that fresh; None before any."""
    return session.scalar(select(func.min(QualityScore.computed_at))
                          .where(QualityScore.round_id == round_.id, *where))


def totals(session: Session, round_: Round, key: str, *where: Any
           ) -> dict[Any, dict[str, Any]]:
    """Per unit (`key`: institution_id, lao_id or province_code): summed counts and the score,
    in one grouped query."""
    unit = getattr(QualityScore, key)
    sums = {name: func.sum(getattr(QualityScore, name)) for name in COUNTS}
    query = (select(unit, *(s.label(n) for n, s in sums.items()),
                    score_sql(lambda name: sums[name]).label("score"),
                    func.max(QualityScore.computed_at).label("computed_at"))
             .where(QualityScore.round_id == round_.id, *where).group_by(unit))
    return {row[0]: dict(row._mapping) for row in session.execute(query)}
