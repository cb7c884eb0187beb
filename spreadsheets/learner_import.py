"""Bulk learner import (SPEC §7): preview every row's fate, then write all or nothing.

The file may be our own export or template, the legacy LEC per-student report or OBEC DMC's
export (`spreadsheets.learner_file` reads them). Rows are checked with the very validators the
flush runs (`rules.VALIDATORS` and `rules.scope.check_write`), every row and every problem in one
pass, so each problem carries its line; a commit writes in batches inside one transaction that
is rolled back if anything at all is wrong. Importing the same file again changes nothing, and
learners missing from the file are listed, never removed.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Enrolment, Institution, Learner
from models.people import GENDER_LABELS, GRADE_LABELS, STATUS_LABELS, EnrolmentStatus
from rules import VALIDATORS, RuleViolation, current_actor
from rules.enrolment import already_active_message
from rules.scope import check_write
from spreadsheets.columns import BY_KEY, COLUMNS, ENROLMENT_FIELDS, LEARNER_FIELDS
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
from spreadsheets.writers import cell

__all__ = ["MAX_BYTES", "Problem", "Refused", "Result", "import_learners", "preview"]
BATCH = 500  # rows per flush: keeps the rules' scans of pending rows short
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
    def refused_rows(self) -> int:
        return len({p.line for p in self.problems if p.line})


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


def preview(session: Session, data: bytes, institution: Institution, year: int) -> Result:
    """What importing the file would do, with every problem of every row; writes nothing."""
    return _run(session, data, institution, year, write=False)


def import_learners(session: Session, data: bytes, institution: Institution, year: int
                    ) -> Result:
    """Import the file into `institution` for academic `year`, all or nothing."""
    return _run(session, data, institution, year, write=True)


def _run(session: Session, data: bytes, institution: Institution, year: int, write: bool
         ) -> Result:
    result = Result()
    try:
        found = read_learner_file(data, institution.kind)
        result.kind = found.layout.kind
        result.understood = found.understood()
        result.ignored = found.layout.ignored
        result.skipped = found.skipped
        _check_institution(found, institution, result)
    except Refused as refused:
        result.problems = refused.problems
        return result
    result.problems += found.problems
    result.rows = len(found.rows)
    bad_lines = {p.line for p in found.problems}
    try:
        _write(session, [r for r in found.rows if r[0] not in bad_lines], institution, year,
               result, write=write and result.ok)
        result.missing = _missing(session, found, institution, year)
        if write and result.ok:
            session.commit()
            result.written = True
            _audit(institution, year, result)
            return result
    except RuleViolation as exc:
        result.problems += [Problem(None, "", str(m)) for m in exc.messages]
    session.rollback()
    result.problems.sort(key=lambda p: (p.line or 0))
    return result


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


def _write(session: Session, parsed: list[tuple[int, dict[str, Any]]],
           institution: Institution, year: int, result: Result, write: bool = True) -> None:
    """Add the rows in batches; the flush runs every rule, as for any other write.

    Without `write` (a preview, or once a row has failed) nothing is added: every row is still
    checked against the same rules so that the report lists every problem at once.
    """
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
                if new_learner or learner_changed:
                    result.problems += _rule_problems(session, line, learner)
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
        result.new_rows += new_enrolment
        result.updated_rows += bool(touched) and not new_enrolment
        if not write or not result.ok:
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
