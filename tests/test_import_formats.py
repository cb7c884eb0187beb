"""The files users bring (issue 13): LEC report, DMC export, cp874 CSV and XLS, as they are."""

import csv
import io
import re
import shutil
import subprocess
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from models import Enrolment, Learner, db
from rules import acting_as
from rules.identity import check_digit
from seed.learners import letters
from spreadsheets import cells, readers
from spreadsheets import learner_import as importer

YEAR = 2568
THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def nid(n: int) -> str:
    body = f"1{n:011d}"
    return body + str(check_digit(body))


def run(user, institution, data: bytes, commit: bool = True) -> importer.Result:
    with acting_as(user):
        if commit:
            result = importer.import_learners(db.session, data, institution, YEAR)
            db.session.commit()  # the caller's (a job's) transaction
            return result
        return importer.preview(db.session, data, institution, YEAR)


def xlsx(rows: list[list], merges: tuple[str, ...] = (), more: list[list] | None = None
         ) -> bytes:
    """A workbook of `rows`, and a second sheet of `more` rows where given."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    if more is not None:
        second = book.create_sheet("ชีตสอง")
        for row in more:
            second.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def lec_report(school_code: str, learners: list[tuple]) -> bytes:
    """The legacy LEC per-student report: a heading, metadata, a two-row merged header."""
    group = ["จังหวัด", "อำเภอ", "อปท.", "สถานศึกษา", "ลำดับที่", "เลขประจำตัวนักเรียน",
             "คำนำหน้า", "ชื่อ", "นามสกุล", "วันเดือนปีเกิด", "สัญชาติ", "ศาสนา",
             "เลขประจำตัวประชาชน", "สภาพนักเรียน", "ระดับชั้น", "ห้องเรียน",
             "บิดา", None, "ผู้ปกครอง", None, None, "ที่อยู่ตามทะเบียนบ้าน", None, None]
    sub = [None] * 16 + ["ชื่อ", "นามสกุล", "ชื่อ", "นามสกุล", "เบอร์โทร",
                         "เลขที่", "หมู่ที่", "ตำบล"]
    rows = [["รายงานรายละเอียดข้อมูลนักเรียน"],
            ["รหัสสถานศึกษา", school_code, "ปีการศึกษา", "๒๕๖๘"],
            group, sub]
    for i, (n, title, first, grade, born, status) in enumerate(learners, start=1):
        rows.append(["ศรีสะเกษ", "เมือง", "ทต.ทดสอบ", "โรงเรียนเทศบาล", str(i).translate(THAI),
                     str(100 + i), title, first, "ใจดี", born, "ไทย", "พุทธ",
                     nid(n).translate(THAI), status, grade, "๑",
                     "สมศักดิ์", "ใจดี", "สมศรี", "ใจดี", "๐๘๑๒๓๔๕๖๗๘", "๑๒", "๓", "หนองไผ่"])
    merges = tuple(f"{c}3:{c}4" for c in "ABCDEFGHIJKLMNOP") + ("Q3:R3", "S3:U3", "V3:X3")
    return xlsx(rows, merges)


def test_lec_report_with_merged_header_and_thai_digits(app, tree):
    data = lec_report(tree.a.school.code, [
        (1, "เด็กชาย", "ก้อง", "ป.๑", "๑๒/๐๓/๒๕๖๑", "ปกติ"),
        (2, "ด.ญ.", "แก้ว", "ป.1", "3 มกราคม 2561", "กำลังศึกษา"),
        (3, "เด็กหญิง", "ขวัญ", "ประถมศึกษาปีที่ 2", "2017-06-30", "จำหน่าย")])
    result = run(tree.a.school_user, tree.a.school, data)
    assert result.ok, result.problems
    assert result.kind == "lec" and result.learners_created == 2
    assert [p.line for p in result.skipped] == [7]  # not studying: listed, not imported
    assert "บิดา ชื่อ" in result.ignored and "ลำดับที่" in result.ignored
    first = db.session.scalar(select(Learner).where(Learner.national_id == nid(1)))
    assert (first.gender, first.birth_date) == ("M", date(2018, 3, 12))
    assert first.guardian_name == "สมศรี ใจดี" and first.guardian_phone == "0812345678"
    assert first.registered_address == "12 หมู่ 3 ต.หนองไผ่"
    second = db.session.scalar(select(Learner).where(Learner.national_id == nid(2)))
    assert (second.gender, second.birth_date) == ("F", date(2018, 1, 3))
    assert {e.grade for e in db.session.scalars(select(Enrolment))} == {"P1"}


def dmc_export(smis: str, learners: list[tuple]) -> bytes:
    """OBEC DMC's export: a preamble row, the header with เลขประจำตัวนักเรียน twice, ช/ญ, "-"."""
    header = ["รหัสโรงเรียน", "ชื่อโรงเรียน", "เลขประจำตัวนักเรียน", "ชั้น", "ห้อง",
              "เลขประจำตัวนักเรียน", "เพศ", "คำนำหน้าชื่อ", "ชื่อ", "นามสกุล", "วันเกิด",
              "อายุ(ปี)", "น้ำหนัก", "ส่วนสูง", "กลุ่มเลือด", "บ้านเลขที่", "หมู่", "ถนน/ซอย",
              "ตำบล", "อำเภอ", "จังหวัด", "ชื่อผู้ปกครอง", "นามสกุลผู้ปกครอง", "ความด้อยโอกาส"]
    rows = [["วันและเวลาที่สร้างรายงาน 2026-05-02 04:10:12.244315"], header]
    for n, sex, grade, born, poor in learners:
        rows.append([smis, "โรงเรียนทดสอบ", nid(n), grade, 2, f"{n:05d}", sex,
                     "เด็กหญิง" if sex == "ญ" else "เด็กชาย", f"ชื่อ{letters(n)}", "มีสุข", born, 7,
                     "-", "-", "O", "5", "-", "-", "ในเมือง", "เมือง", "ศรีสะเกษ",
                     "สมใจ", "มีสุข", poor])
    return xlsx(rows)


