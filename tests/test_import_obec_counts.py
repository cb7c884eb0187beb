"""OBEC's per-grade counts table fills an LAO's other-affiliation grid (issue 13 item 3)."""

import io
import re
from datetime import date

import pytest
from sqlalchemy import select
from test_counts import make_round

from models import OtherSchoolCount, db
from models.people import COUNT_GRADES
from rules import RuleViolation
from spreadsheets.obec_counts import limited_to, read_obec_counts, read_obec_table

GRADES = [("อบ.1", 1, 2), ("อบ.2", 6, 3), ("อบ.3", 1, 3), ("รวม อบ.", 8, 8),
          ("ป.1", 4, 2), ("ป.2", 2, 5), ("ป.3", 5, 4), ("ป.4", 1, 3), ("ป.5", 3, 4),
          ("ป.6", 9, 4), ("รวมประถม", 24, 22), ("ม.1", 7, 7), ("ปวช.1", 0, 0),
          ("รวมทั้งหมด", 39, 37)]


def raw_table(code: str, bad_total: bool = False) -> bytes:
    """The scraper's layout: an index column, the header repeated, an as-of row at the end."""
    lines = [",0,1,2,3,4,school_id", f"0,ชั้น/เพศ,ชาย,หญิง,รวม,ห้องเรียน,{code}"]
    for i, (grade, boys, girls) in enumerate(GRADES, start=1):
        total = boys + girls + (1 if bad_total and grade == "ป.2" else 0)
        lines.append(f"{i},{grade},{boys},{girls},{total},1,{code}")
    lines.append(f"{len(GRADES) + 1}" + ",ข้อมูล ณ วันที่ 10 มิถุนายน 2565" * 5 + f",{code}")
    return "\n".join(lines).encode("utf-8")


def test_reader_skips_subtotals_and_as_of_and_leaves_out_other_grades():
    found = limited_to(read_obec_table(raw_table("1033000001")), COUNT_GRADES)
    assert found.ok, found.problems
    assert found.schools == {"1033000001": {
        "K1": (1, 2), "K2": (6, 3), "K3": (1, 3), "P1": (4, 2), "P2": (2, 5), "P3": (5, 4),
        "P4": (1, 3), "P5": (3, 4), "P6": (9, 4)}}
    assert found.ignored_grades == {"M1", "ปวช.1"}  # M1: Thai "ม.๑" on a Thai page
    assert found.as_of == "ข้อมูล ณ วันที่ 10 มิถุนายน 2565"
    assert found.skipped_rows == 5  # three subtotals, the header, the as-of row


def test_reader_cross_checks_boys_and_girls_against_the_total():
    found = read_obec_table(raw_table("1033000001", bad_total=True))
    assert not found.ok and "ป.2" in found.problems[0][1]
    with pytest.raises(RuleViolation, match="ป.2"):  # the cross-check's entry refuses it
        read_obec_counts(raw_table("1033000001", bad_total=True))


def test_the_cross_check_entry_gives_pairs_and_the_count_date(app):
    with app.app_context():
        table = read_obec_counts(raw_table("1033000001"))
    assert table.counts[("1033000001", "P6")] == (9, 4)
    assert table.counts[("1033000001", "M1")] == (7, 7)
    assert table.as_of == date(2022, 6, 10)


def upload(lao, round_id: int, data: bytes):
    return lao.post(f"/admin/other_count/upload/?round={round_id}",
                    data={"file": (io.BytesIO(data), "obec.csv")},
                    content_type="multipart/form-data")


def test_lao_fills_its_grid_from_the_obec_table_after_a_preview(tree, browser):
    round_ = make_round()
    lao = browser(tree.a.sao_user)
    page = upload(lao, round_.id, raw_table(tree.a.other.code))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and tree.a.other.name in html
    assert db.session.scalar(select(OtherSchoolCount)) is None  # a preview writes nothing
    commit = re.search(r'action="(/admin/other_count/upload/[^"]+/)"', html).group(1)
    assert lao.post(commit).status_code == 302
    counts = {c.grade: (c.boys, c.girls) for c in db.session.scalars(select(OtherSchoolCount))}
    assert counts["K2"] == (6, 3) and counts["P6"] == (9, 4) and len(counts) == 9


def test_a_school_outside_the_lao_is_refused(tree, browser):
    round_ = make_round()
    page = upload(browser(tree.a.sao_user), round_.id, raw_table(tree.b.other.code))
    assert page.status_code == 422 and tree.b.other.code in page.get_data(as_text=True)
    assert 'action="/admin/other_count/upload/' not in page.get_data(as_text=True).replace(
        f'action="/admin/other_count/upload/?round={round_.id}"', "")
    assert db.session.scalar(select(OtherSchoolCount)) is None


