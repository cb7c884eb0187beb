"""The learner import: upload, a preview of every row's fate, one confirm, and the template.

The file is checked and written by a job (jobs/), never inside the web request: a slow or
hostile file keeps a worker busy, not the web server. With the embedded queue of tests the job
runs inside the request, with a worker it runs beside it; the pages are the same.
"""

from typing import Any

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

import clock
import jobs
from models import Institution, db
from models.jobs import Job, JobStatus
from rules import RuleViolation
from rules.enrolment import current_academic_year
from rules.identity import mask_national_id
from rules.locks import write_problems
from rules.permissions import may_reveal_id, may_see_contacts, own_institution_id
from rules.scope import subtree
from rules.windows import intake_year_problem
from spreadsheets import learner_import as importer
from spreadsheets import writers
from spreadsheets.columns import COLUMNS
from spreadsheets.pending import discard, keep, load

from .base import PageView
from .exports import audit
from .jobs import may_rerun_here, state, visible_job

RESULT = "result.json"


def _gone() -> str:
    return _("The uploaded file is no longer kept (after an hour, or once imported). "
             "Upload it again.")


@jobs.task("import", page="learner_import.job")
def import_job(job: Job, token: str, institution_id: int, year: int, write: bool) -> str:
    """Check the kept upload (or write it, after the preview) as its owner; keep the outcome."""
    pending = load(token, "learners", owner=job.owner_id)
    institution = db.session.get(Institution, institution_id)
    if pending is None or institution is None:
        raise RuleViolation([_gone()])
    run = importer.import_learners if write else importer.preview
    result = run(db.session, pending.data(), institution, year,
                 progress=lambda done, total: jobs.report_progress(job, done, total))
    if result.problems:
        audit("import_refused", target=f"institution:{institution.code}", academic_year=year,
              problems=len(result.problems))
        job.message = problems_found(result)
    if result.written:
        discard(token)
    jobs.result_file(job, RESULT).write_text(result.to_json(), encoding="utf-8")
    return RESULT


def problems_found(result: importer.Result) -> str:
    """What My jobs says of a check or import that found problems (the job itself finished)."""
    if result.refused_rows:
        return _("Problems found in %(rows)s rows: nothing can be imported yet.",
                 rows=f"{result.refused_rows:,}")
    return _("Problems found in the file: nothing can be imported yet.")


def _result(job: Job) -> importer.Result:
    """The job's outcome as the current user may read it: the learners missing from the file,
    and the values its problems quote back (a guardian's phone, a national ID), stay whole for
    the institution's own staff only, as in every list; above it (an LAO's upload, or the
    institution's job opened from above) they are masked, on the page and in the report."""
    path = jobs.result_path(job)
    if path is None:
        abort(404)
    result = importer.Result.from_json(path.read_text(encoding="utf-8"))
    ids, contacts = may_reveal_id(current_user), may_see_contacts(current_user)
    if not ids:
        result.missing = [f"{mask_national_id(national_id)}{space}{name}" for national_id, space,
                          name in (entry.partition(" ") for entry in result.missing)]
    if not (ids and contacts):
        result.problems, result.skipped, result.warnings = (
            [p.shown(ids, contacts) for p in problems]
            for problems in (result.problems, result.skipped, result.warnings))
    return result


