"""The audit log: every guarded write and every security event, append-only (issue 5 item 3).

Writes are captured on after_flush, where the new rows already have their ids and the
attributes still hold their history, and inserted in the same transaction as the change: a
rolled-back change leaves no trace, a committed one always does. `record()` is what other
modules call for events that are not row changes (sign-in, refusal, confirmation, export...).
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session

import clock
from models import AuditEntry, Enrolment, Learner, ThrottleHit, db

from . import RuleViolation, current_actor
from .identity import mask_ids_in, mask_national_id

#: Tables whose writes are bookkeeping, not business records.
UNAUDITED = {AuditEntry, ThrottleHit}
#: Kept as *** in the log: a password's hash, and an application's tracking code, the
#: parent's only key to its status page (admin_views.audit_words hides older ones).
SECRET_FIELDS = frozenset({"password_hash", "tracking_code"})


def _plain(key: str, value: Any) -> Any:
    """A value as it may be stored in the log: JSON-ready, secrets and full IDs hidden."""
    if value is None:
        return None
    if key in SECRET_FIELDS:
        return "***"
    if "national_id" in key:
        return mask_national_id(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return mask_ids_in(value)
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):  # a JSON column (a job's title values): kept as JSON
        return {str(k): _plain(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(key, v) for v in value]
    return str(value)


def _where_from() -> str | None:
    return request.remote_addr if has_request_context() else None


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None:
        return {"actor_id": None, "actor_login": None}
    return {"actor_id": actor.id, "actor_login": actor.login,
            "province_code": actor.province_code, "lao_id": actor.lao_id,
            "institution_id": actor.institution_id}


def _row(action: str, actor: Any, **values: Any) -> dict[str, Any]:
    row = {"at": clock.now(), "action": action, "ip": _where_from(),
           "province_code": None, "lao_id": None, "institution_id": None,
           "subject_institution_id": None,
           "model": None, "object_id": None, "target": None, "changes": None, "details": None}
    row.update(_actor_fields(actor))
    row.update({k: v for k, v in values.items() if v is not None})
    if row["target"] is not None:
        row["target"] = mask_ids_in(str(row["target"]))[:200]
    return row


def _key(obj: Any) -> str:
    """A record's primary key as the log keeps it."""
    return ",".join(str(k) for k in inspect(obj).mapper.primary_key_from_instance(obj))


def record(action: str, target: str = "", *, concerning: Any = None,
           subject_institution_id: int | None = None, **details: Any) -> None:
    """Log an event (sign-in, refusal, confirmation, cancel, export, reveal...).

    It is written with the caller's transaction: commit it (views that refuse or only read
    should call db.session.commit() after this). A `user` detail names the account concerned
    when nobody is signed in, e.g. for a failed sign-in. `concerning` is the record the event
    is about (the record's history then lists it, as it lists changes), and
    `subject_institution_id` the institution holding its learner, whose LAO and province then
    read the entry in their log.
    """
    actor = details.pop("actor", None) or current_actor()
    subject = details.pop("user", None)
    unit = {}
    if subject is not None:
        unit = {"province_code": subject.province_code, "lao_id": subject.lao_id,
                "institution_id": subject.institution_id}
    about = {} if concerning is None else {"model": type(concerning).__name__,
                                           "object_id": _key(concerning)}
    row = _row(action, actor, target=target or None, **about,
               subject_institution_id=subject_institution_id,
               details={k: _plain(k, v) for k, v in details.items()} or None)
    if actor is None:
        row.update(unit)
    db.session.execute(insert(AuditEntry), [row])


def _changes(obj: Any, kind: str) -> dict[str, list[Any]]:
    """Old and new value of each column that changed (all columns for a create or delete)."""
    state = inspect(obj)
    out: dict[str, list[Any]] = {}
    values = state.dict
    for attr in state.mapper.column_attrs:
        key = attr.key
        if kind == "create":  # a new row has no history to ask: read what was set
            old, new = None, values.get(key)
        elif kind == "update":
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else getattr(obj, key)
        else:
            history = state.attrs[key].history
            old = history.deleted[0] if history.deleted else getattr(obj, key)
            new = None
        if old is None and new is None:
            continue
        out[key] = [_plain(key, old), _plain(key, new)]
    return out


def _learner_institutions(session: Session) -> dict[int, int]:
    """The institution holding each learner of this flush (active first, latest year first),
    one query for the whole flush."""
    ids = {obj.id for obj in list(session.new) + list(session.dirty) + list(session.deleted)
           if isinstance(obj, Learner) and obj.id is not None}
    if not ids:
        return {}
    found: dict[int, int] = {}
    rows = session.execute(
        select(Enrolment.learner_id, Enrolment.institution_id)
        .where(Enrolment.learner_id.in_(ids))
        .order_by(Enrolment.learner_id, (Enrolment.status == "active").desc(),
                  Enrolment.academic_year.desc(), Enrolment.id.desc()))
    for learner_id, institution_id in rows:
        found.setdefault(learner_id, institution_id)
    return found


def log_flush(session: Session, flush_context: Any) -> None:
    """After a flush: one audit row per created, changed or deleted business record."""
    actor = current_actor()
    rows = []
    owners = _learner_institutions(session)
    for kind, objects in (("create", session.new), ("update", session.dirty),
                          ("delete", session.deleted)):
        for obj in objects:
            if type(obj) in UNAUDITED or not hasattr(obj, "__table__"):
                continue
            if kind == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _changes(obj, kind)
            if kind == "update" and not changes:
                continue
            subject = (obj.institution_id if isinstance(obj, Enrolment)
                       else owners.get(obj.id) if isinstance(obj, Learner) else None)
            rows.append(_row(kind, actor, model=type(obj).__name__, changes=changes,
                             object_id=_key(obj), target=str(obj),
                             subject_institution_id=subject))
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def refuse_rewrites(session: Session, flush_context: Any, instances: Any) -> None:
    """The log is append-only: no change or delete of an entry through the ORM."""
    touched = [o for o in list(session.dirty) + list(session.deleted) if isinstance(o, AuditEntry)]
    if touched:
        raise RuleViolation(_("The audit log cannot be changed or deleted."))


def refuse_bulk_rewrites(state: ORMExecuteState) -> None:
    """Nor through an ORM UPDATE or DELETE statement."""
    if (state.is_update or state.is_delete) and state.bind_mapper is inspect(AuditEntry):
        raise RuleViolation(_("The audit log cannot be changed or deleted."))


def install() -> None:
    """Attach the log to every ORM session, as rules.hooks does for the rules."""
    for name, fn in (("before_flush", refuse_rewrites), ("after_flush", log_flush),
                     ("do_orm_execute", refuse_bulk_rewrites)):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)

