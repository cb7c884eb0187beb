"""The words of the audit log: what a reader calls each record type, field and stored value.

The log's page, its CSV/XLSX export and the change list of a cancelled confirmation all show
logged old and new values through here, so a field reads the same on every page. A record type
with a list of its own takes that list's name and column labels; the others are named below.
"""

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import unquote_plus

from flask import g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from i18n import be_date
from models import AuditEntry, Institution, Lao, Round, db
from models.accounts import LEVEL_LABELS
from models.admission import APPLICATION_STATUS_LABELS, TRACKING_ALPHABET, TRACKING_LENGTH
from models.jobs import STATUS_LABELS as JOB_STATUS_LABELS
from models.jobs import title_in_language
from models.organisations import (
    AFFILIATION_LABELS,
    CODE_RULE_LABELS,
    INSTITUTION_KIND_LABELS,
    LAO_TYPE_LABELS,
)
from models.people import (
    BUILDING_CONDITION_LABELS,
    CDC_GRADES,
    GENDER_LABELS,
    GRADE_LABELS,
    REMOVAL_REASON_LABELS,
    STATUS_LABELS,
)
from models.rounds import DATABASE_LABELS, SPOT_OUTCOME_LABELS
from rules.identity import APPLICATION_CONTACTS, CONTACT_FIELDS, mask_contact
from rules.permissions import may_see_contacts
from rules.risk import RULES as RISK_RULES
from rules.risk import SETTING_LABELS

from .base import ScopedModelView

#: Fields and details that mean the same on every record type, unless its list says otherwise.
DETAIL_LABELS = {
    "round_id": _l("Round"), "database": _l("Database"), "level": _l("Level"),
    "account_level": _l("Level"), "reasons": _l("Reasons"), "rows": _l("Rows"),
    "reason": _l("Reason"), "lao": _l("LAO"), "province": _l("Province"),
    "institution": _l("Institution"), "lao_id": _l("LAO"), "institution_id": _l("Institution"),
    "province_code": _l("Province"), "user": _l("Account"), "model": _l("Record type"),
    "object_id": _l("Record"), "format": _l("Format"), "id": _l("Record"),
    "user_id": _l("Account"), "district_code": _l("District"), "first_name": _l("First name"),
    "surname": _l("Last name"), "last_name": _l("Last name"), "position": _l("Position"),
    "phone": _l("Phone"), "email": _l("Email"), "valid_from": _l("Responsible from"),
    "valid_to": _l("Responsible until"), "password_hash": _l("Password"),
    "session_version": _l("Sign-in sessions ended"),
    "must_change_password": _l("Must set a new password"),
    "accepts_online_applications": _l("Takes online applications"),
    "affiliation": _l("Affiliation"), "name": _l("Name"), "code": _l("Code"),
    "login": _l("Login"), "active": _l("Active"), "grade": _l("Grade"), "gender": _l("Gender"),
    "status": _l("Status"), "outcome": _l("Outcome"), "lao_type": _l("LAO type"),
    "name_th": _l("Thai name"), "name_en": _l("English name"),
    "subdistrict_code": _l("Subdistrict"), "academic_year": _l("Academic year"),
    "classroom": _l("Classroom"), "learner_id": _l("Learner (number in the system)"),
    "other_school_id": _l("Other-affiliation school (number in the system)"),
    "enrolment_id": _l("Enrolment (number in the system)"),
    "confirmation_id": _l("Confirmation (number in the system)"),
    "boys": _l("Boys"), "girls": _l("Girls"), "count": _l("Number of learners"),
    "title": _l("Title"), "birth_date": _l("Birth date"), "note": _l("Note"),
    # the details of events that are not row changes (rules.audit.record)
    "job_id": _l("Job (number in the system)"), "file": _l("File"),
    "query": _l("Filters of the list"), "method": _l("Request method"),
    "problems": _l("Problems found"), "learners_created": _l("Learners added"),
    "learners_updated": _l("Learners updated"), "enrolled": _l("Enrolments recorded"),
    "found": _l("Found in the system"), "elsewhere": _l("Studying at another institution"),
}

#: Record types without a list of their own, and one shared by several lists (Enrolment: the
#: students and the young children) when the entry does not tell which.
RECORD_NAMES = {
    "Enrolment": _l("Enrolment of a student or young child"),
    "Confirmation": _l("Data confirmation"), "Job": _l("Job"),
    "SpotCheck": _l("Spot check"), "SpotCheckItem": _l("Spot-checked learner"),
    "Profile": _l("Profile"), "OtherSchoolCount": _l("Other-affiliation counts"),
    "RosterEntry": _l("Learner list frozen at confirmation"),
    "SnapshotCount": _l("Counts frozen at confirmation"),
    "ProvinceTotal": _l("Province totals"), "QualityScore": _l("Quality score"),
    "RiskFlag": _l("Risk flags"), "ObecCount": _l("OBEC counts"),
}

