"""Export CSV / Export XLSX on every list: exactly the rows the list shows, streamed.

Flask-Admin's own export loads every row into memory and leaves formulas live, so the scoped
base view gets these endpoints instead. They reuse the list's search, filter and sort machinery
on `get_query()` (which already holds the user's scope) and read rows with `yield_per`.
"""

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.model import typefmt
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from flask_login import current_user
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

import clock
from i18n import be_cell_date
from models import db
from rules.audit import record
from rules.scope import whole_country
from spreadsheets import writers

from .background import export_in_background

EXPORT_FORMATTERS = dict(typefmt.EXPORT_FORMATTERS)
EXPORT_FORMATTERS.update({
    date: lambda view, value, name: be_cell_date(value),
    datetime: lambda view, value, name: be_cell_date(value),
    bool: lambda view, value, name: _("Yes") if value else _("No"),
})
YIELD_PER = 1000
CHUNK_BYTES = 256 * 1024


def audit(action: str, target: str = "", **details: Any) -> None:
    """Record a download in the audit trail."""
    record(action, target=target, **details)
    db.session.commit()


class ExportMixin:
    """Streaming CSV and XLSX exports for a Flask-Admin SQLAlchemy list view."""

    column_type_formatters_export = EXPORT_FORMATTERS

    def export_query(self) -> Any:
        """The list's query as the user sees it (scope, search, filters, sort), without paging."""
        args = self._get_list_extra_args()
        query = self.get_query()
        joins: dict[Any, Any] = {}
        if self._search_supported and args.search:
            query, _count, joins, _cjoins = self._apply_search(query, None, joins, {},
                                                               args.search)
        if args.filters and self._filters:
            query, _count, joins, _cjoins = self._apply_filters(query, None, joins, {},
                                                                args.filters)
        for join in self._auto_joins:
            query = query.options(joinedload(join))
        sort = self._get_column_by_idx(args.sort)
        query, joins = self._apply_sorting(query, joins, sort[0] if sort else None,
                                           bool(args.sort_desc))
        return query

    def export_header(self) -> list[str]:
        """Column titles in the user's language."""
        return [str(label) for _name, label in self._export_columns]

    def export_rows(self) -> Iterator[list[Any]]:
        """One list of cell values per row, read in batches from the database."""
        names = [name for name, _label in self._export_columns]
        translated: dict[int, str] = {}  # each label (grade, status...) translated once

        def plain(value: Any) -> Any:
            if isinstance(value, LazyString):
                text = translated.get(id(value))
                if text is None:
                    text = translated[id(value)] = str(value)
                return text
            return value

        years = {n for n, name in enumerate(names) if name.endswith("year")}
        for obj in self.export_query().yield_per(YIELD_PER):
            row = [plain(self.get_export_value(obj, name)) for name in names]
            for n in years:  # a year is not a count: 2569, never 2,569
                if type(row[n]) is int:
                    row[n] = writers.Plain(row[n])
            yield row

    def export_filename(self, export_type: str) -> str:
        """`<view>_<BE date>.<ext>`, ASCII so every browser keeps it."""
        return f"{self.endpoint}_{clock.be_stamp()}.{export_type}"

    def export_select(self) -> tuple[list[str], Any] | None:
        """Headers and a SELECT of final text cells for a bulk export; None: the ORM path."""
        return None

    @expose("/export/<export_type>/", methods=("GET", "POST"))
    def export(self, export_type: str) -> Response | str:
        """Download the current list (filters, search and sort of the page) as CSV or XLSX."""
        if export_type not in ("csv", "xlsx"):
            abort(404)
        if not self.every_filter_read(self._get_list_extra_args()):
            flash(_("A filter of the list could not be read, so nothing was exported. Correct "
                    "the filter and try again."), "error")
            return redirect(self.get_url(".index_view", **request.args.to_dict(flat=False)))
        queued = export_in_background(self, export_type)
        if queued is not None:
            return queued
        audit("export", target=self.endpoint, format=export_type,
              query=request.query_string.decode("utf-8", "replace"))
        filename = self.export_filename(export_type)
        bulk = self.export_select()
        if bulk is not None:
            headers, statement = bulk
            if export_type == "csv":
                return writers.csv_bytes_response(filename, select_csv(headers, statement))
            return writers.xlsx_response(filename, headers, select_rows(statement),
                                         sheet=str(self.name), prepared=True)
        if export_type == "csv":
            return writers.csv_response(filename, self.export_header(), self.export_rows())
        return writers.xlsx_response(filename, self.export_header(), self.export_rows(),
                                     sheet=str(self.name))


def _plan_whole_read(connection: Any) -> None:
    """An export reads every row, so PostgreSQL plans for all of them (a cursor would plan
    for the first tenth), for this transaction only. The department's list is the whole
    country: read in the list's index order (ix_enrolment_list_order), not sorted on disk
    (1.1M wide rows: 40 s). A narrower list is sorted: the walk would read the country's
    index to find a province's rows (36k rows: 2.4 s walked, 0.6 s sorted)."""
    if connection.dialect.name != "postgresql":
        return
    connection.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1")
    if whole_country(current_user):
        connection.exec_driver_sql("SET LOCAL enable_sort = off")


def select_rows(statement: Any) -> Iterator[Sequence[Any]]:
    """The rows of a SELECT from a server-side cursor, a batch at a time (flat memory)."""
    connection = db.session.connection()
    _plan_whole_read(connection)
    # Options of this statement only: set on the connection they would stay, and the job's
    # own UPDATE after the rows would go out as a server-side cursor too (a syntax error).
    result = connection.execute(statement, execution_options={
        "stream_results": True, "yield_per": YIELD_PER * 5})
    for batch in result.partitions():
        yield from batch


def select_csv(headers: list[str], statement: Any) -> Iterator[bytes]:
    """A SELECT of final text cells as CSV: PostgreSQL's COPY writes it, else Python's csv."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        yield from writers.csv_chunks(headers, select_rows(statement), prepared=True)
        return
    yield writers.csv_head(headers)
    # COPY takes no parameters: the values are rendered as SQL literals, quoted by SQLAlchemy.
    sql = statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    _plan_whole_read(connection)
    raw = connection.connection.dbapi_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
        # COPY hands over one row per message: send them on in chunks of about 256 KB.
        chunk = bytearray()
        for block in copy:
            chunk += block
            if len(chunk) >= CHUNK_BYTES:
                yield bytes(chunk)
                chunk.clear()
        yield bytes(chunk)
