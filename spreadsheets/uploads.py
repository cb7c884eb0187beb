"""Bounds on an uploaded spreadsheet, checked before any parser touches it (issue 12 item 1).

An XLSX is a zip of XML parts: 129 KB can unzip to a row of a million cells, which openpyxl
would build in memory. `check_upload` reads only the zip directory, the sheets' declared
dimension and a streamed count of rows and cells (zipfile never yields more than a part's
declared size), so a refusal costs milliseconds and a few megabytes whatever the file claims.
"""

import io
import re
import zipfile
import zlib
from enum import Enum
from typing import BinaryIO

from flask_babel import gettext as _

from rules import RuleViolation
from spreadsheets.readers import damaged_xlsx

MAX_BYTES = 10 * 1024 * 1024  # the upload as sent; a school of 5,000 pupils is under 2 MB
MAX_PARTS = 200  # files inside the XLSX zip
MAX_PART_BYTES = 64 * 1024 * 1024  # one part, unzipped
MAX_TOTAL_BYTES = 128 * 1024 * 1024  # all parts, unzipped
MAX_RATIO = 100  # unzipped / zipped size of a part above RATIO_FLOOR (real sheets: 5-20)
RATIO_FLOOR = 1024 * 1024
MAX_ROWS = 50_000  # rows of a sheet or lines of a CSV, blank ones included
MAX_COLUMNS = 300  # cells in a row, columns of the declared dimension, fields of a CSV line
MAX_SHARED_STRINGS = 1_000_000
MAX_LINE_BYTES = 64 * 1024  # one CSV line
CHUNK = 128 * 1024

ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s/>]")
CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s/>]")
STRING_TAG = re.compile(rb"<(?:\w+:)?si[\s/>]")
DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?"')


#: What a damaged zip raises while its directory or a part is read.
DAMAGED = (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error)


class UploadRefused(RuleViolation):
    """The file would cost more to read than the import needs, or is no whole workbook;
    nothing was parsed."""