#: Fields no list labels, per record type (a list's own label wins where it has one).
FIELD_LABELS: dict[str, dict[str, Any]] = {
    "Enrolment": {"grade": _l("Grade or age group")},
    "Learner": {"registered_subdistrict_code": _l("Registered subdistrict"),
                "current_subdistrict_code": _l("Current subdistrict")},
    "AgencyToken": {"token_hash": _l("Token")},
    "Application": {"tracking_code": _l("Tracking code")},
    "Confirmation": {
        "level": _l("Level that confirmed"), "confirmed_at": _l("Confirmed on"),
        "confirmed_by": _l("Confirmed by"), "cancelled_at": _l("Cancelled on"),
        "cancelled_by": _l("Cancelled by"), "cancel_reason": _l("Reason for cancelling"),
        "subsidised": _l("Learners counted for subsidies"), "learners": _l("Learners")},
    "Job": {
        "kind": _l("Type of job"), "owner_id": _l("Account (number in the system)"),
        "title": _l("Job"), "title_values": _l("Job"), "language": _l("Language"),
        "params": _l("Settings of the job"), "rows_done": _l("Rows done"),
        "rows_total": _l("Rows in all"), "attempts": _l("Attempts"), "message": _l("Message"),
        "result_path": _l("Result file"), "result_name": _l("Result file"),
        "created_at": _l("Started on"), "started_at": _l("Running since"),
        "finished_at": _l("Finished on")},
    "SpotCheck": {"seed": _l("Seed"), "sample_size": _l("Number of learners"),
                  "drawn_at": _l("Drawn"), "drawn_by": _l("Drawn by")},
    "SpotCheckItem": {"spot_check_id": _l("Spot check (number in the system)"),
                      "position": _l("Order in the sample"), "weight": _l("Weight"),
                      "flags": _l("Risk flags"), "checked_at": _l("Checked on"),
                      "checked_by": _l("Checked by")},
    "RosterEntry": {"grade": _l("Grade or age group")},
    "SnapshotCount": {"grade": _l("Grade or age group")},
    "ProvinceTotal": {"grade": _l("Grade or age group")},
    "QualityScore": {
        "units": _l("Units"), "learners": _l("Learners"),
        "incomplete": _l("Learners with key fields missing"),
        "invalid": _l("Learners with invalid data"),
        "inconsistent": _l("Learners with inconsistent data"),
        "unit_flags": _l("Risk flags of the unit"), "late": _l("Late confirmations"),
        "checked": _l("Learners spot-checked"), "failed": _l("Spot checks failed"),
        "score": _l("Quality score"), "computed_at": _l("Computed on")},
    "RiskFlag": {"rule": _l("Risk flag"), "measure": _l("Measured"),
                 "expected": _l("Expected"), "detail": _l("Details")},
    "ObecCount": {"count_date": _l("Count date"), "school_code": _l("OBEC school code")},
}

#: Stored codes shown by their names, per field.
VALUE_LABELS: dict[str, dict[Any, Any]] = {
    "level": LEVEL_LABELS, "account_level": LEVEL_LABELS, "kind": INSTITUTION_KIND_LABELS,
    "affiliation": AFFILIATION_LABELS, "database": DATABASE_LABELS, "grade": GRADE_LABELS,
    "gender": GENDER_LABELS, "status": STATUS_LABELS, "outcome": SPOT_OUTCOME_LABELS,
    "lao_type": LAO_TYPE_LABELS, "removal_reason": REMOVAL_REASON_LABELS,
}
#: Logged fields holding an LAO's or an institution's number in the system (a confirmation's
#: units, a report's drill-down): shown as the unit's code, which the reader knows and which,
#: unlike its name, reads the same on an old entry as on the day it was written.
UNIT_FIELDS: dict[str, type[Lao] | type[Institution]] = {
    "lao_id": Lao, "lao": Lao, "institution_id": Institution, "institution": Institution}
#: The background jobs LEC runs (jobs.task), by name.
JOB_KIND_LABELS = {"export": _l("Export"), "import": _l("Import learners"),
                   "cards": _l("Credential cards"), "rollover": _l("Year rollover"),
                   "risk": _l("Risk flags and quality scores")}
