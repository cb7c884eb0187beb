"""Bulk learner import (SPEC §7): preview every row's fate, then write all or nothing.

The file may be our own export or template, the legacy LEC per-student report or OBEC DMC's
export (`spreadsheets.learner_file` reads them). Rows are checked with the very validators the
flush runs (`rules.VALIDATORS` and `rules.permissions.check_write`), every row and every problem
in one pass, so each problem carries its line; the rows are written in bulk inside one
transaction that is rolled back if anything at all is wrong (`spreadsheets.learner_bulk`).
Importing the same file again changes nothing, and learners missing from the file are listed,
never removed.
"""

import gc
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from i18n import thousands
from models import Enrolment, Institution, Learner
from models.people import GENDER_LABELS, GRADE_LABELS, STATUS_LABELS, EnrolmentStatus
from rules.audit import record
from rules.enrolment import file_year_warning
from rules.tree import holds_learner
from rules.windows import intake_year_problem
from spreadsheets import learner_bulk
from spreadsheets.columns import COLUMNS, ENROLMENT_FIELDS, WHO_WAS_THERE
from spreadsheets.learner_file import (
    MAX_BYTES,
    LearnerFile,
    Problem,
    Refused,
    format_date,
    institution_of_code,
    read_learner_file,
    whole,
)
from spreadsheets.learner_row import column_titles
from spreadsheets.writers import cell

__all__ = ["MAX_BYTES", "Problem", "Refused", "Result", "import_learners", "preview"]
log = logging.getLogger(__name__)
#: Told (rows checked, rows in the file) as the check goes: a job's progress bar.
Progress = Callable[[int, int | None], None]
DATES = tuple(c.key for c in COLUMNS if c.kind == "date")


@dataclass
class Result:
    """What an import did, or would have done, and every problem that stopped it."""

    rows: int = 0
    learners_created: int = 0
    learners_updated: int = 0
    enrolled: int = 0
    enrolments_updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    understood: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    kind: str = ""
    missing: list[str] = field(default_factory=list)  # active here, not in the file
    new_rows: int = 0
    updated_rows: int = 0
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows_in_file(self) -> int:
        """Every learner row of the file, those not imported as not studying too, so that the
        counts below it add up to it."""
        return self.rows + len(self.skipped)

    @property
    def refused_rows(self) -> int:
        return len({p.line for p in self.problems if p.line})

    def refusal(self) -> str:
        """Why nothing can be imported: how many problems, in how many rows, and whether some
        are about the whole import (a confirmed institution, another institution's file)."""
        count, rows = thousands(len(self.problems)), thousands(self.refused_rows)
        if not self.refused_rows:
            return _("Nothing can be imported yet: %(count)s problems were found that concern "
                     "the whole import, not a row of the file. See them below.", count=count)
        if any(p.line is None for p in self.problems):
            return _("Nothing can be imported yet: %(count)s problems were found, in %(rows)s "
                     "rows and about the whole import. Correct what is listed below and upload "
                     "the file again.", count=count, rows=rows)
        return _("Nothing can be imported yet: %(count)s problems were found in %(rows)s rows. "
                 "Correct the file and upload it again.", count=count, rows=rows)

    def to_json(self) -> str:
        """Kept as a job's result file: the worker checks, the web server shows."""
        return json.dumps(asdict(self), ensure_ascii=False, default=str)

    @classmethod
    def from_json(cls, text: str) -> "Result":
        data = json.loads(text)
        data["problems"] = [Problem(**p) for p in data["problems"]]
        data["skipped"] = [Problem(**p) for p in data["skipped"]]
        data["warnings"] = [Problem(**p) for p in data.get("warnings", [])]  # older results
        data["understood"] = [tuple(pair) for pair in data["understood"]]
        return cls(**data)


def _check_institution(found: LearnerFile, institution: Institution, result: Result) -> None:
    """The file's institution must be the importing one; codes LEC does not hold are noted."""
    for written in sorted(found.institution_codes):
        code = institution_of_code(written)
        if len(code) == 10 and code != institution.code:
            raise whole(_("This file is of the institution with code %(code)s, not of "
                          "%(name)s (%(own)s). Import it into its own institution.",
                          code=code, name=institution.name, own=institution.code))
        if len(code) != 10:
            result.notes.append(_("The file names its school by the code %(code)s, which LEC "
                                  "does not hold (DMC's SMIS code); it is imported into "
                                  "%(name)s, where you are importing.",
                                  code=written, name=institution.name))
    if not found.institution_codes and found.institution_names - {institution.name}:
        result.notes.append(_("The file names the institution %(names)s; it is imported into "
                              "%(name)s, where you are importing.",
                              names=", ".join(sorted(found.institution_names)),
                              name=institution.name))


