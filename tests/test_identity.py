"""SPEC §2 learner identity: the national ID checksum, G-codes, and list masking."""

import pytest
from sqlalchemy import select

from models import Learner, db
from rules import RuleViolation
from rules.identity import check_digit, mask_national_id, national_id_problems


def valid_id(first12: str) -> str:
    return first12 + str(check_digit(first12))


def test_checksum_accepts_valid_and_refuses_wrong_last_digit() -> None:
    good = valid_id("110170020345")
    assert national_id_problems(good) == []
    bad = good[:12] + str((int(good[12]) + 1) % 10)
    assert "checksum" in national_id_problems(bad)[0]


def test_leading_zero_is_valid() -> None:
    assert national_id_problems(valid_id("012345678901")) == []


@pytest.mark.parametrize("value", ["G123", "G12345678901X", "X123456789012", "12345"])
def test_malformed_values_say_which_rule(value: str) -> None:
    assert national_id_problems(value)


def test_g_code_is_accepted() -> None:
    assert national_id_problems("G683300000001") == []


def test_mask_shows_only_last_digits() -> None:
    value = valid_id("110170020345")
    assert mask_national_id(value) == f"x-xxxx-xxxxx-{value[10:12]}-{value[12]}"
    assert mask_national_id(value, reveal=True) == value


def test_flush_refuses_bad_id_and_saves_nothing(app) -> None:  # noqa: ANN001
    db.session.add(Learner(national_id="1234567890123", first_name="ก", last_name="ข",
                           gender="M"))
    with pytest.raises(RuleViolation):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(Learner)) is None
