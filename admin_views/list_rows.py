"""The rows of a list page in Python: Flask-Admin's template draws them cell by cell, and with
its macro calls that was most of a 50-row page's time."""

from typing import Any
from urllib.parse import quote

from flask import g
from flask_admin.model.template import EditRowAction, ViewRowAction
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

#: A key no real row has, put where the row's key goes and replaced per row.
_KEY = "\x00"

#: The icon of each plain row link, as Flask-Admin's row_actions.html draws it.
_LINKS = {ViewRowAction: (".details_view", "fa fa-eye glyphicon glyphicon-eye-open"),
          EditRowAction: (".edit_view", "fa fa-pencil glyphicon glyphicon-pencil")}


class ListRowsMixin:
    """A list row's cells and action icons, the same HTML as Flask-Admin's list template."""

    @pass_context
    def row_cells(self, context: Context, row: Any) -> Markup:
        """The row's column cells: the value, or its inline editor where the user may edit."""
        key = self.get_pk_value(row)  # type: ignore[attr-defined]
        form = context["list_forms"].get(key)
        cells = []
        for column, _name in context["list_columns"]:
            value = self.get_list_value(context, row, column)  # type: ignore[attr-defined]
            if form is not None and self.is_editable(column):  # type: ignore[attr-defined]
                token = form.csrf_token._value() if getattr(form, "csrf_token", None) else ""
                value = form[column](pk=key, display_value=value, csrf=token)
            cells.append(Markup('<td class="col-{}">{}</td>').format(column, value))
        return Markup("").join(cells)

    @pass_context
    def row_links(self, context: Context, row: Any) -> Markup:
        """The row's action icons in the order of `list_row_actions`: view and edit from one
        URL per page, as `url_for` for every row and icon was a fifth of the page."""
        key = self.get_pk_value(row)  # type: ignore[attr-defined]
        made = g.setdefault("lec_row_links", {})
        shown = []
        for action in context["list_row_actions"]:
            link = _LINKS.get(type(action))
            if link is None:
                shown.append(action.render_ctx(context, key, row))
                continue
            if (self, action) not in made:
                url = self.get_url(link[0], id=_KEY, url=context["return_url"])  # type: ignore[attr-defined]
                made[self, action] = (*url.split(quote(_KEY), 1), escape(action.title or ""),
                                      link[1])
            before, after, title, icon = made[self, action]
            shown.append(Markup('<a class="icon" href="{}{}{}" title="{}"><span class="{}">'
                                '</span></a>').format(before, quote(str(key), safe=""), after,
                                                      title, icon))
        return Markup("\n").join(shown)
