"""Bulk learner import from CSV or XLSX (SPEC §7): every row checked by the rules, all or nothing.

The file has the columns of our own learner export, so an export imported into an empty copy
gives the same data, and importing the same file again adds and changes nothing. Rows are
checked one by one with the very validators the flush runs (`rules.VALIDATORS` and
`rules.scope.check_write`), so each problem carries its line; the rows are then written in
batches inside one transaction that is rolled back if anything at all is wrong.
"""

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

import clock
from models import Enrolment, Institution, Learner
from models.people import (
    GENDER_LABELS,
    GRADE_LABELS,
    GRADES_BY_KIND,
    STATUS_LABELS,
    EnrolmentStatus,
)
from rules import VALIDATORS, RuleViolation, current_actor
from rules.enrolment import already_active_message
from rules.identity import national_id_problems, normalise_national_id
from rules.scope import check_write
from spreadsheets.columns import (
    BY_KEY,
    COLUMNS,
    ENROLMENT_FIELDS,
    LEARNER_FIELDS,
    Column,
    gender_of_title,
)
from spreadsheets.uploads import UploadRefused, check_upload
from spreadsheets.writers import FORMULA_STARTS, cell

MAX_BYTES = 10 * 1024 * 1024  # a school of 5,000 pupils fits in well under 2 MB
MAX_ROWS = 20_000
BATCH = 500  # rows per flush: keeps the rules' scans of pending rows short


DATES = tuple(c.key for c in COLUMNS if c.kind == "date")
NUMBERS = tuple(c.key for c in COLUMNS if c.kind == "number")
LENGTHS = {c.key: c.max_length for c in COLUMNS}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: the line (1 = header; None = the whole file) and why."""

    line: int | None
    column: str
    reason: str


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

    @property
    def ok(self) -> bool:
        return not self.problems


class Refused(Exception):
    """The file cannot be read at all; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.reason for p in problems))


# --- the file --------------------------------------------------------------------------------

def _whole(reason: str) -> Refused:
    return Refused([Problem(None, "", reason)])


