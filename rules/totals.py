"""Sums kept for the national reports (issue 11): each province's live lowest snapshots by
database, grade and gender, and each lowest snapshot's budget head counts.

A lowest snapshot is an institution's confirmation, or an LAO's of its other-affiliation
schools: together they hold every learner once. Confirming one adds it to its province's
totals, cancelling it takes it away, in the same transaction and in one statement, so the
department's report reads ~3,000 rows instead of ~140,000 whatever the number of
institutions. Concurrent confirms of one province add to the same rows: the upsert makes them
wait on each other row by row, in one order (database, grade, gender), so none is lost.
"""

from typing import Any

from sqlalchemy import and_, case, delete, func, insert, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import Confirmation, ProvinceTotal, SnapshotCount
from models.rounds import ConfirmLevel, Database

from .budget import SUBSIDISED_GRADES

KEY = ("round_id", "province_code", "database", "grade", "gender")


def lowest(round_id: int) -> Any:
    """The live lowest snapshots of a round, as a condition on `Confirmation`."""
    return and_(Confirmation.round_id == round_id, Confirmation.cancelled_at.is_(None),
                or_(Confirmation.level == ConfirmLevel.INSTITUTION,
                    and_(Confirmation.level == ConfirmLevel.LAO,
                         Confirmation.database == Database.OTHER)))


def is_lowest(confirmation: Confirmation) -> bool:
    return confirmation.level == ConfirmLevel.INSTITUTION or (
        confirmation.level == ConfirmLevel.LAO and confirmation.database == Database.OTHER)


def _subsidised(count: Any) -> Any:
    return func.coalesce(func.sum(case((SnapshotCount.grade.in_(SUBSIDISED_GRADES), count),
                                       else_=0)), 0)


def add(session: Session, confirmation: Confirmation) -> None:
    """A lowest snapshot just taken: count it in its province and note its budget head counts."""
    if not is_lowest(confirmation):
        return
    _change(session, confirmation, 1)
    # On the table, not the object: the confirmation is written by its rule once, then final.
    session.execute(update(Confirmation.__table__).where(
        Confirmation.__table__.c.id == confirmation.id).values(**_head_counts()))


def remove(session: Session, confirmation: Confirmation) -> None:
    """A lowest snapshot cancelled: its learners leave its province's totals."""
    if is_lowest(confirmation):
        _change(session, confirmation, -1)


def _change(session: Session, confirmation: Confirmation, sign: int) -> None:
    rows = (select(literal(confirmation.round_id), literal(confirmation.province_code),
                   literal(confirmation.database), SnapshotCount.grade, SnapshotCount.gender,
                   SnapshotCount.count * sign)
            .where(SnapshotCount.confirmation_id == confirmation.id)
            .order_by(SnapshotCount.grade, SnapshotCount.gender))
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(ProvinceTotal).from_select([*KEY, "count"], rows)
    session.execute(upsert.on_conflict_do_update(
        index_elements=list(KEY), set_={"count": ProvinceTotal.count + upsert.excluded.count}))


def rebuild(session: Session, round_id: int) -> None:
    """Make a round's totals again from its snapshots (after a bulk load, or to check them)."""
    session.execute(delete(ProvinceTotal).where(ProvinceTotal.round_id == round_id))
    session.execute(insert(ProvinceTotal).from_select(
        [*KEY, "count"],
        select(Confirmation.round_id, Confirmation.province_code, Confirmation.database,
               SnapshotCount.grade, SnapshotCount.gender, func.sum(SnapshotCount.count))
        .join(Confirmation, Confirmation.id == SnapshotCount.confirmation_id)
        .where(lowest(round_id))
        .group_by(Confirmation.round_id, Confirmation.province_code, Confirmation.database,
                  SnapshotCount.grade, SnapshotCount.gender)))
    session.execute(update(Confirmation.__table__).where(lowest(round_id))
                    .values(**_head_counts()))


def _head_counts() -> dict[str, Any]:
    """The budget's head counts of the confirmation being updated, from its snapshot rows."""
    own = SnapshotCount.confirmation_id == Confirmation.__table__.c.id
    return {"subsidised": select(_subsidised(SnapshotCount.count)).where(own).scalar_subquery(),
            "learners": select(func.coalesce(func.sum(SnapshotCount.count), 0)).where(own)
            .scalar_subquery()}
