"""Spreadsheet files as rows of cells: XLSX, XLS and CSV (UTF-8, UTF-8 with BOM or cp874).

Merged cells are filled from their top-left cell, as the merged header of the legacy LEC report
needs. XLS (the legacy report's own download) is read with `xlrd`, the maintained reader of the
old binary format. An XLSX without formulas is read by `python-calamine` (ten times openpyxl's
speed: a second of a 10,000-row file); one with formulas by openpyxl, which shows them, so the
import can refuse them.
"""

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
HEADER_ROWS = 60  # merged cells are applied to the rows a header can be in


class Unreadable(Exception):
    """The bytes are not a spreadsheet this import reads; the message says what to do."""


@dataclass
class Sheet:
    """One sheet: its name, the merged ranges of its top rows and an iterator of its rows."""

    name: str
    rows: Iterator[list[Any]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2; 0-based

    def filled_rows(self) -> Iterator[list[Any]]:
        """The rows with each merged range's value copied into all its cells."""
        merged = [m for m in self.merged if m[0] < HEADER_ROWS]
        tops: dict[tuple[int, int], Any] = {}
        for index, row in enumerate(self.rows):
            for r1, c1, r2, c2 in merged:
                if not r1 <= index <= r2:
                    continue
                if index == r1:
                    tops[(r1, c1)] = row[c1] if c1 < len(row) else None
                row.extend([None] * (c2 + 1 - len(row)))
                row[c1:c2 + 1] = [tops[(r1, c1)]] * (c2 + 1 - c1)
            yield row


def kind_of(data: bytes) -> str:
    """xlsx, xls or csv, from the first bytes (never from the file name)."""
    if data.startswith(XLSX_MAGIC):
        return "xlsx"
    if data.startswith(XLS_MAGIC):
        return "xls"
    if data.startswith(b"%PDF") or b"\x00" in data[:4096]:
        raise Unreadable(_("This is not a spreadsheet. Save it from Excel as \"Excel Workbook "
                           "(.xlsx)\", \"Excel 97-2003 (.xls)\" or CSV."))
    return "csv"


def read_sheets(data: bytes) -> list[Sheet]:
    """Every sheet of the file (a CSV is one sheet)."""
    kind = kind_of(data)
    if kind == "xlsx":
        return _xlsx(data)
    if kind == "xls":
        return _xls(data)
    return [Sheet("csv", iter(csv.reader(io.StringIO(decode_text(data), newline=""))))]


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else cp874 (TIS-620), as Thai Excel saves CSV."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp874")
    except UnicodeDecodeError as exc:
        raise Unreadable(_("The file is neither UTF-8 nor Thai (TIS-620) text (a broken byte at "
                           "position %(position)d). Save it from Excel as \"CSV UTF-8\".",
                           position=exc.start)) from None


_REF = re.compile(rb'<(?:\w+:)?mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _column_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ch - 64)
    return index - 1


def _xlsx_merged(archive: zipfile.ZipFile, path: str) -> list[tuple[int, int, int, int]]:
    """The merged ranges of one sheet, read from its XML (the streaming reader skips them)."""
    try:
        xml = archive.read(path.lstrip("/"))
    except KeyError:
        return []
    return [(int(r1) - 1, _column_index(c1), int(r2) - 1, _column_index(c2))
            for c1, r1, c2, r2 in _REF.findall(xml)]


def damaged_xlsx() -> str:
    """What a file that starts as a zip but is no whole workbook is told, wherever it is seen."""
    return _("The XLSX file is damaged or is not a spreadsheet. Open it in Excel and save it "
             "again.")


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
#: LibreOffice saves a TRUE or FALSE cell as a formula: it is the value, not a formula to refuse
#: (read as text, "=FALSE()" in the disadvantaged column would have counted as a kind of it).
LOGICAL_FORMULAS = {"=TRUE()": True, "=FALSE()": False}


def _has_formulas(data: bytes) -> bool:
    """Whether a worksheet of the workbook holds a formula cell (or is unreadable)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(_FORMULA.search(archive.read(name)) for name in archive.namelist()
                       if name.startswith("xl/worksheets/") and name.endswith(".xml"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return True


def _plain(value: Any) -> Any:
    """A value as openpyxl gives it: None for an empty cell, a whole number as an int, a
    date cell as a datetime."""
    if value == "":
        return None
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is date:
        return datetime(value.year, value.month, value.day)
    return value


def _xlsx_values(data: bytes) -> list[Sheet] | None:
    """The worksheets' values, or None where calamine cannot read the file."""
    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for meta in book.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            sheet = book.get_sheet_by_name(meta.name)
            merged = [(r1, c1, r2, c2) for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []]
            sheets.append(Sheet(meta.name, _calamine_rows(sheet), merged))
    except (CalamineError, ValueError, OSError):
        return None
    return sheets


def _calamine_rows(sheet: Any) -> Iterator[list[Any]]:
    """The sheet's rows from A1, each turned into Python values as it is read: calamine's rows
    start at the first row but at the first column that holds something."""
    if sheet.start is None:
        return
    ahead = [None] * sheet.start[1]
    for row in sheet.iter_rows():
        yield ahead + list(map(_plain, row))


def _xlsx(data: bytes) -> list[Sheet]:
    if not _has_formulas(data) and (sheets := _xlsx_values(data)) is not None:
        return sheets
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise Unreadable(damaged_xlsx()) from None

    def rows(sheet: Any) -> Iterator[list[Any]]:
        for row in sheet.iter_rows(values_only=True):
            yield [LOGICAL_FORMULAS.get(v, v) if type(v) is str else v for v in row]

    return [Sheet(ws.title, rows(ws), _xlsx_merged(archive, getattr(ws, "_worksheet_path", "")))
            for ws in book.worksheets]


def _xls(data: bytes) -> list[Sheet]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True)
    except Exception:  # xlrd raises many kinds for a damaged file  # noqa: BLE001
        raise Unreadable(_("The XLS file is damaged or is not a spreadsheet. Open it in Excel "
                           "and save it again.")) from None

    def rows(sheet: Any) -> Iterator[list[Any]]:
        for r in range(sheet.nrows):
            yield [_xls_value(book, c) for c in sheet.row(r)]

    return [Sheet(s.name, rows(s), [(r1, c1, r2 - 1, c2 - 1) for r1, r2, c1, c2 in s.merged_cells])
            for s in book.sheets()]


def _xls_value(book: Any, cell: Any) -> Any:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        return xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    return cell.value
