"""The learner import: upload, a preview of every row's fate, one confirm, and the template."""

import csv
import secrets
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, request, session
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

import clock
from models import Institution, db
from rules.enrolment import current_academic_year
from rules.permissions import own_institution_id
from rules.scope import subtree
from spreadsheets import learner_import as importer
from spreadsheets import writers
from spreadsheets.columns import COLUMNS
from spreadsheets.pending import PendingUpload, discard, keep, load

from .base import PageView
from .exports import audit

REPORTS_KEPT = 5  # bad-row reports remembered per browser session


def _reports_dir() -> Path:
    folder = Path(current_app.instance_path) / "import-reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


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

    @expose("/", methods=("GET", "POST"))
    def index(self) -> Any:
        """Upload a file: it is kept on the server and previewed, nothing is written yet."""
        too_big = (request.content_length or 0) > importer.MAX_BYTES + 64 * 1024
        year = current_academic_year(db.session) if too_big else self._year()
        code = "" if too_big else request.values.get("institution", "")
        context = {"year": year, "code": code, "max_mb": importer.MAX_BYTES // (1024 * 1024),
                   "columns": COLUMNS, "own_institution": own_institution_id(current_user)}
        if request.method == "GET":
            return self.render("admin/imports/index.html", **context)
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
        result = importer.preview(db.session, data, institution, year)
        return self._show(result, pending, institution)

    def _show(self, result: importer.Result, pending: PendingUpload | None,
              institution: Institution) -> Any:
        report = self._keep_report(result.problems) if result.problems else None
        if result.problems:
            audit("import_refused", target=f"institution:{institution.code}",
                  academic_year=pending.year if pending else None,
                  problems=len(result.problems))
        return self.render("admin/imports/preview.html", result=result, pending=pending,
                           institution=institution, report=report,
                           year=pending.year if pending else None), 200 if result.ok else 422

    @expose("/commit/<token>/", methods=("POST",))
    def commit(self, token: str) -> Any:
        """Write the previewed file: checked again from the kept copy, all or nothing."""
        pending = load(token, "learners", owner=current_user.id)
        institution = db.session.get(Institution, pending.target_id) if pending else None
        if pending is None or institution is None or self._institution(
                institution.code) is None:
            flash(_("The uploaded file is no longer kept (after an hour, or once imported). "
                    "Upload it again."), "error")
            return redirect(self.get_url(".index"))
        result = importer.import_learners(db.session, pending.data(), institution,
                                          pending.year)
        if not result.ok:  # something changed since the preview
            return self._show(result, pending, institution)
        discard(token)
        flash(_("Imported %(rows)d rows: %(created)d new learners, %(enrolled)d new "
                "enrolments, %(updated)d changed, %(unchanged)d unchanged.",
                rows=result.rows, created=result.learners_created, enrolled=result.enrolled,
                updated=result.learners_updated + result.enrolments_updated,
                unchanged=result.unchanged), "success")
        return redirect(self.get_url(".index", year=pending.year,
                                     institution=institution.code))

    def _keep_report(self, problems: list[importer.Problem]) -> str:
        """Write the bad-row report to a file only this browser session may download."""
        token = secrets.token_urlsafe(16)
        with open(_reports_dir() / f"{token}.csv", "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            for problem in problems:
                writer.writerow([problem.line or "", problem.column, problem.reason])
        kept = [token, *session.get("import_reports", [])]
        for old in kept[REPORTS_KEPT:]:
            (_reports_dir() / f"{old}.csv").unlink(missing_ok=True)
        session["import_reports"] = kept[:REPORTS_KEPT]
        return token

    @expose("/report/<token>/<export_type>/")
    def report(self, token: str, export_type: str) -> Response:
        """The bad rows of a refused import: line, column and reason."""
        if token not in session.get("import_reports", []) or export_type not in ("csv", "xlsx"):
            abort(404)
        path = _reports_dir() / f"{token}.csv"
        if not path.exists():
            abort(404)

        def rows() -> Any:
            with open(path, encoding="utf-8", newline="") as source:
                yield from csv.reader(source)

        header = [_("Line"), _("Column"), _("Problem")]
        name = f"import-problems.{export_type}"
        if export_type == "csv":
            return writers.csv_response(name, header, rows())
        return writers.xlsx_response(name, header, rows(), sheet=_("Problems"))

    @expose("/learners/<export_type>/")
    def learners(self, export_type: str) -> Response:
        """An institution's learners in the import file's columns (the round trip's first half)."""
        institution = self._institution(request.args.get("institution"))
        if institution is None or export_type not in ("csv", "xlsx"):
            abort(404)
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
