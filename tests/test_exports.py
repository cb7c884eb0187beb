"""Exports (SPEC §7, issue 6 item 1): what the list shows, streamed, Thai-readable, formula-safe."""

import csv
import io
import os
import shutil
import subprocess
from datetime import date

import openpyxl
import pytest
from flask_admin.contrib.sqla.filters import FilterEqual

from models import Building, Lao, OtherSchool, Round, db
from spreadsheets import writers

FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"http://x\")"]


def read_csv(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith("\ufeff".encode()), "Excel needs the byte-order mark to read Thai"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    sheet = book.active
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def filter_arg(app, endpoint: str, column: str, kind: type) -> str:
    """The `flt0_N` URL argument Flask-Admin uses for one filter of one view."""
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == endpoint)
    for idx, flt in enumerate(view._filters):
        if str(flt.column).endswith(column) and isinstance(flt, kind):
            return f"flt0_{view.get_filter_arg(idx, flt)}"
    raise AssertionError(f"no {kind.__name__} on {column}")


@pytest.mark.parametrize("text", FORMULAS)
def test_cells_a_spreadsheet_would_run_are_neutralised(text):
    assert writers.cell(text) == "'" + text


def test_ordinary_cells_are_left_alone():
    assert writers.cell("โรงเรียนบ้านโนน") == "โรงเรียนบ้านโนน"
    assert writers.cell("a=b") == "a=b"
    assert writers.cell(-5) == -5  # a number is not a formula
    assert writers.cell(None) == ""


def test_province_exports_only_its_own_laos_as_csv_with_thai_headers(app, tree, browser):
    response = browser(tree.a.province_user).get("/admin/lao/export/csv/")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
    rows = read_csv(response)
    assert rows[0][0] == "รหัส อปท."
    codes = sorted(row[0] for row in rows[1:])
    assert codes == sorted([tree.a.muni.code, tree.a.sao.code])


def test_export_follows_the_lists_search_filter_and_sort(app, tree, browser):
    dept = browser(tree.department)
    rows = read_csv(dept.get("/admin/lao/export/csv/?search=อบต."))
    assert sorted(r[0] for r in rows[1:]) == sorted([tree.a.sao.code, tree.b.sao.code])
    arg = filter_arg(app, "lao", "lao_type", FilterEqual)
    rows = read_csv(dept.get(f"/admin/lao/export/csv/?{arg}=5"))
    assert sorted(r[0] for r in rows[1:]) == sorted([tree.a.muni.code, tree.b.muni.code])
    rows = read_csv(dept.get("/admin/lao/export/csv/?sort=0&desc=1"))
    codes = [r[0] for r in rows[1:]]
    assert codes == sorted(codes, reverse=True) and len(codes) == 4


def test_list_page_links_to_exports_with_its_own_arguments(app, tree, browser):
    page = browser(tree.department).get("/admin/lao/?search=abc&sort=1").get_data(as_text=True)
    assert "บันทึกไฟล์ CSV" in page and "บันทึกไฟล์ Excel (XLSX)" in page
    assert "/admin/lao/export/csv/?search=abc&amp;sort=1" in page
    assert "/admin/lao/export/xlsx/?search=abc&amp;sort=1" in page


def test_xlsx_has_the_same_rows_as_csv_and_a_frozen_header(app, tree, browser):
    dept = browser(tree.department)
    as_csv = read_csv(dept.get("/admin/institution/export/csv/?sort=0"))
    response = dept.get("/admin/institution/export/xlsx/?sort=0")
    assert response.mimetype == writers.XLSX_MIMETYPE
    assert read_xlsx(response) == as_csv
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert book.active.freeze_panes == "A2"
    assert "ใช่" in {row[-1] for row in as_csv[1:]}  # booleans in words, in Thai


def test_formulas_in_data_are_exported_as_text(app, tree, browser):
    for n, text in enumerate(FORMULAS):
        db.session.add(OtherSchool(code=f"99{n:08d}", name=text, affiliation="private",
                                   lao=tree.a.sao))
    db.session.commit()
    dept = browser(tree.department)
    names = {r[1] for r in read_csv(dept.get("/admin/other_school/export/csv/"))}
    assert {"'" + t for t in FORMULAS} <= names
    response = dept.get("/admin/other_school/export/xlsx/")
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    cells = [row[1] for row in book.active.iter_rows(min_row=2)]
    assert all(c.data_type == "s" and c.value.startswith(("'", "โรงเรียน")) for c in cells)


