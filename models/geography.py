"""Provinces, districts and subdistricts: DOPA reference data loaded from `geothai`."""

from flask_babel import gettext as _
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import db


class Province(db.Model):
    __tablename__ = "province"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name_th: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))

    def __str__(self) -> str:
        return f"{self.code} {self.name_th}"

    @property
    def title(self) -> str:
        """How a page names the province it is about: จังหวัดศรีสะเกษ (33), not its code alone."""
        return _("Province %(name)s (%(code)s)", name=self.name_th, code=self.code)


class District(db.Model):
    __tablename__ = "district"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("province.code"), index=True)
    name_th: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))

    province: Mapped[Province] = relationship()

    def __str__(self) -> str:
        return f"{self.code} {self.name_th}"


class Subdistrict(db.Model):
    __tablename__ = "subdistrict"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    name_th: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(5))

    district: Mapped[District] = relationship()

    def __str__(self) -> str:
        return f"{self.name_th} ({self.code})"
