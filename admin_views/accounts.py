"""Account screens: a level manages the accounts of the units below it."""

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField
from wtforms.validators import Length, Optional

from models import User
from models.accounts import LEVEL_LABELS
from rules.passwords import set_password
from rules.permissions import levels_granted

from .base import ScopedModelView, labelled
from .geography import province_choices
from .organisations import LOOKUP

LEVEL_CHOICES = [(str(k), v) for k, v in LEVEL_LABELS.items()]


class UserView(ScopedModelView):
    # An account is deactivated, never deleted (rules/accounts.py says why).
    can_delete = False
    column_list = ("login", "name", "level", "province_code", "lao", "institution", "active",
                   "must_change_password")
    column_searchable_list = ("login", "name")
    column_filters = ("level", "active", "province_code")
    column_labels = {
        "login": _l("Login"), "name": _l("Name"), "level": _l("Level"),
        "province_code": _l("Province"), "lao": _l("LAO"), "institution": _l("Institution"),
        "active": _l("Active"), "must_change_password": _l("Must change password"),
        "new_password": _l("New one-time password"),
    }
    column_formatters = {"level": labelled(LEVEL_CHOICES),
                         "province_code": labelled(province_choices())}
    column_formatters_detail = column_formatters
    # The province shows once, by its code (the account's `province` is the same row).
    column_details_exclude_list = ("password_hash", "session_version", "province")
    form_columns = ("login", "name", "level", "province_code", "lao", "institution", "active",
                    "new_password")
    form_choices = {"level": LEVEL_CHOICES}
    # The filters pick from the levels and provinces the list names.
    column_choices = {**form_choices, "province_code": province_choices()}
    form_extra_fields = {
        "new_password": PasswordField(_l("New one-time password"),
                                      validators=[Optional(), Length(min=10, max=200)]),
    }
    form_ajax_refs = {"lao": LOOKUP, "institution": LOOKUP}
    editable_columns = ("active",)

    def record_subject(self, obj: User) -> str:
        return _("account %(login)s of %(unit)s", login=obj.login, unit=obj.unit_label)

    def _offer_granted_levels(self, form: Any) -> Any:
        """The level list offers only the levels the user may give an account; another level
        posted anyway is refused by the rules, whose message says why (not "invalid choice")."""
        granted = levels_granted(current_user)
        form.level.choices = [(k, v) for k, v in LEVEL_CHOICES if k in granted]
        form.level.validate_choice = False
        return form

    def create_form(self, obj: Any = None) -> Any:
        return self._offer_granted_levels(super().create_form(obj))

    def edit_form(self, obj: Any = None) -> Any:
        return self._offer_granted_levels(super().edit_form(obj))

    def on_model_change(self, form: Any, model: User, is_created: bool) -> None:
        # The list's inline editor of Active posts a form without the password field.
        new_password = getattr(form, "new_password", None)
        if new_password is not None and new_password.data:
            set_password(model, new_password.data)
            model.must_change_password = True
