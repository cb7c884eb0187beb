"""Inline-edit widgets built once per column of a list page, not once per cell."""

from typing import Any

from flask import g, has_request_context
from flask_admin.model.widgets import XEditableWidget
from flask_babel import get_locale
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
            tag, source = self._in_language(field, column[3])
            if source is not None:
                tag = tag.replace(_SOURCE_SLOT, _source_name(source))
            made[column] = tag.replace(_CSRF_SLOT, escape(csrf))
        return made[column]

    def _in_language(self, field: Field, choices: tuple[Any, ...]) -> tuple[str, str | None]:
        """The tag with slots for the page's CSRF token and choice list, and the choices as
        JSON: made once per column and language, as only the token changes between pages."""
        made = self.__dict__.setdefault("_lec_openings", {})
        key = (field.name, field.type, choices, str(get_locale()))
        if key not in made:
            attributes = super().get_kwargs(field, {
                "data-role": "x-editable", "data-url": "./ajax/update/", "id": field.id,
                "name": field.name, "href": "#", "data-csrf": _CSRF_SLOT})
            attributes.pop("data-value", None)
            source = attributes.pop("data-source", None)  # a select's choices, or a yes/no's
            if source is not None:
                attributes["data-lec-source"] = _SOURCE_SLOT
            made[key] = (f"<a {html_params(**attributes)} data-pk=\"", source)
        return made[key]


#: Where an opening tag made once per language takes its page's CSRF token and choice list.
_CSRF_SLOT, _SOURCE_SLOT = "\x00csrf\x00", "\x00source\x00"


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