class Expected(Enum):
    """The file an import asks for, so a refusal names the file the user meant to give."""

    LEARNERS = "learners"
    OBEC_COUNTS = "obec_counts"


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _too_big() -> UploadRefused:
    return UploadRefused(_("The file is larger than %(size)d MB. Split it into smaller files.",
                           size=MAX_BYTES // (1024 * 1024)))


def _too_wide(columns: int, expected: Expected) -> UploadRefused:
    if expected is Expected.OBEC_COUNTS:
        return UploadRefused(_("A row of the file has %(columns)d columns or more; OBEC's "
                               "per-grade counts table has only a few (grade, boys, girls, "
                               "total, school code). Check that the file is OBEC's counts "
                               "table, or delete the extra columns and save it again.",
                               columns=columns))
    return UploadRefused(_("A row of the file has %(columns)d columns or more; a learner list "
                           "has at most %(max)d. Delete the extra columns and save the file "
                           "again.", columns=columns, max=MAX_COLUMNS))


def _long_line(expected: Expected) -> UploadRefused:
    size = MAX_LINE_BYTES // 1024
    if expected is Expected.OBEC_COUNTS:
        return UploadRefused(_("A line of the file is longer than %(size)d KB; OBEC's "
                               "per-grade counts table has far shorter lines. Check that the "
                               "file is OBEC's counts table saved as CSV.", size=size))
    return UploadRefused(_("A line of the file is longer than %(size)d KB; a learner list has "
                           "far shorter lines. Check that the file is a learner list saved as "
                           "CSV.", size=size))


def _too_long() -> UploadRefused:
    return UploadRefused(_("The file has more than %(max)d rows. Split it into smaller files.",
                           max=MAX_ROWS))


def _damaged() -> UploadRefused:
    """Not a whole zip, or a zip with no workbook in it: the file, not its size, is at fault."""
    return UploadRefused(damaged_xlsx())


def _unzips_too_big() -> UploadRefused:
    return UploadRefused(_("The file is damaged or is not a spreadsheet the system can read "
                           "safely: its parts unzip to far more than its size. Open it in "
                           "Excel and save it again as \"Excel Workbook (.xlsx)\"."))


def _scan_sheet(book: zipfile.ZipFile, name: str, expected: Expected) -> None:
    """Stream one worksheet: its dimension, its rows and the cells of each row."""
    rows, cells, carry, first = 0, 0, b"", True
    with book.open(name) as part:
        while chunk := part.read(CHUNK):
            text = carry + chunk
            # A tag cut by the chunk boundary is counted with the next chunk.
            cut = text.rfind(b"<")
            text, carry = (text[:cut], text[cut:]) if cut >= 0 else (text, b"")
            if first:
                first = False
                match = DIMENSION.search(text[:4096])
                if match and match.group(3):
                    if _column_number(match.group(3)) > MAX_COLUMNS:
                        raise _too_wide(_column_number(match.group(3)), expected)
                    if int(match.group(4)) > MAX_ROWS:
                        raise _too_long()
            pieces = ROW_TAG.split(text)
            cells += len(CELL_TAG.findall(pieces[0]))
            for piece in pieces[1:]:
                rows, cells = rows + 1, len(CELL_TAG.findall(piece))
                if cells > MAX_COLUMNS:
                    break
            if cells > MAX_COLUMNS:
                raise _too_wide(cells, expected)
            if rows > MAX_ROWS:
                raise _too_long()


def _scan_shared_strings(book: zipfile.ZipFile, name: str) -> None:
    count, carry = 0, b""
    with book.open(name) as part:
        while chunk := part.read(CHUNK):
            text = carry + chunk
            cut = text.rfind(b"<")
            text, carry = (text[:cut], text[cut:]) if cut >= 0 else (text, b"")
            count += len(STRING_TAG.findall(text))
            if count > MAX_SHARED_STRINGS:
                raise UploadRefused(_("The file holds more than %(max)d different texts. "
                                      "Split it into smaller files.", max=MAX_SHARED_STRINGS))


def check_xlsx(stream: BinaryIO, expected: Expected = Expected.LEARNERS) -> None:
    """The zip directory first (no part is unzipped), then the sheets streamed and counted."""
    try:
        book = zipfile.ZipFile(stream)
    except DAMAGED:
        raise _damaged() from None
    with book:
        parts = book.infolist()
        if len(parts) > MAX_PARTS:
            raise _unzips_too_big()
        total = 0
        for part in parts:
            total += part.file_size
            if (part.file_size > MAX_PART_BYTES or total > MAX_TOTAL_BYTES
                    or (part.file_size > RATIO_FLOOR
                        and part.file_size > MAX_RATIO * max(part.compress_size, 1))):
                raise _unzips_too_big()
        names = {part.filename for part in parts}
        if "[Content_Types].xml" not in names:
            raise _damaged()
        try:
            for name in sorted(names):
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    _scan_sheet(book, name, expected)
                elif name == "xl/sharedStrings.xml":
                    _scan_shared_strings(book, name)
        except DAMAGED:
            raise _damaged() from None


def check_csv(data: bytes, expected: Expected = Expected.LEARNERS) -> None:
    """Lines, their length and their fields: a CSV of a million commas is refused."""
    lines = data.split(b"\n")
    if len(lines) > MAX_ROWS:
        raise _too_long()
    for line in lines:
        if len(line) > MAX_LINE_BYTES:
            raise _long_line(expected)
        fields = max(line.count(b","), line.count(b";"), line.count(b"\t")) + 1
        if fields > MAX_COLUMNS:
            raise _too_wide(fields, expected)


def check_upload(stream: BinaryIO | bytes, filename: str = "",
                 expected: Expected = Expected.LEARNERS) -> None:
    """Refuse, with a Thai message, an upload that would cost too much to parse.

    `stream` is the uploaded file (left at its start) or its bytes. XLSX and other zips are
    checked as workbooks, anything else as CSV text; XLS (OLE2) files only by size. A refusal
    names the `expected` file (a learner list, OBEC's counts).
    """
    if isinstance(stream, bytes | bytearray):
        data = bytes(stream)
        if len(data) > MAX_BYTES:
            raise _too_big()
        stream = io.BytesIO(data)
    else:
        start = stream.tell()
        stream.seek(0, 2)
        size = stream.tell() - start
        stream.seek(start)
        if size > MAX_BYTES:
            raise _too_big()
    start = stream.tell()
    try:
        head = stream.read(8)
        stream.seek(start)
        if head.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm")):
            check_xlsx(stream, expected)
        elif not head.startswith(b"\xd0\xcf\x11\xe0"):  # XLS: bounded by its size alone
            check_csv(stream.read(), expected)
    finally:
        stream.seek(start)
