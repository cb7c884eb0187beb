"""The scoped base view: every admin screen sees and changes only the user's own subtree."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from math import ceil
from typing import Any

from flask import abort, current_app, flash, g, has_request_context, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.babel import ngettext as admin_ngettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.filters import FilterGreater, FilterLike, FilterNotLike, FilterSmaller
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model import typefmt
from flask_admin.model.form import converts
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, desc, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from i18n import be_date, in_language, remembered
from models import Institution, Lao, Level, Province, db
from rules import RuleViolation
from rules.identity import mask_contact
from rules.permissions import (
    may_bulk_edit,
    may_create,
    may_open,
    may_see,
    may_see_contacts,
    may_write,
)
from rules.scope import Unit, subtree
from web.fields import BEDateField
from web.forms import Form
from web.params import bounded_int, fits_column

from . import menu
from .date_filters import FilterConverter, be_year_problem
from .exports import ExportMixin
from .list_rows import ListRowsMixin, PageFormatter
from .widgets import ListEditWidget

#: Lists count at most this many rows and page no deeper; past it the user narrows the list.
COUNT_CAP = 10_000

#: Operations on free text or an order, which a value picked from a list of labels cannot feed.
TYPED_ONLY = (FilterLike, FilterNotLike, FilterGreater, FilterSmaller)

#: Flask-Admin's translations, each word looked up once per request.
ADMIN_WORDS = remembered(admin_gettext)



def yes_no(view: Any, value: bool, name: str) -> Markup:
    """Flask-Admin's tick or dash, with a tooltip in the page's language (the column's label
    and yes or no) instead of its 'active: true'; made once per column and value per page."""
    made = g.setdefault("lec_yes_no", {}) if has_request_context() else {}
    key = (view, name, bool(value))
    if key not in made:
        label = str(view.get_column_name(name))
        title = _("%(field)s: yes", field=label) if value else _("%(field)s: no", field=label)
        glyph, icon = ("ok-circle", "fa-check-circle") if value else ("minus-sign",
                                                                       "fa-minus-circle")
        made[key] = Markup(f'<span class="fa {icon} glyphicon glyphicon-{glyph} icon-{glyph}" '
                           f'title="{escape(title)}"></span>')
    return made[key]


FORMATTERS = dict(typefmt.BASE_FORMATTERS)
FORMATTERS.update({bool: yes_no, date: lambda view, value, name: be_date(value),
                   datetime: lambda view, value, name: be_date(value)})


def contact(view: Any, context: Any, model: Any, name: str) -> str:
    """How to reach a learner's family (a guardian, an address, a parent's application):
    whole for the institution that calls them, masked above it (may_see_contacts)."""
    return mask_contact(name, getattr(model, name), reveal=may_see_contacts(current_user))


def labelled(labels: dict[Any, Any] | list[tuple[Any, Any]]) -> PageFormatter:
    """A list column showing the label of its code, as `labels` (or choices) name it."""
    shown_now = in_language(dict(labels))

    def for_page(view: Any, name: str) -> Callable[[Any], str]:
        shown, path = shown_now(), name.split(".")
        return lambda row: shown.get(reduce(getattr, path, row), "")

    return PageFormatter(for_page)


def signed_in_for(endpoint: str) -> bool:
    """Whether the current user is signed in at a level that may open the page at `endpoint`."""
    return current_user.is_authenticated and may_open(current_user, endpoint)


def refuse(name: str) -> Response:
    """Anonymous visitors go to the sign-in page; signed-in users outside the view get 403."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(403)


def primary_key_values(model: type, values: list[Any]) -> list[Any]:
    """Form values as the primary key's Python type (PostgreSQL won't compare int to text)."""
    pk = model.__mapper__.primary_key[0]
    kind = pk.type.python_type
    try:
        return [(bounded_int if kind is int else kind)(value) for value in values]
    except (TypeError, ValueError):
        abort(404)