def _silent(_done: int, _total: int | None) -> None:
    """No one is watching the progress (the CLI, tests)."""


def preview(session: Session, data: bytes, institution: Institution, year: int,
            progress: Progress = _silent) -> Result:
    """What importing the file would do, with every problem of every row; writes nothing."""
    return _run(session, data, institution, year, write=False, progress=progress)


def import_learners(session: Session, data: bytes, institution: Institution, year: int,
                    bounded: bool = True, progress: Progress = _silent) -> Result:
    """Import the file into `institution` for academic `year`, all or nothing.

    The rows are written in the caller's transaction, which the caller commits: a job commits
    them together with its own "done", so a worker killed on the way leaves nothing behind."""
    return _run(session, data, institution, year, write=True, bounded=bounded,
                progress=progress)


class _Collector:
    """Python's cycle collector, paused while any import of this process runs."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.imports = 0
        self.was_on = True

    @contextmanager
    def paused(self) -> Iterator[None]:
        """A file's rows are plain values without cycles, freed as they go: the collector
        would walk all of them again each time they grow by a quarter (2 s of a 100,000-row
        file's 20). It starts again when the last import of the process ends."""
        with self.lock:
            if self.imports == 0:
                self.was_on = gc.isenabled()
                gc.disable()
            self.imports += 1
        try:
            yield
        finally:
            with self.lock:
                self.imports -= 1
                if self.imports == 0 and self.was_on:
                    gc.enable()


_collector = _Collector()


def _run(session: Session, data: bytes, institution: Institution, year: int, write: bool,
         bounded: bool = True, progress: Progress = _silent) -> Result:
    with _collector.paused():
        return _checked(session, data, institution, year, write, bounded, progress)


def _checked(session: Session, data: bytes, institution: Institution, year: int, write: bool,
             bounded: bool, progress: Progress) -> Result:
    result = Result()
    progress(0, None)
    closed = intake_year_problem(session, year)
    if closed:
        result.problems = [Problem(None, "", closed)]
        return result
    try:
        found = read_learner_file(data, institution.kind, bounded, year)
        result.kind = found.layout.kind
        result.understood = found.understood()
        result.ignored = found.layout.ignored
        result.skipped = found.skipped
        result.warnings = found.warnings
        _check_institution(found, institution, result)
        if warning := file_year_warning(found.layout.academic_year, year):
            result.notes.append(warning)
    except Refused as refused:
        result.problems = refused.problems
        return result
    result.problems += found.problems
    result.rows = len(found.rows)
    progress(0, result.rows)
    bad_lines = {p.line for p in found.problems}
    rows = [r for r in found.rows if r[0] not in bad_lines]
    refused = result.rows - len(rows)  # already checked, and refused, while reading
    try:
        plan = learner_bulk.plan(session, rows, institution, year,
                                 checked=lambda n: progress(refused + n, result.rows),
                                 titles=column_titles(found.layout))
        result.problems += plan.problems
        result.problems += learner_bulk.lock_problems(session, plan, institution, year)
        _count(result, plan)
        result.missing = _missing(session, found, institution, year)
        if write and result.ok:
            learner_bulk.apply(session, plan)
            _audit(institution, year, result)
            session.flush()
            result.written = True
            return result
    except (IntegrityError, psycopg.IntegrityError) as exc:
        # Nothing of this file is written. Only a unique key (a learner's ID, one active
        # enrolment) can be taken by someone else between the check and the write.
        session.rollback()
        if _is_race(exc):
            result.problems.append(Problem(None, "", _(
                "Another institution enrolled one of these learners at the same moment. Try "
                "again.")))
        else:
            log.exception("import into %s refused by the database", institution.code)
            result.problems.append(Problem(None, "", _(
                "The database refused to save this file for a reason the check did not find, "
                "so nothing was written. Please send the file to the LEC support team.")))
    session.rollback()
    result.problems.sort(key=lambda p: (p.line or 0))
    return result


def _is_race(exc: Exception) -> bool:
    """A unique key taken (PostgreSQL's unique_violation, SQLite's UNIQUE constraint)."""
    orig = getattr(exc, "orig", exc)
    return (getattr(orig, "sqlstate", None) == "23505"
            or str(orig).startswith("UNIQUE constraint failed"))


def _count(result: Result, plan: learner_bulk.Plan) -> None:
    result.learners_created = len(plan.new_learners)
    result.learners_updated = plan.learners_updated
    result.enrolled = result.new_rows = len(plan.new_enrolments)
    result.enrolments_updated = plan.enrolments_updated
    result.updated_rows = plan.updated_rows
    result.unchanged = plan.unchanged


def _missing(session: Session, found: LearnerFile, institution: Institution, year: int
             ) -> list[str]:
    """Learners active here this year whom the file does not list (they stay as they are)."""
    listed = {values.get("national_id") for _line, values in found.rows}
    query = (select(Learner.national_id, Learner.first_name, Learner.last_name)
             .join(Enrolment, Enrolment.learner_id == Learner.id)
             .where(Enrolment.institution_id == institution.id,
                    Enrolment.academic_year == year,
                    Enrolment.status == EnrolmentStatus.ACTIVE)
             .order_by(Learner.national_id).execution_options(yield_per=2000))
    return [f"{nid} {first} {last}" for nid, first, last in session.execute(query)
            if nid not in listed]


def _audit(institution: Institution, year: int, result: Result) -> None:
    record("import", target=f"institution:{institution.code}", academic_year=year,
           rows=result.rows, learners_created=result.learners_created,
           learners_updated=result.learners_updated, enrolled=result.enrolled)


# --- the same columns out --------------------------------------------------------------------

def header() -> list[str]:
    """The column titles of the learner file, in the user's language."""
    return [str(c.label) for c in COLUMNS]


def learner_rows(session: Session, institution: Institution, year: int,
                 batch: int = 1000) -> Iterator[list[Any]]:
    """An institution's active learners of one year, as rows of the import file. A learner
    held elsewhere by now keeps only who was there: not the guardian, contact or health."""
    query = (select(Enrolment, holds_learner()).join(Learner, Learner.id == Enrolment.learner_id)
             .where(Enrolment.institution_id == institution.id,
                    Enrolment.academic_year == year,
                    Enrolment.status == EnrolmentStatus.ACTIVE)
             .options(joinedload(Enrolment.learner))
             .order_by(Enrolment.grade, Enrolment.classroom, Learner.national_id)
             .execution_options(yield_per=batch))
    for enrolment, holds in session.execute(query):
        yield export_row(enrolment, holds)


def export_row(enrolment: Enrolment, holds: bool = True) -> list[Any]:
    """One enrolment as the cells of the learner file; `holds`: it is the enrolment holding
    its learner (rules.tree), else the learner's own cells beyond who was there stay empty."""
    learner = enrolment.learner
    out: list[Any] = []
    for column in COLUMNS:
        obj = enrolment if column.key in ENROLMENT_FIELDS else learner
        value = getattr(obj, column.key) if (
            holds or obj is enrolment or column.key in WHO_WAS_THERE) else None
        if column.key == "gender":
            value = str(GENDER_LABELS.get(value, value))
        elif column.key == "grade":
            value = str(GRADE_LABELS.get(value, value))
        elif column.key == "status":
            value = str(STATUS_LABELS.get(value, value))
        elif column.key in DATES:
            value = format_date(value)
        elif column.key == "disadvantaged":
            value = _("Yes") if value else _("No")
        elif column.key == "national_id":
            value = str(value)  # text, so Excel keeps a leading zero
        out.append(cell(value) if not isinstance(value, Decimal) else str(value))
    return out


def report_text(result: Result) -> str:
    """The import's report as plain text lines (the command line prints it)."""
    lines = [_("Rows in the file") + f": {result.rows_in_file}",
             _("New") + f": {result.new_rows}", _("Updated") + f": {result.updated_rows}",
             _("Unchanged") + f": {result.unchanged}", _("Refused") + f": {result.refused_rows}",
             _("Not imported (not studying)") + f": {len(result.skipped)}"]
    lines += result.notes
    if result.ignored:
        lines.append(_("Columns not kept by LEC (ignored):") + " " + ", ".join(result.ignored))
    lines += [f"{p.line or '-'}\t{p.column}\t{p.reason}" for p in [*result.skipped,
                                                                    *result.warnings,
                                                                    *result.problems]]
    if result.missing:
        lines.append(_("Learners of this institution not in the file (%(count)d): they stay "
                       "as they are", count=len(result.missing)))
    lines.append(_("Imported.") if result.written else _("Nothing was written."))
    return "\n".join(lines)