#: Codes whose meaning depends on the record type.
RECORD_VALUE_LABELS: dict[str, dict[str, dict[Any, Any]]] = {
    "Job": {"kind": JOB_KIND_LABELS, "status": JOB_STATUS_LABELS},
    "Application": {"status": APPLICATION_STATUS_LABELS},
    "RiskFlag": {"rule": {key: rule.label for key, rule in RISK_RULES.items()}},
    "CodeException": {"rule": CODE_RULE_LABELS},
    "RiskThreshold": {"setting": SETTING_LABELS},
    "Building": {"condition": BUILDING_CONDITION_LABELS},
}
#: Fields that mean nothing to a reader (internal settings, server paths), or that only the
#: parent may hold (an application's tracking code, logged whole before): not shown.
HIDDEN = {"id", "Job.params", "Job.title_values", "Job.result_path", "Job.language",
          "Application.tracking_code"}
#: Events about a job log its kind and number among their details.
ACTION_RECORDS = {"job_submit": "Job", "job_rerun": "Job", "job_download": "Job"}

#: What a record type's logged name (its text when it was written) holds, where that holds
#: codes: each named part is shown through the record's value labels, the rest as written.
TARGET_SHAPES: dict[str, re.Pattern[str]] = {
    "Job": re.compile(r"(?P<kind>\w+) #\d+"),
    "Confirmation": re.compile(r"(?P<round_id>\d+) (?P<level>\w+) (?P<database>\w+)"),
    "Enrolment": re.compile(r"\d+ (?P<grade>\w+)(?: .*)?", re.S),
    "CodeException": re.compile(r".* \((?P<rule>\w+)\)", re.S),
    "RiskThreshold": re.compile(r"\d+ (?P<setting>\S+)"),
}
#: What older entries logged that is not shown: a part their record did not hold (an
#: enrolment made by a rollover named its learner "None"), or an application's tracking code,
#: which named it before its child; the code is the parent's only key to its status page.
TARGET_NOTHING: dict[str, re.Pattern[str]] = {
    "Enrolment": re.compile(r" None$"),
    "Application": re.compile(rf"^[{TRACKING_ALPHABET}]{{{TRACKING_LENGTH}}} "),
}
#: Events name what they concern as "kind:key": a confirmation by its number in the system,
#: an institution or its learner file by the institution's code.
TARGET_KINDS = {"confirmation": (RECORD_NAMES["Confirmation"], "#"),
                "institution": (_l("Institution"), ""),
                "learners": (_l("Learner file of the institution"), "")}
#: Downloads name the list they came from by its endpoint, reports as "report:<name>".
TARGET_PAGES = {"report:counts": "reports", "report:budget": "budget"}


@dataclass(frozen=True)
class Words:
    """One record type as the log's reader sees it: its name, field labels and code labels."""

    name: str
    fields: dict[str, Any]
    values: dict[str, dict[Any, Any]]


@cache
def _views(admin: Any) -> dict[str, list[Any]]:
    """The lists showing each model, by model class name (fixed once the admin is built)."""
    found: dict[str, list[Any]] = {}
    for view in admin._views:
        if isinstance(view, ScopedModelView):
            found.setdefault(view.model.__name__, []).append(view)
    return found


def _agreed_labels(views: list[Any]) -> dict[str, Any]:
    """The column labels every one of `views` gives alike (students and young children share
    all but the grade's)."""
    first, *others = [dict(v.column_labels or {}) for v in views]
    return {key: label for key, label in first.items()
            if all(str(other.get(key)) == str(label) for other in others)}


def words(admin: Any, model: str | None, kind: str | None = None) -> Words:
    """The words of record type `model`; `kind` (school or cdc) picks between the lists of a
    model shown apart per kind of institution. Translated once per request: an export of the
    log asks for them on every row."""
    known = g.setdefault("lec_audit_words", {}) if has_request_context() else {}
    key = (model or "", kind)
    if key not in known:
        found = _words(admin, model or "", kind)
        known[key] = Words(found.name, {k: str(v) for k, v in found.fields.items()},
                           {k: {c: str(v) for c, v in codes.items()}
                            for k, codes in found.values.items()})
    return known[key]


