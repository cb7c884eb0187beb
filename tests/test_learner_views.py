"""Students and young children through HTTP: enrol by ID, duplicates, removal, rollover, scope."""

import html
import json
import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import event, func, select, update

import clock
from models import Enrolment, Learner, Round, db
from rules import RuleViolation, acting_as
from rules.enrolment import current_academic_year
from rules.identity import check_digit
from seed.learners import letters

YEAR_FIELDS = {"title": "เด็กชาย", "first_name": "สมชาย", "last_name": "ใจดี", "gender": "M",
               "birth_date": "", "grade": "P1", "classroom": "1"}


def nid(n: int) -> str:
    first12 = f"1{n:011d}"
    return first12 + str(check_digit(first12))


def enrol(browser, national_id: str, **fields):  # noqa: ANN001, ANN003, ANN201
    return browser.post(f"/admin/student/enrol/?national_id={national_id}",
                        data=YEAR_FIELDS | {"national_id": national_id} | fields)


def test_school_enrols_a_new_learner(tree, browser) -> None:  # noqa: ANN001
    school = browser(tree.a.school_user)
    response = enrol(school, nid(1))
    assert response.status_code == 302, response.get_data(as_text=True)
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.institution_id == tree.a.school.id and enrolment.grade == "P1"
    page = school.get("/admin/student/").get_data(as_text=True)
    assert nid(1) in page and "สมชาย" in page


def test_bad_checksum_is_refused_and_nothing_saved(tree, browser) -> None:  # noqa: ANN001
    school = browser(tree.a.school_user)
    bad = nid(1)[:12] + str((int(nid(1)[12]) + 1) % 10)
    page = enrol(school, bad).get_data(as_text=True)
    assert "ไม่ใช่เลขประจำตัวประชาชนที่ถูกต้อง" in page and "ทะเบียนบ้าน" in page
    assert "ควรเป็น" not in page  # no digit to copy in
    assert "สมชาย" in page  # the form keeps what the user typed
    assert db.session.scalar(select(Learner)) is None


def test_grade_not_taught_is_refused(tree, browser) -> None:  # noqa: ANN001
    cdc = browser(tree.a.cdc_user)
    page = cdc.post(f"/admin/child/enrol/?national_id={nid(2)}",
                    data=YEAR_FIELDS | {"national_id": nid(2), "grade": "P1"})
    assert page.status_code == 200
    assert db.session.scalar(select(Enrolment)) is None


def test_active_elsewhere_names_the_other_institution(tree, browser) -> None:  # noqa: ANN001
    assert enrol(browser(tree.a.school_user), nid(3)).status_code == 302
    other = browser(tree.b.school_user)
    page = enrol(other, nid(3)).get_data(as_text=True)
    school = tree.a.school
    assert school.code in page and school.name in page and tree.a.muni.name in page
    assert school.phone in page
    assert db.session.scalar(select(Enrolment).where(
        Enrolment.institution_id == tree.b.school.id)) is None


def test_transfer_then_enrol_elsewhere(tree, browser) -> None:  # noqa: ANN001
    first = browser(tree.a.school_user)
    assert enrol(first, nid(4)).status_code == 302
    enrolment = db.session.scalar(select(Enrolment))
    response = first.post(f"/admin/student/edit/?id={enrolment.id}",
                          data={"grade": "P1", "classroom": "1", "enrolled_on": "",
                                "status": "transferred"})
    assert response.status_code == 302
    # Check by ID at the new school pulls the identity in.
    second = browser(tree.b.school_user)
    page = second.get(f"/admin/student/enrol/?national_id={nid(4)}").get_data(as_text=True)
    assert "สมชาย" in page
    assert enrol(second, nid(4)).status_code == 302
    assert db.session.scalar(select(Enrolment).where(
        Enrolment.institution_id == tree.b.school.id, Enrolment.status == "active"))


