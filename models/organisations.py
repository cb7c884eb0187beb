"""LAOs, their institutions, the other-affiliation schools they fund, and code exceptions."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import db
from .geography import District, Province, Subdistrict


class LaoType(enum.IntEnum):
    """The LAO type, numbered as the first digit of its DLA code."""

    PAO = 2
    CITY = 3
    TOWN = 4
    SUBDISTRICT_MUNICIPALITY = 5
    SAO = 6

    @property
    def label(self) -> str:
        return str(LAO_TYPE_LABELS[self])

    @property
    def is_municipality(self) -> bool:
        return self in (LaoType.CITY, LaoType.TOWN, LaoType.SUBDISTRICT_MUNICIPALITY)


LAO_TYPE_LABELS = {
    LaoType.PAO: _l("Provincial Administrative Organisation (PAO)"),
    LaoType.CITY: _l("City municipality or Pattaya City"),
    LaoType.TOWN: _l("Town municipality"),
    LaoType.SUBDISTRICT_MUNICIPALITY: _l("Subdistrict municipality"),
    LaoType.SAO: _l("Subdistrict Administrative Organisation (SAO)"),
}


class InstitutionKind(enum.StrEnum):
    SCHOOL = "school"
    CDC = "cdc"


INSTITUTION_KIND_LABELS = {
    InstitutionKind.SCHOOL: _l("School"),
    InstitutionKind.CDC: _l("Child development centre"),
}


class Affiliation(enum.StrEnum):
    OBEC = "obec"
    BPP = "bpp"
    PRIVATE = "private"
    OTHER = "other"


AFFILIATION_LABELS = {
    Affiliation.OBEC: _l("OBEC"),
    Affiliation.BPP: _l("Border Patrol Police"),
    Affiliation.PRIVATE: _l("Private"),
    Affiliation.OTHER: _l("Other affiliation"),
}


class Lao(db.Model):
    __tablename__ = "lao"
    __table_args__ = (CheckConstraint("lao_type BETWEEN 2 AND 6", name="lao_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    lao_type: Mapped[int] = mapped_column(Integer, index=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("province.code"), index=True)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("district.code"), index=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))

    province: Mapped[Province] = relationship()
    district: Mapped[District | None] = relationship()

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Institution(db.Model):
    __tablename__ = "institution"
    __table_args__ = (
        CheckConstraint("kind IN ('school', 'cdc')", name="kind"),
        Index("ix_institution_lao_kind", "lao_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    lao_id: Mapped[int] = mapped_column(ForeignKey("lao.id"))
    subdistrict_code: Mapped[str | None] = mapped_column(ForeignKey("subdistrict.code"))
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Voluntary (SPEC §8); indexed because the public admission pages list only these.
    accepts_online_applications: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0", index=True
    )

    lao: Mapped[Lao] = relationship()
    subdistrict: Mapped[Subdistrict | None] = relationship()

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class OtherSchool(db.Model):
    """A school of another affiliation whose pupils an LAO funds (SPEC §3)."""

    __tablename__ = "other_school"
    __table_args__ = (
        UniqueConstraint("affiliation", "code", name="affiliation_code"),
        CheckConstraint("affiliation IN ('obec', 'bpp', 'private', 'other')", name="affiliation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    affiliation: Mapped[str] = mapped_column(String(10), index=True)
    lao_id: Mapped[int] = mapped_column(ForeignKey("lao.id"), index=True)
    closed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    lao: Mapped[Lao] = relationship()

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


#: The code rules a department waiver lifts, by the name CodeException.rule stores.
CODE_RULE_LABELS = {"type": _l("Type digit"), "district": _l("District digits"),
                    "kind": _l("Institution kind digit")}


class CodeException(db.Model):
    """A department-granted waiver of one code rule for one code (SPEC §2 real-data exceptions)."""

    __tablename__ = "code_exception"
    __table_args__ = (
        UniqueConstraint("code", "rule", name="code_rule"),
        CheckConstraint("rule IN ('type', 'district', 'kind')", name="rule"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), index=True)
    rule: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    def __str__(self) -> str:
        return f"{self.code} ({self.rule})"