def read_rows(data: bytes) -> Iterator[list[Any]]:
    """The rows of a CSV (UTF-8) or XLSX file, header first; refuses anything else."""
    if len(data) > MAX_BYTES:
        raise _whole(_("The file is larger than %(size)d MB. Split it into smaller files.",
                       size=MAX_BYTES // (1024 * 1024)))
    try:
        check_upload(data)
    except UploadRefused as exc:
        raise Refused([Problem(None, "", str(m)) for m in exc.messages]) from None
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    if data.startswith((b"\xd0\xcf\x11\xe0", b"%PDF")) or b"\x00" in data[:4096]:
        raise _whole(_("This is not a CSV or XLSX file. Save it from Excel as "
                       "\"Excel Workbook (.xlsx)\" or \"CSV UTF-8\"."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _whole(_("The file is not in UTF-8 encoding (a broken byte at position "
                       "%(position)d). Save it from Excel as \"CSV UTF-8\".",
                       position=exc.start)) from None
    return iter(csv.reader(io.StringIO(text, newline="")))


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise _whole(_("This is not a CSV or XLSX file. Save it from Excel as "
                       "\"Excel Workbook (.xlsx)\" or \"CSV UTF-8\".")) from None

    def rows() -> Iterator[list[Any]]:
        try:
            for row in book.worksheets[0].iter_rows(values_only=True):
                yield list(row)
        finally:
            book.close()

    return rows()


def _labels(column: Column) -> set[str]:
    names = {column.key, *column.aliases}
    for locale in ("th", "en"):
        with force_locale(locale):
            names.add(str(column.label))
    return {_fold(n) for n in names}


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().lower()


def header_keys(header: Sequence[Any]) -> tuple[list[str | None], list[Problem]]:
    """Match each header cell to a column (Thai, English or key); report unknown and missing."""
    known = {name: c.key for c in COLUMNS for name in _labels(c)}
    keys: list[str | None] = []
    problems = []
    for position, title in enumerate(header, start=1):
        name = _fold(title) if title is not None else ""
        if not name:
            keys.append(None)
            continue
        key = known.get(name)
        if key is None:
            problems.append(Problem(1, str(title), _(
                "Column %(position)d, \"%(title)s\", is not a column of the learner file. Use "
                "the columns of the template.", position=position, title=title)))
        elif key in keys:
            problems.append(Problem(1, str(title), _(
                "The column \"%(title)s\" appears twice.", title=title)))
        keys.append(key)
    for column in COLUMNS:
        if column.required and column.key not in keys:
            problems.append(Problem(1, str(column.label), _(
                "The required column \"%(title)s\" is missing.", title=column.label)))
    return keys, problems


# --- one row ---------------------------------------------------------------------------------

def _choices(labels: dict[Any, Any], extra: dict[str, str] | None = None) -> dict[str, str]:
    found = {_fold(k): str(k) for k in labels}
    for locale in ("th", "en"):
        with force_locale(locale):
            found.update({_fold(str(v)): str(k) for k, v in labels.items()})
    found.update(extra or {})
    return found


def _text(value: Any) -> str:
    """A cell as text; our own neutralised cells ('=...) lose their apostrophe again."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.startswith("'") and text[1:2] and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def parse_date(value: Any) -> date:
    """`16/05/2568` (day/month/BE year), as our exports write it, or a real date cell."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    if not match:
        raise ValueError(_("Write dates as day/month/year in the Buddhist Era, e.g. 16/05/2568."))
    day, month, year = (int(g) for g in match.groups())
    if year < 2400:
        raise ValueError(_("Write the year in the Buddhist Era (e.g. 2568), not 2025."))
    try:
        return date(clock.ce_year(year), month, day)
    except ValueError:
        raise ValueError(_("%(value)s is not a date in the calendar.", value=value)) from None


def format_date(value: date | None) -> str:
    """The date format the import reads back: day/month/BE year."""
    return f"{value.day:02d}/{value.month:02d}/{clock.be_year(value.year)}" if value else ""


class RowReader:
    """Turns the cells of one row into field values, or problems in the user's words."""

    def __init__(self, keys: list[str | None], kind: str,
                 header: Sequence[Any] = ()) -> None:
        self.keys = keys
        # Problems name a column as the file does, else by our own header.
        self.titles = {c.key: str(c.label) for c in COLUMNS}
        self.titles.update({k: _text(t) for k, t in zip(keys, header, strict=False) if k})
        self.genders = _choices(GENDER_LABELS, {"m": "M", "f": "F", "ชาย": "M", "หญิง": "F"})
        grades = {g: GRADE_LABELS[g] for g in GRADES_BY_KIND[kind]}
        self.grades = _choices(grades)
        self.statuses = _choices(STATUS_LABELS, {"ปกติ": EnrolmentStatus.ACTIVE})
        self.flags = {"1": True, "0": False, "true": True, "false": False}
        for locale in ("th", "en"):
            with force_locale(locale):
                self.flags.update({_fold(_("Yes")): True, _fold(_("No")): False})

    def read(self, line: int, cells: Sequence[Any]) -> tuple[dict[str, Any], list[Problem]]:
        values: dict[str, Any] = {}
        problems: list[Problem] = []

        def refuse(key: str, reason: str) -> None:
            problems.append(Problem(line, self.titles[key], reason))

        for key, raw in zip(self.keys, cells, strict=False):
            if key is None:
                continue
            if isinstance(raw, str) and raw.lstrip(" ").startswith(FORMULA_STARTS):
                refuse(key, _("The cell starts with %(char)r, so a spreadsheet could run it as "
                              "a formula. Remove the character, or put an apostrophe (') in "
                              "front of it.", char=raw.lstrip(" ")[0]))
                continue
            text = _text(raw)
            try:
                values[key] = self._value(key, raw, text)
            except ValueError as exc:
                refuse(key, str(exc))
        if not values.get("gender") and values.get("title"):
            values["gender"] = gender_of_title(values["title"])
        for column in COLUMNS:
            title = self.titles[column.key]
            if (column.required or column.key == "gender") and not values.get(column.key) and all(
                    p.column != title for p in problems):
                refuse(column.key, _("This column must not be empty."))
        return values, problems

    def _value(self, key: str, raw: Any, text: str) -> Any:
        if key == "national_id":
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                text = text.zfill(13)  # typed as a number, Excel dropped the leading zero
            value = normalise_national_id(text)
            for problem in national_id_problems(value):
                raise ValueError(problem)
            return value
        if not text and not isinstance(raw, date):
            return False if key == "disadvantaged" else None
        if key in DATES:
            return parse_date(raw if isinstance(raw, date) else text)
        if key in NUMBERS:
            try:
                number = Decimal(text)
            except InvalidOperation:
                raise ValueError(_("%(value)s is not a number.", value=text)) from None
            if not 0 < number < 1000:
                raise ValueError(_("%(value)s is outside the range 1 to 999.", value=text))
            return number.quantize(Decimal("0.1"))
        if key == "gender":
            if _fold(text) not in self.genders:
                raise ValueError(_("Gender must be %(male)s or %(female)s.",
                                   male=GENDER_LABELS["M"], female=GENDER_LABELS["F"]))
            return self.genders[_fold(text)]
        if key == "grade":
            if _fold(text) not in self.grades:
                raise ValueError(_("%(grade)s is not a grade of this institution.", grade=text))
            return self.grades[_fold(text)]
        if key == "status":
            if _fold(text) not in self.statuses:
                raise ValueError(_("%(value)s is not a learner status.", value=text))
            if self.statuses[_fold(text)] != EnrolmentStatus.ACTIVE:
                raise ValueError(_("Only learners who are studying can be imported; this "
                                   "row's status is %(value)s.", value=text))
            return EnrolmentStatus.ACTIVE
        if key == "disadvantaged":
            if _fold(text) not in self.flags:
                raise ValueError(_("Write %(yes)s or %(no)s.", yes=_("Yes"), no=_("No")))
            return self.flags[_fold(text)]
        if len(text) > LENGTHS.get(key, 200):
            raise ValueError(_("The text is longer than %(max)d characters.",
                               max=LENGTHS.get(key, 200)))
        return text


# --- the import ------------------------------------------------------------------------------

def _chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _rule_problems(session: Session, line: int, obj: Any) -> list[Problem]:
    """The problems the flush would raise for `obj`, run now so they carry the line."""
    reasons = check_write(session, current_actor(), obj)
    for validator in VALIDATORS.get(type(obj), []):
        reasons += validator(session, obj)
    return [Problem(line, "", str(r)) for r in dict.fromkeys(reasons)]


def _set(obj: Any, values: dict[str, Any], keys: Sequence[str]) -> bool:
    """Copy the values the file has for `keys`; whether anything really changed."""
    changed = False
    for key in keys:
        if key not in values:
            continue
        new = values[key]
        old = getattr(obj, key)
        if isinstance(old, float | Decimal) and new is not None:
            same = Decimal(str(old)) == new
        else:
            same = old == new or (old in (None, "") and new in (None, ""))
        if not same:
            setattr(obj, key, new)
            changed = True
    return changed


def import_learners(session: Session, data: bytes, institution: Institution, year: int
                    ) -> Result:
    """Import the file into `institution` for academic `year`, all or nothing."""
    result = Result()
    try:
        rows = read_rows(data)
        header = next(rows, None)
        if header is None:
            raise _whole(_("The file is empty."))
        keys, problems = header_keys(header)
        if problems:
            raise Refused(problems)
        reader = RowReader(keys, institution.kind, header)
        parsed: list[tuple[int, dict[str, Any]]] = []
        first_line: dict[str, int] = {}
        for line, cells in enumerate(rows, start=2):
            if all(_text(c) == "" for c in cells):
                continue
            if len(parsed) >= MAX_ROWS:
                raise _whole(_("The file has more than %(max)d learners. Split it into smaller "
                               "files.", max=MAX_ROWS))
            values, problems = reader.read(line, cells)
            nid = values.get("national_id")
            if nid and nid in first_line:
                problems.append(Problem(line, reader.titles["national_id"], _(
                    "The same learner is already on line %(line)d of this file.",
                    line=first_line[nid])))
            elif nid:
                first_line[nid] = line
            result.problems += problems
            parsed.append((line, values))
    except Refused as refused:
        result.problems = refused.problems
        return result
    result.rows = len(parsed)
    if not result.ok:
        return result
    try:
        _write(session, parsed, institution, year, result)
        if result.ok:
            session.commit()
            _audit(institution, year, result)
            return result
    except RuleViolation as exc:
        result.problems += [Problem(None, "", str(m)) for m in exc.messages]
    session.rollback()
    return result


def _write(session: Session, parsed: list[tuple[int, dict[str, Any]]],
           institution: Institution, year: int, result: Result) -> None:
    """Add the rows in batches; the flush runs every rule, as for any other write."""
    ids = [values["national_id"] for _line, values in parsed]
    known: dict[str, Learner] = {}
    active: dict[int, Enrolment] = {}
    with session.no_autoflush:
        for chunk in _chunks(ids):
            for learner in session.scalars(select(Learner).where(
                    Learner.national_id.in_(chunk))):
                known[learner.national_id] = learner
        learner_ids = [learner.id for learner in known.values()]
        for chunk in _chunks(learner_ids):
            for enrolment in session.scalars(
                    select(Enrolment).where(
                        Enrolment.learner_id.in_(chunk), Enrolment.academic_year == year,
                        Enrolment.status == EnrolmentStatus.ACTIVE)
                    .options(joinedload(Enrolment.institution).joinedload(Institution.lao))):
                active[enrolment.learner_id] = enrolment
    batch: list[tuple[int, list[Any]]] = []
    for line, values in parsed:
        with session.no_autoflush:
            learner = known.get(values["national_id"])
            new_learner = learner is None
            if new_learner:
                learner = Learner(national_id=values["national_id"])
            learner_changed = _set(learner, values, LEARNER_FIELDS) and not new_learner
            enrolment = active.get(learner.id) if learner.id else None
            if enrolment is not None and enrolment.institution_id != institution.id:
                result.problems.append(Problem(line, str(BY_KEY["national_id"].label),
                                               already_active_message(enrolment)))
                continue
            new_enrolment = enrolment is None
            if new_enrolment:
                # institution_id too: the confirmation lock reads the column before flush.
                enrolment = Enrolment(learner=learner, institution=institution,
                                      institution_id=institution.id, academic_year=year,
                                      status=EnrolmentStatus.ACTIVE)
            enrolment_changed = _set(enrolment, values, ENROLMENT_FIELDS) and not new_enrolment
            touched = [obj for obj, fresh, changed in (
                (learner, new_learner, learner_changed),
                (enrolment, new_enrolment, enrolment_changed)) if fresh or changed]
        result.learners_created += new_learner
        result.learners_updated += learner_changed
        result.enrolled += new_enrolment
        result.enrolments_updated += enrolment_changed
        result.unchanged += not touched
        if not result.ok:
            # Something already failed: nothing more is written, but every row is still
            # checked so that the report lists them all.
            with session.no_autoflush:
                result.problems += [p for obj in touched
                                    for p in _rule_problems(session, line, obj)]
            continue
        session.add_all(touched)
        batch.append((line, touched))
        if len(batch) >= BATCH:
            _flush(session, batch, result)
            batch = []
    if result.ok and batch:
        _flush(session, batch, result)


def _flush(session: Session, batch: list[tuple[int, list[Any]]], result: Result) -> None:
    """Write a batch; if the rules refuse it, check its rows one by one to name the lines."""
    try:
        session.flush()
        for _line, touched in batch:  # written: keep the session small for the next batches
            for obj in touched:
                session.expunge(obj)
    except RuleViolation as refused:
        with session.no_autoflush:
            problems = [p for line, touched in batch for obj in touched
                        for p in _rule_problems(session, line, obj)]
        # A rule that is not about one row (a closed round, a confirmed institution).
        result.problems += problems or [Problem(None, "", str(m)) for m in refused.messages]


def _audit(institution: Institution, year: int, result: Result) -> None:
    try:
        from rules.audit import record
    except ImportError:
        return
    from models import db

    record("import", target=f"institution:{institution.code}", academic_year=year,
           rows=result.rows, learners_created=result.learners_created,
           learners_updated=result.learners_updated, enrolled=result.enrolled)
    db.session.commit()


# --- the same columns out --------------------------------------------------------------------

def header() -> list[str]:
    """The column titles of the learner file, in the user's language."""
    return [str(c.label) for c in COLUMNS]


def learner_rows(session: Session, institution: Institution, year: int,
                 batch: int = 1000) -> Iterator[list[Any]]:
    """An institution's active learners of one year, as rows of the import file."""
    query = (select(Enrolment).join(Learner, Learner.id == Enrolment.learner_id)
             .where(Enrolment.institution_id == institution.id,
                    Enrolment.academic_year == year,
                    Enrolment.status == EnrolmentStatus.ACTIVE)
             .options(joinedload(Enrolment.learner))
             .order_by(Enrolment.grade, Enrolment.classroom, Learner.national_id)
             .execution_options(yield_per=batch))
    for enrolment in session.scalars(query):
        yield export_row(enrolment)


def export_row(enrolment: Enrolment) -> list[Any]:
    """One enrolment as the cells of the learner file."""
    learner = enrolment.learner
    out: list[Any] = []
    for column in COLUMNS:
        obj = enrolment if column.key in ENROLMENT_FIELDS else learner
        value = getattr(obj, column.key)
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
