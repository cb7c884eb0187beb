"""Uploads bounded before parsing (issue 12 item 1): an XLSX bomb costs a second, not a worker."""

import io
import time
import tracemalloc
import zipfile
from functools import cache

import openpyxl
import pytest
from sqlalchemy import func, select

from models import Learner, db
from seed.learners import letters
from spreadsheets import uploads
from spreadsheets.uploads import MAX_COLUMNS, MAX_ROWS, UploadRefused, check_upload

CONTENT_TYPES = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                 b'2006/content-types"/>')


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        for name, data in parts.items():
            book.writestr(name, data)
    return out.getvalue()


def _sheet(rows: bytes, dimension: bytes = b"") -> bytes:
    return (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main">' + dimension + b"<sheetData>" + rows
            + b"</sheetData></worksheet>")


@cache
def bomb() -> bytes:
    """The probe's file: one row of a million cells, about 130 KB zipped."""
    return _zip({"[Content_Types].xml": CONTENT_TYPES,
                 "xl/worksheets/sheet1.xml": _sheet(b'<row r="1">'
                                                    + b"<c><v>1</v></c>" * 1_000_000
                                                    + b"</row>")})


def _measured(data: bytes) -> tuple[Exception | None, float, int]:
    """What check_upload raised, in how many seconds, with what peak of Python memory."""
    tracemalloc.start()
    started = time.perf_counter()
    error = None
    try:
        check_upload(io.BytesIO(data), "bomb.xlsx")
    except UploadRefused as exc:
        error = exc
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return error, elapsed, peak


def test_the_xlsx_bomb_is_refused_within_a_second_in_bounded_memory():
    assert len(bomb()) < 200_000
    error, elapsed, peak = _measured(bomb())
    assert isinstance(error, UploadRefused)
    assert elapsed < 1.0
    assert peak < 16 * 1024 * 1024


def test_a_wide_row_that_zips_poorly_is_refused_while_streaming():
    # Distinct values keep the ratio low; the row is still refused at its 301st cell.
    cells = b"".join(b'<c r="A1" t="n"><v>%d</v></c>' % (i * 7919 % 1_000_003)
                     for i in range(50_000))
    data = _zip({"[Content_Types].xml": CONTENT_TYPES,
                 "xl/worksheets/sheet1.xml": _sheet(b'<row r="1">' + cells + b"</row>")})
    error, elapsed, peak = _measured(data)
    assert isinstance(error, UploadRefused) and "300" in str(error)
    assert elapsed < 1.0 and peak < 16 * 1024 * 1024


def test_a_declared_dimension_of_a_whole_sheet_is_refused():
    data = _zip({"[Content_Types].xml": CONTENT_TYPES, "xl/worksheets/sheet1.xml": _sheet(
        b'<row r="1"><c><v>1</v></c></row>', b'<dimension ref="A1:XFD1048576"/>')})
    with pytest.raises(UploadRefused):
        check_upload(data, "wide.xlsx")


