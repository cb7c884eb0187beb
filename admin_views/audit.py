"""The audit log, read-only, for the levels above; and the logged reveal of a national ID."""

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, jsonify, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from models import AuditEntry, db
from rules import RuleViolation
from rules.audit import record
from rules.identity import mask_national_id
from rules.lookups import allow_reveal
from rules.permissions import may_open, may_reveal_id
from rules.scope import PATHS, subtree
from web import security
from web.params import bounded_int

from . import audit_words
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
    "import": _l("Learners imported"), "import_refused": _l("Import refused: problems in the file"),
    "check_by_id": _l("Learner checked by ID"),
    "check_by_id_refused": _l("Check by ID refused: too many checks"),
    "reveal_refused": _l("National ID not revealed: too many reveals"),
    "learner_opened": _l("Learner's record opened"),
}


def _model_name(view: Any, context: Any, model: AuditEntry, name: str) -> str:
    return audit_words.entry_words(view.admin, model).name if model.model else ""


def _concerning(view: Any, context: Any, model: AuditEntry, name: str) -> str:
    return audit_words.concerning(view.admin, model)


def _changes(view: Any, context: Any, model: AuditEntry, name: str) -> Markup:
    """Old → new per field, under the field's label; extra details as label: value."""
    items = audit_words.lines(view.admin, model, name)
    if not items:
        return Markup("")
    return Markup("<ul class='list-unstyled small mb-0'>{}</ul>").format(
        Markup("").join(Markup("<li>{}</li>").format(item) for item in items))


def _changes_text(view: Any, context: Any, model: AuditEntry, name: str) -> str:
    """The same as plain text for a spreadsheet cell, one field after another."""
    return "; ".join(audit_words.lines(view.admin, model, name, as_text=True))


class AuditView(ScopedModelView):
    """Nobody adds, edits or deletes here; rules.audit also refuses it below the UI."""

    can_view_details = True
    simple_list_pager = True  # the log grows without bound: no COUNT over it
    column_default_sort = ("at", True)
    column_list = ("at", "action", "actor_login", "ip", "model", "object_id", "target",
                   "changes", "details")
    # Sorted by time alone, its index: the other columns are filters, and the log is too
    # long to sort by them (and PostgreSQL has no order for the JSON of the values).
    column_sortable_list = ("at",)
    column_filters = ("action", "actor_login", "model", "object_id", "at")
    # The Event filter picks from the events as the list names them, not their stored codes.
    column_choices = {"action": list(ACTION_LABELS.items())}
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
        "model": _model_name, "target": _concerning, "changes": _changes, "details": _changes,
    }
    column_formatters_detail = column_formatters
    column_formatters_export = column_formatters | {"changes": _changes_text,
                                                    "details": _changes_text}
    action_disallowed_list = ("delete",)

    def get_list(self, *args: Any, **kwargs: Any) -> tuple[int | None, list[AuditEntry]]:
        """The page's entries, with the kind of every institution they name and the codes of
        the units they log asked at once."""
        count, entries = super().get_list(*args, **kwargs)
        entries = list(entries)
        audit_words.institution_kinds(e.subject_institution_id for e in entries)
        audit_words.entry_units(entries)
        return count, entries

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
        try:
            key = bounded_int(ident)
        except ValueError:
            abort(404)
        if model is None or "national_id" not in model.__table__.c:
            abort(404)
        pk = model.__mapper__.primary_key[0]
        row = db.session.execute(
            db.select(model.national_id).where(pk == key, subtree(model, current_user))
        ).first()
        if row is None:
            abort(404)
        target = f"{model.__name__}:{ident}"
        try:
            allow_reveal(current_user, security.throttle(current_app), target)
        except RuleViolation as exc:
            db.session.commit()  # the refusal's audit row
            response = jsonify({"detail": str(exc)})
            response.status_code = 429
            return response
        record("reveal", target, model=model.__name__, object_id=ident)
        db.session.commit()
        response = jsonify({"national_id": row[0]})
        response.headers["Cache-Control"] = "no-store"
        return response
