"""The per-row parts of a list page, built once per page and filled in with each row's key."""

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


class RowLinksMixin:
    """View and edit icons from one URL per page: `url_for` for every row and icon is a fifth
    of a 50-row list page. Any other row action renders as Flask-Admin draws it."""

    @pass_context
    def row_links(self, context: Context, row: Any) -> Markup:
        """The row's action icons, in the order of the page's `list_row_actions`."""
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
