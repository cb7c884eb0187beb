"""Spreadsheet files written row by row, so exporting 1.5 million learners never holds them all.

CSV goes out as a stream (UTF-8 with a byte-order mark, so Excel reads Thai); XLSX is written by
xlsxwriter in constant-memory mode to a temporary file that is then streamed. Every text cell a
spreadsheet could run as a formula is neutralised (OWASP "CSV injection").
"""

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any
from urllib.parse import quote

import xlsxwriter
from flask import Response, stream_with_context
from flask_babel import gettext as _
from markupsafe import Markup

from i18n import be_cell_date

from .xlsx_text import SHEET_ROWS, write_text_xlsx

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
#: The whole Content-Type header: given as `content_type`, as Werkzeug appends a charset to a
#: text `mimetype` that already has one.
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH = 500  # CSV rows per chunk sent to the client
#: First cell of the line that ends a CSV export cut short by an error.
FAILED_MARK = "#ERROR"
WIDTH_SAMPLE = 200  # rows looked at to size the XLSX columns
MAX_WIDTH = 60

Cell = str | int | float


class Plain(int):
    """A whole number that is not a count (a year, a line of a file): written without a thousands
    separator, so a sheet shows 2569, not 2,569."""


def neutralise(text: str) -> str:
    """Text a spreadsheet would read as a formula gets a leading apostrophe, so it stays text."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> Cell:
    """One value as a spreadsheet cell: numbers stay numbers, dates dd/mm/BBBB, text made safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return be_cell_date(value)
    if isinstance(value, Markup):
        value = value.striptags()
    return neutralise(str(value))


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Any]], prepared: bool = False
               ) -> Iterator[bytes]:
    """The CSV file in chunks of a few hundred rows, starting with the byte-order mark.

    `prepared` rows already hold final, formula-safe text (or None) and are written as they are.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([cell(h) for h in headers])
    try:
        for n, row in enumerate(rows, start=1):
            writer.writerow(row if prepared else [cell(v) for v in row])
            if n % BATCH == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
    except Exception:
        # The status line is long gone: say so in the file, then break the stream so the
        # browser reports a failed download instead of keeping a short file as if whole.
        writer.writerow([FAILED_MARK, _("The export failed before the end: this file is "
                                        "incomplete. Download it again.")])
        yield buffer.getvalue().encode("utf-8")
        raise
    yield buffer.getvalue().encode("utf-8")


Sheet = tuple[str, Sequence[str], Iterable[Sequence[Any]]]


def write_xlsx(target: str | IO[bytes], headers: Sequence[str], rows: Iterable[Sequence[Any]],
               sheet: str = "LEC", more: Sequence[Sheet] = ()) -> int:
    """Write sheets with a bold frozen header row and fitted columns; return the first's rows."""
    book = xlsxwriter.Workbook(target, {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
        "tmpdir": tempfile.gettempdir(),
    })
    try:
        styles = {"bold": book.add_format({"bold": True, "bg_color": "#E9ECEF", "border": 1}),
                  "count": book.add_format({"num_format": "#,##0"}),
                  "plain": book.add_format({"num_format": "0"}),
                  "money": book.add_format({"num_format": "#,##0.00"})}
        counts = [_write_sheet(book, styles, name, head, body)
                  for name, head, body in [(sheet, headers, rows), *more]]
    finally:
        book.close()
    return counts[0]


def _new_page(book: Any, styles: dict[str, Any], name: str, headers: Sequence[str]) -> Any:
    page = book.add_worksheet(name[:31])
    # Printed as DLA prints lists: landscape A4, one page wide, the header on every page.
    page.set_landscape()
    page.set_paper(9)
    page.fit_to_pages(1, 0)
    page.repeat_rows(0)
    for col, header in enumerate(headers):
        page.write_string(0, col, neutralise(str(header)), styles["bold"])
    page.freeze_panes(1, 0)
    return page


def _finish_page(page: Any, headers: Sequence[str], widths: list[int], rows: int) -> None:
    for col, width in enumerate(widths):
        page.set_column(col, col, min(width + 2, MAX_WIDTH))
    if headers:
        page.autofilter(0, 0, max(rows, 1), len(headers) - 1)


def _write_sheet(book: Any, styles: dict[str, Any], name: str, headers: Sequence[str],
                 rows: Iterable[Sequence[Any]]) -> int:
    """Write one sheet's rows, going on in "name (2)" … past Excel's 1,048,576 rows a sheet."""
    page = _new_page(book, styles, name, headers)
    widths = [len(str(h)) for h in headers]
    count = line = 0
    write_string, write_number = page.write_string, page.write_number
    for count, row in enumerate(rows, start=1):
        line += 1
        if line > SHEET_ROWS:
            _finish_page(page, headers, widths, SHEET_ROWS)
            page = _new_page(book, styles, f"{name[:25]} ({count // SHEET_ROWS + 1})", headers)
            write_string, write_number, line = page.write_string, page.write_number, 1
        for col, value in enumerate(row):
            value = cell(value)
            if isinstance(value, str):
                write_string(line, col, value)
            else:  # whole numbers are counts (but Plain ones), the others money (baht, satang)
                write_number(line, col, value, styles[
                    "plain" if isinstance(value, Plain)
                    else "count" if isinstance(value, int) else "money"])
        if count <= WIDTH_SAMPLE:
            for col, value in enumerate(row[:len(widths)]):
                widths[col] = max(widths[col], len(str(cell(value))))
    _finish_page(page, headers, widths, line)
    return count


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def csv_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
                 ) -> Response:
    """Stream a CSV download; rows are read from the database while the client receives them."""
    return csv_bytes_response(filename, csv_chunks(headers, rows))


def csv_bytes_response(filename: str, chunks: Iterable[bytes]) -> Response:
    """Stream CSV bytes made elsewhere (e.g. by the database's COPY) as a download."""
    return Response(stream_with_context(chunks), content_type=CSV_CONTENT_TYPE,
                    headers={"Content-Disposition": _disposition(filename),
                             "Cache-Control": "no-store"})


def csv_head(headers: Sequence[str]) -> bytes:
    """The byte-order mark and the header line, for CSV whose rows come from elsewhere."""
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer).writerow([cell(h) for h in headers])
    return buffer.getvalue().encode("utf-8")


def _file_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(64 * 1024):
            yield chunk


def xlsx_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
                  sheet: str = "LEC", more: Sequence[Sheet] = (), prepared: bool = False
                  ) -> Response:
    """Build the XLSX in a temporary file (constant memory), then stream that file.

    `prepared` rows hold final text or None (formula-safe, IDs as text, as the database made
    them) and go through the bare writer of xlsx_text, which is several times faster.
    """
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        if prepared:
            write_text_xlsx(path, headers, rows, sheet)
        else:
            write_xlsx(path, headers, rows, sheet, more)
        stream = open(path, "rb")  # noqa: SIM115 - closed when the download ends
    finally:
        os.unlink(path)  # the open handle keeps the data until then
    return Response(_file_chunks(stream), mimetype=XLSX_MIMETYPE, headers={
        "Content-Disposition": _disposition(filename),
        "Content-Length": str(os.fstat(stream.fileno()).st_size),
        "Cache-Control": "no-store",
    })