def test_other_institution_cannot_see_or_edit(tree, browser) -> None:  # noqa: ANN001
    assert enrol(browser(tree.a.school_user), nid(5)).status_code == 302
    enrolment = db.session.scalar(select(Enrolment))
    outsider = browser(tree.b.school_user)
    assert nid(5) not in outsider.get("/admin/student/").get_data(as_text=True)
    assert outsider.get(f"/admin/student/edit/?id={enrolment.id}").status_code == 404
    assert outsider.get(f"/admin/learner/edit/?id={enrolment.learner_id}").status_code == 404
    province = browser(tree.a.province_user).get("/admin/student/").get_data(as_text=True)
    assert "สมชาย" in province and nid(5) not in province  # masked above the institution


def test_remove_with_reason_and_register(tree, browser) -> None:  # noqa: ANN001
    school = browser(tree.a.school_user)
    assert enrol(school, nid(6)).status_code == 302
    enrolment = db.session.scalar(select(Enrolment))
    page = school.post(f"/admin/student/remove/{enrolment.id}/",
                       data={"reason": "other", "note": ""}).get_data(as_text=True)
    assert db.session.get(Enrolment, enrolment.id).status == "active"
    assert school.post(f"/admin/student/remove/{enrolment.id}/",
                       data={"reason": "never_came"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).status == "removed"
    page = school.get("/admin/student/removed/").get_data(as_text=True)
    assert "สมชาย" in page
    # Never a hard delete, whatever is posted.
    school.post("/admin/student/delete/", data={"id": enrolment.id})
    assert db.session.get(Enrolment, enrolment.id) is not None


def test_a_learner_removed_after_the_rollover_goes_from_the_year_carried_into(
        tree, browser) -> None:  # noqa: ANN001
    year = _seed(tree, 1)
    school = browser(tree.a.school_user)
    school.post("/admin/student/rollover/?action=promote")
    first = db.session.scalar(select(Enrolment).where(Enrolment.academic_year == year))
    page = school.get(f"/admin/student/remove/{first.id}/").get_data(as_text=True)
    assert f"ปีการศึกษา {year + 1}" in page
    school.post(f"/admin/student/remove/{first.id}/", data={"reason": "never_came"})
    db.session.expire_all()
    assert [(e.academic_year, e.status, e.removal_reason) for e in db.session.scalars(
        select(Enrolment).order_by(Enrolment.academic_year))] == [
        (year, "removed", "never_came"), (year + 1, "removed", "never_came")]


def _seed(tree, count: int, grade: str = "P1") -> int:  # noqa: ANN001
    year = current_academic_year(db.session)
    learners = [Learner(national_id=nid(1000 + i), first_name=f"ชื่อ{letters(i)}", last_name="สกุล",
                        gender="F") for i in range(count)]
    db.session.add_all(learners)
    db.session.add_all(Enrolment(learner=learner, institution=tree.a.school, academic_year=year,
                                 grade=grade, status="active") for learner in learners)
    db.session.commit()
    return year


def _open_round(year: int) -> Round:
    """A round of `year` open today, as the department sets one up."""
    today = clock.today()
    round_ = Round(academic_year=year, number=1, opens_on=today - timedelta(days=10),
                   closes_on=today + timedelta(days=30), institution_deadline=today,
                   lao_deadline=today, province_deadline=today)
    db.session.add(round_)
    db.session.commit()
    return round_


def test_rollover_into_a_year_without_a_round_is_refused_in_thai(tree, browser) -> None:  # noqa: ANN001
    year = _seed(tree, 3)
    _open_round(year)
    province = browser(tree.a.province_user)
    url = f"/admin/student/rollover/?action=promote&flt0_30={tree.a.school.code}"
    second_look = province.get(url).get_data(as_text=True)  # said before any button
    assert f"ปีการศึกษา {year + 1} ยังไม่มีครั้งที่เก็บข้อมูล" in second_look
    assert 'btn btn-primary" type="submit"' not in second_look  # no Confirm button
    assert province.post(url).status_code == 302
    page = province.get("/admin/student/").get_data(as_text=True)
    assert f"ปีการศึกษา {year + 1} ยังไม่มีครั้งที่เก็บข้อมูล" in page
    assert db.session.scalar(select(Enrolment).where(Enrolment.academic_year == year + 1)) is None

    _open_round(year + 1)
    province.post(url)
    assert db.session.scalar(select(func.count()).select_from(Enrolment).where(
        Enrolment.academic_year == year + 1)) == 3


def test_rollover_confirms_count_then_promotes(tree, browser) -> None:  # noqa: ANN001
    year = _seed(tree, 3)
    school = browser(tree.a.school_user)
    page = school.get("/admin/student/rollover/?action=promote")
    assert page.status_code == 200 and re.search(r'class="lead">[^<]*\b3\b', page.get_data(
        as_text=True))
    assert db.session.scalar(select(Enrolment).where(Enrolment.academic_year == year + 1)) is None
    assert school.post("/admin/student/rollover/?action=promote").status_code == 302
    rows = db.session.scalars(select(Enrolment).where(Enrolment.academic_year == year + 1)).all()
    assert sorted(r.grade for r in rows) == ["P2", "P2", "P2"]
    # Running it again changes nothing.
    school.post("/admin/student/rollover/?action=promote")
    assert len(db.session.scalars(select(Enrolment).where(
        Enrolment.academic_year == year + 1)).all()) == 3


def test_rollover_of_the_whole_list_goes_past_its_first_page(tree, browser) -> None:  # noqa: ANN001
    year = _seed(tree, 60)  # the list shows 50 a page
    school = browser(tree.a.school_user)
    page = school.get("/admin/student/rollover/?action=promote").get_data(as_text=True)
    assert re.search(r'class="lead">[^<]*\b60\b', page)
    school.post("/admin/student/rollover/?action=promote")
    assert db.session.scalar(select(func.count()).select_from(Enrolment).where(
        Enrolment.academic_year == year + 1, Enrolment.status == "active")) == 60


def test_rollover_every_row_matching_the_search(tree, browser) -> None:  # noqa: ANN001
    year = _seed(tree, 3)
    school = browser(tree.a.school_user)
    url = "/admin/student/rollover/?action=repeat&search=" + quote("ชื่อข")
    page = school.get(url)
    assert re.search(r'class="lead">[^<]*\b1\b', page.get_data(as_text=True))
    school.post(url)
    assert len(db.session.scalars(select(Enrolment).where(
        Enrolment.academic_year == year + 1)).all()) == 1


def test_rollover_selected_rows_via_action(tree, browser) -> None:  # noqa: ANN001
    _seed(tree, 2)
    first = db.session.scalars(select(Enrolment).order_by(Enrolment.id)).first()
    school = browser(tree.a.school_user)
    response = school.post("/admin/student/action/", data={"action": "graduate",
                                                           "rowid": [str(first.id)]})
    assert response.status_code == 302 and "rollover" in response.location
    page = school.get(response.location)
    assert page.status_code == 200 and re.search(r'class="lead">[^<]*\b1\b', page.get_data(
        as_text=True))
    school.post(response.location)
    db.session.expire_all()
    assert [e.status for e in db.session.scalars(select(Enrolment).order_by(Enrolment.id))] \
        == ["graduated", "active"]


def test_rollover_row_ids_that_are_no_numbers_choose_nothing(tree, browser) -> None:  # noqa: ANN001
    _seed(tree, 2)
    page = browser(tree.a.school_user).get("/admin/student/rollover/?action=graduate&rowid=²")
    assert page.status_code == 200
    assert re.search(r'class="lead">[^<]*\b0\b', page.get_data(as_text=True))

def test_rollover_outside_scope_is_refused(tree, browser) -> None:  # noqa: ANN001
    _seed(tree, 1)
    first = db.session.scalar(select(Enrolment))
    outsider = browser(tree.b.school_user)
    response = outsider.post("/admin/student/action/", data={"action": "graduate",
                                                             "rowid": [str(first.id)]})
    assert response.status_code == 403


def test_list_of_2000_learners_uses_constant_queries(tree, browser, app) -> None:  # noqa: ANN001
    school = browser(tree.a.school_user)
    counts = []
    for total in (20, 2000):
        _seed_more = total - (counts and 20 or 0)
        year = current_academic_year(db.session)
        start = db.session.query(Learner).count()
        learners = [Learner(national_id=nid(5000 + start + i), first_name=f"ช{letters(i)}",
                            last_name="ส", gender="M") for i in range(_seed_more)]
        db.session.add_all(learners)
        db.session.add_all(Enrolment(learner=lr, institution=tree.a.school, academic_year=year,
                                     grade="P3", status="active") for lr in learners)
        db.session.commit()
        statements: list[str] = []

        def count(conn, cursor, statement, *args, seen=statements) -> None:  # noqa: ANN001, ANN002
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert school.get("/admin/student/?page_size=100").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_unusual_age_asks_for_confirmation(tree, browser) -> None:  # noqa: ANN001
    school = browser(tree.a.school_user)
    year = current_academic_year(db.session)
    old = f"{clock.ce_year(year) - 12}-01-01"  # twelve years old in P1
    page = enrol(school, nid(7), birth_date=old)
    assert page.status_code == 200 and 'name="confirm_age"' in page.get_data(as_text=True)
    assert db.session.scalar(select(Enrolment)) is None
    assert enrol(school, nid(7), birth_date=old, confirm_age="y").status_code == 302


def test_inline_edit_obeys_the_grade_rule(tree, browser) -> None:  # noqa: ANN001
    _seed(tree, 1)
    enrolment = db.session.scalar(select(Enrolment))
    school = browser(tree.a.school_user)
    bad = school.post("/admin/student/ajax/update/",
                      data={"list_form_pk": enrolment.id, "grade": "A3"})
    assert bad.status_code == 400
    assert "ตัวเลือกไม่ถูกต้อง" in bad.get_data(as_text=True)  # WTForms' words, in Thai
    long = school.post("/admin/student/ajax/update/",
                       data={"list_form_pk": enrolment.id, "classroom": "ห้อง" * 20})
    assert long.status_code == 400
    assert "ต้องมีความยาวไม่เกิน" in long.get_data(as_text=True)
    good = school.post("/admin/student/ajax/update/",
                       data={"list_form_pk": enrolment.id, "grade": "P2"})
    assert good.status_code == 200
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).grade == "P2"
    outsider = browser(tree.b.school_user)
    assert outsider.post("/admin/student/ajax/update/", data={
        "list_form_pk": enrolment.id, "grade": "P3"}).status_code in (400, 403, 404)
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).grade == "P2"


