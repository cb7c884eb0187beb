"""Budget estimate (SPEC §7, issue 6 item 4): FY2566 rates, checked against a hand calculation."""

import pytest

from models import BudgetRate, db
from rules import RuleViolation, budget

RATE = BudgetRate.fy2566(2566)


@pytest.mark.parametrize("pupils,baht_a_day", [
    (1, 36), (40, 36), (41, 27), (100, 27), (101, 24), (120, 24), (121, 22), (2000, 22)])
def test_lunch_rate_follows_the_school_size_tiers(pupils, baht_a_day):
    assert budget.lunch_rate(RATE, pupils) == baht_a_day * 100


def test_only_kindergarten_and_primary_pupils_are_subsidised():
    counts = {"K1": 5, "K3": 5, "P1": 10, "P6": 15, "M1": 10, "M6": 3}
    assert budget.subsidised(counts) == 35


def test_estimate_matches_a_hand_calculation():
    # By hand, in baht (milk 7.37 a unit, so 7.37 x 260 days = 1,916.20 per child):
    #   school, 35 pupils K1-P6: lunch 35 x 36 x 200 = 252,000.00; milk 35 x 1,916.20 = 67,067.00
    #   school, 101 pupils: lunch 101 x 24 x 200 = 484,800.00; milk 101 x 1,916.20 = 193,536.20
    #   CDC, 20 children: lunch 20 x 21 x 245 = 102,900.00; milk 20 x 1,916.20 = 38,324.00
    #   other schools, 50 pupils: milk only 50 x 1,916.20 = 95,810.00
    #   lunch 839,700.00 + milk 394,737.20 = 1,234,437.20
    total = (budget.school_estimate(RATE, 35) + budget.school_estimate(RATE, 101)
             + budget.cdc_estimate(RATE, 20) + budget.other_school_estimate(RATE, 50))
    assert budget.baht(total.lunch) == "839,700.00"
    assert budget.baht(total.milk) == "394,737.20"
    assert budget.baht(total.total) == "1,234,437.20"
    assert (total.lunch_pupils, total.milk_pupils) == (156, 206)


def test_rates_are_data_a_year_can_change():
    rate = BudgetRate.fy2566(2567)
    rate.lunch_rate_4 = 2500
    rate.lunch_days = 190
    assert budget.school_estimate(rate, 200).lunch == 200 * 2500 * 190


def test_nonsense_rates_are_refused(app):
    rate = BudgetRate.fy2566(2566)
    rate.lunch_max_2 = 30  # below the first tier's limit
    rate.milk_days = 400
    db.session.add(rate)
    with pytest.raises(RuleViolation) as refused:
        db.session.flush()
    assert len(refused.value.messages) == 2 and "366" in refused.value.messages[0]