def test_dmc_export_with_preamble_and_duplicated_header(app, tree):
    data = dmc_export("81012017", [(5, "ญ", "ป.2", "13/05/2560", "-"),
                                   (6, "ช", "อ.2", "01/12/2563", "เด็กยากจน")])
    result = run(tree.a.school_user, tree.a.school, data)
    assert result.ok, result.problems
    assert result.kind == "dmc"
    assert any("81012017" in note for note in result.notes)  # SMIS code: we do not hold it
    assert "เลขประจำตัวนักเรียน" in result.ignored  # the school's own number
    learners = {x.national_id: x for x in db.session.scalars(select(Learner))}
    assert set(learners) == {nid(5), nid(6)}
    assert (learners[nid(5)].gender, learners[nid(5)].birth_date) == ("F", date(2017, 5, 13))
    assert learners[nid(6)].disadvantaged and not learners[nid(5)].disadvantaged
    assert learners[nid(5)].height_cm is None
    assert learners[nid(5)].registered_address == "5 ต.ในเมือง อ.เมือง จ.ศรีสะเกษ"
    assert learners[nid(5)].guardian_name == "สมใจ มีสุข"
    grades = {e.learner.national_id: (e.grade, e.classroom)
              for e in db.session.scalars(select(Enrolment))}
    assert grades == {nid(5): ("P2", "2"), nid(6): ("K2", "2")}


def test_a_file_of_another_institution_is_refused(app, tree):
    data = lec_report(tree.b.school.code, [(1, "เด็กชาย", "ก้อง", "ป.1", "12/03/2561", "ปกติ")])
    result = run(tree.a.school_user, tree.a.school, data)
    assert not result.ok and tree.b.school.code in result.problems[0].reason
    assert db.session.scalar(select(func.count(Learner.id))) == 0


def own_rows(*numbers: int) -> list[list[str]]:
    return [[nid(n), "เด็กชาย", f"สมชาย{letters(n)}", "ใจดี", "01/02/2561", "ป.1", "1/1"]
            for n in numbers]


OWN_HEADER = ["เลขประจำตัวประชาชน", "คำนำหน้าชื่อ", "ชื่อ", "นามสกุล", "วันเกิด", "ระดับชั้น",
              "ห้องเรียน"]