def test_lists_render_in_thai_for_every_level(tree, browser) -> None:  # noqa: ANN001
    _seed(tree, 2)
    for user in (tree.department, tree.a.province_user, tree.a.muni_user, tree.a.school_user):
        page = browser(user).get("/admin/student/")
        assert page.status_code == 200
        assert "ป.๑" in page.get_data(as_text=True)
    child_page = browser(tree.a.cdc_user).get("/admin/child/").get_data(as_text=True)
    assert "กลุ่มอายุ" in child_page


def test_identity_form_refuses_a_bad_id_and_keeps_the_rest(tree, browser) -> None:  # noqa: ANN001
    _seed(tree, 1)
    child = db.session.scalar(select(Learner))
    school = browser(tree.a.school_user)
    assert school.get("/admin/learner/").status_code == 200
    form = {"national_id": "1234567890123", "title": "เด็กหญิง", "first_name": "ใหม่",
            "last_name": "สกุล", "gender": "F"}
    page = school.post(f"/admin/learner/edit/?id={child.id}", data=form)
    assert page.status_code == 200 and "ใหม่" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Learner, child.id).first_name != "ใหม่"
    form["national_id"] = nid(9)
    assert school.post(f"/admin/learner/edit/?id={child.id}", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Learner, child.id).national_id == nid(9)


