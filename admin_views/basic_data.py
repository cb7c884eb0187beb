"""Institution basic data: CDC staff, rooms, capacity and head; every institution's buildings."""

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from models import Institution, InstitutionKind, db
from models.people import BUILDING_CONDITION_LABELS
from rules.permissions import own_institution_id

from .base import ScopedModelView

LOOKUP = {"fields": ("code", "name"), "page_size": 20, "minimum_input_length": 0}


class _InstitutionOwned(ScopedModelView):
    """An institution user's rows always belong to their own institution; others choose one."""

    form_ajax_refs = {"institution": LOOKUP}
    column_auto_select_related = True

    def record_subject(self, obj: Any) -> str:
        return str(obj.institution)

    def new_record_owner(self) -> str:
        own = own_institution_id(current_user)
        return str(db.session.get(Institution, own)) if own is not None else super(
            ).new_record_owner()

    def _refine(self, form: Any) -> Any:
        if own_institution_id(current_user) is not None:
            del form["institution"]
        return form

    def create_form(self, obj: Any = None) -> Any:
        return self._refine(super().create_form(obj))

    def edit_form(self, obj: Any = None) -> Any:
        return self._refine(super().edit_form(obj))

    def on_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        own = own_institution_id(current_user)
        if own is not None and is_created:
            with db.session.no_autoflush:  # the half-built row must not be flushed yet
                model.institution = db.session.get(Institution, own)


class CentreBasicDataView(_InstitutionOwned):
    """Basic data of child development centres."""

    can_delete = False
    column_list = ("institution", "head_name", "head_phone", "teachers", "assistant_teachers",
                   "caretakers", "other_staff", "classrooms", "capacity")
    column_labels = {
        "institution": _l("Child development centre"), "head_name": _l("Head of centre"),
        "head_phone": _l("Phone"), "email": _l("Email"), "teachers": _l("Teachers"),
        "assistant_teachers": _l("Assistant teachers"), "caretakers": _l("Caretakers"),
        "other_staff": _l("Other staff"), "classrooms": _l("Classrooms"),
        "capacity": _l("Capacity (children)"), "updated_at": _l("Last updated"),
    }
    form_columns = ("institution", "head_name", "head_phone", "email", "teachers",
                    "assistant_teachers", "caretakers", "other_staff", "classrooms", "capacity")
    form_ajax_refs = {"institution": LOOKUP}

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        """A centre adds its basic data once; the rule refuses it for any other institution."""
        own = own_institution_id(current_user)
        if own is not None:
            mine = db.session.get(Institution, own)
            exists = db.session.scalar(select(self.model.id).where(
                self.model.institution_id == own))
            return mine is not None and mine.kind == InstitutionKind.CDC and exists is None
        return super().can_create


class BuildingView(_InstitutionOwned):
    """Buildings (อาคารสถานที่) of every institution."""

    column_list = ("institution", "name", "use", "built_year", "rooms", "condition")
    column_labels = {
        "institution": _l("Institution"), "name": _l("Building"), "use": _l("Use"),
        "built_year": _l("Year built (BE)"), "rooms": _l("Rooms"), "condition": _l("Condition"),
    }
    form_columns = ("institution", "name", "use", "built_year", "rooms", "condition")
    # One list of labels for the form, the list, details, exports and the filter's options.
    form_choices = {"condition": list(BUILDING_CONDITION_LABELS.items())}
    column_choices = form_choices
    column_filters = ("condition",)

    def record_subject(self, obj: Any) -> str:
        return _("Building %(building)s of %(institution)s", building=obj.name,
                 institution=obj.institution)
