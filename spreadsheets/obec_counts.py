"""OBEC's published per-school, per-grade head counts (the EMIS table at a count date), read
from its CSV in either layout: the tidy one (school_id first) or the scraper's raw one (an index
column, the header repeated per school, the school id last and a trailing "ข้อมูล ณ วันที่" row).
Subtotal rows ("รวม…") and grades LEC does not count (ปวช.) are skipped.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from rules import RuleViolation

#: OBEC's grade labels to LEC's grade codes.
GRADES = {"อบ.1": "K1", "อบ.2": "K2", "อบ.3": "K3",
          **{f"ป.{n}": f"P{n}" for n in range(1, 7)},
          **{f"ม.{n}": f"M{n}" for n in range(1, 7)}}
AS_OF = "ข้อมูล ณ วันที่"
#: Subtotal rows and vocational grades, which LEC does not count.
SKIPPED = ("รวม", "ปวช")
THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
               "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")


@dataclass
class ObecTable:
    """Boys and girls per (10-digit school code, grade), and the count date if the file says."""

    counts: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    as_of: date | None = None


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else the Thai Windows code page Excel saves CSV in."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp874")


def _as_of(text: str) -> date | None:
    """'ข้อมูล ณ วันที่ 10 มิถุนายน 2565' as a date."""
    match = re.search(r"(\d{1,2})\s+(\S+)\s+(\d{4})", text)
    if not match or match.group(2) not in THAI_MONTHS:
        return None
    day, month, year_be = match.groups()
    return date(int(year_be) - 543, THAI_MONTHS.index(month) + 1, int(day))


def read_obec_counts(data: bytes) -> ObecTable:
    """The table in the file; a bad line is refused with its line number, in Thai."""
    table = ObecTable()
    for number, row in enumerate(csv.reader(io.StringIO(decode(data))), start=1):
        cells = [c.strip() for c in row]
        as_of = next((c for c in cells if c.startswith(AS_OF)), None)
        if as_of is not None:
            table.as_of = _as_of(as_of)
            continue
        label = cells[1] if len(cells) >= 4 else ""
        if not any(cells) or label == "ชั้น/เพศ" or (number == 1 and label not in GRADES):
            continue  # blank lines, headers, the raw layout's column numbers
        if label.startswith(SKIPPED):
            continue
        school = cells[0] if re.fullmatch(r"\d{10}", cells[0]) else cells[-1]
        boys, girls = cells[2], cells[3]
        if label not in GRADES or not re.fullmatch(r"\d{10}", school) or not (
                boys.isdigit() and girls.isdigit()):
            raise RuleViolation(_("Line %(line)d of the OBEC file is not a grade row with a "
                                  "10-digit school code and whole numbers of boys and girls.",
                                  line=number))
        table.counts[(school, GRADES[label])] = (int(boys), int(girls))
    return table
