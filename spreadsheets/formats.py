"""Which learner file this is and what each column means: our own, the LEC report or DMC's.

The header row is looked for in the first rows (preambles and report headings come first); a
header of several rows (a group row over sub-headers, as in the legacy LEC report) is read as
"group|sub-header"; a header that appears twice ("เลขประจำตัวนักเรียน" in DMC's export: one
column the 13-digit ID, the other the school's own number) is resolved by what the column holds.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import force_locale

import clock
from spreadsheets import cells
from spreadsheets.columns import (
    ADDRESS_GROUPS,
    ADDRESS_PARTS,
    COLUMNS,
    GUARDIAN_PARTS,
    INSTITUTION_CODE_HEADERS,
    INSTITUTION_NAME_HEADERS,
)

SCAN_ROWS = 50  # a header further down than this is not looked for
STUDENT_NUMBER = "เลขประจำตัวนักเรียน"  # the national ID in DMC, a school number in LEC
NO_KEEP_GROUPS = ("บิดา", "มารดา")  # parents' columns: we keep the guardian only


def fold(value: Any) -> str:
    """Header text compared without spaces, case, Thai digits, marks or a trailing (note)."""
    text = cells.text(value).lower()
    text = re.sub(r"\s+", "", text).rstrip("*:")
    return re.sub(r"\(.*\)$", "", text) or text


def _aliases() -> dict[str, str]:
    found: dict[str, str] = {}
    for column in COLUMNS:
        names = {column.key, *column.aliases}
        for locale in ("th", "en"):
            with force_locale(locale):
                names.add(str(column.label))
        found.update({fold(n): column.key for n in names})
    for part, names, _prefix in ADDRESS_PARTS:
        found.update({fold(n): f"address.{part}" for n in names})
    for part, names in GUARDIAN_PARTS:
        found.update({fold(n): f"guardian.{part}" for n in names})
    found.update({fold(n): "institution_code" for n in INSTITUTION_CODE_HEADERS})
    found.update({fold(n): "institution_name" for n in INSTITUTION_NAME_HEADERS})
    found[fold(STUDENT_NUMBER)] = "student_number"
    return found


@dataclass
class Layout:
    """Where the table starts and what each of its columns holds."""

    kind: str = "own"  # own, lec or dmc
    header_line: int = 1  # 1-based line of the (last) header row
    fields: dict[int, str] = field(default_factory=dict)  # column index -> field
    titles: dict[str, str] = field(default_factory=dict)  # field -> header as the file has it
    ignored: list[str] = field(default_factory=list)  # headers of columns we do not keep
    duplicated: list[str] = field(default_factory=list)  # headers given twice for one field
    institution_code: str | None = None  # from the lines above the table
    academic_year: int | None = None  # the BE year the lines above the table name
    notes: list[str] = field(default_factory=list)


def _is_data(row: list[Any]) -> bool:
    """A learner row: it holds an ID-like number or starts with a running number."""
    texts = [cells.text(c) for c in row if not cells.is_empty(c)]
    if not texts:
        return False
    if any(re.fullmatch(r"[Gg]?\d{12,13}|\d-?\d{4}-?\d{5}-?\d{2}-?\d", t) for t in texts):
        return True
    return texts[0].isdigit() and len(texts) > 2


def _score(row: list[Any], aliases: dict[str, str]) -> int:
    return len({aliases[f] for f in (fold(c) for c in row) if f in aliases})


def locate(rows: Iterator[list[Any]]) -> tuple[Layout, list[list[Any]], list[list[Any]]]:
    """Find the header in the first rows: the layout, the lines above it and the data read ahead.

    Returns the layout, the preamble rows and the rows already read after the header (the
    caller goes on with `rows` after them).
    """
    aliases = _aliases()
    buffer: list[list[Any]] = []
    header_at = None
    for row in rows:
        buffer.append(row)
        if header_at is None and _score(row, aliases) >= 3:
            header_at = len(buffer) - 1
        if header_at is not None and len(buffer) - header_at > 8:
            break
        if header_at is None and len(buffer) >= SCAN_ROWS:
            break
    layout = Layout()
    if header_at is None:
        return layout, buffer, []
    if header_at and any(g in fold(c) for c in buffer[header_at - 1]
                         for g in (*NO_KEEP_GROUPS, "ผู้ปกครอง", "ที่อยู่")):
        header_at -= 1  # a group row over the sub-headers that matched
    band = [buffer[header_at]]
    for row in buffer[header_at + 1:]:
        if _is_data(row) or len(band) >= 4 or not _score(row, aliases):
            break
        band.append(row)
    data = buffer[header_at + len(band):]
    layout.header_line = header_at + len(band)
    _map_columns(layout, band, data, aliases)
    layout.institution_code = _preamble_code(buffer[:header_at])
    layout.academic_year = _preamble_year(buffer[:header_at])
    return layout, buffer[:header_at], data


def _column_parts(band: list[list[Any]]) -> list[list[str]]:
    """Each column's header texts from the top row down, repeats dropped."""
    width = max(len(r) for r in band)
    top = list(band[0]) + [None] * (width - len(band[0]))
    if len(band) > 1:  # a CSV of a merged header: the group text is only over its first column
        below = band[1] + [None] * (width - len(band[1]))
        for c in range(1, width):
            if cells.is_empty(top[c]) and not cells.is_empty(below[c]) and not cells.is_empty(
                    below[c - 1]) and not cells.is_empty(top[c - 1]) and top[c - 1] != below[c - 1]:
                top[c] = top[c - 1]
    parts: list[list[str]] = []
    for c in range(width):
        column: list[str] = []
        for r, row in enumerate(band):
            value = top[c] if r == 0 else (row[c] if c < len(row) else None)
            text = cells.text(value)
            if text and (not column or fold(column[-1]) != fold(text)):
                column.append(text)
        parts.append(column)
    return parts