class ImportView(PageView):
    """Bulk import of learners into one institution for one academic year."""

    def _institution(self, code: str | None) -> Institution | None:
        """The user's own institution, or the one whose code they typed, if in their subtree."""
        if (own := own_institution_id(current_user)) is not None:
            return db.session.get(Institution, own)
        if not code:
            return None
        return db.session.scalar(select(Institution).where(
            Institution.code == code.strip(), subtree(Institution, current_user)))

    def _year(self) -> int:
        year = request.values.get("year", type=int)
        return year if year in clock.BE_YEARS else current_academic_year(db.session)

    def _refusals(self, year: int) -> list[str]:
        """What would refuse the import now, said before a file is chosen: the year takes no
        learners, or the user's own institution has confirmed it."""
        if closed := intake_year_problem(db.session, year):
            return [closed]
        own = own_institution_id(current_user)
        return write_problems(db.session, {own: {year}}, set()) if own is not None else []

    @expose("/", methods=("GET", "POST"))
    def index(self) -> Any:
        """Upload a file: it is kept on the server and checked by a job, nothing is written."""
        too_big = (request.content_length or 0) > importer.MAX_BYTES + 64 * 1024
        year = current_academic_year(db.session) if too_big else self._year()
        code = "" if too_big else request.values.get("institution", "")
        context = {"year": year, "code": code, "max_mb": importer.MAX_BYTES // (1024 * 1024),
                   "columns": COLUMNS, "own_institution": own_institution_id(current_user)}
        if request.method == "GET":
            return self.render("admin/imports/index.html", refusals=self._refusals(year),
                               **context)
        if too_big:
            # Refused before the rows are read: a 50 MB upload is never parsed.
            flash(_("The file is larger than %(size)d MB. Split it into smaller files.",
                    size=importer.MAX_BYTES // (1024 * 1024)), "error")
            return self.render("admin/imports/index.html", **context), 413
        institution = self._institution(code)
        upload = request.files.get("file")
        if institution is None:
            flash(_("Enter the code of an institution in your area."), "error")
            return self.render("admin/imports/index.html", **context), 422
        if upload is None or not upload.filename:
            flash(_("Choose a CSV, XLSX or XLS file to import."), "error")
            return self.render("admin/imports/index.html", **context), 422
        data = upload.read(importer.MAX_BYTES + 1)
        pending = keep(data, "learners", owner=current_user.id, target_id=institution.id,
                       year=year, filename=upload.filename)
        job = jobs.submit("import", current_user,
                          title=jobs.Title("Check of %(file)s for %(name)s",
                                           file=pending.filename, name=institution.name),
                          token=pending.token, institution_id=institution.id, year=year,
                          write=False)
        return redirect(self.get_url(".job", job_id=job.id), 303)

    @expose("/job/<int:job_id>/")
    def job(self, job_id: int) -> Any:
        """The check or the import: its progress while it runs, then its preview or report."""
        job = visible_job(job_id)
        if job.kind != "import":
            abort(404)
        params = job.params
        institution = db.session.get(Institution, params["institution_id"])
        context = {"job": job, "state": state(job), "institution": institution,
                   "year": params["year"], "write": params["write"]}
        if job.status != JobStatus.DONE:
            return self.render("admin/imports/job.html", rerun=may_rerun_here(job), **context)
        result = _result(job)
        if params["write"] and result.written:
            return self.render("admin/imports/done.html", result=result, **context)
        # Only the uploader's own kept file can be committed (spreadsheets/pending.py).
        may_commit = (not params["write"] and result.ok
                      and load(params["token"], "learners", owner=current_user.id) is not None)
        return self.render("admin/imports/preview.html", result=result, may_commit=may_commit,
                           **context), 200 if result.ok else 422

    @expose("/commit/<int:job_id>/", methods=("POST",))
    def commit(self, job_id: int) -> Any:
        """Write the previewed file: a second job checks it again from the kept copy and
        writes all or nothing."""
        job = visible_job(job_id)
        params = job.params if job.kind == "import" else {}
        pending = (load(params["token"], "learners", owner=current_user.id)
                   if params and not params["write"] else None)
        institution = db.session.get(Institution, pending.target_id) if pending else None
        if pending is None or institution is None or self._institution(
                institution.code) is None:
            flash(_gone(), "error")
            return redirect(self.get_url(".index"))
        written = jobs.submit("import", current_user,
                              title=jobs.Title("Import of %(file)s into %(name)s",
                                               file=pending.filename, name=institution.name),
                              token=pending.token, institution_id=institution.id,
                              year=pending.year, write=True)
        return redirect(self.get_url(".job", job_id=written.id), 303)

    @expose("/job/<int:job_id>/report/<export_type>/")
    def report(self, job_id: int, export_type: str) -> Response:
        """The bad rows of a refused import: line, column and reason."""
        job = visible_job(job_id)
        if job.kind != "import" or export_type not in ("csv", "xlsx"):
            abort(404)
        rows = ([writers.Plain(p.line) if p.line else "", p.column, p.reason]
                for p in _result(job).problems)
        header = [_("Line"), _("Column"), _("Problem")]
        # Named like the other exports: whose file it was and the day, in the Buddhist Era.
        institution = db.session.get(Institution, job.params["institution_id"])
        unit = f"_{institution.code}" if institution is not None else ""
        name = f"import-problems{unit}_{clock.be_stamp()}.{export_type}"
        if export_type == "csv":
            return writers.csv_response(name, header, rows)
        return writers.xlsx_response(name, header, rows, sheet=_("Problems"))

    @expose("/learners/<export_type>/")
    def learners(self, export_type: str) -> Response:
        """An institution's learners in the import file's columns (the round trip's first half)."""
        institution = self._institution(request.args.get("institution"))
        if institution is None or export_type not in ("csv", "xlsx"):
            abort(404)
        if not may_reveal_id(current_user):
            abort(403)  # the file carries whole IDs; above the institution they are masked
        year = self._year()
        audit("export", target=f"learners:{institution.code}", academic_year=year,
              format=export_type)
        rows = importer.learner_rows(db.session, institution, year)
        name = f"learners_{institution.code}_{year}.{export_type}"
        if export_type == "csv":
            return writers.csv_response(name, importer.header(), rows)
        return writers.xlsx_response(name, importer.header(), rows, sheet=str(year))

    @expose("/template/<export_type>/")
    def template(self, export_type: str) -> Response:
        """An empty learner file with the right columns."""
        if export_type == "csv":
            return writers.csv_response("learners-template.csv", importer.header(), [])
        if export_type == "xlsx":
            return writers.xlsx_response("learners-template.xlsx", importer.header(), [])
        abort(404)