def test_too_many_rows_and_too_many_shared_strings_are_refused(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ROWS", 100)
    monkeypatch.setattr(uploads, "MAX_SHARED_STRINGS", 100)
    rows = b'<row><c><v>1</v></c></row>' * 101
    data = _zip({"[Content_Types].xml": CONTENT_TYPES,
                 "xl/worksheets/sheet1.xml": _sheet(rows)})
    with pytest.raises(UploadRefused):
        check_upload(data, "long.xlsx")
    strings = b"<sst>" + b"".join(b"<si><t>%d</t></si>" % i for i in range(101)) + b"</sst>"
    data = _zip({"[Content_Types].xml": CONTENT_TYPES, "xl/sharedStrings.xml": strings})
    with pytest.raises(UploadRefused):
        check_upload(data, "strings.xlsx")


def test_csv_with_endless_lines_or_columns_is_refused():
    with pytest.raises(UploadRefused):
        check_upload(b"a," * (MAX_COLUMNS + 1), "wide.csv")
    with pytest.raises(UploadRefused):
        check_upload(b"x" * (100 * 1024), "long-line.csv")
    with pytest.raises(UploadRefused):
        check_upload(b"1\n" * (MAX_ROWS + 1), "many.csv")


def test_an_ordinary_workbook_and_csv_pass():
    book = openpyxl.Workbook()
    for i in range(2000):
        book.active.append([f"110000000{i:04d}", "เด็กชาย", f"สมชาย{letters(i)}", "ใจดี", "ชาย",
                            "01/02/2561", "P1", "1/1"])
    out = io.BytesIO()
    book.save(out)
    stream = io.BytesIO(out.getvalue())
    check_upload(stream, "learners.xlsx")
    assert stream.tell() == 0  # left where the parser starts
    check_upload("เลขประจำตัวประชาชน,ชื่อ\n1100000000001,สมชาย\n".encode(), "learners.csv")


def test_the_import_page_refuses_the_bomb_in_thai(app, tree, browser):
    school = browser(tree.a.school_user)
    started = time.perf_counter()
    response = school.post("/admin/import/", data={
        "file": (io.BytesIO(bomb()), "bomb.xlsx"), "year": "2568"},
        content_type="multipart/form-data", follow_redirects=True)
    assert time.perf_counter() - started < 5  # the page, the session and the check
    assert response.status_code == 422
    assert "คอลัมน์" in response.get_data(as_text=True) or "แตกไฟล์" in response.get_data(
        as_text=True)
    assert db.session.scalar(select(func.count(Learner.id))) == 0


def _workbook() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["เลขประจำตัวประชาชน", "ชื่อ"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _corrupted_sheet(data: bytes) -> bytes:
    """The zip directory intact, the deflated bytes of the first sheet scrambled."""
    part = next(p for p in zipfile.ZipFile(io.BytesIO(data)).infolist()
                if p.filename.startswith("xl/worksheets/"))
    start = part.header_offset + 30 + len(part.filename) + len(part.extra)
    broken = bytearray(data)
    for at in range(start + 2, start + part.compress_size - 2):
        broken[at] ^= 0x55
    return bytes(broken)


DAMAGED_XLSX = "ไฟล์ XLSX เสียหายหรือไม่ใช่ไฟล์ตารางข้อมูล"
UNZIPS_TOO_BIG = "เมื่อแตกไฟล์แล้วมีขนาดใหญ่กว่าขนาดไฟล์มาก"


@pytest.mark.parametrize("damage", ["zip magic then text", "cut in half", "last bytes cut",
                                    "a sheet scrambled", "no workbook inside"])
def test_a_damaged_xlsx_is_called_damaged_not_a_zip_bomb(app, damage):
    whole = _workbook()
    data = {"zip magic then text": b"PK\x03\x04broken zip",
            "cut in half": whole[:len(whole) // 2],
            "last bytes cut": whole[:-10],
            "a sheet scrambled": _corrupted_sheet(whole),
            "no workbook inside": _zip({"readme.txt": b"hello"})}[damage]
    with app.test_request_context(), pytest.raises(UploadRefused) as refused:
        check_upload(io.BytesIO(data), "learners.xlsx")
    assert DAMAGED_XLSX in str(refused.value) and UNZIPS_TOO_BIG not in str(refused.value)


def test_the_zip_bomb_still_gets_its_own_message(app):
    ratio_bomb = _zip({"[Content_Types].xml": CONTENT_TYPES,
                       "xl/worksheets/sheet1.xml": b" " * (8 * 1024 * 1024)})
    for data in (bomb(), ratio_bomb):  # refused from the zip directory, before unzipping
        with app.test_request_context(), pytest.raises(UploadRefused) as refused:
            check_upload(io.BytesIO(data), "bomb.xlsx")
        assert UNZIPS_TOO_BIG in str(refused.value) and DAMAGED_XLSX not in str(refused.value)


def test_the_import_page_calls_a_truncated_xlsx_damaged(app, tree, browser):
    school = browser(tree.a.school_user)
    response = school.post("/admin/import/", data={
        "file": (io.BytesIO(_workbook()[:-10]), "learners.xlsx"), "year": "2568"},
        content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 422
    assert DAMAGED_XLSX in response.get_data(as_text=True)
    assert UNZIPS_TOO_BIG not in response.get_data(as_text=True)
