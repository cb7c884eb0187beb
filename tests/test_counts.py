"""Other-affiliation counts (SPEC §3): one grid per school and round, entered by the funding LAO."""

import re
from datetime import timedelta

from sqlalchemy import func, select

import clock
from models import CentreBasicData, OtherSchool, OtherSchoolCount, Round, db
from rules import RuleViolation, acting_as
from rules.counts import MOST_PER_GRADE

GRADES = ("K1", "K2", "K3", "P1", "P2", "P3", "P4", "P5", "P6")


def open_round(year: int) -> Round:
    """A round whose window is open today, so the window rules let the writes through."""
    today = clock.today()
    return Round(academic_year=year, number=1, opens_on=today - timedelta(days=10),
                 closes_on=today + timedelta(days=30), institution_deadline=today,
                 lao_deadline=today, province_deadline=today)


def make_round() -> Round:
    round_ = open_round(clock.academic_year())
    db.session.add(round_)
    db.session.commit()
    return round_


def grid(boys: str = "3", girls: str = "4") -> dict[str, str]:
    data = {}
    for grade in GRADES:
        data[f"{grade}_boys"], data[f"{grade}_girls"] = boys, girls
    return data


def test_lao_saves_a_whole_grid_at_once(tree, browser) -> None:  # noqa: ANN001
    round_ = make_round()
    lao = browser(tree.a.sao_user)
    url = f"/admin/other_count/{tree.a.other.id}/?round={round_.id}"
    assert lao.post(url, data=grid()).status_code == 302
    rows = db.session.scalars(select(OtherSchoolCount)).all()
    assert len(rows) == 9 and {(r.boys, r.girls) for r in rows} == {(3, 4)}
    listing = lao.get("/admin/other_count/").get_data(as_text=True)
    assert tree.a.other.name in listing and "27" in listing and "36" in listing
    # Saving again updates the same rows.
    lao.post(url, data=grid("5", "0"))
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(OtherSchoolCount.boys))) == 45


def test_bad_numbers_are_refused_and_the_form_keeps_them(tree, browser) -> None:  # noqa: ANN001
    round_ = make_round()
    lao = browser(tree.a.sao_user)
    data = grid() | {"P1_boys": "-2", "P2_girls": "สิบ"}
    page = lao.post(f"/admin/other_count/{tree.a.other.id}/?round={round_.id}", data=data)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "-2" in html and "สิบ" in html
    assert "ป.๑" in html or "P1" in html
    assert db.session.scalar(select(OtherSchoolCount)) is None


def test_closed_school_counts_are_zero(tree, browser) -> None:  # noqa: ANN001
    round_ = make_round()
    tree.a.other.closed = True
    db.session.commit()
    lao = browser(tree.a.sao_user)
    url = f"/admin/other_count/{tree.a.other.id}/?round={round_.id}"
    assert lao.post(url, data=grid()).status_code == 200
    assert db.session.scalar(select(OtherSchoolCount)) is None
    assert lao.post(url, data=grid("0", "0")).status_code == 302


def test_other_lao_and_institutions_cannot_reach_the_grid(tree, browser) -> None:  # noqa: ANN001
    round_ = make_round()
    url = f"/admin/other_count/{tree.a.other.id}/?round={round_.id}"
    assert browser(tree.b.sao_user).get(url).status_code == 404
    assert browser(tree.a.muni_user).get(url).status_code == 404
    assert browser(tree.a.school_user).get(url).status_code == 403
    assert browser(tree.a.province_user).get(url).status_code == 200


def test_list_filters_border_patrol_police_schools(tree, browser) -> None:  # noqa: ANN001
    make_round()
    db.session.add(OtherSchool(code="8033000001", name="โรงเรียนตชด.ทดสอบ", affiliation="bpp",
                               lao=tree.a.sao))
    db.session.commit()
    lao = browser(tree.a.sao_user)
    page = lao.get("/admin/other_count/?affiliation=bpp").get_data(as_text=True)
    assert "โรงเรียนตชด.ทดสอบ" in page and tree.a.other.name not in page


def test_centre_records_its_basic_data(tree, browser) -> None:  # noqa: ANN001
    cdc = browser(tree.a.cdc_user)
    response = cdc.post("/admin/centre_basic_data/new/", data={
        "head_name": "นางสมศรี ใจดี", "head_phone": "0812345678", "email": "",
        "teachers": "2", "assistant_teachers": "1", "caretakers": "2", "other_staff": "0",
        "classrooms": "3", "capacity": "60"})
    assert response.status_code == 302, response.get_data(as_text=True)
    row = db.session.scalar(select(CentreBasicData))
    assert row.institution_id == tree.a.cdc.id and row.capacity == 60
    assert browser(tree.b.cdc_user).get(
        f"/admin/centre_basic_data/edit/?id={row.id}").status_code == 404


