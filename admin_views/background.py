"""Long work of the admin screens run as jobs: large exports, rollover of every filtered row and
a province's credential cards. Each job replays the screen's own request (its list arguments,
signed in as the job's owner) so it reads exactly the rows, scope and rules the screen would.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flask import current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.wrappers import Response

import jobs
from models import User, db
from models.jobs import Job
from spreadsheets import writers
from spreadsheets.xlsx_text import write_text_xlsx

#: Rows between two progress reports of a job.
REPORT_EVERY = 1000


@contextmanager
def screen_request(endpoint: str, args: Sequence[tuple[str, str]], user: User) -> Iterator[Any]:
    """The admin view `endpoint` inside a request carrying `args`, signed in as `user`."""
    admin = current_app.extensions["admin"][0]
    view = next(v for v in admin._views if v.endpoint == endpoint)
    with current_app.test_request_context(f"{view.url}/", query_string=list(args)):
        g._login_user = user  # what flask_login's current_user reads
        yield view


def list_args() -> list[tuple[str, str]]:
    """The current list's arguments (search, filters, sort), to replay in a job."""
    return [(k, v) for k, v in request.args.items(multi=True)]


def rows_above(query: Any, limit: int) -> bool:
    """Whether `query` holds more than `limit` rows, counting no further than that."""
    bounded = query.order_by(None).limit(limit + 1).subquery()
    return (db.session.scalar(select(func.count()).select_from(bounded)) or 0) > limit


def counted(job: Job, rows: Iterable[Any], total: int | None) -> Iterator[Any]:
    """Pass rows through, telling the jobs page how many have gone by."""
    done = 0
    jobs.report_progress(job, 0, total)
    for done, row in enumerate(rows, start=1):
        if done % REPORT_EVERY == 0:
            jobs.report_progress(job, done, total)
        yield row
    jobs.report_progress(job, done, total)


def queued(job: Job) -> Response:
    """Tell the user where the result will be, and send them there."""
    flash(_("This is long work: it runs in the background as job %(id)d. Follow it and "
            "download the result on this page.", id=job.id), "info")
    return redirect(url_for("jobs.index"))


# --- exports ---------------------------------------------------------------------------------

def export_in_background(view: Any, export_type: str) -> Response | str | None:
    """Queue the export as a job when the list holds more rows than LEC_EXPORT_JOB_ROWS; a
    link (GET) only asks, so no other site, crawler or prefetch starts one."""
    most = current_app.config["LEC_EXPORT_JOB_ROWS"]
    if not rows_above(view.export_query(), most):
        return None
    if request.method != "POST":
        return view.render("admin/jobs/export.html", export_type=export_type, rows=most)
    from flask_login import current_user

    title = jobs.Title("Export: %(list)s (%(format)s)", list=view.name,
                       format=export_type.upper())
    job = jobs.submit("export", current_user, title=title,
                      endpoint=view.endpoint, export_type=export_type, args=list_args())
    return queued(job)


@jobs.task("export")
def export_job(job: Job, endpoint: str, export_type: str, args: list) -> str:
    """Write the list's export to the job's result file, as the download would have."""
    with screen_request(endpoint, args, job.owner) as view:
        name = view.export_filename(export_type)
        total = db.session.scalar(select(func.count()).select_from(
            view.export_query().order_by(None).subquery()))
        path = jobs.result_file(job, name)
        bulk = view.export_select()
        if bulk is not None:  # the learner lists: cells made by the database (COPY on PostgreSQL)
            _write_bulk(job, path, export_type, str(view.name), total, *bulk)
            return name
        rows = counted(job, view.export_rows(), total)
        if export_type == "csv":
            with path.open("wb") as out:
                for chunk in writers.csv_chunks(view.export_header(), rows):
                    out.write(chunk)
        else:
            writers.write_xlsx(str(path), view.export_header(), rows, sheet=str(view.name))
    return name


def _write_bulk(job: Job, path: Any, export_type: str, sheet: str, total: int,
                headers: list[str], statement: Any) -> None:
    """A view's `export_select()` into the result file, as its download would stream it."""
    from .exports import select_csv, select_rows

    if export_type == "xlsx":
        write_text_xlsx(str(path), headers, counted(job, select_rows(statement), total), sheet)
        return
    done = 0
    with path.open("wb") as out:
        for chunk in select_csv(headers, statement):
            out.write(chunk)
            done += chunk.count(b"\n")
            jobs.report_progress(job, max(done - 1, 0), total)
