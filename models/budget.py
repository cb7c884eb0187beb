"""Subsidy rates per academic year, which the department edits (SPEC §7 budget estimate).

Money is held in satang (1/100 baht) as integers, so sums are exact on every database.
"""

from sqlalchemy import CheckConstraint, Integer
from sqlalchemy.orm import Mapped, mapped_column

from . import db

# FY2566 cabinet rates (SPEC §7); money in satang. The milk price is the department's to set.
FY2566 = {
    "lunch_max_1": 40, "lunch_max_2": 100, "lunch_max_3": 120,
    "lunch_rate_1": 3600, "lunch_rate_2": 2700, "lunch_rate_3": 2400, "lunch_rate_4": 2200,
    "lunch_days": 200, "milk_unit_price": 737, "milk_days": 260,
    "cdc_lunch_rate": 2100, "cdc_lunch_days": 245, "cdc_milk_days": 260,
}


class BudgetRate(db.Model):
    """Lunch by school size and milk per child per day for one academic year (BE)."""

    __tablename__ = "budget_rate"
    __table_args__ = (
        CheckConstraint("lunch_max_1 < lunch_max_2 AND lunch_max_2 < lunch_max_3",
                        name="tiers_rise"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year: Mapped[int] = mapped_column(Integer, unique=True)  # BE
    # School lunch: every pupil K1-P6 of a school gets the daily rate of the school's size tier.
    lunch_max_1: Mapped[int] = mapped_column(Integer)
    lunch_max_2: Mapped[int] = mapped_column(Integer)
    lunch_max_3: Mapped[int] = mapped_column(Integer)
    lunch_rate_1: Mapped[int] = mapped_column(Integer)  # satang per pupil per day
    lunch_rate_2: Mapped[int] = mapped_column(Integer)
    lunch_rate_3: Mapped[int] = mapped_column(Integer)
    lunch_rate_4: Mapped[int] = mapped_column(Integer)
    lunch_days: Mapped[int] = mapped_column(Integer)
    # Milk for K1-P6 pupils and every CDC child.
    milk_unit_price: Mapped[int] = mapped_column(Integer)
    milk_days: Mapped[int] = mapped_column(Integer)
    # Child development centres: one lunch rate whatever the size.
    cdc_lunch_rate: Mapped[int] = mapped_column(Integer)
    cdc_lunch_days: Mapped[int] = mapped_column(Integer)
    cdc_milk_days: Mapped[int] = mapped_column(Integer)

    @classmethod
    def fy2566(cls, academic_year: int) -> "BudgetRate":
        """A year's rates at the FY2566 figures, to seed and then edit."""
        return cls(academic_year=academic_year, **FY2566)

    def __str__(self) -> str:
        return str(self.academic_year)
