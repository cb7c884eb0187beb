"""A bare XLSX writer for bulk exports: rows of final text go straight into the sheet's XML.

xlsxwriter escapes and checks every cell through several Python calls (a few thousand rows a
second here); the learner export's cells are already final text from the database (masked,
formula-safe), so this writes each row as one string into a deflated zip entry instead. The
workbook keeps what the other exports have: a bold frozen header with a filter, fitted column
widths, landscape A4 one page wide with the header repeated, IDs as text; past Excel's
1,048,576 rows a sheet the rows go on in "name (2)".
"""

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import IO

SHEET_ROWS = 1_048_575  # Excel's rows per sheet, less the header
WIDTH_SAMPLE = 200
MAX_WIDTH = 60
BATCH = 2_000
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Characters XML 1.0 does not allow (all C0 controls but tab, newline and return) are dropped.
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
SEPARATOR = "\ue000"  # a private-use character: a row's values are escaped in one pass
STYLES = (f'{HEAD}<styleSheet xmlns="{MAIN}">'
          '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
          '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
          '<fills count="3"><fill><patternFill patternType="none"/></fill>'
          '<fill><patternFill patternType="gray125"/></fill>'
          '<fill><patternFill patternType="solid"><fgColor rgb="FFE9ECEF"/></patternFill></fill>'
          '</fills><borders count="2"><border/><border><left style="thin"/><right style="thin"/>'
          '<top style="thin"/><bottom style="thin"/></border></borders>'
          '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="2"><xf/>'
          '<xf fontId="1" fillId="2" borderId="1" applyFont="1" applyFill="1" applyBorder="1"/>'
          '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
          '</cellStyles></styleSheet>')


def _escape(text: str) -> str:
    return CONTROLS.sub("", text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def _letters(count: int) -> list[str]:
    names = []
    for n in range(1, count + 1):
        name = ""
        while n:
            n, rest = divmod(n - 1, 26)
            name = chr(65 + rest) + name
        names.append(name)
    return names


def _row(number: int, letters: Sequence[str], row: Sequence[str | None], style: str = "") -> str:
    values = _escape(SEPARATOR.join(value or "" for value in row)).split(SEPARATOR)
    cells = "".join(f'<c r="{letter}{number}" t="inlineStr"{style}><is><t>{value}</t></is></c>'
                    for letter, value in zip(letters, values, strict=False) if value)
    return f'<row r="{number}">{cells}</row>'


def _write_sheet(book: zipfile.ZipFile, index: int, headers: Sequence[str],
                 rows: Iterator[Sequence[str | None]], first: list[Sequence[str | None]]) -> int:
    """One worksheet of at most SHEET_ROWS rows, columns sized by `first`; returns its rows."""
    letters = _letters(len(headers))
    widths = [len(h) for h in headers]
    for row in first:
        for col, value in enumerate(row[:len(widths)]):
            widths[col] = max(widths[col], len(value or ""))
    cols = "".join(f'<col min="{n}" max="{n}" width="{min(w + 2, MAX_WIDTH)}" customWidth="1"/>'
                   for n, w in enumerate(widths, start=1))
    count = 0
    with book.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True) as part:
        part.write((f'{HEAD}<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
                    '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
                    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2"'
                    ' activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
                    f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
                    + _row(1, letters, headers, ' s="1"')).encode("utf-8"))
        while count < SHEET_ROWS:
            batch = list(islice(rows, min(BATCH, SHEET_ROWS - count)))
            if not batch:
                break
            part.write("".join(_row(count + n, letters, row)
                               for n, row in enumerate(batch, start=2)).encode("utf-8"))
            count += len(batch)
        last = f"{letters[-1]}{count + 1}" if letters else "A1"
        part.write((f'</sheetData><autoFilter ref="A1:{last}"/>'
                    '<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3"'
                    ' footer="0.3"/><pageSetup paperSize="9" orientation="landscape"'
                    ' fitToWidth="1" fitToHeight="0"/></worksheet>').encode())
    return count


def write_text_xlsx(target: str | IO[bytes], headers: Sequence[str],
                    rows: Iterable[Sequence[str | None]], sheet: str = "LEC") -> int:
    """Write the rows (text or None per cell); return how many were written."""
    headers = [str(h) for h in headers]
    rows = iter(rows)
    names, total = [], 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        while True:
            first = list(islice(rows, WIDTH_SAMPLE))  # sized from, then written
            if names and not first:
                break
            rows = chain(first, rows)
            written = _write_sheet(book, len(names) + 1, headers, rows, first)
            names.append((sheet[:31] if not names else f"{sheet[:25]} ({len(names) + 1})",
                          written))
            total += written
            if written < SHEET_ROWS:
                break
        _write_workbook(book, [_escape(name).replace("'", "''") for name, _n in names],
                        [n for _name, n in names], len(headers))
    return total


def _write_workbook(book: zipfile.ZipFile, names: list[str], counts: list[int],
                    columns: int) -> None:
    last = _letters(max(columns, 1))[-1]
    sheets = "".join(f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>'
                     for n, name in enumerate(names, start=1))
    defined = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"'{name}'!$A$1:${last}${count + 1}</definedName>"
        f'<definedName name="_xlnm.Print_Titles" localSheetId="{n}">\'{name}\'!$1:$1'
        '</definedName>' for n, (name, count) in enumerate(zip(names, counts, strict=True)))
    book.writestr("xl/workbook.xml", f'{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
                  f'<sheets>{sheets}</sheets><definedNames>{defined}</definedNames></workbook>')
    rels = "".join(f'<Relationship Id="rId{n}" Type="{REL}/worksheet" '
                   f'Target="worksheets/sheet{n}.xml"/>' for n in range(1, len(names) + 1))
    book.writestr("xl/_rels/workbook.xml.rels", f'{HEAD}<Relationships xmlns="{PKG}">{rels}'
                  f'<Relationship Id="rId{len(names) + 1}" Type="{REL}/styles" '
                  'Target="styles.xml"/></Relationships>')
    book.writestr("xl/styles.xml", STYLES)
    book.writestr("_rels/.rels", f'{HEAD}<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
                  f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    sheet_types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, len(names) + 1))
    book.writestr("[Content_Types].xml", (
        f'{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f'{sheet_types}</Types>'))
