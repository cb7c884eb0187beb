"""The rows of a list page in Python: Flask-Admin's template draws them cell by cell, and with
its macro calls, per-row forms and `Markup.format` that was most of a 50-row page's time."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import g, has_request_context
from flask_admin.model.template import EditRowAction, ViewRowAction
from flask_admin.tools import rec_getattr
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from .widgets import SAME_IN_EVERY_ROW, ListEditWidget, editor_tag

#: A key no real row has, put where the row's key goes and replaced per row (a number, so that
#: routes taking `<int:id>` build it too).
_KEY = 918_273_645_546_372_819

#: The icon of each plain row link, as Flask-Admin's row_actions.html draws it.
_LINKS = {ViewRowAction: (".details_view", "fa fa-eye glyphicon glyphicon-eye-open"),
          EditRowAction: (".edit_view", "fa fa-pencil glyphicon glyphicon-pencil")}

#: Not a type formatter: the value is shown as it is.
_PLAIN = object()


class PageFormatter:
    """A list column's formatter whose per-page part (labels in the page's language, what the
    user may see) is worked out once per page: `for_page(view, name)` gives the function of a
    row. Called as Flask-Admin calls a formatter, it does both at once."""

    def __init__(self, for_page: Callable[[Any, str], Callable[[Any], Any]]) -> None:
        self.for_page = for_page

    def __call__(self, view: Any, context: Any, model: Any, name: str) -> Any:
        return self.for_page(view, name)(model)


class ListRowsMixin:
    """A list row as Flask-Admin's list template draws it (the same HTML), in one call."""

    def more_row_links(self) -> Callable[[Any], str] | None:
        """Icons the view adds after view and edit: made once per page, the function gives a
        row's icons as HTML (see `row_icon`)."""
        return None

    @pass_context
    def list_row(self, context: Context, row: Any) -> Markup:
        """The row's checkbox, action icons and cells."""
        plan = self._page_plan(context)
        key = str(self.get_pk_value(row))  # type: ignore[attr-defined]
        safe_key = escape(key)
        parts = []
        if plan.checkbox is not None:
            parts.append(f'<td><input type="checkbox" name="rowid" class="action-checkbox" '
                         f'value="{safe_key}" title="{plan.checkbox}" /></td>')
        if plan.links is not None:
            parts.append(f'<td class="list-buttons-column">'
                         f'{plan.row_links(context, key, row)}</td>')
        form = context["list_forms"].get(key) if context["list_forms"] else None
        for column, shown, editor in plan.columns:
            value = shown(row)
            if form is not None and editor is not None:
                value = editor(form, column, safe_key, row, value)
            parts.append(f'<td class="col-{column}">{escape(value)}</td>')
        return Markup("".join(parts))

    def list_form(self, obj: Any = None) -> Any:
        """On a list page the rows share one inline-edit form when their editors are drawn from
        the row itself (widgets.SAME_IN_EVERY_ROW): Flask-Admin builds one form per row."""
        if obj is None or not has_request_context() or not self._editors_from_row():
            return super().list_form(obj)  # type: ignore[misc]
        name = f"lec_list_form_{self.endpoint}"  # type: ignore[attr-defined]
        if name not in g:
            setattr(g, name, super().list_form())  # type: ignore[misc]
        return getattr(g, name)

    # -- built once per page -----------------------------------------------------------------

    def _editors_from_row(self) -> bool:
        """Whether every inline editor of the view is drawn from the row, with no row form."""
        columns = self.editable_columns  # type: ignore[attr-defined]
        if not columns:
            return True
        if "_lec_editor_types" not in self.__dict__:
            form = self._list_form_class()  # type: ignore[attr-defined]
            self.__dict__["_lec_editor_types"] = {form[column].type for column in columns}
        return self.__dict__["_lec_editor_types"] <= SAME_IN_EVERY_ROW

    def _page_plan(self, context: Context) -> "_PagePlan":
        """What every row of this page shares, worked out for its first row."""
        plans = g.setdefault("lec_page_plans", {})
        if self not in plans:
            forms = context["list_forms"]
            shared = next(iter(forms.values())) if forms and self._editors_from_row() else None
            columns = [(column, self._shown(context, column),
                        (_row_form_editor if shared is None else _shared_editor(shared, column))
                        if self.is_editable(column) else None)  # type: ignore[attr-defined]
                       for column, _name in context["list_columns"]]
            links = None
            if self.column_display_actions:  # type: ignore[attr-defined]
                links = [action if (link := _LINKS.get(type(action))) is None
                         else self.row_icon(link[0], action.title or "", link[1],
                                            url=context["return_url"])
                         for action in context["list_row_actions"]]
            checkbox = escape(context["_gettext"]("Select record")) if context["actions"] else None
            plans[self] = _PagePlan(columns, links, self.more_row_links(), checkbox)
        return plans[self]

    def _shown(self, context: Context, column: str) -> Callable[[Any], Any]:
        """The value of `column` in a row as Flask-Admin's `get_list_value` gives it: the
        column's formatter, or the choice label, or the type formatter (looked up per type)."""
        formatter = self.column_formatters.get(column)  # type: ignore[attr-defined]
        per_row = None
        if isinstance(formatter, PageFormatter):
            per_row, formatter = formatter.for_page(self, column), None
        choices = self._column_choices_map.get(column)  # type: ignore[attr-defined]
        by_type = self.column_type_formatters  # type: ignore[attr-defined]
        found: dict[type, Any] = {}

        def shown(row: Any) -> Any:
            value = (per_row(row) if per_row is not None
                     else formatter(self, context, row, column) if formatter is not None
                     else rec_getattr(row, column))
            if choices:
                return choices.get(value) or value
            kind = type(value)
            if kind not in found:
                found[kind] = next((f for t, f in by_type.items() if isinstance(value, t)),
                                   _PLAIN)
            type_formatter = found[kind]
            return value if type_formatter is _PLAIN else type_formatter(self, value, column)

        return shown

    def row_icon(self, endpoint: str, title: str, icon: str, **args: Any) -> tuple[str, str]:
        """A row icon linking to `endpoint`: its HTML before and after the row's key, made once
        per page (`url_for` for every row and icon was a fifth of the page)."""
        made = g.setdefault("lec_row_links", {})
        if (self, endpoint) not in made:
            url = self.get_url(endpoint, id=_KEY, **args)  # type: ignore[attr-defined]
            before, after = (escape(part) for part in url.split(str(_KEY), 1))
            made[self, endpoint] = (f'<a class="icon" href="{before}',
                                    f'{after}" title="{escape(title)}"><span class="{icon}">'
                                    f'</span></a>')
        return made[self, endpoint]


