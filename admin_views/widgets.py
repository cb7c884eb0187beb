"""Inline-edit widgets built once per column of a list page, not once per cell."""

from typing import Any

from flask import g, has_request_context
from flask_admin.model.widgets import XEditableWidget
from markupsafe import Markup, escape
from wtforms import Field
from wtforms.widgets import html_params

#: Field types whose x-editable `data-source` (every choice, translated, as JSON) is the same
#: for every row of a list.
CHOICE_FIELDS = frozenset({"SelectField", "Select2Field"})
#: Field types whose attributes, but for the row's key and value, are the same in every row.
SAME_IN_EVERY_ROW = CHOICE_FIELDS | {"StringField", "TextAreaField", "IntegerField",
                                     "FloatField", "DecimalField", "BooleanField"}


class ListEditWidget(XEditableWidget):
    """x-editable as Flask-Admin renders it, with two changes for speed. A cell's attributes
    but its key and value are escaped once per column. A select names its choice list
    (`data-lec-source`) instead of carrying it, and opens on the row's own value:
    static/lec-list.js puts the list back before x-editable starts."""

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        if field.type not in SAME_IN_EVERY_ROW or not has_request_context():
            return super().__call__(field, **kwargs)
        return self.cell(field, str(kwargs["pk"]), field.data, kwargs.get("display_value", ""),
                         kwargs.get("csrf", ""))

    def cell(self, field: Field, key: str, value: Any, display: Any, csrf: str) -> Markup:
        """The editor of one row: `value` is the row's own (a choice's code), `display` what
        the cell shows."""
        return editor_tag(self.opening(field, csrf), escape(key),
                          self.value_of(field, value, display), display)

    def value_of(self, field: Field, value: Any, display: Any) -> Any:
        """What x-editable starts from: a choice's code, "1" or "" for yes/no, else the text."""
        if field.type in CHOICE_FIELDS:
            return "" if value is None else value
        if field.type == "BooleanField":
            return "1" if value else ""
        return display

    def opening(self, field: Field, csrf: str) -> str:
        """The editor's tag up to its row key, escaped once per column and page."""
        made = g.setdefault("lec_list_edit_cells", {})
        column = (field.name, field.type, csrf,
                  tuple(choice[0] for choice in getattr(field, "choices", None) or ()))
        if column not in made:
            attributes = super().get_kwargs(field, {
                "data-role": "x-editable", "data-url": "./ajax/update/", "id": field.id,
                "name": field.name, "href": "#", "data-csrf": csrf})
            attributes.pop("data-value", None)
            if "data-source" in attributes:  # a select's choices, or a yes/no's two
                attributes["data-lec-source"] = _source_name(attributes.pop("data-source"))
            made[column] = f"<a {html_params(**attributes)} data-pk=\""
        return made[column]


def editor_tag(opening: str, key: str, value: Any, display: Any) -> Markup:
    """An inline editor: its `opening` (see ListEditWidget.opening) closed on the row's
    escaped `key`, the value x-editable starts from and what the cell shows."""
    return Markup(f'{opening}{key}" data-value="{escape(value)}">{escape(display)}</a>')


def _source_name(source: str) -> str:
    """The id of the hidden element holding `source` on this page, added when first seen."""
    sources = g.setdefault("lec_list_edit_sources", {})
    return sources.setdefault(source, f"lec-source-{len(sources)}")


def edit_sources() -> Markup:
    """The choice lists the page's inline editors named, each once, as hidden JSON text."""
    if not has_request_context():
        return Markup("")
    return Markup("").join(
        Markup('<div hidden class="lec-source" id="{}">{}</div>').format(name, source)
        for source, name in g.get("lec_list_edit_sources", {}).items())
