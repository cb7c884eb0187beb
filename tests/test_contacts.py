"""Phone numbers and e-mail addresses are checked when they are set, by every path."""

import pytest
from sqlalchemy import select, update
from test_import_learners import HEADER, YEAR, csv_bytes, nid, row, run

from models import CentreBasicData, Enrolment, Institution, Learner, db
from rules import RuleViolation, acting_as

NOT_A_PHONE = "ไม่ใช่หมายเลขโทรศัพท์"


def test_a_guardian_phone_of_words_is_refused_in_the_import_under_its_column(app, tree):
    data = csv_bytes([row(1) + ["โทรหาแม่"], row(2) + ["081 234 5678"]],
                     header=[*HEADER, "โทรศัพท์ผู้ปกครอง"])
    result = run(tree.a.school_user, tree.a.school, data)
    assert [(p.line, p.column) for p in result.problems] == [(2, "โทรศัพท์ผู้ปกครอง")]
    assert NOT_A_PHONE in result.problems[0].reason
    assert db.session.scalar(select(Learner)) is None  # all or nothing


def test_a_phone_stored_before_the_rule_does_not_stop_other_changes(app, tree):
    with acting_as(None):
        child = Learner(national_id=nid(3), first_name="มะลิ", last_name="ศรีสุข", gender="F",
                        guardian_phone="081 234 5678")
        db.session.add(Enrolment(learner=child, institution=tree.a.school, academic_year=YEAR,
                                 grade="P1", status="active"))
        db.session.commit()
        db.session.execute(update(Learner).values(guardian_phone="แม่"))
        db.session.commit()
        db.session.expire_all()
        child = db.session.scalar(select(Learner))
        child.first_name = "มะลิวัลย์"
        db.session.commit()
        child.guardian_phone = "ถามครู"
        with pytest.raises(RuleViolation) as refused:
            db.session.commit()
        db.session.rollback()
    assert NOT_A_PHONE in str(refused.value)


@pytest.mark.parametrize(("field", "value", "words"), [
    ("phone", "ไม่มี", NOT_A_PHONE), ("email", "school.example.org", "ไม่ใช่ที่อยู่อีเมล")])
def test_an_institution_contact_is_checked(app, tree, field, value, words):
    with acting_as(None):
        school = db.session.get(Institution, tree.a.school.id)
        setattr(school, field, value)
        with pytest.raises(RuleViolation) as refused:
            db.session.commit()
        db.session.rollback()
    assert words in str(refused.value)


def test_a_centre_head_phone_is_checked_through_the_form(app, tree, browser):
    centre = browser(tree.a.cdc_user)
    page = centre.post("/admin/centre_basic_data/new/", {
        "head_name": "นางสมศรี", "head_phone": "สามสาม", "teachers": "1", "classrooms": "1",
        "capacity": "20", "assistant_teachers": "0", "caretakers": "0", "other_staff": "0"})
    assert NOT_A_PHONE in page.get_data(as_text=True)
    assert db.session.scalar(select(CentreBasicData)) is None