@dataclass
class _PagePlan:
    """A list page's columns (name, value, editor), its row icons and checkbox title."""

    columns: list[tuple[str, Callable[[Any], Any], Any]]
    links: list[Any] | None
    more: Callable[[Any], str] | None
    checkbox: str | None

    def row_links(self, context: Context, key: str, row: Any) -> str:
        """The row's action icons in the order of `list_row_actions`, then the view's own."""
        quoted = quote(key, safe="")
        shown = [part[0] + quoted + part[1] if isinstance(part, tuple)
                 else str(part.render_ctx(context, key, row)) for part in self.links or ()]
        if self.more is not None and (more := self.more(row)):
            shown.append(more)
        return "\n".join(shown)


def _shared_editor(form: Any, column: str) -> Callable[..., Any]:
    """The inline editor of `column` on the page's one shared form, its opening tag made once:
    each row adds its key and its own value."""
    field = form[column]
    if not isinstance(field.widget, ListEditWidget):
        return _row_form_editor
    opening, value_of = field.widget.opening(field, _csrf(form)), field.widget.value_of

    def editor(_form: Any, _column: str, key: str, row: Any, shown: Any) -> Markup:
        return editor_tag(opening, key, value_of(field, rec_getattr(row, column), shown), shown)

    return editor


def _row_form_editor(form: Any, column: str, key: str, row: Any, shown: Any) -> Markup:
    """The inline editor as Flask-Admin draws it, from the row's own form."""
    return form[column](pk=key, display_value=shown, csrf=_csrf(form))


def _csrf(form: Any) -> str:
    """The CSRF token the inline editors post, the same for every row of the page."""
    token = getattr(form, "csrf_token", None)
    if not token:
        return ""
    if "lec_list_csrf" not in g:
        g.lec_list_csrf = token._value()
    return g.lec_list_csrf

