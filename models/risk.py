"""Risk flags found in a round's data, their yearly thresholds, and each unit's quality score."""

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from . import db


class RiskThreshold(db.Model):
    """One threshold of one risk rule for one academic year (BE); the department edits it."""

    __tablename__ = "risk_threshold"
    __table_args__ = (UniqueConstraint("academic_year", "setting", name="year_setting"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year: Mapped[int] = mapped_column(Integer)
    setting: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)

    def __str__(self) -> str:
        return f"{self.academic_year} {self.setting}"


class RiskFlag(db.Model):
    """One row a risk rule found in one round: a learner's enrolment, an institution or an
    other-affiliation school, with the figures its reason is written from.

    Rows are recomputed set-wise (DELETE then INSERT … SELECT per rule), so there are no
    foreign keys to the learner rows they point at: a flag never blocks a correction.
    """

    __tablename__ = "risk_flag"
    __table_args__ = (
        Index("ix_risk_flag_round_province_rule", "round_id", "province_code", "rule"),
        Index("ix_risk_flag_round_lao_rule", "round_id", "lao_id", "rule"),
        Index("ix_risk_flag_round_institution_rule", "round_id", "institution_id", "rule"),
        Index("ix_risk_flag_round_learner", "round_id", "learner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("collection_round.id"))
    rule: Mapped[str] = mapped_column(String(24))
    province_code: Mapped[str] = mapped_column(String(2))
    lao_id: Mapped[int] = mapped_column(Integer)
    institution_id: Mapped[int | None] = mapped_column(Integer)
    other_school_id: Mapped[int | None] = mapped_column(Integer)
    enrolment_id: Mapped[int | None] = mapped_column(Integer)
    learner_id: Mapped[int | None] = mapped_column(Integer)
    #: What was found (a count, a share) and what was expected (the peers', the past's).
    measure: Mapped[float | None] = mapped_column(Float)
    expected: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str | None] = mapped_column(String(200))


class QualityScore(db.Model):
    """An institution's data-quality score in a round, kept as the counts it is made from.

    LAO and province scores are the same formula over the sums of their institutions' rows,
    so every level reads one grouped query.
    """

    __tablename__ = "quality_score"
    __table_args__ = (
        UniqueConstraint("round_id", "institution_id", name="round_institution"),
        Index("ix_quality_score_round_lao", "round_id", "lao_id"),
        Index("ix_quality_score_round_province", "round_id", "province_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("collection_round.id"))
    province_code: Mapped[str] = mapped_column(String(2))
    lao_id: Mapped[int] = mapped_column(Integer)
    institution_id: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer, default=1)  # 1 here; summed above
    learners: Mapped[int] = mapped_column(Integer, default=0)
    incomplete: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    inconsistent: Mapped[int] = mapped_column(Integer, default=0)
    unit_flags: Mapped[int] = mapped_column(Integer, default=0)
    late: Mapped[int] = mapped_column(Integer, default=0)
    checked: Mapped[int] = mapped_column(Integer, default=0)  # spot-checked learners
    failed: Mapped[int] = mapped_column(Integer, default=0)  # not found or data wrong
    score: Mapped[float] = mapped_column(Float, default=100)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ObecCount(db.Model):
    """OBEC's published head count of one grade of one school at a count date, which the
    department loads so LEC can compare the LAO-entered other-affiliation counts with it."""

    __tablename__ = "obec_count"
    __table_args__ = (
        UniqueConstraint("count_date", "school_code", "grade", name="date_school_grade"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    count_date: Mapped[date] = mapped_column(Date)
    school_code: Mapped[str] = mapped_column(String(20))
    grade: Mapped[str] = mapped_column(String(2))
    boys: Mapped[int] = mapped_column(Integer)
    girls: Mapped[int] = mapped_column(Integer)
