"""SPEC §2 learner identity: the national ID checksum, G-codes, and list masking."""

import re
from datetime import date

import pytest
from sqlalchemy import select

import clock
from models import Learner, db
from rules import RuleViolation
from rules.identity import (
    birth_date_problems,
    check_digit,
    earliest_birth_date,
    mask_national_id,
    national_id_problems,
)


def valid_id(first12: str) -> str:
    return first12 + str(check_digit(first12))


def test_checksum_accepts_valid_and_refuses_wrong_last_digit() -> None:
    good = valid_id("110170020345")
    assert national_id_problems(good) == []
    bad = good[:12] + str((int(good[12]) + 1) % 10)
    assert "checksum" in national_id_problems(bad)[0]


def test_a_failed_checksum_asks_for_the_number_again_without_the_digit_that_would_pass(
        app) -> None:
    """A clerk told which last digit passes "fixes" it and saves a valid but wrong ID."""
    good = valid_id("110170020345")
    bad = good[:12] + str((int(good[12]) + 1) % 10)
    with app.test_request_context():  # Thai, as the clerk reads it
        (message,) = national_id_problems(bad)
    assert f"เลขประจำตัวประชาชน {bad} ไม่ใช่เลขประจำตัวประชาชนที่ถูกต้อง" in message
    assert "บัตรประจำตัวประชาชนหรือทะเบียนบ้าน" in message
    assert "ควรเป็น" not in message and good[12] not in message.replace(bad, "")
    assert not re.search(r"[A-Za-z]", message)  # no "checksum" left in English


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


def test_a_birth_date_long_before_any_learner_is_refused_in_thai(app) -> None:  # noqa: ANN001
    """01/01/2400 BE (1857 CE) is a mistyped year; a 29-year-old learner still passes."""
    today = clock.today()
    with app.test_request_context():
        assert birth_date_problems(date(today.year - 29, 6, 1)) == []
        assert birth_date_problems(earliest_birth_date()) == []
        problems = birth_date_problems(date(1857, 1, 1))
    assert len(problems) == 1
    assert problems[0].startswith(f"วันเกิด 01/01/2400 อยู่ก่อนวันที่ 01/01/"
                                  f"{clock.be_year(today.year - 30)}")
    db.session.add(Learner(national_id=valid_id("110170020345"), first_name="ก", last_name="ข",
                           gender="M", birth_date=date(1857, 1, 1)))
    with pytest.raises(RuleViolation, match="1857|2400"):  # the flush: form and import alike
        db.session.flush()
    db.session.rollback()
