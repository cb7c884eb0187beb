"""The set-based import: every rule asked once for all rows, then one bulk write (issue 11).

The checks are the flush's own rule functions — `check_learner` (as `learner_field_problems`,
which names each problem's column), `subdistrict_problem`, `grade_problems`,
`enrolment_date_problems`, `normalise_classroom`, `already_active_message`, `removed_here`,
`permissions.check_write`, `windows.year_problem`, `locks.write_problems` — called per row
where they are pure and once per file where they depend on the unit (every row goes to one
institution and year). What the database must answer (existing learners, active enrolments
elsewhere, learners this institution removed as non-existent, unknown subdistrict codes) is read
in a few set queries, not one per row.
The writes are bulk INSERT/UPDATE statements in the caller's transaction, with one audit entry
per row written, as the flush would log them; the unique index on active enrolments still guards
a race.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ARRAY, func, insert, literal, select, text, update
from sqlalchemy.orm import Session, joinedload

from models import AuditEntry, Enrolment, Institution, Learner
from models.people import EnrolmentStatus
from rules import current_actor, locks, windows
from rules.audit import SECRET_FIELDS
from rules.audit import _plain as audit_plain
from rules.audit import _row as audit_row
from rules.enrolment import (
    already_active_message,
    enrolment_date_problems,
    grade_problems,
    normalise_classroom,
    removed_here,
)
from rules.identity import (
    ADDRESS_CODES,
    learner_field_problems,
    subdistrict_problem,
    unknown_subdistricts,
)
from rules.permissions import check_write, may_write_outside_window
from spreadsheets.columns import ENROLMENT_FIELDS, LEARNER_FIELDS
from spreadsheets.learner_row import Problem, column_titles

CHUNK = 1000
ENROLMENT_COPY = tuple(k for k in ENROLMENT_FIELDS if k != "status")


@dataclass
class Plan:
    """What the rows would write, and every problem that stops them."""

    problems: list[Problem] = field(default_factory=list)
    new_learners: list[dict[str, Any]] = field(default_factory=list)
    learner_changes: list[dict[str, Any]] = field(default_factory=list)
    new_enrolments: list[dict[str, Any]] = field(default_factory=list)
    enrolment_changes: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    learners_updated: int = 0
    enrolments_updated: int = 0
    updated_rows: int = 0


#: json.dumps(..., ensure_ascii=False) with its encoder made once, not once per audit entry.
_as_json = json.JSONEncoder(ensure_ascii=False).encode


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _matching(session: Session, query: Any, column: Any, keys: list[Any]) -> Iterator[Any]:
    """The rows of `query` whose `column` is one of `keys`. On PostgreSQL one join with the
    keys as an array: by the unique index whatever the statistics say (a list of IN values
    planned on a table not yet analysed scans it once per chunk: 100,000 rows took minutes)."""
    if not keys:
        return
    if session.get_bind().dialect.name == "postgresql":
        wanted = func.unnest(literal(keys, ARRAY(column.type))).table_valued("key").render_derived()
        yield from session.execute(query.join(wanted, column == wanted.c.key))
        return
    for chunk in _chunks(keys):
        yield from session.execute(query.where(column.in_(chunk)))


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float | Decimal) and new is not None:
        return Decimal(str(old)) == new
    return old == new or (old in (None, "") and new in (None, ""))


def _unit_problems(session: Session, institution: Institution, year: int) -> list[str]:
    """The rules that depend on the unit and year only: asked once for the whole file."""
    actor = current_actor()
    probe = Enrolment(institution_id=institution.id, academic_year=year,
                      status=EnrolmentStatus.ACTIVE)
    problems = check_write(session, actor, probe)
    if not may_write_outside_window(actor):
        problem = windows.year_problem(session, year)
        problems += [problem] if problem else []
    return problems


def _quiet(_rows: int) -> None:
    """Nobody follows the check."""


def plan(session: Session, rows: list[tuple[int, dict[str, Any]]], institution: Institution,
         year: int, checked: Callable[[int], None] = _quiet,
         titles: dict[str, str] | None = None) -> Plan:
    """Check every row with the rules, set-wise; nothing is written. `checked(n)` hears
    every CHUNK rows how many are done; every problem of a row names its column, by the
    file's own header in `titles` (field key: header) where given."""
    found = Plan()
    found.problems += [Problem(None, "", p)
                       for p in _unit_problems(session, institution, year)]
    ids = [values["national_id"] for _line, values in rows]
    learner_columns = [Learner.id, Learner.national_id, *(getattr(Learner, k)
                                                          for k in LEARNER_FIELDS)]
    known: dict[str, dict[str, Any]] = {}
    active: dict[int, dict[str, Any]] = {}
    with session.no_autoflush:
        for row in _matching(session, select(*learner_columns), Learner.national_id, ids):
            known[row.national_id] = dict(row._mapping)
        for row in _matching(session, select(
                Enrolment.id, Enrolment.learner_id, Enrolment.institution_id,
                *(getattr(Enrolment, k) for k in ENROLMENT_COPY)).where(
                Enrolment.academic_year == year, Enrolment.status == EnrolmentStatus.ACTIVE),
                Enrolment.learner_id, [k["id"] for k in known.values()]):
            active[row.learner_id] = dict(row._mapping)
        elsewhere = [e["id"] for e in active.values() if e["institution_id"] != institution.id]
        holders = {e.id: e for chunk in _chunks(elsewhere) for e in session.scalars(
            select(Enrolment).where(Enrolment.id.in_(chunk)).options(
                joinedload(Enrolment.institution).joinedload(Institution.lao)))}
    removed = removed_here(session, institution.id, year, [k["id"] for k in known.values()])
    unknown = unknown_subdistricts(session, (values.get(k) for _line, values in rows
                                             for k in ADDRESS_CODES))
    titles = {**column_titles(), **(titles or {})}
    for done, (line, values) in enumerate(rows, start=1):
        if done % CHUNK == 0:
            checked(done)
        existing = known.get(values["national_id"])
        if "classroom" in values:  # as the flush stores it
            values["classroom"] = normalise_classroom(values["classroom"])
        learner = {k: values[k] for k in LEARNER_FIELDS if k in values}
        # Every field the rule reads is there, None where neither the file nor the register
        # gives one (a new learner without a birth date).
        merged = {**dict.fromkeys(LEARNER_FIELDS), **(existing or {}), **learner}
        merged.pop("id", None)
        merged["national_id"] = values["national_id"]
        # The learner rule reads attributes only: a plain record spares building ORM objects.
        record = SimpleNamespace(**merged)
        keyed = learner_field_problems(session, record, existing)
        # What the rule normalised (a title's abbreviation) is written as it would store it.
        learner = {k: getattr(record, k) for k in learner}
        keyed += [("grade", p) for p in grade_problems(values.get("grade"), institution.kind)]
        enrolment = active.get(existing["id"]) if existing else None
        if enrolment is None or not _same(enrolment["enrolled_on"], values.get("enrolled_on")):
            # As the flush judges it: a date the register already holds is not judged again.
            keyed += [("enrolled_on", p) for p in enrolment_date_problems(
                values.get("enrolled_on"), year)]
        refused: list[str] = []
        if enrolment is not None and enrolment["institution_id"] != institution.id:
            refused.append(already_active_message(holders[enrolment["id"]]))
        if existing is not None and existing["id"] in removed:
            refused.append(removed[existing["id"]])
        found.problems += [Problem(line, titles["national_id"], p) for p in refused]
        keyed += [(k, p) for k in ADDRESS_CODES
                  if (p := subdistrict_problem(k, values.get(k), unknown))]
        found.problems += [Problem.of(line, titles[k], k, p, values.get(k))
                           for k, p in dict.fromkeys(keyed)]
        if keyed or refused:
            continue
        _plan_row(found, values, learner, existing, enrolment, institution, year)
    checked(len(rows))
    return found