def _field_of(parts: list[str], aliases: dict[str, str], flat_address: bool) -> str | None:
    if not parts:
        return None
    name = fold(parts[-1])
    group = fold(parts[0]) if len(parts) > 1 else ""
    if group:
        for label, target in ADDRESS_GROUPS.items():
            if fold(label) in group:
                key = aliases.get(name, "")
                return key.replace("address.", f"{target}.") if key.startswith("address.") \
                    else None
        if any(g in group for g in NO_KEEP_GROUPS):
            return None
        if "ผู้ปกครอง" in group:
            key = aliases.get(f"ผู้ปกครอง|{name}")
            if key is None and name in ("ชื่อ", "ชื่อ-นามสกุล"):
                return "guardian.first"
            return key
        whole = aliases.get(fold("".join(parts)))
        if whole:
            return whole
    key = aliases.get(name) or aliases.get(fold("".join(parts)))
    if key and key.startswith("address."):
        return key.replace("address.", "registered_address.") if flat_address else None
    return key


def _map_columns(layout: Layout, band: list[list[Any]], data: list[list[Any]],
                 aliases: dict[str, str]) -> None:
    parts = _column_parts(band)
    flat_names = {fold(p[-1]) for p in parts if len(p) == 1}
    flat_address = bool(flat_names & {fold(n) for n in ADDRESS_PARTS[0][1]})
    numbers: list[int] = []
    for c, column in enumerate(parts):
        key = _field_of(column, aliases, flat_address)
        title = " ".join(column)
        if key == "student_number":
            numbers.append(c)
            continue
        if key is None:
            if title:
                layout.ignored.append(title)
            continue
        if key in layout.fields.values():
            layout.duplicated.append(title)
            continue
        layout.fields[c] = key
        layout.titles[key] = title
    for c in numbers:  # the ID, or the school's own number: look at what the column holds
        if "national_id" not in layout.fields.values() and _holds_ids(data, c):
            layout.fields[c] = "national_id"
            layout.titles["national_id"] = " ".join(parts[c])
        else:
            layout.ignored.append(" ".join(parts[c]))
    names = {fold(p[0]) for p in parts if p}
    if len(numbers) > 1 or fold("รหัสโรงเรียน") in names:
        layout.kind = "dmc"
    elif fold("ลำดับที่") in names or any(len(p) > 1 for p in parts):
        layout.kind = "lec"


def _holds_ids(data: list[list[Any]], c: int) -> bool:
    values = [cells.text(r[c]) for r in data if c < len(r) and not cells.is_empty(r[c])]
    ids = [v for v in values if re.fullmatch(r"[Gg]?\d{12,13}|[\d-]{17}", v)]
    return bool(values) and len(ids) * 5 >= len(values) * 4


#: "ปีการศึกษา 2568", "ปีการศึกษา: ๒๕๖๘" or the year in the next cell, above the table.
YEAR_LABEL = "ปีการศึกษา"


def _preamble_year(rows: list[list[Any]]) -> int | None:
    """The academic year a report's heading names (the LEC report writes it above its table)."""
    for row in rows:
        texts = [cells.text(c) for c in row]
        for i, text in enumerate(texts):
            if YEAR_LABEL not in text:
                continue
            rest = text.split(YEAR_LABEL, 1)[1].lstrip(" :") or next(
                (t for t in texts[i + 1:] if t), "")
            match = re.match(r"(\d{4})\b", rest.strip())
            if match and int(match.group(1)) in clock.BE_YEARS:
                return int(match.group(1))
    return None


def _preamble_code(rows: list[list[Any]]) -> str | None:
    """An institution code written above the table ("รหัสสถานศึกษา: 1234567890")."""
    labels = {fold(n) for n in INSTITUTION_CODE_HEADERS}
    for row in rows:
        texts = [cells.text(c) for c in row]
        for i, text in enumerate(texts):
            label, _sep, rest = text.partition(":")
            if fold(label) in labels:
                value = rest.strip() or next((t for t in texts[i + 1:] if t), "")
                match = re.search(r"\d{8,10}", value)
                if match:
                    return match.group(0)
    return None