def test_every_grid_input_is_labelled_with_its_grade_and_gender(tree, browser) -> None:  # noqa: ANN001
    round_ = make_round()
    page = browser(tree.a.sao_user).get(
        f"/admin/other_count/{tree.a.other.id}/?round={round_.id}").get_data(as_text=True)
    inputs = re.findall(r"<input[^>]*>", page)
    counted = [tag for tag in inputs if 'inputmode="numeric"' in tag]
    assert len(counted) == 2 * len(GRADES)
    assert all('aria-label="' in tag for tag in counted)
    assert 'aria-label="นักเรียนชาย ป.๑"' in page and 'aria-label="นักเรียนหญิง อ.๓"' in page


def test_digits_not_arabic_or_thai_are_refused_with_a_message_not_a_server_error(
        tree, browser) -> None:  # noqa: ANN001
    round_ = make_round()
    lao = browser(tree.a.sao_user)
    url = f"/admin/other_count/{tree.a.other.id}/?round={round_.id}"
    typed = {"K1_boys": "²", "K2_girls": "١", "P1_boys": "１２"}  # str.isdigit() passes each
    page = lao.post(url, data=grid() | typed)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert all(value in html for value in typed.values())  # what was typed is kept
    assert html.count("เลขอารบิก (0-9) หรือเลขไทย (๐-๙)") == 3
    assert db.session.scalar(select(OtherSchoolCount)) is None
    # Thai digits are what people type: they are read, not refused.
    assert lao.post(url, data=grid("๑๒", "๓")).status_code == 302
    rows = db.session.scalars(select(OtherSchoolCount)).all()
    assert len(rows) == 9 and {(r.boys, r.girls) for r in rows} == {(12, 3)}


def test_a_count_beyond_any_school_is_refused_beside_its_box(tree, browser) -> None:  # noqa: ANN001
    round_ = make_round()
    lao = browser(tree.a.sao_user)
    url = f"/admin/other_count/{tree.a.other.id}/?round={round_.id}"
    page = lao.post(url, data=grid() | {"K1_boys": "99999999999"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200  # not a 500 from PostgreSQL's integer column
    box = re.search(r'<input[^>]*id="K1_boys"[^>]*>\s*<div class="invalid-feedback" '
                    r'id="K1_boys-error">([^<]*)</div>', html)
    assert box and 'value="99999999999"' in box.group(0) and 'aria-invalid="true"' in box.group(0)
    assert box.group(1) == (f"{tree.a.other.name} ชั้น อ.๑: นักเรียนชาย 99,999,999,999 คน "
                            "มากเกินกว่าที่โรงเรียนหนึ่งจะมีได้ในชั้นเดียว (ไม่เกิน 2,000 คน) "
                            "กรุณาตรวจสอบตัวเลข")
    assert html.count("invalid-feedback") == 1 and "ยังไม่ได้บันทึกข้อมูล" in html
    assert db.session.scalar(select(OtherSchoolCount)) is None
    at_most = str(MOST_PER_GRADE)
    assert lao.post(url, data=grid(at_most, at_most)).status_code == 302
    assert db.session.scalar(select(func.sum(OtherSchoolCount.girls))) == 9 * MOST_PER_GRADE


def test_no_write_path_stores_a_count_beyond_any_school(tree) -> None:  # noqa: ANN001
    round_ = make_round()
    with acting_as(None):  # as the CLI or a script would write it
        db.session.add(OtherSchoolCount(round_id=round_.id, other_school_id=tree.a.other.id,
                                        grade="P2", boys=1, girls=2 ** 40))
        try:
            db.session.commit()
        except RuleViolation as exc:
            refused = exc.messages
        else:
            refused = []
        db.session.rollback()
    assert refused == [f"{tree.a.other.name} ชั้น ป.๒: นักเรียนหญิง 1,099,511,627,776 คน "
                       "มากเกินกว่าที่โรงเรียนหนึ่งจะมีได้ในชั้นเดียว (ไม่เกิน 2,000 คน) "
                       "กรุณาตรวจสอบตัวเลข"]
    assert db.session.scalar(select(OtherSchoolCount)) is None
