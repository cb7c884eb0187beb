"""Learner identity belongs to the institution holding the learner (issue 12 item 2)."""

import io
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from conftest import make_user
from openpyxl import load_workbook
from sqlalchemy import select

import clock
from models import AuditEntry, Enrolment, Institution, Learner, Level, Round, db
from rules import RuleViolation, acting_as
from rules.identity import check_digit, mask_contact
from spreadsheets import learner_import as importer

HEADER = ["เลขประจำตัวประชาชน", "คำนำหน้าชื่อ", "ชื่อ", "นามสกุล", "เพศ", "วันเกิด",
          "ระดับชั้น", "ห้องเรียน"]


def nid(n: int) -> str:
    first12 = f"1{n:011d}"
    return first12 + str(check_digit(first12))


def open_round(year: int) -> Round:
    today = clock.today()
    return Round(academic_year=year, number=1, opens_on=today - timedelta(days=10),
                 closes_on=today + timedelta(days=30), institution_deadline=today,
                 lao_deadline=today, province_deadline=today)


@pytest.fixture
def foreign_child(tree):
    """A child active this year at school b (province 34), as the probe found one."""
    year = clock.academic_year()
    db.session.add(open_round(year))
    child = Learner(national_id=nid(7), title="เด็กหญิง", first_name="มะลิ", last_name="ศรีสุข",
                    gender="F", birth_date=date(2019, 3, 1), guardian_name="นางบัว ศรีสุข",
                    guardian_phone="0811111111")
    db.session.add(child)
    db.session.add(Enrolment(learner=child, institution=tree.b.school, academic_year=year,
                             grade="P1"))
    db.session.commit()
    return child


def _identity(child_id):
    db.session.expire_all()
    child = db.session.get(Learner, child_id)
    return (child.first_name, child.last_name, child.birth_date, child.guardian_name,
            child.guardian_phone)


def _csv(*rows):
    lines = [",".join(HEADER)] + [",".join(r) for r in rows]
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def test_an_import_of_next_year_leaves_a_foreign_child_unchanged(app, tree, foreign_child):
    before = _identity(foreign_child.id)
    data = _csv([foreign_child.national_id, "เด็กชาย", "ผู้บุกรุก", "เปลี่ยนชื่อ", "ชาย",
                 "01/01/2560", "P2", "1/1"])
    with acting_as(tree.a.school_user):
        result = importer.import_learners(db.session, data, tree.a.school,
                                          clock.academic_year() + 1)
    assert not result.ok
    assert _identity(foreign_child.id) == before
    assert db.session.scalar(select(Enrolment).where(
        Enrolment.learner_id == foreign_child.id,
        Enrolment.institution_id == tree.a.school.id)) is None


def test_an_import_of_this_year_may_not_rewrite_a_foreign_child_either(app, tree,
                                                                       foreign_child):
    before = _identity(foreign_child.id)
    data = _csv([foreign_child.national_id, "เด็กหญิง", "แก้ไข", "ชื่อใหม่", "หญิง",
                 "01/01/2560", "P1", "1/1"])
    with acting_as(tree.a.school_user):
        result = importer.import_learners(db.session, data, tree.a.school,
                                          clock.academic_year())
    assert not result.ok
    assert _identity(foreign_child.id) == before


def test_any_path_that_writes_the_learner_is_refused_for_another_institution(app, tree,
                                                                            foreign_child):
    child = db.session.get(Learner, foreign_child.id)
    owner_code = tree.b.school.code
    with acting_as(tree.a.school_user):
        # Enrolling the child next year in the same flush does not make the learner theirs.
        db.session.add(Enrolment(learner=child, institution=tree.a.school,
                                 academic_year=clock.academic_year() + 1, grade="P2"))
        child.guardian_phone = "0899999999"
        with pytest.raises(RuleViolation, match=owner_code):
            db.session.commit()
        db.session.rollback()
    assert _identity(foreign_child.id)[4] == "0811111111"


def test_the_owner_and_the_levels_above_it_may_correct_the_identity(app, tree, foreign_child):
    for user in (tree.b.school_user, tree.b.muni_user, tree.b.province_user, tree.department):
        child = db.session.get(Learner, foreign_child.id)
        with acting_as(user):
            child.guardian_phone = f"08{user.id:08d}"
            db.session.commit()
        assert _identity(foreign_child.id)[4] == f"08{user.id:08d}"


def test_an_import_into_a_year_without_a_round_is_refused(app, tree, foreign_child):
    data = _csv([nid(900), "เด็กชาย", "ใหม่", "ใจดี", "ชาย", "01/01/2560", "P1", "1/1"])
    with acting_as(tree.a.school_user):
        result = importer.import_learners(db.session, data, tree.a.school,
                                          clock.academic_year() + 1)
    assert not result.ok and "ปีการศึกษา" in result.problems[0].reason
    assert db.session.scalar(select(Learner).where(Learner.national_id == nid(900))) is None


def test_the_owner_sees_the_audit_row_of_a_change_made_above_it(app, tree, foreign_child,
                                                               browser):
    child = db.session.get(Learner, foreign_child.id)
    with acting_as(tree.department):
        child.guardian_name = "นายดำ ศรีสุข"
        db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.model == "Learner",
                                                       AuditEntry.action == "update"))
    assert entry.subject_institution_id == tree.b.school.id
    # The audit log is for the levels above the institution: the school's own LAO sees it
    # (the guardian masked, as on the learner's page), another LAO does not.
    own_lao = browser(tree.b.muni_user).get("/admin/audit/").get_data(as_text=True)
    assert "เด็กหญิง มะลิ ศรีสุข" in own_lao and "น…" in own_lao
    assert "นายดำ ศรีสุข" not in own_lao
    assert "เด็กหญิง มะลิ ศรีสุข" not in browser(tree.a.muni_user).get(
        "/admin/audit/").get_data(as_text=True)


