"""Risk-weighted spot checks: a learner weighs more in the province's sample for each flag."""

import random
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Round
from models.risk import RiskFlag

from .thresholds import thresholds


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
