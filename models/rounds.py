"""Collection rounds with their deadlines (§4), and the confirmations, snapshots and spot checks
made in them (§5)."""

import enum
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import db


class Round(db.Model):
    """Round N of year Y (BE), open from `opens_on` to 24:00 Bangkok time of `closes_on`."""

    __tablename__ = "collection_round"
    __table_args__ = (UniqueConstraint("academic_year", "number", name="year_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year: Mapped[int] = mapped_column(Integer, index=True)  # BE, e.g. 2564
    number: Mapped[int] = mapped_column(Integer, default=1)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    institution_deadline: Mapped[date] = mapped_column(Date)
    lao_deadline: Mapped[date] = mapped_column(Date)
    province_deadline: Mapped[date] = mapped_column(Date)

    def __str__(self) -> str:
        return f"{self.academic_year}/{self.number}"


class Database(enum.StrEnum):
    """The three databases confirmed separately (SPEC §5); a province confirms them all at once."""

    STUDENTS = "students"
    CHILDREN = "children"
    OTHER = "other"
    ALL = "all"


DATABASE_LABELS = {
    Database.STUDENTS: _l("Students database"),
    Database.CHILDREN: _l("Young children database"),
    Database.OTHER: _l("Other-affiliation counts"),
    Database.ALL: _l("All databases"),
}


class ConfirmLevel(enum.StrEnum):
    INSTITUTION = "institution"
    LAO = "lao"
    PROVINCE = "province"


def _live(level: str) -> Any:
    return text(f"cancelled_at IS NULL AND level = '{level}'")


class Confirmation(db.Model):
    """One unit's confirmation of one database for one round; a cancel keeps the row for history.

    Every row carries the unit's province, and its LAO for LAO and institution rows, so scoping
    and the progress dashboard are single indexed comparisons. The partial unique indexes let
    only one live (not cancelled) confirmation exist per round, unit and database, which also
    settles two users confirming the same unit at the same moment.
    """

    __tablename__ = "confirmation"
    __table_args__ = (
        CheckConstraint("level IN ('institution', 'lao', 'province')", name="level"),
        CheckConstraint("database IN ('students', 'children', 'other', 'all')", name="database"),
        CheckConstraint("(level != 'institution') OR (institution_id IS NOT NULL)",
                        name="unit_institution"),
        CheckConstraint("(level = 'province') OR (lao_id IS NOT NULL)", name="unit_lao"),
        CheckConstraint("(cancelled_at IS NULL) OR (cancel_reason IS NOT NULL)",
                        name="cancel_reason"),
        Index("uq_confirmation_live_institution", "round_id", "institution_id", "database",
              unique=True, postgresql_where=_live("institution"),
              sqlite_where=_live("institution")),
        Index("uq_confirmation_live_lao", "round_id", "lao_id", "database", unique=True,
              postgresql_where=_live("lao"), sqlite_where=_live("lao")),
        Index("uq_confirmation_live_province", "round_id", "province_code", "database",
              unique=True, postgresql_where=_live("province"), sqlite_where=_live("province")),
        Index("ix_confirmation_round_lao", "round_id", "lao_id", "level"),
        Index("ix_confirmation_round_province", "round_id", "province_code", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("collection_round.id"))
    level: Mapped[str] = mapped_column(String(12))
    database: Mapped[str] = mapped_column(String(10))
    province_code: Mapped[str] = mapped_column(ForeignKey("province.code"))
    lao_id: Mapped[int | None] = mapped_column(ForeignKey("lao.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_by: Mapped[str] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # What the budget counts of a lowest snapshot (an institution's, or an LAO's
    # other-affiliation counts), summed once when it is taken (rules/totals.py).
    subsidised: Mapped[int | None] = mapped_column(Integer)  # learners K1-P6
    learners: Mapped[int | None] = mapped_column(Integer)  # every grade

    round: Mapped[Round] = relationship()

    @property
    def live(self) -> bool:
        return self.cancelled_at is None

    def __str__(self) -> str:
        return f"{self.round_id} {self.level} {self.database}"


class SnapshotCount(db.Model):
    """The counts a confirmation froze: reports and budgets read these, never live rows (§5.5).

    One row per (confirmation, grade, gender) with `count` learners; gender is 'M' or 'F' as on
    `Learner.gender` (other-affiliation boys are 'M', girls 'F'). A snapshot is valid while its
    confirmation is live (`Confirmation.cancelled_at IS NULL`); a cancel voids it. An LAO's
    snapshot is the sum of its institutions' snapshots, a province's the sum of its LAOs'.
    Totals for a unit and round: join `confirmation` on `confirmation_id`, filter live rows of
    the wanted level and unit, and sum `count` by grade and gender.
    """

    __tablename__ = "snapshot_count"
    __table_args__ = (
        UniqueConstraint("confirmation_id", "grade", "gender", name="confirmation_grade_gender"),
        CheckConstraint("gender IN ('M', 'F')", name="gender"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    confirmation_id: Mapped[int] = mapped_column(ForeignKey("confirmation.id"))
    grade: Mapped[str] = mapped_column(String(2))
    gender: Mapped[str] = mapped_column(String(1))
    count: Mapped[int] = mapped_column(Integer)


class ProvinceTotal(db.Model):
    """The live lowest snapshots summed per province, database, grade and gender: the national
    report reads these ~3,000 rows instead of every institution's snapshot (issue 11).

    Kept by rules/totals.py in the transaction of each confirm and cancel that changes them;
    `flask --app app lec totals` rebuilds them from the snapshots.
    """

    __tablename__ = "province_total"

    round_id: Mapped[int] = mapped_column(ForeignKey("collection_round.id"), primary_key=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("province.code"), primary_key=True)
    database: Mapped[str] = mapped_column(String(10), primary_key=True)
    grade: Mapped[str] = mapped_column(String(2), primary_key=True)
    gender: Mapped[str] = mapped_column(String(1), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SpotOutcome(enum.StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    DATA_WRONG = "data_wrong"


SPOT_OUTCOME_LABELS = {
    SpotOutcome.FOUND: _l("Found"),
    SpotOutcome.NOT_FOUND: _l("Learner not found"),
    SpotOutcome.DATA_WRONG: _l("Found, data wrong"),
}


class SpotCheck(db.Model):
    """A province's random sample of learners of one LAO or institution (สุ่มตรวจสอบ).

    The sample is drawn from the unit's active enrolments of the round's year with a generator
    seeded by round, unit and `seed`, so anyone can draw it again and get the same learners.
    """

    __tablename__ = "spot_check"
    __table_args__ = (
        CheckConstraint("(lao_id IS NOT NULL) OR (institution_id IS NOT NULL)", name="unit"),
        Index("ix_spot_check_round_province", "round_id", "province_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("collection_round.id"))
    province_code: Mapped[str] = mapped_column(ForeignKey("province.code"))
    lao_id: Mapped[int] = mapped_column(ForeignKey("lao.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    seed: Mapped[int] = mapped_column(Integer)
    sample_size: Mapped[int] = mapped_column(Integer)
    drawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    drawn_by: Mapped[str] = mapped_column(String(64))

    round: Mapped[Round] = relationship()
    items: Mapped[list["SpotCheckItem"]] = relationship(
        back_populates="spot_check", order_by="SpotCheckItem.position")


class SpotCheckItem(db.Model):
    """One sampled learner and what the province found when it checked them."""

    __tablename__ = "spot_check_item"
    __table_args__ = (
        UniqueConstraint("spot_check_id", "position", name="check_position"),
        CheckConstraint("outcome IS NULL OR outcome IN ('found', 'not_found', 'data_wrong')",
                        name="outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    spot_check_id: Mapped[int] = mapped_column(ForeignKey("spot_check.id"))
    position: Mapped[int] = mapped_column(Integer)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    # The learner's weight in the draw and the risk flags behind it (rules/risk/).
    weight: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_by: Mapped[str | None] = mapped_column(String(64))

    spot_check: Mapped[SpotCheck] = relationship(back_populates="items")