def test_lao_enrols_only_into_its_own_institutions(tree, browser) -> None:  # noqa: ANN001
    lao = browser(tree.a.muni_user)
    page = enrol(lao, nid(10), institution_code=tree.b.school.code)
    assert page.status_code == 200
    assert db.session.scalar(select(Enrolment)) is None
    assert enrol(lao, nid(10), institution_code=tree.a.school.code).status_code == 302
    assert db.session.scalar(select(Enrolment)).institution_id == tree.a.school.id


def test_rollover_says_which_grade_becomes_which_in_which_year(tree, browser) -> None:  # noqa: ANN001
    year = _seed(tree, 2)
    db.session.execute(update(Enrolment).where(Enrolment.id == select(func.min(
        Enrolment.id)).scalar_subquery()).values(grade="P5"))
    db.session.commit()
    page = browser(tree.a.school_user).get("/admin/student/rollover/?action=promote")
    text = page.get_data(as_text=True)
    assert re.search(r'class="lead">[^<]*\b2\b', text)  # both grades' rows, counted once
    assert f"<td>ป.๑ ปีการศึกษา {year}</td><td>→ ป.๒ ปีการศึกษา {year + 1}</td>" in text
    assert f"<td>ป.๕ ปีการศึกษา {year}</td><td>→ ป.๖ ปีการศึกษา {year + 1}</td>" in text
    assert text.index("ป.๑ ปีการศึกษา") < text.index("ป.๕ ปีการศึกษา")


