"""Learners, their yearly enrolments, other-affiliation head counts and institution basic data."""

import enum
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    desc,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import db
from .geography import Subdistrict
from .organisations import Institution, InstitutionKind, OtherSchool
from .rounds import Round

# Grades in teaching order; the labels translate to the Thai short forms on DLA's forms.
SCHOOL_GRADES = ("K1", "K2", "K3", "P1", "P2", "P3", "P4", "P5", "P6",
                 "M1", "M2", "M3", "M4", "M5", "M6")
CDC_GRADES = ("A2", "A3", "A4", "A5")
COUNT_GRADES = ("K1", "K2", "K3", "P1", "P2", "P3", "P4", "P5", "P6")
GRADES_BY_KIND = {InstitutionKind.SCHOOL: SCHOOL_GRADES, InstitutionKind.CDC: CDC_GRADES}

GRADE_LABELS = {
    "K1": _l("K1"), "K2": _l("K2"), "K3": _l("K3"),
    "P1": _l("P1"), "P2": _l("P2"), "P3": _l("P3"),
    "P4": _l("P4"), "P5": _l("P5"), "P6": _l("P6"),
    "M1": _l("M1"), "M2": _l("M2"), "M3": _l("M3"),
    "M4": _l("M4"), "M5": _l("M5"), "M6": _l("M6"),
    "A2": _l("Children aged 2"), "A3": _l("Children aged 3"),
    "A4": _l("Children aged 4"), "A5": _l("Children aged 5"),
}
# The usual age (completed years on 16 May of the academic year) of a learner in each grade.
GRADE_AGE = {"K1": 3, "K2": 4, "K3": 5, "P1": 6, "P2": 7, "P3": 8, "P4": 9, "P5": 10, "P6": 11,
             "M1": 12, "M2": 13, "M3": 14, "M4": 15, "M5": 16, "M6": 17,
             "A2": 2, "A3": 3, "A4": 4, "A5": 5}


def next_grade(grade: str) -> str | None:
    """The grade after `grade`, or None when it is the last one of its kind."""
    for grades in (SCHOOL_GRADES, CDC_GRADES):
        if grade in grades:
            i = grades.index(grade)
            return grades[i + 1] if i + 1 < len(grades) else None
    return None


class Gender(enum.StrEnum):
    MALE = "M"
    FEMALE = "F"


GENDER_LABELS = {Gender.MALE: _l("Male"), Gender.FEMALE: _l("Female")}
TITLES = ("เด็กชาย", "เด็กหญิง", "นาย", "นางสาว")


class EnrolmentStatus(enum.StrEnum):
    ACTIVE = "active"
    TRANSFERRED = "transferred"
    GRADUATED = "graduated"
    WITHDRAWN = "withdrawn"
    REMOVED = "removed"


STATUS_LABELS = {
    EnrolmentStatus.ACTIVE: _l("Studying"),
    EnrolmentStatus.TRANSFERRED: _l("Transferred out"),
    EnrolmentStatus.GRADUATED: _l("Graduated"),
    EnrolmentStatus.WITHDRAWN: _l("Withdrawn"),
    EnrolmentStatus.REMOVED: _l("Removed (non-existent learner)"),
}


class RemovalReason(enum.StrEnum):
    NEVER_CAME = "never_came"
    LEFT_WITHOUT_NOTICE = "left_without_notice"
    UNREACHABLE = "unreachable"
    OTHER = "other"


REMOVAL_REASON_LABELS = {
    RemovalReason.NEVER_CAME: _l("Applied but never came, or went elsewhere without notice"),
    RemovalReason.LEFT_WITHOUT_NOTICE: _l("Left during term without notice"),
    RemovalReason.UNREACHABLE: _l("Absent and unreachable"),
    RemovalReason.OTHER: _l("Other (see note)"),
}


def normalised_phone(column: Any) -> Any:
    """A phone without its spaces and dashes, as the risk rules compare them. The constants are
    written out, not bound, so that the query's expression is the index's (both databases find
    the index only for the very same expression)."""
    space, dash, nothing = (literal_column(f"'{c}'") for c in (" ", "-", ""))
    return func.replace(func.replace(column, space, nothing), dash, nothing)


