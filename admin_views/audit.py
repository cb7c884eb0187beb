"""The audit log, read-only, for the levels above; and the logged reveal of a national ID."""

import json
from typing import Any

from flask import abort, jsonify, request
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from models import AuditEntry, Level, db
from rules.audit import record
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
}


def _changes(view: Any, context: Any, model: AuditEntry, name: str) -> Markup:
    value = getattr(model, name)
    if not value:
        return Markup("")
    return Markup("<code class='small'>{}</code>").format(json.dumps(value, ensure_ascii=False))


class AuditView(ScopedModelView):
    """Nobody adds, edits or deletes here; rules.audit also refuses it below the UI."""

    levels = frozenset({Level.DEPARTMENT, Level.PROVINCE, Level.LAO})
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
    }
    column_formatters = {
        "action": lambda v, c, m, n: ACTION_LABELS.get(m.action, m.action),
        "changes": _changes, "details": _changes,
    }
    column_formatters_detail = column_formatters
    action_disallowed_list = ("delete",)

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return False

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return False

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return False


class RevealView(PageView):
    """Show one record's full national ID to someone whose work needs it, and log that."""

    def is_visible(self) -> bool:
        return False

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