class ModelConverter(AdminModelConverter):
    """Every Date column is typed and shown in the Buddhist Era (dd/mm/BBBB)."""

    @converts("Date")
    def convert_date(self, field_args: dict[str, Any], **extra: Any) -> BEDateField:
        field_args.pop("widget", None)
        if not field_args.get("description"):  # Flask-Admin passes "": keep the field's help
            field_args.pop("description", None)
        return BEDateField(**field_args)


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """An ajax lookup that offers only rows inside the user's subtree."""

    def get_query(self) -> Any:
        return super().get_query().filter(subtree(self.model, current_user))

    def get_one(self, pk: Any) -> Any:
        (value,) = primary_key_values(self.model, [pk])
        with db.session.no_autoflush:
            return self.get_query().filter(self.model.__mapper__.primary_key[0] == value).first()


class ScopedModelView(ExportMixin, ListRowsMixin, ModelView):
    """Base of every entity view: scoping, permissions, rule messages and BE dates."""

    form_base_class = Form
    model_form_converter = ModelConverter
    filter_converter = FilterConverter()  # date filters read the BE dates the Thai picker writes
    column_type_formatters = FORMATTERS
    column_type_formatters_detail = FORMATTERS
    can_view_details = True
    can_export = False  # exports are our own streaming endpoints
    can_set_page_size = True
    page_size = 50
    list_template = "admin/lec_list.html"
    create_template = "admin/lec_create.html"
    edit_template = "admin/lec_edit.html"
    details_template = "admin/lec_details.html"
    #: Columns the bulk editors of rules.permissions edit in place (not column_editable_list).
    editable_columns: Any = ()

    def __init__(self, model: type, **kwargs: Any) -> None:
        super().__init__(model, db, **kwargs)

    def is_accessible(self) -> bool:
        return signed_in_for(self.endpoint)

    def is_visible(self) -> bool:
        return menu.shown(self.endpoint, current_user)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Response:
        return refuse(name)

    def _handle_view(self, name: str, **kwargs: Any) -> Any:
        """A write the user's level may not make is refused (403), not silently redirected."""
        refused = super()._handle_view(name, **kwargs)
        if refused is not None:
            return refused
        allowed = {"create_view": self.can_create, "edit_view": self.can_edit,
                   "delete_view": self.can_delete}.get(name, True)
        if not allowed:
            abort(403)
        return None

    def render(self, template: str, **kwargs: Any) -> str:
        """Flask-Admin's own words translated once per page: a list asks some for every row.
        A record's details or edit form, once shown, is handed to `record_opened`."""
        self._template_args.setdefault("_gettext", ADMIN_WORDS)
        page = super().render(template, **kwargs)
        record_pages = (self.details_template, self.details_modal_template, self.edit_template,
                        self.edit_modal_template)
        if request.method == "GET" and template in record_pages and "model" in kwargs:
            self.record_opened(kwargs["model"])
        return page

    def record_opened(self, obj: Any) -> None:
        """Called when `obj`'s details or edit form was shown: views of records holding a
        child's data log it (admin_views/learners.py); other records need no trace."""

    def _once(self, question: str, answer: Callable[[], Any]) -> Any:
        """A permission asked once per request: a list page asks it again for every cell."""
        asked = g.setdefault("lec_asked", {})
        key = (self.endpoint, question, getattr(current_user, "id", None))
        if key not in asked:
            asked[key] = answer()
        return asked[key]

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self._once("create", lambda: may_create(current_user, self.model))

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return self._once("write", lambda: may_write(current_user, self.model))

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self._once("create", lambda: may_create(current_user, self.model))

    @property
    def column_editable_list(self) -> Any:  # type: ignore[override]
        if not has_request_context():  # Flask-Admin builds the inline-edit form at start-up
            return self.editable_columns
        # Inline-edit widgets cost a third of a list page: only for users who may use them.
        return self._once("bulk_edit", lambda: self.editable_columns if (
            current_user.is_authenticated and may_bulk_edit(current_user, self.endpoint)
            and may_write(current_user, self.model)) else ())

    @column_editable_list.setter
    def column_editable_list(self, value: Any) -> None:
        self.editable_columns = value

    def is_editable(self, name: str) -> bool:
        """Asked for every cell of a list: columns no one edits answer without the request."""
        return name in self.editable_columns and super().is_editable(name)

    def scaffold_list_form(self, widget: Any = None, validators: Any = None) -> Any:
        """The inline-edit form, with choice lists built once per page (admin_views/widgets).

        Flask-Admin puts its BaseListForm ahead of our base class, and with it a Meta whose
        translations know only Flask-Admin's words: our Meta goes first again, so WTForms'
        messages ("Not a valid choice.") come back in Thai as on every other form."""
        list_form = super().scaffold_list_form(widget or ListEditWidget(), validators)

        class ListForm(list_form):  # type: ignore[misc, valid-type]
            class Meta:
                get_translations = Form.Meta.get_translations

        return ListForm

    # -- whose record a form or details page is about ---------------------------------------

    def record_subject(self, obj: Any) -> str:
        """Whose record `obj` is, in the words of the heading above its form and details."""
        return str(obj)

    def new_record_owner(self) -> str:
        """The unit a new record will belong to, for the heading above the create form."""
        return current_user.unit_label

    def responsible_url(self, obj: Any) -> str | None:
        """The page of the people who answered for `obj`, when `obj` is a unit with an account."""
        return None

    def history_url(self, obj: Any) -> str | None:
        """The audit entries of `obj`, for users whose level reads the audit log."""
        if not may_open(current_user, "audit"):
            return None
        audit = next((v for v in self.admin._views if v.endpoint == "audit"), None)
        if audit is None:
            return None
        key = self.get_pk_value(obj)
        return audit.entries_of(self.model.__name__, str(key))

    def get_query(self) -> Any:
        return super().get_query().filter(subtree(self.model, current_user))

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(subtree(self.model, current_user))

    # -- search, sort and count that stay indexed at national scale ---------------------------

    def search_condition(self, term: str) -> ColumnElement[bool] | None:
        """The indexed condition one search word adds; None keeps Flask-Admin's ILIKE scan."""
        return None

    def _apply_search(self, query: Any, count_query: Any, joins: dict, count_joins: dict,
                      search: str) -> tuple[Any, Any, dict, dict]:
        """Each word of the search box must match (AND), through `search_condition`."""
        conditions = [self.search_condition(term) for term in search.split()]
        if not conditions or any(c is None for c in conditions):
            return super()._apply_search(query, count_query, joins, count_joins, search)
        query = query.filter(*conditions)
        if count_query is not None:
            count_query = count_query.filter(*conditions)
        return query, count_query, joins, count_joins

    def _apply_sorting(self, query: Any, joins: dict, sort_column: Any, sort_desc: bool
                       ) -> tuple[Any, dict]:
        """Whatever the sort, the primary key ends it, so pages neither repeat nor skip rows."""
        query, joins = super()._apply_sorting(query, joins, sort_column, sort_desc)
        pk = self.model.__mapper__.primary_key[0]
        return query.order_by(desc(pk) if sort_column is not None and sort_desc else pk), joins

    @property
    def simple_list_pager(self) -> bool:  # type: ignore[override]
        """Flask-Admin's unbounded COUNT is never run: `get_list` counts up to COUNT_CAP."""
        return True

    def get_list(self, page: int | None, sort_column: Any, sort_desc: bool, search: Any,
                 filters: Any, execute: bool = True, page_size: int | None = None
                 ) -> tuple[int | None, Any]:
        """Rows of one page and their count, capped; pages past the cap are not served."""
        size = page_size or self.page_size
        _none, query = super().get_list(page, sort_column, sort_desc, search, filters,
                                        execute=False, page_size=page_size)
        if not execute:
            # Flask-Admin's own contract: the page is the query's limit and offset, which a
            # caller wanting every matching row (a rollover) lifts.
            return None, query
        pk = self.model.__mapper__.primary_key[0]
        # Count and page on keys alone: the sort index answers without reading the rows.
        keys = query.enable_eagerloads(False).with_entities(pk)
        count = db.session.scalar(self.count_statement(keys, COUNT_CAP + 1, search, filters))
        if has_request_context():
            g.lec_count_capped = count > COUNT_CAP
        count = min(count, COUNT_CAP)
        last_page = max(ceil(count / size) - 1, 0) if size else 0
        if size and (page or 0) > last_page:
            keys = keys.offset(last_page * size)
        # Then the page's rows by key, with their eager-loaded relations, in the same order.
        page_keys = keys.subquery()
        query = query.limit(None).offset(None).filter(pk.in_(select(page_keys.c[0])))
        return count, (query.all() if execute else query)

    def count_statement(self, keys: Any, most: int, search: Any, filters: Any) -> Any:
        """The statement counting up to `most` of the list's rows, `keys` being the list's query
        on its keys alone; a view whose search finds a few rows of a wide list counts them from
        what the search finds (admin_views/learners.py)."""
        return select(func.count()).select_from(
            keys.limit(None).offset(None).order_by(None).limit(most).subquery())

    def _get_list_extra_args(self) -> Any:
        """Page, page size and filters as the database can take them: no negative page, only
        offered page sizes, and a filter value beyond its column's range is dropped (said so)."""
        args = super()._get_list_extra_args()
        args.page = max(args.page or 0, 0)
        if args.page_size not in (self.page_size_options or ()):
            args.page_size = 0
        kept = []
        for idx, name, value in args.filters or ():
            try:
                usable = fits_column(self._filters[idx].clean(value))
            except (TypeError, ValueError, IndexError, ArithmeticError):
                usable = False
            if not usable:
                flash(self.get_invalid_value_msg(value, self._filters[idx]), "error")
            elif problem := be_year_problem(self._filters[idx], value):
                flash(problem, "error")
            else:
                kept.append((idx, name, value))
        args.filters = kept if args.filters is not None else None
        return args

    def every_filter_read(self, args: Any) -> bool:
        """Whether each filter in the address survived `_get_list_extra_args`: the list shows
        what it can with a notice, but a rollover or an export of "every row matching the
        filter" must not quietly become every row of the list."""
        given = [arg for arg in request.args if arg.startswith("flt") and "_" in arg]
        return len(args.filters or ()) == len(given)

    def _refresh_filters_cache(self) -> None:
        """A filter over a fixed set of values (its `column_choices`) is picked from the labels
        and compares the stored code, so its index serves it: "contains" or "greater than" are
        not offered. They keep their place in `_filters`, so the flt0_N of a link made before
        still means what it meant."""
        super()._refresh_filters_cache()
        self.__dict__.pop("_lec_filter_groups", None)
        for group in (self._filter_groups or {}).values():
            group.filters = [item for item in group.filters
                             if not (item["options"]
                                     and isinstance(self._filters[item["index"]], TYPED_ONLY))]

    def _get_filter_groups(self) -> Any:
        """The filters' names and choices in the page's language, made once per language:
        Flask-Admin translates every name and choice of every filter on each page."""
        made = self.__dict__.setdefault("_lec_filter_groups", {})
        language = str(get_locale())
        if language not in made:
            made[language] = super()._get_filter_groups()
        return made[language]

    def get_one(self, id: Any) -> Any:
        """Flask-Admin's own get_one ignores get_query; outside the subtree is not found."""
        pk = self.model.__mapper__.primary_key[0]
        (value,) = primary_key_values(self.model, [id])
        obj = self.get_query().filter(pk == value).one_or_none()
        if obj is None:
            abort(404)
        return obj

    def _create_ajax_loader(self, name: str, options: dict[str, Any]) -> QueryAjaxModelLoader:
        remote = getattr(self.model, name).prop.mapper.class_
        return ScopedAjaxLoader(name, self.session, remote, **options)

    def is_action_allowed(self, name: str) -> bool:
        if not (current_user.is_authenticated and may_bulk_edit(current_user, self.endpoint)):
            return False
        return super().is_action_allowed(name)

    @expose("/action/", methods=("POST",))
    def action_view(self) -> Response:
        """Run a bulk action only if every chosen row lies inside the user's subtree."""
        ids = set(primary_key_values(self.model, request.form.getlist("rowid")))
        pk = self.model.__mapper__.primary_key[0]
        if ids and self.get_query().filter(pk.in_(ids)).count() != len(ids):
            abort(403)
        return super().action_view()

    def delete_model(self, model: Any) -> bool:
        """Flask-Admin's delete, but a row other records still refer to is refused in those
        words, not as a clash of codes (what a conflict means when a form is saved)."""
        try:
            self.on_model_delete(model)
            db.session.delete(model)
            db.session.commit()
        except IntegrityError as exc:
            db.session.rollback()
            current_app.logger.warning("integrity error on delete: %s", exc)
            flash(_("This record cannot be deleted: other records still refer to it."), "error")
            return False
        except Exception as exc:
            if not self.handle_view_exception(exc):
                raise
            return False
        self.after_model_delete(model)
        return True

    @action("delete", admin_lazy_gettext("Delete"),
            admin_lazy_gettext("Are you sure you want to delete selected records?"))
    def action_delete(self, ids: list[str]) -> None:
        """Flask-Admin's bulk delete, row by row through the rules, saying only what was done:
        a refused row shows the rule's message and is not counted, and a delete that removed
        nothing is never announced as a success."""
        pk = self.model.__mapper__.primary_key[0]
        rows = self.get_query().filter(pk.in_(primary_key_values(self.model, ids))).all()
        count = sum(1 for row in rows if self.delete_model(row))
        if count:
            flash(admin_ngettext("Record was successfully deleted.",
                                 "%(count)s records were successfully deleted.", count,
                                 count=count), "success")

    def handle_view_exception(self, exc: Exception) -> bool:
        """Show a broken rule or conflict as a message; never a stack trace."""
        db.session.rollback()
        if isinstance(exc, RuleViolation):
            flash(str(exc), "error")
            return True
        if isinstance(exc, IntegrityError):
            current_app.logger.warning("integrity error: %s", exc)
            flash(_("This record conflicts with an existing one: a code or name that must be "
                    "unique is already used."), "error")
            return True
        return super().handle_view_exception(exc)

    @expose("/ajax/update/", methods=("POST",))
    def ajax_update(self) -> Any:
        """Inline edit: a broken rule answers 400 with its message, not a 500."""
        result = super().ajax_update()
        if isinstance(result, tuple) and result[1] == 500:
            return result[0], 400
        return result