NEW_PHONE, NEW_ADDRESS = "0822222222", "99 หมู่ 9 บ้านใหม่"


@pytest.fixture
def moved_child(tree, browser, password_hash):
    """The tester's steps: school a records its pupil as transferred out; a school of another
    LAO in the same province enrols the child and corrects the guardian's phone and address."""
    year = clock.academic_year()
    db.session.add(open_round(year))
    new_school = Institution(code="3033300001", name="โรงเรียน อบต. ใหม่", kind="school",
                             lao=tree.a.sao, phone="045 000 009")
    new_user = make_user(new_school.code, Level.INSTITUTION, password_hash, institution=new_school)
    child = Learner(national_id=nid(3181), title="เด็กหญิง", first_name="มะปราง",
                    last_name="ย้ายที่", gender="F", guardian_name="นางบัว ย้ายที่",
                    guardian_phone="0811111111", current_address="1 หมู่ 1 บ้านเดิม")
    db.session.add(Enrolment(learner=child, institution=tree.a.school, academic_year=year,
                             grade="P2", classroom="1"))
    db.session.commit()
    old_enrolment = child.enrolments[0]
    assert browser(tree.a.school_user).post(
        f"/admin/student/edit/?id={old_enrolment.id}",
        data={"grade": "P2", "classroom": "1", "enrolled_on": "", "status": "transferred"},
    ).status_code == 302
    new = browser(new_user)
    assert new.post(f"/admin/student/enrol/?national_id={child.national_id}", data={
        "national_id": child.national_id, "title": "เด็กหญิง", "first_name": "มะปราง",
        "last_name": "ย้ายที่", "gender": "F", "grade": "P2", "classroom": "2"},
    ).status_code == 302
    assert new.post(f"/admin/learner/edit/?id={child.id}", data={
        "national_id": child.national_id, "title": "เด็กหญิง", "first_name": "มะปราง",
        "last_name": "ย้ายที่", "gender": "F", "guardian_name": "นางบัว ย้ายที่",
        "guardian_phone": NEW_PHONE, "current_address": NEW_ADDRESS},
    ).status_code == 302
    assert _identity(child.id)[4] == NEW_PHONE
    return SimpleNamespace(learner_id=child.id, old_enrolment_id=old_enrolment.id,
                           national_id=child.national_id, new=new, new_user=new_user)


def _learner_pages(b, learner_id: int) -> str:
    """Everything the learner-identity pages give this user: list, search, details, exports."""
    details = b.get(f"/admin/learner/details/?id={learner_id}")
    sheet = load_workbook(io.BytesIO(b.get("/admin/learner/export/xlsx/").get_data())).active
    return " ".join([
        str(details.status_code), details.get_data(as_text=True),
        b.get("/admin/learner/").get_data(as_text=True),
        b.get("/admin/learner/?search=ย้ายที่").get_data(as_text=True),
        b.get("/admin/learner/export/csv/").get_data(as_text=True),
        *(str(c) for row in sheet.iter_rows(values_only=True) for c in row)])


def test_the_school_a_learner_left_keeps_its_rows_but_not_the_learner(app, tree, browser,
                                                                      moved_child):
    old = browser(tree.a.school_user)
    assert old.get(f"/admin/learner/details/?id={moved_child.learner_id}").status_code == 404
    assert old.get(f"/admin/learner/edit/?id={moved_child.learner_id}").status_code == 404
    seen = _learner_pages(old, moved_child.learner_id)
    assert "มะปราง" not in seen and NEW_PHONE not in seen and NEW_ADDRESS not in seen
    # Its own history stays: the transferred-out row in the student list and its details.
    students = old.get("/admin/student/?search=ย้ายที่").get_data(as_text=True)
    assert "มะปราง" in students and "ย้ายสถานศึกษา" in students
    row = old.get(f"/admin/student/details/?id={moved_child.old_enrolment_id}")
    assert row.status_code == 200 and "มะปราง" in row.get_data(as_text=True)
    assert NEW_PHONE not in row.get_data(as_text=True)
    assert NEW_ADDRESS not in row.get_data(as_text=True)
    # Nor does the LAO above the old school see the learner; the province above both does
    # (the family's contacts masked, as above any institution).
    assert browser(tree.a.muni_user).get(
        f"/admin/learner/details/?id={moved_child.learner_id}").status_code == 404
    province = _learner_pages(browser(tree.a.province_user), moved_child.learner_id)
    assert "มะปราง" in province and mask_contact("guardian_phone", NEW_PHONE) in province


def test_the_school_the_learner_moved_to_sees_the_whole_record(app, tree, browser,
                                                                moved_child):
    seen = _learner_pages(moved_child.new, moved_child.learner_id)
    assert seen.startswith("200") and "มะปราง" in seen
    assert NEW_PHONE in seen and NEW_ADDRESS in seen and moved_child.national_id in seen
    lao = _learner_pages(browser(tree.a.sao_user), moved_child.learner_id)
    assert "มะปราง" in lao and mask_contact("guardian_phone", NEW_PHONE) in lao
    assert NEW_PHONE not in lao and NEW_ADDRESS not in lao
    page = moved_child.new.get(f"/admin/student/enrol/?national_id={moved_child.national_id}")
    assert NEW_PHONE in page.get_data(as_text=True)  # check by ID: the whole record
    page = browser(tree.a.school_user).get(
        f"/admin/student/enrol/?national_id={moved_child.national_id}").get_data(as_text=True)
    assert "มะปราง" in page and "3033300001" in page and NEW_PHONE not in page
