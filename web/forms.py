"""The base of every form in LEC, admin and public alike."""

from typing import Any

from flask_wtf import FlaskForm

from i18n import wtforms_translations


class Form(FlaskForm):
    """Base of every form: CSRF from Flask-WTF and WTForms' messages in Thai."""

    class Meta:
        def get_translations(self, form: FlaskForm) -> object:
            return wtforms_translations

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Flask-Admin's unique-value check compares with the edited record kept here (its own
        # BaseForm sets it); without it an edit that keeps a unique code is refused.
        self._obj = kwargs.get("obj", args[1] if len(args) > 1 else None)
