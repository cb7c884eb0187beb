"""The learner list an institution's confirmation froze, so a later cancel can show what changed."""

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from . import db


class RosterEntry(db.Model):
    """One active enrolment as it stood when the institution confirmed (its key fields).

    Written by the confirm itself in one INSERT … SELECT; the counts stay in SnapshotCount.
    """

    __tablename__ = "roster_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    confirmation_id: Mapped[int] = mapped_column(ForeignKey("confirmation.id"), index=True)
    enrolment_id: Mapped[int] = mapped_column(Integer)
    learner_id: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(2))
    classroom: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(String(30))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
