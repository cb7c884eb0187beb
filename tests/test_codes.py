"""SPEC §2 code rules: every position of the LAO and institution codes, by every write path."""

import pytest
from sqlalchemy import func, select

from models import CodeException, Institution, Lao, db
from rules import RuleViolation
from rules.codes import institution_code_problems, institution_kind_digit, lao_code_problems

# --- The rule functions, position by position -------------------------------------------

def test_a_correct_lao_code_has_no_problem():
    assert lao_code_problems("06330102", 6, "33", "3301") == []


@pytest.mark.parametrize("code,fragment", [
    ("0633010", "8 digits"),            # length
    ("063301022", "8 digits"),
    ("0633A102", "8 digits"),           # digits only
    ("16330102", "start with 0"),       # position 1
    ("07330102", "2 to 6"),             # position 2: type range
    ("01330102", "2 to 6"),
])
def test_lao_code_format(code, fragment):
    problems = lao_code_problems(code, 6, "33", "3301")
    assert len(problems) == 1 and fragment in problems[0]


def test_lao_type_digit_must_match_type():
    problems = lao_code_problems("05330102", 6, "33", "3301")
    assert problems == ["The 2nd digit of the LAO code (5) does not match the LAO type (6)."]


def test_lao_province_digits_must_match_province():
    (problem,) = lao_code_problems("06340102", 6, "33", "3301")
    assert "Digits 3-4" in problem and "(34)" in problem and "(33)" in problem


def test_lao_district_digits_must_match_district():
    (problem,) = lao_code_problems("06330202", 6, "33", "3301")
    assert "Digits 5-6" in problem and "(02)" in problem


def test_sequence_digits_are_free():
    assert lao_code_problems("06330199", 6, "33", "3301") == []


def test_type_and_district_can_be_waived_but_not_province():
    assert lao_code_problems("06330202", 5, "33", "3301", frozenset({"type", "district"})) == []
    assert lao_code_problems("06340102", 6, "33", "3301", frozenset(WAIVE_ALL)) != []


WAIVE_ALL = {"type", "district", "kind"}


@pytest.mark.parametrize("kind,lao_type,digit", [
    ("school", 2, "1"), ("school", 3, "2"), ("school", 4, "2"), ("school", 5, "2"),
    ("school", 6, "3"), ("cdc", 2, "4"), ("cdc", 3, "5"), ("cdc", 4, "5"), ("cdc", 5, "5"),
    ("cdc", 6, "6"),
])
def test_institution_kind_digit_table(kind, lao_type, digit):
    assert institution_kind_digit(kind, lao_type) == digit
    assert institution_code_problems(f"3033{digit}00001", kind, lao_type, "33") == []


@pytest.mark.parametrize("code,fragment", [
    ("303320000", "10 digits"),
    ("30332000011", "10 digits"),
    ("3033X00001", "10 digits"),
    ("1033200001", "start with 30"),   # positions 1-2
    ("3133200001", "start with 30"),
    ("3034200001", "Digits 3-4"),      # positions 3-4
    ("3033300001", "5th digit"),       # position 5
    ("3033500001", "5th digit"),
])
def test_institution_code_positions(code, fragment):
    problems = institution_code_problems(code, "school", 5, "33")
    assert len(problems) == 1 and fragment in problems[0], problems


def test_kind_digit_can_be_waived():
    assert institution_code_problems("3033300001", "school", 5, "33", frozenset({"kind"})) == []


# --- On every insert and update (the session hook) --------------------------------------

def test_insert_with_bad_code_is_refused_and_nothing_written(app, tree):
    db.session.add(Lao(code="06330203", name="x", lao_type=6, province_code="33",
                       district_code="3301"))
    with pytest.raises(RuleViolation, match="หลักที่ ๕-๖"):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).where(Lao.code == "06330203")) == 0


def test_moving_an_institution_to_another_province_is_refused(app, tree):
    tree.a.school.lao_id = tree.b.muni.id
    with pytest.raises(RuleViolation, match="หลักที่ ๓-๔"):
        db.session.commit()
    db.session.rollback()


def test_moving_a_school_from_a_municipality_to_an_sao_is_refused(app, tree):
    tree.a.school.lao_id = tree.a.sao.id
    with pytest.raises(RuleViolation, match="หลักที่ ๕ ของรหัสสถานศึกษา"):
        db.session.commit()
    db.session.rollback()


def test_recorded_exception_lets_a_mismatch_through(app, tree):
    db.session.add(CodeException(code=tree.a.school.code, rule="kind", reason="ย้ายสังกัด",
                                 granted_by="dla.staff"))
    tree.a.school.lao_id = tree.a.sao.id
    db.session.commit()
    assert db.session.get(Institution, tree.a.school.id).lao_id == tree.a.sao.id


# --- Through HTTP: a form POST and an inline edit ---------------------------------------

def test_form_post_with_bad_code_shows_the_rule_in_thai_and_keeps_input(app, tree, browser):
    b = browser(tree.department)
    response = b.post("/admin/institution/new/", {
        "code": "3033300009", "name": "โรงเรียนใหม่", "kind": "school",
        "lao": str(tree.a.muni.id), "active": "y"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "หลักที่ ๕ ของรหัสสถานศึกษา (3) ต้องเป็น 2" in page
    assert 'value="3033300009"' in page and "โรงเรียนใหม่" in page
    assert db.session.scalar(select(Institution).where(Institution.code == "3033300009")) is None


def test_form_post_with_good_code_creates(app, tree, browser):
    b = browser(tree.department)
    response = b.post("/admin/institution/new/", {
        "code": "3033200009", "name": "โรงเรียนใหม่", "kind": "school",
        "lao": str(tree.a.muni.id), "active": "y"})
    assert response.status_code == 302
    assert db.session.scalar(select(Institution).where(Institution.code == "3033200009"))


def test_inline_edit_with_bad_code_is_refused_with_message(app, tree, browser):
    b = browser(tree.department)
    response = b.post("/admin/lao/ajax/update/", {"list_form_pk": str(tree.a.sao.id),
                                                  "code": "06330299"})
    assert response.status_code == 400
    assert "หลักที่ ๕-๖ ของรหัส อปท." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Lao, tree.a.sao.id).code == "06330102"


def test_inline_edit_with_good_code_saves(app, tree, browser):
    b = browser(tree.department)
    response = b.post("/admin/lao/ajax/update/", {"list_form_pk": str(tree.a.sao.id),
                                                  "code": "06330177"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Lao, tree.a.sao.id).code == "06330177"


def test_lao_form_refuses_province_mismatch(app, tree, browser):
    b = browser(tree.department)
    response = b.post("/admin/lao/new/", {"code": "06340105", "name": "อบต.ใหม่",
                                          "lao_type": "6", "province": "33",
                                          "district": "3301"})
    assert "หลักที่ ๓-๔ ของรหัส อปท. (34)" in response.get_data(as_text=True)
    assert db.session.scalar(select(Lao).where(Lao.code == "06340105")) is None


def test_only_the_department_records_exceptions(app, tree, browser):
    b = browser(tree.a.province_user)
    response = b.post("/admin/code_exception/new/", {"code": tree.a.school.code,
                                                     "rule": "kind", "reason": "x"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(CodeException)) == 0
    d = browser(tree.department)
    response = d.post("/admin/code_exception/new/", {"code": tree.a.school.code,
                                                     "rule": "kind", "reason": "ย้ายสังกัด"})
    assert response.status_code == 302
    exception = db.session.scalar(select(CodeException))
    assert exception.granted_by == tree.department.login