def test_export_needs_the_right_to_see_the_list(app, tree, browser, client):
    assert browser(tree.a.school_user).get("/admin/lao/export/csv/").status_code == 403
    assert client.get("/admin/lao/export/csv/").status_code == 302
    assert browser(tree.department).get("/admin/lao/export/pdf/").status_code == 404


def test_accounts_export_is_scoped_and_has_no_password_hashes(app, tree, browser):
    response = browser(tree.b.province_user).get("/admin/user/export/csv/")
    text = response.get_data(as_text=True)
    assert tree.b.school_user.login in text and tree.a.school_user.login not in text
    assert "argon2" not in text


def test_export_streams_rather_than_building_the_file_first(app, tree, browser):
    db.session.add_all(Lao(code=f"0633{n:04d}", name=f"อบต.{n}", lao_type=6,
                           province_code="33") for n in range(1200, 2400))
    db.session.commit()
    response = browser(tree.department).get("/admin/lao/export/csv/", buffered=False)
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert len(rows) == 1 + 1200 + 4


def test_libreoffice_opens_the_xlsx_with_the_same_content(app, tree, browser, tmp_path):
    if not shutil.which("libreoffice"):
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run this test: install libreoffice-calc-nogui (see .ci/run)")
        pytest.skip("LibreOffice is not installed")
    db.session.add(OtherSchool(code="9900000001", name="=1+1", affiliation="private",
                               lao=tree.a.sao))
    db.session.commit()
    dept = browser(tree.department)
    expected = read_csv(dept.get("/admin/other_school/export/csv/?sort=0"))
    (tmp_path / "list.xlsx").write_bytes(dept.get("/admin/other_school/export/xlsx/?sort=0")
                                         .get_data())
    subprocess.run(
        ["libreoffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path),
         str(tmp_path / "list.xlsx")],
        check=True, capture_output=True, timeout=180)
    converted = (tmp_path / "list.csv").read_text(encoding="utf-8")
    assert list(csv.reader(io.StringIO(converted))) == expected
    assert "'=1+1" in converted and ",2," not in converted  # shown as text, never computed


def test_every_export_is_written_to_the_audit_log(app, tree, browser):
    from models import AuditEntry
    browser(tree.a.province_user).get("/admin/lao/export/xlsx/?search=x")
    entry = db.session.query(AuditEntry).filter_by(action="export").one()
    assert (entry.target, entry.actor_login) == ("lao", tree.a.province_user.login)
    assert entry.details["format"] == "xlsx" and entry.details["query"] == "search=x"


def test_a_year_in_a_workbook_reads_2552_not_2_552_while_counts_keep_their_separator(
        app, tree, browser):
    db.session.add(Building(institution=tree.a.school, name="อาคารเรียน ๑", built_year=2552,
                            rooms=1200))
    db.session.commit()
    response = browser(tree.department).get("/admin/building/export/xlsx/")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    header = [c.value for c in sheet[1]]
    year = sheet.cell(2, header.index("ปีที่สร้าง (พ.ศ.)") + 1)
    rooms = sheet.cell(2, header.index("จำนวนห้อง") + 1)
    assert (year.value, year.number_format) == (2552, "0")
    assert (rooms.value, rooms.number_format) == (1200, "#,##0")
    as_csv = read_csv(browser(tree.department).get("/admin/building/export/csv/"))
    assert as_csv[1][header.index("ปีที่สร้าง (พ.ศ.)")] == "2552"


def test_dates_in_list_exports_read_dd_mm_bbbb_like_the_learner_file_in_either_language(
        app, tree, browser):
    day = date(2026, 5, 1)
    db.session.add(Round(academic_year=2569, number=1, opens_on=day, closes_on=day,
                         institution_deadline=day, lao_deadline=day, province_deadline=day))
    db.session.commit()
    dept = browser(tree.department)
    assert read_csv(dept.get("/admin/round/export/csv/"))[1][2] == "01/05/2569"
    dept.get("/language/en")
    assert read_xlsx(dept.get("/admin/round/export/xlsx/"))[1][2] == "01/05/2569"