class PageView(BaseView):
    """Base of the custom pages (confirm, reports, cards …): open to the levels that
    rules.permissions.PAGES names for the endpoint."""

    def is_accessible(self) -> bool:
        return signed_in_for(self.endpoint)

    def is_visible(self) -> bool:
        return menu.shown(self.endpoint, current_user)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Response:
        return refuse(name)


@dataclass
class Scope:
    """The unit a drill-down page is about: the nation, a province, an LAO or an institution."""

    level: str
    code: str = ""
    name: str = ""
    province: str | None = None
    lao: Lao | None = None
    institution: Institution | None = None

    @property
    def args(self) -> dict[str, Any]:
        if self.institution is not None:
            return {"institution": self.institution.id}
        if self.lao is not None:
            return {"lao": self.lao.id}
        return {"province": self.province} if self.province else {}


class DrillDownView(PageView):
    """A page about one unit, drilled down nation → province → LAO → institution by the URL's
    arguments; the unit is resolved and checked against the user's subtree here, once."""

    def scope(self) -> Scope:
        """The unit asked for in the URL, else the user's own; 404 outside the user's subtree."""
        institution_id = request.args.get("institution", type=int)
        lao_id = request.args.get("lao", type=int)
        province = request.args.get("province")
        if not (institution_id or lao_id or province):
            institution_id = current_user.institution_id
            lao_id = current_user.lao_id
            province = current_user.province_code
        if institution_id:
            institution = db.session.get(Institution, institution_id) or abort(404)
            lao = db.session.get(Lao, institution.lao_id)
            unit = Unit(lao.province_code, lao.id, institution.id)
            scope = Scope(Level.INSTITUTION, institution.code, institution.name, lao.province_code,
                          lao, institution)
        elif lao_id:
            lao = db.session.get(Lao, lao_id) or abort(404)
            unit = Unit(lao.province_code, lao.id)
            scope = Scope(Level.LAO, lao.code, lao.name, lao.province_code, lao)
        elif province:
            found = db.session.get(Province, province) or abort(404)
            unit = Unit(found.code)
            scope = Scope(Level.PROVINCE, found.code, found.name_th, found.code)
        else:
            return Scope(Level.DEPARTMENT, "", _("The whole country"))
        if not may_see(current_user, unit):
            abort(404)
        return scope