def _plan_row(found: Plan, values: dict[str, Any], learner: dict[str, Any],
              existing: dict[str, Any] | None, enrolment: dict[str, Any] | None,
              institution: Institution, year: int) -> None:
    nid = values["national_id"]
    if existing is None:
        found.new_learners.append({"national_id": nid, **learner})
    else:
        changed = {k: v for k, v in learner.items() if not _same(existing.get(k), v)}
        if changed:
            found.learner_changes.append({"id": existing["id"], **changed})
    learner_changed = existing is not None and bool(found.learner_changes) and (
        found.learner_changes[-1]["id"] == existing["id"])
    found.learners_updated += learner_changed
    fields = {k: values[k] for k in ENROLMENT_COPY if k in values}
    if enrolment is None:
        found.new_enrolments.append({"national_id": nid, "institution_id": institution.id,
                                     "academic_year": year, "status": EnrolmentStatus.ACTIVE,
                                     "learner_id": existing["id"] if existing else None,
                                     **fields})
        return
    changed = {k: v for k, v in fields.items() if not _same(enrolment.get(k), v)}
    if changed:
        found.enrolment_changes.append({"id": enrolment["id"], **changed})
    found.enrolments_updated += bool(changed)
    found.updated_rows += learner_changed or bool(changed)
    found.unchanged += not (learner_changed or changed)


