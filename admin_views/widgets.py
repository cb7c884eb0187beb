"""Inline-edit widgets whose choice lists are built once per page instead of once per row."""

from typing import Any

from flask import g, has_request_context
from flask_admin.model.widgets import XEditableWidget
from markupsafe import escape
from wtforms import Field

#: Field types whose x-editable `data-source` (every choice, translated, as JSON) is the same
#: for every row of a list.
CHOICE_FIELDS = frozenset({"SelectField", "Select2Field"})


class ListEditWidget(XEditableWidget):
    """x-editable as Flask-Admin renders it; a select's choices are translated and turned into
    JSON once per request (a 50-row list otherwise does it 50 times per column)."""

    def get_kwargs(self, field: Field, kwargs: dict[str, Any]) -> dict[str, Any]:
        if field.type not in CHOICE_FIELDS or not has_request_context():
            return super().get_kwargs(field, kwargs)
        memo = g.setdefault("lec_list_edit_sources", {})
        key = (field.short_name, getattr(field, "allow_blank", False),
               tuple(value for value, *_label in field.choices or ()))
        if key not in memo:
            # Escaped once too: html_params passes Markup through instead of escaping a long
            # JSON again for every cell.
            memo[key] = {k: escape(v) if isinstance(v, str) else v
                         for k, v in super().get_kwargs(field, {}).items()}
        kwargs.update(memo[key])
        return kwargs
