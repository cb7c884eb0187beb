"""Academic years and their collection rounds, with the deadline of each level (SPEC §4)."""

from datetime import date

from sqlalchemy import Date, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

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
