"""OBEC's published per-grade head counts (boys, girls, total) of its schools, read from a file.

Reads the table as OBEC's EMIS pages give it and as scrapers save it (CSV in UTF-8 or cp874,
XLSX, XLS): one row per school and grade ("ป.1", "อบ.2" …), the school's 10-digit code in a
column of its own (the tidy layout) or last (the raw layout, with an index column and the header
repeated per school). Subtotal rows ("รวม…"), headers and the "ข้อมูล ณ วันที่" row are skipped;
every grade row is cross-checked (boys + girls = total) and held to the counts' bound
(`rules.counts.count_problem`); vocational grades (ปวช.) are left out.
One reader for both users: the LAO's counts grid (`read_obec_table`, every problem listed) and
the department's cross-check (`read_obec_counts`, refused at the first problem).
"""

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _

from models.people import SCHOOL_GRADES
from rules import RuleViolation
from rules.counts import count_problem
from spreadsheets import cells, readers
from web.fields import whole_number

CODE = re.compile(r"\d{10}")
AS_OF = "ข้อมูล ณ วันที่"
_OBEC_GRADE = re.compile(r"^(อบ|อ|ป|ม|ปวช)\.?\s*([1-6])$")
_PREFIX = {"อบ": "K", "อ": "K", "ป": "P", "ม": "M"}


@dataclass
class ObecCounts:
    """Per school code, per grade: (boys, girls); with what was skipped and what is wrong."""

    schools: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    ignored_grades: set[str] = field(default_factory=set)
    skipped_rows: int = 0  # subtotals, repeated headers, "as of" rows
    as_of: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def count_date(self) -> date | None:
        """The day of the "as of" row; None without one or when it is no day in the calendar."""
        if self.as_of is None:
            return None
        try:
            return cells.parse_date(self.as_of[len(AS_OF):])
        except ValueError:
            return None


@dataclass
class ObecTable:
    """Boys and girls per (10-digit school code, grade), and the count date if the file says."""

    counts: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    as_of: date | None = None


def obec_grade(label: str) -> str | None:
    """Our grade code for an OBEC grade label, "" for a grade we do not count, None if none."""
    match = _OBEC_GRADE.match(re.sub(r"\s+", "", cells.text(label)))
    if match is None:
        return None
    prefix, number = match.groups()
    grade = f"{_PREFIX.get(prefix, 'V')}{number}"
    return grade if grade in SCHOOL_GRADES else ""


def _number(value: Any) -> int | None:
    return whole_number(cells.text(value).replace(",", ""))


def read_obec_counts(data: bytes) -> ObecTable:
    """The table in the file, for the cross-check; the first problem refuses it, in Thai."""
    try:
        found = read_obec_table(data)
    except readers.Unreadable as exc:
        raise RuleViolation(str(exc)) from None
    if found.problems:
        raise RuleViolation(found.problems[0][1])
    return ObecTable({(code, grade): pair for code, grades in found.schools.items()
                      for grade, pair in grades.items()}, found.count_date())


def read_obec_table(data: bytes) -> ObecCounts:
    """Every school's counts in the file; raises readers.Unreadable for a non-spreadsheet."""
    found = ObecCounts()
    for sheet in readers.read_sheets(data):
        _read_sheet(sheet.filled_rows(), found)
    if not found.schools and not found.problems:
        found.problems.append((0, _("No per-grade counts were found: the file needs rows with a "
                                    "grade (ป.1, อบ.2 …), boys, girls and total.")))
    return found


def _read_sheet(rows: Any, found: ObecCounts) -> None:
    code_column: int | None = None
    current_code: str | None = None
    for line, row in enumerate(rows, start=1):
        texts = [cells.text(c) for c in row]
        if any(t.startswith(AS_OF) for t in texts):
            found.as_of = next(t for t in texts if t.startswith(AS_OF))
            found.skipped_rows += 1
            continue
        codes = [i for i, t in enumerate(texts) if CODE.fullmatch(t)]
        if code_column is None and any(t.lower() in ("school_id", "รหัสโรงเรียน",
                                                     "รหัสสถานศึกษา") for t in texts):
            code_column = next(i for i, t in enumerate(texts) if t.lower() in (
                "school_id", "รหัสโรงเรียน", "รหัสสถานศึกษา"))
        if code_column is not None and code_column < len(texts) and CODE.fullmatch(
                texts[code_column]):
            current_code = texts[code_column]
        elif codes:
            current_code = texts[codes[0]]
        at = next((i for i, t in enumerate(texts) if obec_grade(t) is not None), None)
        if at is None:
            if any(t.startswith("รวม") or t.startswith("ชั้น") for t in texts):
                found.skipped_rows += 1
            continue
        grade = obec_grade(texts[at])
        if not grade:
            found.ignored_grades.add(texts[at])
            continue
        boys, girls, total = (_number(row[at + k]) if at + k < len(row) else None
                              for k in (1, 2, 3))
        if current_code is None:
            found.problems.append((line, _("Line %(line)d has no 10-digit school code.",
                                           line=line)))
            continue
        if boys is None or girls is None:
            found.problems.append((line, _("Line %(line)d, %(grade)s: boys and girls must be "
                                           "whole numbers.", line=line, grade=texts[at])))
            continue
        if total is not None and boys + girls != total:
            found.problems.append((line, _(
                "Line %(line)d, %(grade)s: boys %(boys)d + girls %(girls)d is not the total "
                "%(total)d.", line=line, grade=texts[at], boys=boys, girls=girls, total=total)))
            continue
        too_many = [problem for value, gender in ((boys, "boys"), (girls, "girls"))
                    if (problem := count_problem(value, current_code, texts[at], gender))]
        if too_many:
            found.problems += [(line, problem) for problem in too_many]
            continue
        school = found.schools.setdefault(current_code, {})
        if grade in school:
            found.problems.append((line, _("Line %(line)d: %(grade)s of school %(code)s is "
                                           "given twice.", line=line, grade=texts[at],
                                           code=current_code)))
            continue
        school[grade] = (boys, girls)


def limited_to(found: ObecCounts, grades: tuple[str, ...]) -> ObecCounts:
    """The same table with only `grades` (the counts grid's K1-P6); the others noted."""
    from models.people import GRADE_LABELS

    kept = ObecCounts(problems=found.problems, ignored_grades=set(found.ignored_grades),
                      skipped_rows=found.skipped_rows, as_of=found.as_of)
    for code, counts in found.schools.items():
        kept.schools[code] = {g: pair for g, pair in counts.items() if g in grades}
        kept.ignored_grades |= {str(GRADE_LABELS[g]) for g in counts if g not in grades}
    return kept