def test_graduating_a_grade_that_ends_no_level_is_questioned(tree, browser) -> None:  # noqa: ANN001
    _seed(tree, 2, grade="K1")
    school = browser(tree.a.school_user)
    text = school.get("/admin/student/rollover/?action=graduate").get_data(as_text=True)
    assert "อ.๑ ไม่ใช่ชั้นสุดท้ายของระดับการศึกษา" in text and 'class="table-warning"' in text
    last = school.get("/admin/student/rollover/?action=promote").get_data(as_text=True)
    assert "ไม่ใช่ชั้นสุดท้าย" not in last  # promote is what K1 learners usually need


def test_an_id_typed_over_a_learners_that_another_has_says_what_to_do(tree, browser) -> None:  # noqa: ANN001
    """It said only "this already exists", not which field or what to do instead."""
    _seed(tree, 2)
    first, second = db.session.scalars(select(Learner).order_by(Learner.id)).all()
    form = {"national_id": second.national_id, "title": "เด็กหญิง", "first_name": first.first_name,
            "last_name": first.last_name, "gender": "F"}
    page = browser(tree.a.school_user).post(f"/admin/learner/edit/?id={first.id}", data=form)
    text = page.get_data(as_text=True)
    assert "เลขประจำตัวประชาชนนี้เป็นของผู้เรียนอีกรายหนึ่ง" in text
    db.session.expire_all()
    assert db.session.get(Learner, first.id).national_id != second.national_id
    with acting_as(tree.a.school_user), pytest.raises(RuleViolation) as refused:  # any path
        db.session.get(Learner, first.id).national_id = second.national_id
        db.session.commit()
    db.session.rollback()
    assert "เลขประจำตัวประชาชนนี้เป็นของผู้เรียนอีกรายหนึ่ง" in str(refused.value)


def test_a_birth_date_in_the_future_is_refused_without_a_negative_age(tree,  # noqa: ANN001
                                                                      browser) -> None:  # noqa: ANN001
    future = clock.today().replace(year=clock.today().year + 1)
    typed = f"{future:%d/%m}/{clock.be_year(future.year)}"
    page = enrol(browser(tree.a.school_user), nid(7), birth_date=typed).get_data(as_text=True)
    assert "อนาคต" in page and typed in page
    assert "ผู้เรียนมีอายุ" not in page  # the age warning, which read "-1 years old"
    assert db.session.scalar(select(Learner)) is None


def test_a_birth_date_of_2400_is_refused_by_enrolment_and_by_the_edit_form(tree,  # noqa: ANN001
                                                                           browser) -> None:  # noqa: ANN001
    """01/01/2400 BE is 1857 CE; once enrolled at 168 with the age box ticked."""
    school = browser(tree.a.school_user)
    page = enrol(school, nid(7), birth_date="01/01/2400", confirm_age="y")
    assert page.status_code == 200
    assert "วันเกิด 01/01/2400 อยู่ก่อนวันที่" in page.get_data(as_text=True)
    assert db.session.scalar(select(Learner)) is None
    _seed(tree, 1)
    child = db.session.scalar(select(Learner))
    form = {"national_id": child.national_id, "title": "เด็กหญิง", "first_name": child.first_name,
            "last_name": child.last_name, "gender": "F", "birth_date": "01/01/2400"}
    page = school.post(f"/admin/learner/edit/?id={child.id}", data=form)
    assert page.status_code == 200
    assert "วันเกิด 01/01/2400 อยู่ก่อนวันที่" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Learner, child.id).birth_date is None


