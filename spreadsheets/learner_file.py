"""A learner file read into field values, row by row (spreadsheets/learner_row.py), with every
problem in the user's words."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _

import clock
from models.people import STATUS_LABELS, EnrolmentStatus
from rules.enrolment import age_warning
from rules.identity import title_gender_warning
from spreadsheets import cells, formats, readers
from spreadsheets.columns import ADDRESS_PARTS, BY_KEY, COLUMNS
from spreadsheets.learner_row import REQUIRED, Problem, RowReader
from spreadsheets.uploads import UploadRefused, check_upload

MAX_BYTES = 10 * 1024 * 1024  # a school of 5,000 pupils fits in well under 2 MB
MAX_ROWS = 200_000


class Refused(Exception):
    """The file cannot be read at all; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.reason for p in problems))


def whole(reason: str) -> Refused:
    return Refused([Problem(None, "", reason)])


@dataclass
class LearnerFile:
    """What was read: the layout, each row's values and problems, rows left out and why."""

    layout: formats.Layout
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)  # not studying: not imported
    warnings: list[Problem] = field(default_factory=list)  # imported, worth a second look
    institution_codes: set[str] = field(default_factory=set)
    institution_names: set[str] = field(default_factory=set)

    def understood(self) -> list[tuple[str, str]]:
        """(header in the file, our column) for each column read."""
        labels = {c.key: str(c.label) for c in COLUMNS}
        parts = {f"{group}.{p}": f"{labels[group]} ({name[0]})" for group in
                 ("registered_address", "current_address") for p, name, _x in ADDRESS_PARTS}
        parts.update({"guardian.title": labels["guardian_name"],
                      "guardian.first": labels["guardian_name"],
                      "guardian.last": labels["guardian_name"],
                      "institution_code": _("Institution code"),
                      "institution_name": _("Institution")})
        return [(title, labels.get(key) or parts.get(key, key))
                for key, title in self.layout.titles.items()]


def read_learner_file(data: bytes, kind: str, bounded: bool = True,
                      year: int | None = None) -> LearnerFile:
    """Read every row of the first sheet that holds learners; raises Refused if none does.

    Uploads are `bounded` (size, rows, zip parts); DLA staff's command line reads a file of
    their own from disk without those bounds. With the academic `year` the file is for, an
    unusual age for the grade is a line to check, as the enrolment form asks about it.
    """
    if bounded and len(data) > MAX_BYTES:
        raise whole(_("The file is larger than %(size)d MB. Split it into smaller files.",
                      size=MAX_BYTES // (1024 * 1024)))
    try:
        if bounded:
            check_upload(data)
        sheets = readers.read_sheets(data)
    except readers.Unreadable as exc:
        raise whole(str(exc)) from None
    except UploadRefused as exc:
        raise Refused([Problem(None, "", str(m)) for m in exc.messages]) from None
    for sheet in sheets:
        rows = sheet.filled_rows()
        layout, _above, ahead = formats.locate(rows)
        keys = set(layout.fields.values())
        if {"first_name", "last_name"} <= keys or "national_id" in keys:
            return _read_rows(layout, kind, ahead, rows, year)
    raise whole(_("No table of learners was found: the file needs a header row with at least "
                  "the columns %(columns)s.",
                  columns=", ".join(str(BY_KEY[k].label) for k in REQUIRED)))


def _read_rows(layout: formats.Layout, kind: str, ahead: list[list[Any]],
               rows: Iterator[list[Any]], year: int | None) -> LearnerFile:
    found = LearnerFile(layout)
    missing = [k for k in REQUIRED if k not in layout.fields.values()]
    found.problems += [Problem(layout.header_line, str(BY_KEY[k].label), _(
        "The required column \"%(title)s\" is missing.", title=BY_KEY[k].label)) for k in missing]
    found.problems += [Problem(layout.header_line, title, _(
        "The column \"%(title)s\" appears twice.", title=title)) for title in layout.duplicated]
    if found.problems:
        raise Refused(found.problems)
    reader = RowReader(layout, kind)
    first_line: dict[str, int] = {}
    code_at = next((i for i, k in layout.fields.items() if k == "institution_code"), None)
    name_at = next((i for i, k in layout.fields.items() if k == "institution_name"), None)
    if layout.institution_code:
        found.institution_codes.add(layout.institution_code)
    line = layout.header_line
    for row in _chain(ahead, rows):
        line += 1
        if all(cells.is_empty(c) for c in row):
            continue
        if len(found.rows) >= MAX_ROWS:
            raise whole(_("The file has more than %(max)d learners. Split it into smaller "
                          "files.", max=MAX_ROWS))
        if code_at is not None and code_at < len(row) and not cells.is_empty(row[code_at]):
            found.institution_codes.add(cells.text(row[code_at]))
        if name_at is not None and name_at < len(row) and not cells.is_empty(row[name_at]):
            found.institution_names.add(cells.text(row[name_at]))
        values, problems = reader.read(line, row)
        status = values.pop("status", EnrolmentStatus.ACTIVE)
        if status != EnrolmentStatus.ACTIVE and not problems:
            found.skipped.append(Problem(line, reader.titles["status"], _(
                "Not imported: the learner's status is %(status)s.",
                status=STATUS_LABELS[status])))
            continue
        nid = values.get("national_id")
        if nid and nid in first_line:
            problems.append(Problem(line, reader.titles["national_id"], _(
                "The same learner is already on line %(line)d of this file.",
                line=first_line[nid])))
        elif nid:
            first_line[nid] = line
        found.problems += problems
        warning = title_gender_warning(values.get("title"), values.get("gender"))
        if warning:
            found.warnings.append(Problem(line, reader.titles["title"], warning))
        if year is not None and not problems and (warning := age_warning(
                values.get("birth_date"), values.get("grade"), year, on_form=False)):
            found.warnings.append(Problem(line, reader.titles["birth_date"], warning))
        found.rows.append((line, values))
    if not found.rows and not found.skipped:
        raise whole(_("The file has its header row (line %(line)d) but no learner below it.",
                      line=layout.header_line))
    if not found.rows:
        raise whole(_("No learner in this file is studying (each of its %(count)d rows has "
                      "another status), so there is nothing to import.",
                      count=len(found.skipped)))
    return found


def _chain(first: list[list[Any]], rest: Iterator[list[Any]]) -> Iterator[list[Any]]:
    yield from first
    yield from rest


def format_date(value: date | None) -> str:
    """The date format the import reads back: day/month/BE year."""
    return f"{value.day:02d}/{value.month:02d}/{clock.be_year(value.year)}" if value else ""


def institution_of_code(code: str) -> str:
    """A code as written in the file, with Thai digits and separators gone."""
    return re.sub(r"\D", "", cells.text(code))
