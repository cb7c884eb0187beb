"""A current collection round and its budget rates, so the demo can confirm and estimate."""

from datetime import timedelta

from sqlalchemy import select

import clock
from models import BudgetRate, Round, db


def ensure_current_round() -> Round:
    """Round <this BE year>/1, open today and for four more weeks, unless it exists."""
    today = clock.today()
    year = clock.be_year(today.year)
    round_ = db.session.scalars(select(Round).where(Round.academic_year == year,
                                                    Round.number == 1)).first()
    if round_ is None:
        deadline = today + timedelta(days=21)
        round_ = Round(academic_year=year, number=1, opens_on=today - timedelta(days=7),
                       closes_on=deadline + timedelta(days=7), institution_deadline=deadline,
                       lao_deadline=deadline, province_deadline=deadline + timedelta(days=1))
        db.session.add(round_)
    rates = select(BudgetRate).where(BudgetRate.academic_year == year)
    if db.session.scalars(rates).first() is None:
        db.session.add(BudgetRate.fy2566(year))
    return round_
