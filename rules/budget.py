"""The milk and lunch estimate (SPEC §7): pure arithmetic on confirmed head counts and the rates.

Amounts are in satang (integers) so that sums over 20,000 institutions stay exact. Lunch for a
school: every pupil K1-P6 at the daily rate of the school's size tier (FY2566 cabinet rates:
1-40 pupils 36 baht, 41-100 27, 101-120 24, 121+ 22) times the lunch days. Milk: pupils K1-P6
and every CDC child, at the unit price times the milk days. Other-affiliation schools get milk
only: the LAO's snapshot holds their grade totals, not each school's size tier.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from models.budget import BudgetRate
from models.people import COUNT_GRADES
from models.rounds import Database

from . import validates

SUBSIDISED_GRADES = frozenset(COUNT_GRADES)  # K1-P6


@dataclass(frozen=True)
class Estimate:
    """Children counted and money (satang) for lunch and milk."""

    lunch_pupils: int = 0
    lunch: int = 0
    milk_pupils: int = 0
    milk: int = 0

    @property
    def total(self) -> int:
        return self.lunch + self.milk

    def __add__(self, other: "Estimate") -> "Estimate":
        return Estimate(self.lunch_pupils + other.lunch_pupils, self.lunch + other.lunch,
                        self.milk_pupils + other.milk_pupils, self.milk + other.milk)

    def times(self, units: int) -> "Estimate":
        """The estimate of `units` units of the same size (one size tier, one head count)."""
        return Estimate(self.lunch_pupils * units, self.lunch * units,
                        self.milk_pupils * units, self.milk * units)


def lunch_rate(rate: BudgetRate, pupils: int) -> int:
    """The daily lunch rate (satang) of a school with `pupils` pupils K1-P6."""
    if pupils <= rate.lunch_max_1:
        return rate.lunch_rate_1
    if pupils <= rate.lunch_max_2:
        return rate.lunch_rate_2
    if pupils <= rate.lunch_max_3:
        return rate.lunch_rate_3
    return rate.lunch_rate_4


def subsidised(counts: Mapping[str, int]) -> int:
    """Pupils in grades K1-P6 among `counts` (grade -> number)."""
    return sum(n for grade, n in counts.items() if grade in SUBSIDISED_GRADES)


def school_estimate(rate: BudgetRate, pupils: int) -> Estimate:
    """Lunch and milk for one school with `pupils` pupils K1-P6."""
    return Estimate(pupils, pupils * lunch_rate(rate, pupils) * rate.lunch_days,
                    pupils, pupils * rate.milk_unit_price * rate.milk_days)


def cdc_estimate(rate: BudgetRate, children: int) -> Estimate:
    """Lunch and milk for one child development centre with `children` children."""
    return Estimate(children, children * rate.cdc_lunch_rate * rate.cdc_lunch_days,
                    children, children * rate.milk_unit_price * rate.cdc_milk_days)


def other_school_estimate(rate: BudgetRate, pupils: int) -> Estimate:
    """Milk for the pupils K1-P6 of the other-affiliation schools an LAO funds."""
    return Estimate(milk_pupils=pupils, milk=pupils * rate.milk_unit_price * rate.milk_days)


def estimate(database: str, rate: BudgetRate, pupils: int) -> Estimate:
    """The estimate of one unit of `database` with `pupils` counted (K1-P6, or every child of
    a centre)."""
    return {Database.STUDENTS: school_estimate, Database.CHILDREN: cdc_estimate,
            Database.OTHER: other_school_estimate}[Database(database)](rate, pupils)


def baht(satang: int) -> str:
    """Satang as baht with thousands separators, as on a budget sheet: 1,234,567.50."""
    return f"{satang / 100:,.2f}"


@validates(BudgetRate)
def check_rate(session: Session, rate: Any) -> list[str]:
    """Rates and days must be sensible, and the size tiers must rise."""
    problems = []
    money = ("lunch_rate_1", "lunch_rate_2", "lunch_rate_3", "lunch_rate_4", "milk_unit_price",
             "cdc_lunch_rate")
    if any((getattr(rate, name) or 0) < 0 for name in money):
        problems.append(_("Rates and prices cannot be negative."))
    days = ("lunch_days", "milk_days", "cdc_lunch_days", "cdc_milk_days")
    if any(not 0 <= (getattr(rate, name) or 0) <= 366 for name in days):
        problems.append(_("The number of days must be between 0 and 366."))
    bounds = [rate.lunch_max_1 or 0, rate.lunch_max_2 or 0, rate.lunch_max_3 or 0]
    if not 0 < bounds[0] < bounds[1] < bounds[2]:
        problems.append(_("The school size tiers must rise: the first upper limit is above "
                          "zero and each next one is larger."))
    if rate.academic_year is not None and not 2500 <= rate.academic_year <= 2700:
        problems.append(_("Write the academic year in the Buddhist Era, e.g. 2566."))
    return problems
