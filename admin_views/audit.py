"""The audit log, read-only, for the levels above; and the logged reveal of a national ID."""

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, jsonify, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from i18n import be_date
from models import AuditEntry, db
from models.accounts import LEVEL_LABELS
from models.organisations import AFFILIATION_LABELS, INSTITUTION_KIND_LABELS, LAO_TYPE_LABELS
from models.people import GENDER_LABELS, GRADE_LABELS, REMOVAL_REASON_LABELS, STATUS_LABELS
from models.rounds import DATABASE_LABELS, SPOT_OUTCOME_LABELS
from rules.audit import record
from rules.identity import mask_national_id
from rules.permissions import may_open, may_reveal_id
from rules.scope import PATHS, subtree

from .base import PageView, ScopedModelView

ACTION_LABELS = {
    "create": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"),
    "sign_in": _l("Signed in"), "sign_in_failed": _l("Failed sign-in"),
    "sign_in_throttled": _l("Sign-in refused: too many failures"), "sign_out": _l("Signed out"),
    "forbidden": _l("Refused: outside the account's rights"),
    "password_changed": _l("Password changed"),
    "password_change_refused": _l("Password change refused"),
    "credential_issue": _l("Credential card issued"), "reveal": _l("National ID revealed"),
    "export": _l("Export"), "confirm": _l("Confirmation"), "cancel": _l("Confirmation cancelled"),
    "not_found": _l("Page not found"), "csrf_refused": _l("Form refused: expired or forged"),
    "job_submit": _l("Job started"), "job_rerun": _l("Job started again"),
    "job_download": _l("Job result downloaded"),
}


#: Words of the details column that no entity view labels.
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
    "accepts_online_applications": _l("Takes online applications"), "kind": _l("Kind"),
    "affiliation": _l("Affiliation"), "name": _l("Name"), "code": _l("Code"),
    "login": _l("Login"), "active": _l("Active"), "grade": _l("Grade"), "gender": _l("Gender"),
    "status": _l("Status"), "outcome": _l("Outcome"), "lao_type": _l("LAO type"),
    "name_th": _l("Thai name"), "name_en": _l("English name"),
}
#: Stored codes shown by their Thai names, per field.
VALUE_LABELS: dict[str, dict[Any, Any]] = {
    "level": LEVEL_LABELS, "account_level": LEVEL_LABELS, "kind": INSTITUTION_KIND_LABELS,
    "affiliation": AFFILIATION_LABELS, "database": DATABASE_LABELS, "grade": GRADE_LABELS,
    "gender": GENDER_LABELS, "status": STATUS_LABELS, "outcome": SPOT_OUTCOME_LABELS,
    "lao_type": LAO_TYPE_LABELS, "removal_reason": REMOVAL_REASON_LABELS,
}
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def _entity_views(view: Any) -> dict[str, Any]:
    """The model view of each entity, by model class name, for its Thai name and labels."""
    return {v.model.__name__: v for v in view.admin._views if isinstance(v, ScopedModelView)}


def _model_name(view: Any, context: Any, model: AuditEntry, name: str) -> str:
    entity = _entity_views(view).get(model.model or "")
    return str(entity.name) if entity is not None else (model.model or "")


def _readable(value: Any, key: str = "") -> Any:
    """A logged value as a reader writes it: codes by name, dates in BE, yes/no, a dash for
    nothing; secrets hidden, English names marked as English."""
    if value is None or value == "":
        return "–"
    if "password" in key:
        return "••••"
    labels = VALUE_LABELS.get(key, {})
    if value in labels:
        return str(labels[value])
    if key == "name_en":
        return Markup('<span lang="en">{}</span>').format(value)
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    text = str(value)
    if match := ISO_DATE.match(text):
        year, month, day = (int(g) for g in match.groups())
        try:
            return be_date(date(year, month, day)) + text[10:16].replace("T", " ")
        except ValueError:
            return text
    return text


def _changes(view: Any, context: Any, model: AuditEntry, name: str) -> Markup:
    """Old → new per field, under the field's Thai label; extra details as label: value."""
    value = getattr(model, name)
    if not value:
        return Markup("")
    entity = _entity_views(view).get(model.model or "")
    labels = {**DETAIL_LABELS, **(dict(entity.column_labels or {}) if entity else {})}
    items = []
    for key, item in value.items() if isinstance(value, dict) else []:
        label = labels.get(key, key)
        if isinstance(item, list) and len(item) == 2 and name == "changes":
            text = Markup("<strong>{}</strong>: {} → {}").format(
                label, _readable(item[0], key), _readable(item[1], key))
        else:
            text = Markup("<strong>{}</strong>: {}").format(label, _readable(item, key))
        items.append(Markup("<li>{}</li>").format(text))
    return Markup("<ul class='list-unstyled small mb-0'>{}</ul>").format(Markup("").join(items))