def test_a_birth_date_stored_before_the_rule_does_not_stop_other_changes(tree,  # noqa: ANN001
                                                                        browser) -> None:  # noqa: ANN001
    """A learner imported long ago born 01/01/2400 BE: the school fixes the guardian's phone
    and enrols them again; only typing such a birth date is refused."""
    _seed(tree, 1)
    child = db.session.scalar(select(Learner))
    db.session.execute(update(Learner.__table__).values(birth_date=date(1857, 1, 1)))
    db.session.commit()
    school = browser(tree.a.school_user)
    form = {"national_id": child.national_id, "title": "เด็กหญิง", "first_name": child.first_name,
            "last_name": child.last_name, "gender": "F", "birth_date": "01/01/2400",
            "guardian_phone": "0812345678"}
    page = school.post(f"/admin/learner/edit/?id={child.id}", data=form)
    assert page.status_code == 302, page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Learner, child.id).guardian_phone == "0812345678"
    page = school.post(f"/admin/learner/edit/?id={child.id}", data=form | {
        "birth_date": "01/01/2401"})
    assert "วันเกิด 01/01/2401 อยู่ก่อนวันที่" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Learner, child.id).birth_date == date(1857, 1, 1)
    db.session.execute(update(Enrolment.__table__).values(status="withdrawn"))
    db.session.commit()
    page = enrol(school, child.national_id, first_name=child.first_name, gender="F",
                 last_name=child.last_name, title="เด็กหญิง", birth_date="01/01/2400",
                 confirm_age="y")
    assert page.status_code == 302, page.get_data(as_text=True)

def _filter_groups(page: str) -> dict:
    found = re.search(r'id="filter-groups-data"[^>]*>(.*?)</', page, re.S)
    return json.loads(html.unescape(found.group(1)))


def test_grade_and_status_filters_offer_what_the_list_shows(tree, browser) -> None:  # noqa: ANN001
    """A school filters on ป.๖ and กำลังศึกษา, not on codes it never sees (P6, active)."""
    year = _seed(tree, 2, grade="P6")
    first_grader = Learner(national_id=nid(2000), first_name="ปฐม", last_name="สกุล", gender="M")
    db.session.add(Enrolment(learner=first_grader, institution=tree.a.school, academic_year=year,
                             grade="P1", status="active"))
    db.session.commit()
    school = browser(tree.a.school_user)
    groups = _filter_groups(school.get("/admin/student/").get_data(as_text=True))
    grade = next(f for f in groups["ระดับชั้น"] if f["operation"] == "เท่ากับ")
    status = next(f for f in groups["สถานะ"] if f["operation"] == "เท่ากับ")
    assert ["P6", "ป.๖"] in grade["options"] and ["active", "กำลังศึกษา"] in status["options"]
    page = school.get(f"/admin/student/?flt0_{grade['arg']}=P6").get_data(as_text=True)
    assert "ชื่อก" in page and "ปฐม" not in page
    centre = _filter_groups(browser(tree.a.cdc_user).get("/admin/child/").get_data(as_text=True))
    ages = next(f for f in centre["กลุ่มอายุ"] if f["operation"] == "เท่ากับ")["options"]
    assert ["A3", "เด็กอายุ ๓ ปี"] in ages and ["P6", "ป.๖"] not in ages


def test_rollover_with_a_filter_it_cannot_read_changes_nothing(tree, browser) -> None:  # noqa: ANN001
    """The year filter reads no "ปี 2569": the list drops that filter, the rollover must not
    fall back to every row of the list."""
    year = _seed(tree, 3)
    _open_round(year + 1)
    school = browser(tree.a.school_user)
    url = "/admin/student/rollover/?action=promote&flt0_0=ปี 2569"
    page = school.get(url, follow_redirects=True).get_data(as_text=True)
    assert "อ่านค่าตัวกรองของรายการไม่ได้ จึงยังไม่มีการเปลี่ยนแปลงข้อมูลใด" in page
    assert "จะเปลี่ยนแปลงข้อมูลผู้เรียนที่กำลังศึกษา" not in page
    school.post(url)
    assert db.session.scalar(select(func.count()).select_from(Enrolment).where(
        Enrolment.academic_year == year + 1)) == 0


