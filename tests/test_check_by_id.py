"""Check by ID (issue 12 item 3): a child held elsewhere shows only name, school and contact;
every look-up is audited with the ID masked, and each account has an hourly allowance."""

from datetime import date

import pytest
from sqlalchemy import select

import clock
from models import AuditEntry, Enrolment, Learner, db
from rules import lookups
from rules.identity import check_digit


def nid(n: int) -> str:
    first12 = f"1{n:011d}"
    return first12 + str(check_digit(first12))


@pytest.fixture
def children(tree):
    """One child at school b (province 34) and one at school a (province 33)."""
    year = clock.academic_year()
    made = {}
    for key, n, school in (("b", 31, tree.b.school), ("a", 32, tree.a.school)):
        child = Learner(national_id=nid(n), title="เด็กหญิง", first_name=f"มะลิ{key}",
                        last_name="ศรีสุข", gender="F", birth_date=date(2019, 3, 1),
                        guardian_name=f"นางบัว{key} ศรีสุข", guardian_phone=f"08111111{n}")
        db.session.add_all([child, Enrolment(learner=child, institution=school,
                                             academic_year=year, grade="P1")])
        made[key] = child
    db.session.commit()
    return made


def test_a_foreign_child_shows_name_school_and_contact_only(app, tree, browser, children):
    child = children["b"]
    page = browser(tree.a.school_user).get(
        f"/admin/student/enrol/?national_id={child.national_id}").get_data(as_text=True)
    assert "มะลิb" in page and tree.b.school.code in page and "045 000 001" in page
    assert "นางบัวb" not in page  # the guardian
    assert "0811111131" not in page  # the guardian's phone
    assert "2019-03-01" not in page and "01/03/2562" not in page  # the birth date
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "check_by_id"))
    assert entry.actor_login == tree.a.school_user.login
    assert entry.target == "x-xxxx-xxxxx-" + child.national_id[10:12] + "-" + child.national_id[12]
    assert entry.details["elsewhere"] is True


def test_an_own_child_shows_the_whole_record(app, tree, browser, children):
    child = children["a"]
    page = browser(tree.a.school_user).get(
        f"/admin/student/enrol/?national_id={child.national_id}").get_data(as_text=True)
    assert "นางบัวa" in page and "0811111132" in page


def test_look_ups_are_limited_per_account(app, tree, browser, children, monkeypatch):
    monkeypatch.setattr(lookups, "LOOKUPS_PER_HOUR", 3)
    school = browser(tree.a.school_user)
    for n in range(3):
        assert "มากที่สุด" not in school.get(
            f"/admin/student/enrol/?national_id={nid(100 + n)}").get_data(as_text=True)
    page = school.get(f"/admin/student/enrol/?national_id={children['b'].national_id}"
                      ).get_data(as_text=True)
    assert "มะลิb" not in page
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "check_by_id_refused")) is not None
    # Another account is not held back.
    other = browser(tree.a.muni_user).get(
        f"/admin/student/enrol/?national_id={children['b'].national_id}")
    assert "มะลิb" in other.get_data(as_text=True)


def test_a_g_code_of_no_province_is_refused_at_the_check(app, tree, browser):
    page = browser(tree.a.school_user).get(
        "/admin/student/enrol/?national_id=G256933000001").get_data(as_text=True)
    assert "(69)" in page  # the rule's message names the digits
    assert "ยังไม่มีผู้เรียนที่ใช้เลขประจำตัวนี้" not in page
    assert 'name="first_name"' not in page  # nothing to fill in for an ID that cannot be saved
    valid = browser(tree.a.school_user).get("/admin/student/enrol/?national_id=G253333000001")
    assert "ยังไม่มีผู้เรียนที่ใช้เลขประจำตัวนี้" in valid.get_data(as_text=True)


def test_a_learner_already_here_leads_to_the_enrolment_not_to_a_transfer(app, tree, browser,
                                                                         children):
    child = children["a"]
    school = browser(tree.a.school_user)
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.learner_id == child.id))
    page = school.get(f"/admin/student/enrol/?national_id={child.national_id}"
                      ).get_data(as_text=True)
    assert "ลงทะเบียนอยู่ในสถานศึกษานี้แล้ว" in page
    assert f"/admin/student/details/?id={enrolment.id}" in page
    assert "บันทึกการย้ายสถานศึกษาก่อน" not in page
    saved = school.post(f"/admin/student/enrol/?national_id={child.national_id}", data={
        "national_id": child.national_id, "title": "เด็กหญิง", "first_name": "มะลิa",
        "last_name": "ศรีสุข", "gender": "F", "birth_date": "", "grade": "P1",
        "classroom": "1"}).get_data(as_text=True)
    assert "ลงทะเบียนอยู่ในสถานศึกษานี้แล้ว" in saved
    assert "บันทึกการย้ายสถานศึกษาก่อน" not in saved