def _words(admin: Any, model: str, kind: str | None) -> Words:
    """`words` with its labels as they are declared (lazy, in no language yet)."""
    views = _views(admin).get(model, [])
    if len(views) > 1:
        views = [v for v in views if getattr(v, "kind", None) == kind] or views
    values = {**VALUE_LABELS, "round_id": round_names(), **RECORD_VALUE_LABELS.get(model, {})}
    fields = {**DETAIL_LABELS, **FIELD_LABELS.get(model, {})}
    if len(views) == 1:
        fields.update(views[0].column_labels or {})
        return Words(str(views[0].name), fields, values)
    if views:
        fields.update(_agreed_labels(views))
    return Words(str(RECORD_NAMES.get(model, model)), fields, values)


def round_names() -> dict[int, str]:
    """Each round as its reader names it (2569/1) by its number in the system, asked once per
    request: the log keeps only the number."""
    known = g.get("lec_round_names") if has_request_context() else None
    if known is None:
        known = {r.id: str(r) for r in db.session.scalars(select(Round))}
        if has_request_context():
            g.lec_round_names = known
    return known


def institution_kinds(ids: Iterable[int | None]) -> dict[int, str]:
    """The kind of each institution named, asked once per request for a whole page of entries."""
    known = g.setdefault("lec_institution_kinds", {}) if has_request_context() else {}
    wanted = {i for i in ids if i is not None and i not in known}
    if wanted:
        known.update(db.session.execute(
            select(Institution.id, Institution.kind).where(Institution.id.in_(wanted))).all())
    return known


def unit_codes(model: type[Lao] | type[Institution], ids: Iterable[Any]) -> dict[int, str]:
    """The code of each LAO or institution by its number, asked once per request for the
    numbers not asked yet: a page of the log asks for all of its numbers at once."""
    known, asked = (g.setdefault("lec_unit_codes", {}) if has_request_context() else {}
                    ).setdefault(model.__name__, ({}, set()))
    wanted = {i for i in ids if type(i) is int and i not in asked}
    if wanted:
        asked |= wanted
        known.update({unit_id: code for unit_id, code in db.session.execute(
            select(model.id, model.code).where(model.id.in_(wanted)))})
    return known


def _logged(item: Any) -> list[Any]:
    """The values of a logged field: a change's old and new, or a detail's one value."""
    return item if isinstance(item, list) else [item]


def entry_units(entries: Iterable[AuditEntry]) -> None:
    """Ask the codes of every LAO and institution a page of entries logs, a query per kind."""
    wanted: dict[Any, set[Any]] = {Lao: set(), Institution: set()}
    for entry in entries:
        for pairs in (entry.changes, entry.details):
            for key, item in pairs.items() if isinstance(pairs, dict) else ():
                if key in UNIT_FIELDS:
                    wanted[UNIT_FIELDS[key]].update(_logged(item))
    for model, ids in wanted.items():
        unit_codes(model, ids)


def kind_of(entry: AuditEntry) -> str | None:
    """The kind of institution holding the learner or enrolment an entry is about: from the
    institution itself, else from the grade it logged (age groups are the centres')."""
    if entry.subject_institution_id is not None:
        kind = institution_kinds([entry.subject_institution_id]).get(entry.subject_institution_id)
        if kind is not None:
            return kind
    grades = [v for v in (entry.changes or {}).get("grade") or [] if v]
    if grades:
        return "cdc" if grades[-1] in CDC_GRADES else "school"
    return None


def entry_words(admin: Any, entry: AuditEntry) -> Words:
    """The words of the record an entry changed, or of the job an event names."""
    model = entry.model or ACTION_RECORDS.get(entry.action)
    kind = kind_of(entry) if len(_views(admin).get(model or "", [])) > 1 else None
    return words(admin, model, kind)


def readable(value: Any, key: str = "", labels: dict[Any, Any] | None = None) -> Any:
    """A logged value as a reader writes it: codes by name, times in Bangkok and dates in BE,
    yes/no, a dash for nothing; secrets hidden, English names marked as English."""
    if value is None or value == "":
        return "–"
    if key.endswith("_hash"):
        return "••••"
    if labels and not isinstance(value, dict | list) and value in labels:
        return str(labels[value])
    if key == "name_en":
        return Markup('<span lang="en">{}</span>').format(value)
    if key == "query":
        return unquote_plus(str(value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, str):
        return _moment(value)
    return str(value)


def _moment(text: str) -> str:
    """An ISO date in BE, an ISO timestamp (stored in UTC) in Bangkok time; other text as is."""
    if len(text) < 10 or not (text[:4].isdigit() and text[4] == "-" and text[7] == "-"):
        return text
    try:
        moment = datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)
    except ValueError:
        return text
    return be_date(moment)


