"""The learner export carries the whole record, in the legacy report's order, masked and safe."""

import csv
import io
from datetime import date

import openpyxl
from sqlalchemy import update

from models import Enrolment, Learner, db
from spreadsheets import learner_export
from spreadsheets.columns import COLUMNS

NATIONAL_ID = "1103700012346"


def add_learner(institution, **fields) -> Learner:  # noqa: ANN001, ANN003
    learner = Learner(**({"national_id": NATIONAL_ID, "title": "เด็กหญิง", "first_name": "สมศรี",
                          "last_name": "ใจดี", "gender": "F", "birth_date": date(2018, 3, 9),
                          "nationality": "ไทย", "religion": "พุทธ", "disadvantaged": True,
                          "guardian_name": "นางสมใจ ใจดี", "guardian_phone": "0812345678",
                          "registered_address": "12 หมู่ 3", "height_cm": 120.5} | fields))
    db.session.add(Enrolment(learner=learner, institution=institution, academic_year=2569,
                             grade="P1", classroom="2", enrolled_on=date(2026, 5, 16)))
    db.session.commit()
    if "first_name" not in fields:  # a formula, in a name stored before names were letters only
        db.session.execute(update(Learner.__table__).where(Learner.__table__.c.id == learner.id)
                           .values(first_name="=สมศรี"))
        db.session.commit()
    return learner


def rows_of(response) -> list[dict[str, str]]:  # noqa: ANN001
    text = response.get_data().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_every_field_in_the_reports_order(tree, browser) -> None:  # noqa: ANN001
    add_learner(tree.a.school)
    response = browser(tree.a.school_user).get("/admin/student/export/csv/")
    assert response.status_code == 200
    header = next(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    with_labels = [str(c.label) for c in COLUMNS]
    assert header[-len(COLUMNS):] == with_labels
    (row,) = rows_of(response)
    assert row[header[0]] == tree.a.school.code
    values = [row[h] for h in with_labels]
    assert values[:4] == ["เด็กหญิง", "'=สมศรี", "ใจดี", "09/03/2561"]  # BE date, formula-safe
    assert NATIONAL_ID in values and "0812345678" in values and "12 หมู่ 3" in values
    assert "120.5" in values and "16/05/2569" in values and "2" in values


def test_ids_are_masked_above_the_institution(tree, browser) -> None:  # noqa: ANN001
    add_learner(tree.a.school)
    for user in (tree.a.province_user, tree.a.muni_user, tree.department):
        text = browser(user).get("/admin/student/export/csv/").get_data(as_text=True)
        assert NATIONAL_ID not in text and "x-xxxx-xxxxx-34-6" in text


def test_export_follows_the_search(tree, browser) -> None:  # noqa: ANN001
    add_learner(tree.a.school)
    add_learner(tree.a.school, national_id="1103700012354", first_name="มานะ",
                last_name="รักเรียน", gender="M", title="เด็กชาย")
    rows = rows_of(browser(tree.a.school_user).get("/admin/student/export/csv/?search=มานะ"))
    assert [r[str(COLUMNS[1].label)] for r in rows] == ["มานะ"]


def test_xlsx_matches_csv_and_prints_landscape_a4(tree, browser) -> None:  # noqa: ANN001
    add_learner(tree.a.school)
    school = browser(tree.a.school_user)
    csv_rows = list(csv.reader(io.StringIO(
        school.get("/admin/student/export/csv/").get_data().decode("utf-8-sig"))))
    book = openpyxl.load_workbook(io.BytesIO(school.get("/admin/student/export/xlsx/").get_data()))
    sheet = book.active
    xlsx_rows = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    assert xlsx_rows == csv_rows
    assert sheet.cell(2, learner_export.headers().index(str(COLUMNS[7].label)) + 1).data_type == "s"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.print_title_rows == "$1:$1" and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage  # one page wide


def test_bare_writer_goes_on_in_a_second_sheet_and_escapes(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from spreadsheets import xlsx_text

    monkeypatch.setattr(xlsx_text, "SHEET_ROWS", 3)
    rows = [["a & <b>", None, "x\x0by"], ["2", "'=1+1", ""], ["3", "c", "d"], ["4", "e", "f"]]
    path = tmp_path / "out.xlsx"
    assert xlsx_text.write_text_xlsx(str(path), ["h1", "h<2>", "h3"], rows, sheet="นักเรียน") == 4
    book = openpyxl.load_workbook(path)
    first, second = book.worksheets
    assert (first.title, second.title) == ("นักเรียน", "นักเรียน (2)")
    assert [[c.value for c in r] for r in first.iter_rows()] == [
        ["h1", "h<2>", "h3"], ["a & <b>", None, "xy"], ["2", "'=1+1", None], ["3", "c", "d"]]
    assert [[c.value for c in r] for r in second.iter_rows()] == [["h1", "h<2>", "h3"],
                                                                  ["4", "e", "f"]]
    assert second.print_title_rows == "$1:$1" and second.freeze_panes == "A2"


def test_a_school_the_learner_left_keeps_who_was_there_not_how_to_reach_them(
        tree, browser) -> None:  # noqa: ANN001
    learner = add_learner(tree.a.school)
    db.session.execute(db.update(Enrolment).values(status="transferred"))
    db.session.add(Enrolment(learner=learner, institution=tree.b.school, academic_year=2569,
                             grade="P1", status="active"))
    db.session.commit()
    reach = ("0812345678", "12 หมู่ 3", "นางสมใจ ใจดี", "120.5")
    for user in (tree.a.school_user, tree.a.muni_user, tree.a.province_user):
        for export in ("csv", "xlsx"):
            response = browser(user).get(f"/admin/student/export/{export}/")
            if export == "csv":
                (row,) = rows_of(response)
                cells = list(row.values())
            else:
                sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
                cells = [str(c) for c in list(sheet.iter_rows(values_only=True))[1]]
            assert "'=สมศรี" in cells and "ใจดี" in cells and "09/03/2561" in cells
            assert not set(reach) & set(cells), (user.login, export)
    text = browser(tree.b.school_user).get("/admin/student/export/csv/").get_data(as_text=True)
    assert all(value in text for value in reach)
    # The department has them on every row, the family's contacts masked as above any school.
    rows = rows_of(browser(tree.department).get("/admin/student/export/csv/"))
    for row in rows:
        assert {"120.5", "xxx-xxx-xx78", "1…", "น…"} <= set(row.values())
        assert not set(reach[:3]) & set(row.values())
    assert len(rows) == 2