def test_an_oversized_counts_upload_is_refused_before_parsing(tree, browser):
    round_ = make_round()
    lines = b"\n".join([b"1"] * 60_000)  # more lines than any table (small: kept in memory)
    page = upload(browser(tree.a.sao_user), round_.id, lines)
    assert page.status_code == 422
    assert db.session.scalar(select(OtherSchoolCount)) is None


def test_a_count_in_other_digits_is_a_problem_not_a_server_error(tree, browser):
    round_ = make_round()
    code = tree.a.other.code
    odd = raw_table(code).replace(",ป.1,4,2,6,".encode(), ",ป.1,²,2,6,".encode())
    page = upload(browser(tree.a.sao_user), round_.id, odd)
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "ชั้น ป.1: จำนวนชายและหญิงต้องเป็นจำนวนเต็ม" in html
    assert db.session.scalar(select(OtherSchoolCount)) is None
    thai = raw_table(code).replace(",ป.1,4,2,6,".encode(), ",ป.1,๔,๒,๖,".encode())
    assert read_obec_table(thai).schools[code]["P1"] == (4, 2)


def test_a_count_beyond_any_school_in_the_obec_table_is_a_problem(tree, browser):
    round_ = make_round()
    code = tree.a.other.code
    huge = raw_table(code).replace(",ป.1,4,2,6,".encode(),
                                   ",ป.1,4,99999999999,100000000003,".encode())
    page = upload(browser(tree.a.sao_user), round_.id, huge)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert (f"{code} ชั้น ป.1: นักเรียนหญิง 99,999,999,999 คน "
            "มากเกินกว่าที่โรงเรียนหนึ่งจะมีได้ในชั้นเดียว") in html
    assert 'action="/admin/other_count/upload/' not in html.replace(
        f'action="/admin/other_count/upload/?round={round_.id}"', "")  # no way to save it
    assert db.session.scalar(select(OtherSchoolCount)) is None
    with pytest.raises(RuleViolation, match="99,999,999,999"):  # the department's loader too
        read_obec_counts(huge)


def test_the_preview_warns_of_a_table_from_another_year_and_still_lets_it_be_saved(tree, browser):
    round_ = make_round()  # this academic year; the table counts 10 June 2565
    year = round_.academic_year
    lao = browser(tree.a.sao_user)
    page = upload(lao, round_.id, raw_table(tree.a.other.code))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert ("ตารางนี้เป็นจำนวนนักเรียนของ สพฐ. ณ วันที่ 10 มิ.ย. 2565 ซึ่งอยู่ในปีการศึกษา 2565 "
            f"แต่การเก็บข้อมูลครั้งที่ {year}/1 เป็นของปีการศึกษา {year}") in html
    commit = re.search(r'action="(/admin/other_count/upload/[^"]+/)"', html).group(1)
    assert lao.post(commit).status_code == 302  # the LAO may still go on
    assert len(db.session.scalars(select(OtherSchoolCount)).all()) == 9
    this_year = raw_table(tree.a.other.code).replace(b"2565", str(year).encode())
    html = upload(lao, round_.id, this_year).get_data(as_text=True)
    assert f"ณ วันที่ 10 มิถุนายน {year}" in html and "ตารางนี้เป็นจำนวนนักเรียนของ สพฐ." not in html


@pytest.mark.parametrize("cell", ["1", "1" * 10], ids=["20,000 columns", "a 200 KB line"])
def test_a_file_far_too_wide_is_refused_as_no_obec_counts_table(tree, browser, cell):
    """The learner import's words ("a learner list") once told the LAO about the wrong file."""
    round_ = make_round()
    wide = raw_table(tree.a.other.code) + ("\n" + ",".join([cell] * 20_000)).encode()
    page = upload(browser(tree.a.sao_user), round_.id, wide)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "ตารางจำนวนนักเรียนรายชั้นของ สพฐ." in html
    assert "รายชื่อผู้เรียน" not in html
    assert db.session.scalar(select(OtherSchoolCount)) is None


def test_the_departments_obec_loader_names_obec_counts_too(tree, browser):
    wide = ",".join(["1"] * 20_000).encode()
    response = browser(tree.department).post("/admin/risk/obec", data={
        "file": (io.BytesIO(wide), "obec.csv"), "count_date": "10/06/2569"},
        content_type="multipart/form-data", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "ตารางจำนวนนักเรียนรายชั้นของ สพฐ." in html and "รายชื่อผู้เรียน" not in html