class AuditView(ScopedModelView):
    """Nobody adds, edits or deletes here; rules.audit also refuses it below the UI."""

    can_view_details = True
    simple_list_pager = True  # the log grows without bound: no COUNT over it
    column_default_sort = ("at", True)
    column_list = ("at", "action", "actor_login", "ip", "model", "object_id", "target",
                   "changes", "details")
    column_filters = ("action", "actor_login", "model", "object_id", "at")
    column_labels = {
        "at": _l("When"), "action": _l("Event"), "actor_login": _l("By"), "ip": _l("From"),
        "model": _l("Record type"), "object_id": _l("Record"), "target": _l("Concerning"),
        "changes": _l("Old and new values"), "details": _l("Details"),
        "actor_id": _l("Account (number in the system)"),
        "province_code": _l("Province of the account"),
        "lao_id": _l("LAO of the account (number in the system)"),
        "institution_id": _l("Institution of the account (number in the system)"),
        "subject_institution_id": _l("Institution of the record (number in the system)"),
    }
    column_formatters = {
        "action": lambda v, c, m, n: ACTION_LABELS.get(m.action, m.action),
        "model": _model_name, "changes": _changes, "details": _changes,
    }
    column_formatters_detail = column_formatters
    action_disallowed_list = ("delete",)

    def entries_of(self, model: str, object_id: str) -> str:
        """The log narrowed to one record, through the list's own "equals" filters, so the
        reader sees (and can clear) the filter as any other."""
        wanted = {"model": model, "object_id": object_id}
        args = {}
        for arg, (_index, flt) in (self._filter_args or {}).items():
            key = getattr(flt.column, "key", None)
            if isinstance(flt, FilterEqual) and key in wanted:
                args[f"flt{len(args)}_{arg}"] = wanted.pop(key)
        return url_for(f"{self.endpoint}.index_view", **args)

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return False

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return False

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return False


#: The reveal button's word (outside the f-string below, where pybabel would not find it).
SHOW_WHOLE_ID = _l("Show the whole ID")


def id_with_reveal(model: type, key: Any, national_id: str | None) -> Markup:
    """A national ID as the user may read it; a masked one gets a button that asks the logged
    reveal below for the whole ID of this one record."""
    return ids_with_reveal(model)(key, national_id)


def ids_with_reveal(model: type) -> Callable[[Any, str | None], Markup]:
    """`id_with_reveal` for the records of one page: what the user may see is asked once."""
    if may_reveal_id(current_user):
        return lambda key, national_id: escape(national_id or "")
    if not may_open(current_user, "reveal"):
        return lambda key, national_id: Markup(_masked_id(national_id))
    before = ('<button type="button" class="btn btn-link btn-sm p-0 lec-reveal d-print-none" '
              f'data-url="{escape(url_for("reveal.index"))}" '
              f'data-model="{escape(model.__name__)}" data-id="')
    after = f'">{escape(SHOW_WHOLE_ID)}</button>'
    return lambda key, national_id: Markup(
        f"{_masked_id(national_id)} {before}{escape(key)}{after}" if national_id else "")


def _masked_id(national_id: str | None) -> str:
    """The masked ID as HTML, or "" for a learner without one."""
    if not national_id:
        return ""
    return f'<span class="lec-id">{escape(mask_national_id(national_id))}</span>'


class RevealView(PageView):
    """Show one record's full national ID to someone whose work needs it, and log that."""

    @expose("/", methods=("POST",))
    def index(self) -> Response:
        """POST model=<Model>&id=<pk>: the full value as JSON, for rows inside the subtree."""
        models = {m.__name__: m for m in PATHS}
        model = models.get(request.form.get("model", ""))
        ident = request.form.get("id", "")
        if model is None or "national_id" not in model.__table__.c or not ident.isdigit():
            abort(404)
        pk = model.__mapper__.primary_key[0]
        row = db.session.execute(
            db.select(model.national_id).where(pk == int(ident), subtree(model, current_user))
        ).first()
        if row is None:
            abort(404)
        record("reveal", f"{model.__name__}:{ident}", model=model.__name__, object_id=ident)
        db.session.commit()
        response = jsonify({"national_id": row[0]})
        response.headers["Cache-Control"] = "no-store"
        return response
