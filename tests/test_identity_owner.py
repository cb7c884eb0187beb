"""Learner identity belongs to the institution holding the learner (issue 12 item 2)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

import clock
from models import AuditEntry, Enrolment, Learner, Round, db
from rules import RuleViolation, acting_as
from rules.identity import check_digit
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
    # The audit log is for the levels above the institution: the school's own LAO sees it,
    # another LAO does not.
    assert "นายดำ ศรีสุข" in browser(tree.b.muni_user).get("/admin/audit/").get_data(
        as_text=True)
    assert "นายดำ ศรีสุข" not in browser(tree.a.muni_user).get("/admin/audit/").get_data(
        as_text=True)
