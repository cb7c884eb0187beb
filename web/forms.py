"""The base of every form in LEC, admin and public alike."""

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import DecimalField, Field, FloatField, IntegerField
from wtforms.validators import ValidationError

from i18n import wtforms_translations
from web.params import fits_column


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

    def validate(self, extra_validators: Any = None) -> bool:
        """Every form, admin ones included: a number the database cannot hold is the form's
        own message (an integer beyond 32 bits, an infinite or NaN number), not a 500."""
        too_large = [field for field in self
                     if isinstance(field, IntegerField | FloatField | DecimalField)
                     and field.data is not None and not fits_column(
                         float(field.data) if isinstance(field, DecimalField) else field.data)]
        for field in too_large:
            field.data = None  # nor may a validator (a unique check) send it to the database
        valid = super().validate(extra_validators)
        for field in too_large:
            field.errors = [*field.errors, _("This number is too large.")]
        return valid and not too_large


class RuleCheck:
    """A field checked by the rule's own function (value → problem or None), so a form takes
    and refuses exactly what every other write path does, in the rule's words."""

    def __init__(self, problem: Callable[[str | None], str | None]) -> None:
        self.problem = problem

    def __call__(self, form: FlaskForm, field: Field) -> None:
        """Refuse the field with the rule's message."""
        if (problem := self.problem(field.data)) is not None:
            raise ValidationError(problem)
