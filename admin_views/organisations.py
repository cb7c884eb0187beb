"""Screens for LAOs, institutions, other-affiliation schools and code exceptions."""

from typing import Any

from flask import flash, url_for
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import DataRequired

from models import (
    CodeException,
    Institution,
    Lao,
    db,
)
from models.organisations import (
    AFFILIATION_LABELS,
    CODE_RULE_LABELS,
    INSTITUTION_KIND_LABELS,
    LAO_TYPE_LABELS,
)
from rules.permissions import locked_fields

from .base import ScopedModelView, labelled, primary_key_values
from .geography import province_choices

LAO_TYPE_CHOICES = [(int(k), v) for k, v in LAO_TYPE_LABELS.items()]
KIND_CHOICES = [(str(k), v) for k, v in INSTITUTION_KIND_LABELS.items()]
AFFILIATION_CHOICES = [(str(k), v) for k, v in AFFILIATION_LABELS.items()]

LOOKUP = {"fields": ("code", "name"), "page_size": 20, "minimum_input_length": 0}


class LaoView(ScopedModelView):
    column_list = ("code", "name", "lao_type", "province", "district")
    column_searchable_list = ("code", "name")
    column_filters = ("lao_type", "province_code", "district_code")
    column_default_sort = "code"
    column_labels = {
        "code": _l("LAO code"), "name": _l("Name"), "lao_type": _l("LAO type"),
        "province": _l("Province"), "district": _l("District"), "province_code": _l("Province"),
        "district_code": _l("District"), "phone": _l("Phone"), "email": _l("Email"),
    }
    column_formatters = {"lao_type": labelled(LAO_TYPE_CHOICES)}
    column_formatters_detail = column_formatters
    form_columns = ("code", "name", "lao_type", "province", "district", "phone", "email")
    form_choices = {"lao_type": LAO_TYPE_CHOICES}
    # The filters pick from the types and provinces the list names.
    column_choices = {**form_choices, "province_code": province_choices()}
    form_args = {"lao_type": {"coerce": int}, "province": {"validators": [DataRequired()]}}
    form_ajax_refs = {"province": LOOKUP | {"fields": ("code", "name_th")},
                      "district": LOOKUP | {"fields": ("code", "name_th")}}
    editable_columns = ("code", "name")

    def responsible_url(self, obj: Lao) -> str | None:
        return url_for("confirmation.responsible", lao=obj.id)


class InstitutionView(ScopedModelView):
    column_list = ("code", "name", "kind", "lao", "phone", "active")
    column_searchable_list = ("code", "name")
    column_filters = ("kind", "active", "lao.code")
    column_default_sort = "code"
    column_labels = {
        "code": _l("Institution code"), "name": _l("Name"), "kind": _l("Kind"),
        "lao": _l("LAO"), "lao.code": _l("LAO code"), "subdistrict": _l("Subdistrict"),
        "address": _l("Address"), "phone": _l("Phone"), "email": _l("Email"),
        "active": _l("Active"), "accepts_online_applications": _l("Takes online applications"),
    }
    column_formatters = {"kind": labelled(KIND_CHOICES)}
    column_formatters_detail = column_formatters
    form_columns = ("code", "name", "kind", "lao", "subdistrict", "address", "phone", "email",
                    "active")
    form_choices = {"kind": KIND_CHOICES}
    column_choices = form_choices  # the filter picks from the kinds the list names
    form_args = {"lao": {"validators": [DataRequired()]}}
    form_ajax_refs = {"lao": LOOKUP, "subdistrict": LOOKUP | {"fields": ("code", "name_th")}}
    editable_columns = ("code", "name", "phone", "active")
    column_auto_select_related = True

    def record_subject(self, obj: Institution) -> str:
        return _("%(institution)s, under %(lao)s", institution=obj, lao=obj.lao)

    def responsible_url(self, obj: Institution) -> str | None:
        return url_for("confirmation.responsible", institution=obj.id)

    def edit_form(self, obj: Any = None) -> Any:
        """An institution edits its contact details; its code and LAO are for those above."""
        form = super().edit_form(obj)
        for column in locked_fields(current_user, Institution):
            del form[column.removesuffix("_id")]
        return form

    @action("deactivate", _l("Mark inactive"), _l("Mark the selected institutions inactive?"))
    def action_deactivate(self, ids: list[str]) -> None:
        """Bulk-close institutions (through the ORM, so the rules see every row)."""
        self._set_active(ids, False)

    @action("activate", _l("Mark active"), _l("Mark the selected institutions active?"))
    def action_activate(self, ids: list[str]) -> None:
        self._set_active(ids, True)

    def _set_active(self, ids: list[str], active: bool) -> None:
        rows = self.get_query().filter(
            Institution.id.in_(primary_key_values(Institution, ids))).all()
        for row in rows:
            row.active = active
        try:
            db.session.commit()
        except Exception as exc:
            if not self.handle_view_exception(exc):
                raise
            return
        flash(_("%(count)d institutions updated.", count=len(rows)), "success")


class OtherSchoolView(ScopedModelView):
    column_list = ("code", "name", "affiliation", "lao", "closed")
    column_searchable_list = ("code", "name")
    column_filters = ("affiliation", "closed")
    column_labels = {
        "code": _l("School code"), "name": _l("Name"), "affiliation": _l("Affiliation"),
        "lao": _l("Funding LAO"), "closed": _l("Closed"),
    }
    column_formatters = {"affiliation": labelled(AFFILIATION_CHOICES)}
    column_formatters_detail = column_formatters
    form_columns = ("code", "name", "affiliation", "lao", "closed")
    form_choices = {"affiliation": AFFILIATION_CHOICES}
    column_choices = form_choices  # the filter picks from the affiliations the list names
    form_args = {"lao": {"validators": [DataRequired()]}}
    form_ajax_refs = {"lao": LOOKUP}
    editable_columns = ("name", "closed")

    def record_subject(self, obj: Any) -> str:
        return _("%(institution)s, under %(lao)s", institution=obj, lao=obj.lao)


class CodeExceptionView(ScopedModelView):
    """Department users record, with a reason, each code that may break a rule (SPEC §2)."""

    column_list = ("code", "rule", "reason", "granted_by", "granted_at")
    column_searchable_list = ("code",)
    column_labels = {
        "code": _l("Code"), "rule": _l("Rule waived"), "reason": _l("Reason"),
        "granted_by": _l("Granted by"), "granted_at": _l("Granted at"),
    }
    form_columns = ("code", "rule", "reason")
    form_choices = {"rule": list(CODE_RULE_LABELS.items())}
    can_edit = False

    def on_model_change(self, form: Any, model: CodeException, is_created: bool) -> None:
        model.granted_by = current_user.login
