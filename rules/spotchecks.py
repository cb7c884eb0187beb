"""Spot checks (SPEC §5): a province draws a reproducible sample of an LAO's or institution's
learners, weighted by the round's risk flags, and records what it finds for each."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import clock
from models import Enrolment, Institution, Lao, Round, SpotCheck, SpotCheckItem
from models.people import EnrolmentStatus

from . import risk


def sample(session: Session, round_: Round, lao_id: int, institution_id: int | None, seed: int,
           size: int) -> list[tuple[int, int, float, list[str]]]:
    """(learner, institution, weight, flags) drawn reproducibly from the unit's active
    enrolments, each learner weighted by the round's risk flags (rules/risk/sampling.py)."""
    query = (select(Enrolment.learner_id, Enrolment.institution_id)
             .join(Institution, Institution.id == Enrolment.institution_id)
             .where(Enrolment.academic_year == round_.academic_year,
                    Enrolment.status == EnrolmentStatus.ACTIVE, Institution.lao_id == lao_id)
             .order_by(Enrolment.learner_id))
    if institution_id is not None:
        query = query.where(Enrolment.institution_id == institution_id)
    population = [tuple(r) for r in session.execute(query)]
    weights = risk.sample_weights(session, round_, population, lao_id)
    unit = institution_id if institution_id is not None else f"lao{lao_id}"
    chosen = risk.weighted_sample([w for w, _ in weights], size, f"{round_.id}:{unit}:{seed}")
    return [(*population[i], *weights[i]) for i in chosen]


def draw(session: Session, round_: Round, lao: Lao, institution: Institution | None, seed: int,
         size: int, drawn_by: str) -> SpotCheck:
    """Record a new spot check of the unit with its sampled learners (the caller commits)."""
    check = SpotCheck(round_id=round_.id, province_code=lao.province_code, lao_id=lao.id,
                      institution_id=institution.id if institution else None, seed=seed,
                      sample_size=size, drawn_at=clock.now(), drawn_by=drawn_by)
    drawn = sample(session, round_, lao.id, check.institution_id, seed, size)
    session.add(check)
    session.flush()  # the items' scope is found through their check's id
    session.add_all([SpotCheckItem(spot_check_id=check.id, position=n, learner_id=learner,
                                   institution_id=inst, weight=weight,
                                   flags=" ".join(flags)[:200] or None)
                     for n, (learner, inst, weight, flags) in enumerate(drawn, start=1)])
    return check


def checked_counts(session: Session, check_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(learners with an outcome, learners drawn) per check, for the list to show how far each
    has got; a unit with fewer active learners than asked for draws fewer than its size."""
    if not check_ids:
        return {}
    rows = session.execute(select(SpotCheckItem.spot_check_id, func.count(SpotCheckItem.outcome),
                                  func.count()).where(SpotCheckItem.spot_check_id.in_(check_ids))
                           .group_by(SpotCheckItem.spot_check_id))
    return {check_id: (checked, drawn) for check_id, checked, drawn in rows}