def csv_file(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([OWN_HEADER, *rows])
    return out.getvalue().encode(encoding)


@pytest.mark.parametrize("encoding", ["cp874", "utf-8", "utf-8-sig"])
def test_csv_in_thai_windows_encoding_and_utf8(app, tree, encoding):
    result = run(tree.a.school_user, tree.a.school, csv_file(own_rows(1, 2), encoding))
    assert result.ok, result.problems
    names = sorted(db.session.scalars(select(Learner.first_name)))
    assert names == ["สมชายข", "สมชายค"]


def saved_by_libreoffice(data: bytes, tmp_path: Path, kind: str = "xlsx") -> bytes:
    """The XLSX `data` opened and saved again by LibreOffice, as `kind` (xlsx or xls)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is needed to save the workbook")
    source = tmp_path / "from" / "book.xlsx"
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(data)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", kind, "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=120)
    return (tmp_path / f"book.{kind}").read_bytes()


def test_xls_from_libreoffice(app, tree, tmp_path: Path):
    data = saved_by_libreoffice(lec_report(tree.a.school.code, [
        (3, "เด็กชาย", "ก้อง", "ป.๓", "๑๒/๐๓/๒๕๕๙", "ปกติ")]), tmp_path, "xls")
    result = run(tree.a.school_user, tree.a.school, data)
    assert result.ok, result.problems
    learner = db.session.scalar(select(Learner))
    assert (learner.national_id, learner.gender, learner.birth_date) == (
        nid(3), "M", date(2016, 3, 12))
    assert db.session.scalar(select(Enrolment.grade)) == "P3"


@pytest.mark.parametrize("saved_by", ["openpyxl", "LibreOffice"])
def test_a_workbook_without_formulas_reads_as_openpyxl_reads_it(tmp_path: Path, saved_by):
    """Such a workbook is read by the fast reader; openpyxl, which reads those with formulas,
    is the reference: the same values of the same types in the same cells. (LibreOffice
    saves a TRUE cell as the formula TRUE(), so its copy has none.)"""
    flag = [True] if saved_by == "openpyxl" else []
    data = xlsx([["รายงานรายละเอียดข้อมูลนักเรียน"], [],
                 [None, "รหัสสถานศึกษา", "1033200001", 2568, 2.5, *flag],
                 [None, nid(1), int(nid(2)), datetime(2017, 2, 1), datetime(2017, 2, 1, 10, 30),
                  "๑๒/๐๓/๒๕๕๙", "", "'=1+2", "ก้อง ใจดี"]],
                merges=("A1:D1",), more=[[], [], [None, None, "C3"], [None, None, None, 4]])
    if saved_by == "LibreOffice":
        data = saved_by_libreoffice(data, tmp_path)

    def typed(rows: Iterable[Iterable[Any]]) -> list[list[tuple[type, Any]]]:
        return [[(type(v), v) for v in row] for row in rows]

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    reference = [(ws.title, typed(ws.iter_rows(values_only=True))) for ws in book.worksheets]
    assert not readers._has_formulas(data)
    fast = readers._xlsx_values(data)
    assert [(sheet.name, typed(sheet.rows)) for sheet in fast] == reference
    assert fast[0].merged == [(0, 0, 0, 3)]


def test_a_true_or_false_cell_saved_by_libreoffice_is_that_value(app, tree, tmp_path: Path):
    """LibreOffice writes TRUE and FALSE as the formulas TRUE() and FALSE()."""
    header = ["เลขประจำตัวประชาชน", "คำนำหน้าชื่อ", "ชื่อ", "นามสกุล", "วันเกิด", "ระดับชั้น",
              "ห้องเรียน", "ความด้อยโอกาส"]
    data = saved_by_libreoffice(xlsx([header] + [
        [nid(n), "เด็กชาย", f"สมชาย{letters(n)}", "ใจดี", "01/02/2560", "ป.2", "1", flag]
        for n, flag in ((1, True), (2, False))]), tmp_path)
    assert readers._has_formulas(data)  # so openpyxl reads it
    assert run(tree.a.school_user, tree.a.school, data).ok
    learners = {lr.national_id: lr for lr in db.session.scalars(select(Learner))}
    assert learners[nid(1)].disadvantaged and not learners[nid(2)].disadvantaged


def test_preview_lists_every_problem_of_every_row_at_once_and_writes_nothing(app, tree):
    run(tree.b.school_user, tree.b.school, csv_file(own_rows(7), "utf-8"))
    rows = own_rows(1, 2, 7, 1)
    rows[1][0] = "1234567890123"  # checksum
    rows[0][5] = "ป.9"  # no such grade
    result = run(tree.a.school_user, tree.a.school, csv_file(rows, "utf-8"), commit=False)
    assert sorted(p.line for p in result.problems) == [2, 3, 4, 5]  # grade, ID, elsewhere, twice
    assert result.refused_rows == 4
    assert db.session.scalar(select(func.count(Learner.id))) == 1


def test_reimport_changes_nothing_and_lists_the_missing(app, tree):
    data = csv_file(own_rows(1, 2, 3), "utf-8")
    assert run(tree.a.school_user, tree.a.school, data).learners_created == 3
    again = run(tree.a.school_user, tree.a.school, data, commit=False)
    assert (again.new_rows, again.updated_rows, again.unchanged) == (0, 0, 3)
    fewer = run(tree.a.school_user, tree.a.school, csv_file(own_rows(1, 2), "utf-8"))
    assert fewer.ok and [m.split()[0] for m in fewer.missing] == [nid(3)]
    assert db.session.scalar(select(func.count(Enrolment.id))) == 3  # listed, never removed


@pytest.mark.parametrize("written,grade", [
    ("ป.1", "P1"), ("ป.๑", "P1"), ("ป1", "P1"), ("P1", "P1"), ("p 1", "P1"),
    ("ประถมศึกษาปีที่ 1", "P1"), ("อนุบาล 1", "K1"), ("อ.1", "K1"), ("K1", "K1"),
    ("ม.1", "M1"), ("มัธยมศึกษาปีที่ ๖", "M6"), ("ป.7", None), ("อนุบาล 4", None)])
def test_grades_in_every_spelling(written, grade):
    assert cells.grade_code(written) == grade


@pytest.mark.parametrize("written,day", [
    ("16/05/2568", date(2025, 5, 16)), ("16/05/2025", date(2025, 5, 16)),
    ("๑๖/๐๕/๒๕๖๘", date(2025, 5, 16)), ("16 พฤษภาคม 2568", date(2025, 5, 16)),
    ("16 พ.ค. 2568", date(2025, 5, 16)), ("2025-05-16", date(2025, 5, 16)),
    ("หนึ่ง", None)])
def test_dates_be_ce_thai_months_and_iso(written, day):
    assert cells.parse_date(written) == day


def test_the_kept_upload_is_committed_only_by_its_owner(app, tree, browser):
    school = browser(tree.a.school_user)
    page = school.post(f"/admin/import/?year={YEAR}", data={
        "file": (io.BytesIO(csv_file(own_rows(1, 2), "cp874")), "l.csv"), "year": str(YEAR)},
        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "สมชายข" not in page and "ป.1" not in page  # the preview sends no rows back
    commit = re.search(r'action="(/admin/import/commit/\d+/)"', page).group(1)
    stranger = browser(tree.a.muni_user)
    assert stranger.post(commit).status_code == 302
    assert db.session.scalar(select(func.count(Learner.id))) == 0
    assert school.post(commit).status_code == 303  # to the page of the job that writes
    assert db.session.scalar(select(func.count(Learner.id))) == 2
    assert school.post(commit).status_code == 302  # used once: gone
    assert db.session.scalar(select(func.count(Enrolment.id))) == 2


def test_cli_imports_a_dmc_file_and_fails_with_nothing_written(app, tree, tmp_path: Path):
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(dmc_export("81012017", [(5, "ญ", "ป.2", "13/05/2560", "-"),
                                            (6, "?", "ป.9", "01/12/2563", "-")]))
    result = runner.invoke(args=["lec", "import-learners", tree.a.school.code, str(bad),
                                 "--year", str(YEAR)])
    assert result.exit_code == 1 and "ป.9" in result.output
    assert db.session.scalar(select(func.count(Learner.id))) == 0
    good = tmp_path / "good.xlsx"
    good.write_bytes(dmc_export("81012017", [(5, "ญ", "ป.2", "13/05/2560", "-")]))
    result = runner.invoke(args=["lec", "import-learners", tree.a.school.code, str(good),
                                 "--year", str(YEAR)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Enrolment.academic_year)) == YEAR


def test_a_report_of_another_academic_year_is_said_in_the_preview(app, tree):
    """Last year's LEC report (ปีการศึกษา ๒๕๖๘ above its table) was previewed for the next year
    without a word, though its grades are last year's."""
    data = lec_report(tree.a.school.code, [(1, "เด็กชาย", "ก้อง", "ป.๑", "๑๒/๐๓/๒๕๖๑", "ปกติ")])
    assert not [n for n in run(tree.a.school_user, tree.a.school, data, commit=False).notes
                if "ปีการศึกษา" in n]
    with acting_as(tree.a.school_user):
        result = importer.preview(db.session, data, tree.a.school, YEAR + 1)
    assert result.ok
    assert any(f"ไฟล์นี้เป็นข้อมูลปีการศึกษา {YEAR}" in note
               and f"ปีการศึกษา {YEAR + 1}" in note for note in result.notes), result.notes