def test_an_export_with_a_filter_it_cannot_read_exports_nothing(tree, browser) -> None:  # noqa: ANN001
    """An LAO exporting "P6 of one school" with a mistyped filter got its whole list."""
    _seed(tree, 3)
    school = browser(tree.a.school_user)
    response = school.get("/admin/student/export/csv/?flt0_0=ปี 2569")
    assert response.status_code == 302 and "flt0_0" in response.location
    page = school.get(response.location).get_data(as_text=True)
    assert "อ่านค่าตัวกรองของรายการไม่ได้ จึงยังไม่ได้ส่งออกข้อมูล" in page
    assert school.get("/admin/student/export/csv/").status_code == 200


def test_a_note_too_long_says_so_and_a_removed_learner_keeps_its_reason(tree, browser) -> None:  # noqa: ANN001
    school = browser(tree.a.school_user)
    assert enrol(school, nid(7)).status_code == 302
    enrolment = db.session.scalar(select(Enrolment))
    url = f"/admin/student/remove/{enrolment.id}/"
    page = school.post(url, data={"reason": "never_came", "note": "ก" * 1001})
    assert "ต้องมีความยาวไม่เกิน 1000 ตัวอักษร" in page.get_data(as_text=True)
    assert db.session.get(Enrolment, enrolment.id).status == "active"
    assert school.post(url, data={"reason": "never_came"}).status_code == 302
    # The removal page of a removed learner offers no second removal with another reason.
    page = school.get(url, follow_redirects=True).get_data(as_text=True)
    assert "นำข้อมูลออกจากระบบได้เฉพาะผู้เรียนที่กำลังศึกษาอยู่" in page
    school.post(url, data={"reason": "other", "note": "เปลี่ยนใจ"})
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).removal_reason == "never_came"


def test_the_identity_form_takes_an_id_as_printed_on_the_card(tree, browser) -> None:  # noqa: ANN001
    """Typed with spaces or dashes it was refused as "at most 13 characters", while the
    enrolment form took it."""
    _seed(tree, 1)
    child = db.session.scalar(select(Learner))
    school = browser(tree.a.school_user)
    new = nid(9)
    for typed in (f"{new[0]} {new[1:5]} {new[5:10]} {new[10:12]} {new[12]}",
                  f"{new[0]}-{new[1:5]}-{new[5:10]}-{new[10:12]}-{new[12]}"):
        form = {"national_id": typed, "title": "เด็กหญิง", "first_name": child.first_name,
                "last_name": child.last_name, "gender": "F"}
        page = school.post(f"/admin/learner/edit/?id={child.id}", data=form)
        assert page.status_code == 302, page.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(Learner, child.id).national_id == new


def test_an_enrolment_date_after_its_academic_year_is_refused(tree, browser) -> None:  # noqa: ANN001
    """16/05/2572 typed for 2569 (a slipped year) was saved: an enrolment three years ahead."""
    year = _seed(tree, 1)
    enrolment = db.session.scalar(select(Enrolment))
    school = browser(tree.a.school_user)
    typed = f"16/05/{year + 3}"
    page = school.post(f"/admin/student/edit/?id={enrolment.id}",
                       data={"grade": "P1", "classroom": "1", "enrolled_on": typed,
                             "status": "active"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"วันที่เข้าเรียน {typed} อยู่หลังวันสิ้นปีการศึกษา {year}" in text
    assert typed in text  # what was typed stays in the field
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).enrolled_on is None
    last_day = f"15/05/{year + 1}"  # the last day of the year is still in it
    assert school.post(f"/admin/student/edit/?id={enrolment.id}",
                       data={"grade": "P1", "classroom": "1", "enrolled_on": last_day,
                             "status": "active"}).status_code == 302
