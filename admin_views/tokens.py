"""The department issues and revokes the agencies' read-API tokens; only hashes are kept."""

import secrets
from typing import Any

from flask import flash
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

import clock
from models import db
from models.tokens import AgencyToken
from web.api import token_hash

from .base import ScopedModelView


class AgencyTokenView(ScopedModelView):
    """Issue: name the agency and save; the token is shown once. Revoke: the list action."""

    can_edit = False
    can_delete = False
    can_view_details = False
    column_list = ("agency", "created_at", "created_by", "last_used_at", "revoked_at",
                   "revoked_by")
    column_default_sort = [("id", True)]
    column_labels = {"agency": _l("Agency"), "created_at": _l("Issued on"),
                     "created_by": _l("Issued by"), "last_used_at": _l("Last used on"),
                     "revoked_at": _l("Revoked on"), "revoked_by": _l("Revoked by")}
    form_columns = ("agency",)

    def on_model_change(self, form: Any, model: AgencyToken, is_created: bool) -> None:
        if is_created:
            token = secrets.token_urlsafe(32)
            model.token_hash = token_hash(token)
            model.created_at, model.created_by = clock.now(), current_user.login
            flash(_("Give this token to %(agency)s now; it is not shown again: %(token)s",
                    agency=model.agency, token=token), "success")

    @action("revoke", _l("Revoke"), _l("Revoke the chosen tokens? The agencies lose access."))
    def revoke(self, ids: list[str]) -> None:
        tokens = db.session.scalars(select(AgencyToken).where(
            AgencyToken.id.in_([int(i) for i in ids]), AgencyToken.revoked_at.is_(None)))
        for token in tokens:
            token.revoked_at, token.revoked_by = clock.now(), current_user.login
        db.session.commit()
        flash(_("The tokens are revoked."), "success")