class Learner(db.Model):
    """A child as the civil registry knows them; their schooling lives in `Enrolment`."""

    __tablename__ = "learner"
    __table_args__ = (
        CheckConstraint("gender IN ('M', 'F')", name="gender"),
        # Name search is by prefix of the lower-cased name: a range on these indexes (LIKE
        # 'x%' with text_pattern_ops on PostgreSQL, whatever the database's collation).
        Index("ix_learner_first_name_prefix", func.lower(text("first_name")).label("first"),
              postgresql_ops={"first": "text_pattern_ops"}),
        Index("ix_learner_last_name_prefix", func.lower(text("last_name")).label("last"),
              postgresql_ops={"last": "text_pattern_ops"}),
        # A recompute of some institutions' risk flags looks up, nationally, only the names with
        # birth dates and the guardian phones their learners have (rules/risk/learner_checks.py).
        Index("ix_learner_name_birth_date", "last_name", "first_name", "birth_date"),
        Index("ix_learner_normalised_phone", normalised_phone(text("guardian_phone"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    national_id: Mapped[str] = mapped_column(String(13), unique=True)
    title: Mapped[str | None] = mapped_column(String(30))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))  # ix_learner_name_birth_date leads on it
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    nationality: Mapped[str | None] = mapped_column(String(50))
    ethnicity: Mapped[str | None] = mapped_column(String(50))
    religion: Mapped[str | None] = mapped_column(String(50))
    height_cm: Mapped[float | None] = mapped_column(Numeric(5, 1))
    weight_kg: Mapped[float | None] = mapped_column(Numeric(5, 1))
    disadvantaged: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    guardian_name: Mapped[str | None] = mapped_column(String(200))
    guardian_phone: Mapped[str | None] = mapped_column(String(50))
    registered_address: Mapped[str | None] = mapped_column(String(300))
    registered_subdistrict_code: Mapped[str | None] = mapped_column(
        ForeignKey("subdistrict.code"))
    current_address: Mapped[str | None] = mapped_column(String(300))
    current_subdistrict_code: Mapped[str | None] = mapped_column(ForeignKey("subdistrict.code"))

    registered_subdistrict: Mapped[Subdistrict | None] = relationship(
        foreign_keys=[registered_subdistrict_code])
    current_subdistrict: Mapped[Subdistrict | None] = relationship(
        foreign_keys=[current_subdistrict_code])
    enrolments: Mapped[list["Enrolment"]] = relationship(back_populates="learner")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)

    def __str__(self) -> str:
        return self.full_name


class Enrolment(db.Model):
    """One learner at one institution for one academic year (BE)."""

    __tablename__ = "enrolment"
    __table_args__ = (
        # Nationwide: one active enrolment per learner per year (SPEC §3), held by the database
        # too, so two institutions racing for the same child cannot both win.
        Index("uq_enrolment_one_active", "learner_id", "academic_year", unique=True,
              postgresql_where=text("status = 'active'"), sqlite_where=text("status = 'active'")),
        Index("ix_enrolment_institution_year_status", "institution_id", "academic_year",
              "status"),
        # The lists' default order, ending in the primary key so paging never repeats or skips
        # a row: page 1 of the national list reads 50 index entries instead of sorting them all.
        # (SQLite cannot reflect the DESC, and its lists are a demo's size: PostgreSQL only.)
        Index("ix_enrolment_list_order", desc("academic_year"), "institution_id", "grade",
              "classroom", "id").ddl_if(dialect="postgresql"),
        # The same order for young children alone: the department's list of them walks these,
        # not the ~1.1 million school rows that come first in the one above.
        Index("ix_enrolment_list_order_cdc", desc("academic_year"), "institution_id", "grade",
              "classroom", "id", postgresql_where=text(f"grade IN {CDC_GRADES}")
              ).ddl_if(dialect="postgresql"),
        CheckConstraint(
            "status IN ('active', 'transferred', 'graduated', 'withdrawn', 'removed')",
            name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    academic_year: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(2))
    classroom: Mapped[str | None] = mapped_column(String(20))
    enrolled_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=EnrolmentStatus.ACTIVE,
                                        server_default="active")
    removal_reason: Mapped[str | None] = mapped_column(String(24))
    removal_note: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    learner: Mapped[Learner] = relationship(back_populates="enrolments")
    institution: Mapped[Institution] = relationship()

    def __str__(self) -> str:
        # The audit log keeps this text: a row made with only its learner's key names no one
        # rather than "None".
        learner = self.learner
        return f"{self.academic_year} {self.grade}" + (f" {learner}" if learner else "")


class OtherSchoolCount(db.Model):
    """Head count of one grade of one other-affiliation school in one round (SPEC §3)."""

    __tablename__ = "other_school_count"
    __table_args__ = (
        UniqueConstraint("round_id", "other_school_id", "grade", name="round_school_grade"),
        CheckConstraint("boys >= 0 AND girls >= 0", name="not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("collection_round.id"))
    other_school_id: Mapped[int] = mapped_column(ForeignKey("other_school.id"), index=True)
    grade: Mapped[str] = mapped_column(String(2))
    boys: Mapped[int] = mapped_column(Integer, default=0)
    girls: Mapped[int] = mapped_column(Integer, default=0)

    round: Mapped[Round] = relationship()
    other_school: Mapped[OtherSchool] = relationship()


class CentreBasicData(db.Model):
    """A CDC's basic data: staff by role, rooms, capacity, head and contact."""

    __tablename__ = "centre_basic_data"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), unique=True)
    head_name: Mapped[str | None] = mapped_column(String(200))
    head_phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    teachers: Mapped[int] = mapped_column(Integer, default=0)
    assistant_teachers: Mapped[int] = mapped_column(Integer, default=0)
    caretakers: Mapped[int] = mapped_column(Integer, default=0)
    other_staff: Mapped[int] = mapped_column(Integer, default=0)
    classrooms: Mapped[int] = mapped_column(Integer, default=0)
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    institution: Mapped[Institution] = relationship()

    def __str__(self) -> str:
        return str(self.institution)


#: How a building's condition is kept, and what each code means to its reader.
BUILDING_CONDITION_LABELS = {"good": _l("Good"), "fair": _l("Needs repair"), "poor": _l("Unsafe")}


class Building(db.Model):
    """One building of an institution (อาคารสถานที่)."""

    __tablename__ = "building"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    use: Mapped[str | None] = mapped_column(String(200))
    built_year: Mapped[int | None] = mapped_column(Integer)  # BE
    rooms: Mapped[int | None] = mapped_column(Integer)
    condition: Mapped[str | None] = mapped_column(String(20))

    institution: Mapped[Institution] = relationship()

    def __str__(self) -> str:
        return self.name
