"""SPEC §2 learner identity: the national ID checksum, G-codes, and list masking."""

import re
from datetime import date

import pytest
from sqlalchemy import select, update

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


@pytest.mark.parametrize("name", ["สมชาย", "ณ อยุธยา", "O'Brien", "Jean-Luc", "Nguyễn",
                                  "ก้องภพ", "Md. Karim", "สมศรีๆ"])
def test_names_of_any_script_with_their_marks_are_kept(app, name) -> None:  # noqa: ANN001
    db.session.add(Learner(national_id=valid_id("110170020345"), first_name=name,
                           last_name=name, gender="M"))
    db.session.commit()
    assert db.session.scalar(select(Learner.first_name)) == name


@pytest.mark.parametrize(("first", "last", "found"), [
    ("ชื่อ1", "ใจดี", "ชื่อ: กรุณาลบ “1” ออก"),
    ("สมชาย", "ทดสอบ๒", "นามสกุล: กรุณาลบ “๒” ออก"),
    ("ด.ญ.มะลิ😀", "ใจดี", "ชื่อ: กรุณาลบ “😀” ออก"),
    ("=HYPERLINK", "ใจดี", "ชื่อ: กรุณาลบ “=” ออก"),
    ("มะลิ\u200b", "ใจดี", "ชื่อ: กรุณาลบ U+200B ออก"),
])
def test_a_name_with_digits_or_signs_is_refused_in_thai(app, first, last, found) -> None:  # noqa: ANN001
    """A placeholder or a slip ("ชื่อ1", an emoji, a zero-width space pasted from a chat) is no
    child's name, and a ghost learner's mark: the flush refuses it, naming what to take out."""
    db.session.add(Learner(national_id=valid_id("110170020345"), first_name=first,
                           last_name=last, gender="F"))
    with app.test_request_context(), pytest.raises(RuleViolation) as refused:
        db.session.flush()
    db.session.rollback()
    (message,) = refused.value.messages
    field, what = found.split(": ")
    assert message.startswith(f"{field}ต้องเป็นตัวอักษรเท่านั้น") and what in message
    assert db.session.scalar(select(Learner)) is None


def test_a_name_stored_before_the_rule_is_judged_only_when_it_changes(app) -> None:  # noqa: ANN001
    db.session.add(Learner(national_id=valid_id("110170020345"), first_name="ก", last_name="ข",
                           gender="M"))
    db.session.commit()
    db.session.execute(update(Learner.__table__).values(first_name="ทดสอบ1"))
    learner = db.session.scalar(select(Learner))
    db.session.refresh(learner)
    learner.guardian_phone = "0812345678"  # another field: the old name does not stop it
    db.session.commit()
    learner.first_name = "ทดสอบ2"
    with pytest.raises(RuleViolation):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(Learner.first_name)) == "ทดสอบ1"