def lock_problems(session: Session, found: Plan, institution: Institution, year: int
                  ) -> list[Problem]:
    """A confirmation lock refuses the file only if it would write something, as the flush."""
    if not (found.new_learners or found.learner_changes or found.new_enrolments
            or found.enrolment_changes):
        return []
    learner_ids = {c["id"] for c in found.learner_changes}
    return [Problem(None, "", p) for p in locks.write_problems(
        session, {institution.id: {year}}, learner_ids)]


def _grouped(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Rows with the same keys together: one executemany each."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    yield from groups.values()


def apply(session: Session, found: Plan) -> None:
    """Write the plan in bulk in the session's transaction, with its audit entries."""
    actor = current_actor()
    # Every entry of one import shares its actor, time and address: built once, then copied.
    created, updated = audit_row("create", actor), audit_row("update", actor)
    as_text = _copying(session)

    def audit(base: dict[str, Any], model: str, object_id: Any, row: dict[str, Any],
              target: str | None = None) -> dict[str, Any]:
        changes = _plain(row)
        return {**base, "model": model, "object_id": str(object_id), "target": target,
                "changes": _as_json(changes) if as_text else changes}

    if as_text:
        # The foreign keys of each COPY are checked by one statement per row: planned once
        # for the whole file, not once per row as LEC's own statements are (app.py); a
        # 10,000-row file's enrolments took 0.3-0.5 s of planning. LOCAL: until the commit.
        session.execute(text("SET LOCAL plan_cache_mode = auto"))
    audits: list[dict[str, Any]] = []
    learners = [{"disadvantaged": False, **row} for row in found.new_learners]
    ids = _insert(session, Learner, learners)
    new_ids = {row["national_id"]: i for i, row in zip(ids, learners, strict=True)}
    audits += [audit(created, "Learner", i, r, _name(r)[:200])
               for i, r in zip(ids, learners, strict=True)]
    for group in _grouped(found.learner_changes):
        session.execute(update(Learner), group)
        audits += [audit(updated, "Learner", r["id"], r) for r in group]
    enrolments = [{k: v for k, v in row.items() if k != "national_id"}
                  | {"learner_id": row["learner_id"] or new_ids[row["national_id"]]}
                  for row in found.new_enrolments]
    ids = _insert(session, Enrolment, enrolments)
    audits += [audit(created, "Enrolment", i, r) for i, r in zip(ids, enrolments, strict=True)]
    for group in _grouped(found.enrolment_changes):
        session.execute(update(Enrolment), group)
        audits += [audit(updated, "Enrolment", r["id"], r) for r in group]
    _insert(session, AuditEntry, audits, numbered=False)


def _copying(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _insert(session: Session, model: Any, rows: list[dict[str, Any]], numbered: bool = True
            ) -> list[int]:
    """Insert the rows and return their new ids in order (`numbered`; else the database
    numbers them and nothing is returned): by COPY on PostgreSQL, which writes the models'
    StrEnum choices as their values."""
    if not rows:
        return []
    keys = sorted(set().union(*rows))
    table = model.__table__.name
    if _copying(session):
        ids = _new_ids(session, table, len(rows)) if numbered else []
        cursor = session.connection().connection.driver_connection.cursor()
        columns = ", ".join(["id", *keys] if numbered else keys)
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            if numbered:
                for new_id, row in zip(ids, rows, strict=True):
                    copy.write_row([new_id, *map(row.get, keys)])
            else:
                for row in rows:
                    copy.write_row(list(map(row.get, keys)))
        return ids
    ids = []
    for chunk in _chunks([{k: row.get(k) for k in keys} for row in rows]):
        ids += session.execute(insert(model).returning(model.id, sort_by_parameter_order=True),
                               chunk).scalars().all()
    return ids


def _new_ids(session: Session, table: str, count: int) -> list[int]:
    """`count` ids from the table's sequence, named once: asked for on every row, the name
    made the statement five times slower."""
    sequence = session.scalar(text("SELECT pg_get_serial_sequence(:table, 'id')"),
                              {"table": table})
    return list(session.scalars(text(
        "SELECT nextval(CAST(:sequence AS regclass)) FROM generate_series(1, :n)"),
        {"sequence": sequence, "n": count}))


def _name(row: dict[str, Any]) -> str:
    return " ".join(str(row[k]) for k in ("title", "first_name", "last_name") if row.get(k))


def _plain(row: dict[str, Any]) -> dict[str, list[Any]]:
    """The audit's changes of a row written in bulk: its new values (old ones not read). Text
    and numbers go in as `audit_plain` would keep them, without a call each (a 100,000-row
    file has a million values); IDs, secrets, dates and the rest go through it."""
    return {k: [None, v if type(v) in _AS_IS and k not in SECRET_FIELDS
                and "national_id" not in k else audit_plain(k, v)]
            for k, v in row.items() if k != "id" and v is not None}


_AS_IS = frozenset({str, int, bool, float})