def _job_title(text: Any, values: Any) -> Any:
    """A job's title in the reader's language: it is stored as an English message and its
    values (older jobs: as text translated for their owner)."""
    if isinstance(values, str) and values.startswith("{"):
        values = _python_dict(values)  # entries logged before JSON values were kept as JSON
    if not (text and isinstance(values, dict)):
        return text
    try:
        return title_in_language(text, values)
    except (KeyError, ValueError, TypeError):  # values that do not fit the sentence
        return text


def _python_dict(text: str) -> dict[str, Any] | None:
    """A dict written as Python text ("{'file': 'a.csv'}"), read as a literal, never run."""
    try:
        found = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return found if isinstance(found, dict) else None


def lines(admin: Any, entry: AuditEntry, column: str = "changes",
          hidden: Iterable[str] = (), as_text: bool = False) -> list[Markup] | list[str]:
    """Each field of an entry's changes (old → new) or details (value), under its label:
    HTML for a page, or `as_text` plain text for a spreadsheet cell."""
    pairs = getattr(entry, column) or {}
    if not isinstance(pairs, dict):
        return []
    found = entry_words(admin, entry)
    model = entry.model or ACTION_RECORDS.get(entry.action) or ""
    contacts = has_request_context() and may_see_contacts(current_user)
    out = []
    for key, item in pairs.items():
        if key in HIDDEN or f"{model}.{key}" in HIDDEN or key in hidden:
            continue
        if key in CONTACT_FIELDS or key in APPLICATION_CONTACTS:  # as the lists show them
            item = ([mask_contact(key, v, contacts) for v in item] if isinstance(item, list)
                    else mask_contact(key, item, contacts))
        label, codes = found.fields.get(key, key), found.values.get(key)
        if key in UNIT_FIELDS:
            codes = unit_codes(UNIT_FIELDS[key], _logged(item))
        if key == "model":
            item = words(admin, item).name
        elif model == "Job" and key == "title" and isinstance(item, list):
            item = [_job_title(t, v) for t, v in zip(
                item, pairs.get("title_values") or [None, None], strict=False)]
        if column == "changes" and isinstance(item, list) and len(item) == 2:
            shown = [readable(item[0], key, codes), readable(item[1], key, codes)]
            line = "<strong>{}</strong>: {} → {}"
        else:
            shown, line = [readable(item, key, codes)], "<strong>{}</strong>: {}"
        if as_text:
            plain = [v.striptags() if isinstance(v, Markup) else str(v) for v in shown]
            out.append(line.replace("<strong>", "").replace("</strong>", "").format(
                label, *plain))
        else:
            out.append(Markup(line).format(label, *shown))
    return out


def concerning(admin: Any, entry: AuditEntry) -> str:
    """What an entry is about in the reader's language, from what it stored: codes in the
    record's logged name by their labels, "kind:key" and page names of events by their words.
    Old entries read the same, since their stored text has the same shape."""
    target = entry.target or ""
    model = entry.model or ACTION_RECORDS.get(entry.action) or ""
    if model in TARGET_NOTHING:
        target = TARGET_NOTHING[model].sub("", target)
    shape = TARGET_SHAPES.get(model)
    found = shape.fullmatch(target) if shape else None
    if found:
        return _named_codes(found, entry_words(admin, entry).values)
    if re.fullmatch(rf"<{re.escape(model)}\b.*>", target) and model:
        return ""  # a record type with no name of its own: the record columns say it all
    page = TARGET_PAGES.get(target) or (target if entry.action == "export" else None)
    view = _pages(admin).get(page or "")
    if view is not None:
        return str(view.name)
    kind, colon, key = target.partition(":")
    if colon and kind in TARGET_KINDS:
        label, mark = TARGET_KINDS[kind]
        return f"{label} {mark}{key}"
    if colon and key.isdigit() and (kind in _views(admin) or kind in RECORD_NAMES):
        return f"{words(admin, kind).name} #{key}"  # a record by type and number (a reveal)
    return target


def _named_codes(found: re.Match[str], values: dict[str, dict[Any, Any]]) -> str:
    """The matched text with each named code replaced by its label."""
    text, out, at = found.string, [], 0
    for key, code in found.groupdict().items():
        start, end = found.span(key)
        labels = values.get(key) or {}
        label = labels.get(int(code) if code.isdigit() else code, labels.get(code, code))
        out += [text[at:start], str(label)]
        at = end
    return "".join(out) + text[at:]


@cache
def _pages(admin: Any) -> dict[str, Any]:
    """Every page of the admin by endpoint, for downloads that name the page they came from."""
    return {view.endpoint: view for view in admin._views}
