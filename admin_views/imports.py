"""The learner import page: upload, the report of bad rows, and the file's own template."""

import csv
import secrets
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, request, session
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from models import Institution, Level, db
from rules.enrolment import current_academic_year
from rules.scope import subtree
from spreadsheets import learner_import as importer
from spreadsheets import writers

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
        if current_user.level == Level.INSTITUTION:
            return db.session.get(Institution, current_user.institution_id)
        if not code:
            return None
        return db.session.scalar(select(Institution).where(
            Institution.code == code.strip(), subtree(Institution, current_user)))

    def _year(self) -> int:
        year = request.values.get("year", type=int)
        return year if year and 2400 < year < 2700 else current_academic_year(db.session)

    @expose("/", methods=("GET", "POST"))
    def index(self) -> Any:
        too_big = (request.content_length or 0) > importer.MAX_BYTES + 64 * 1024
        year = current_academic_year(db.session) if too_big else self._year()
        code = "" if too_big else request.values.get("institution", "")
        context = {"year": year, "code": code, "result": None, "report": None,
                   "max_mb": importer.MAX_BYTES // (1024 * 1024), "columns": importer.COLUMNS}
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
        elif upload is None or not upload.filename:
            flash(_("Choose a CSV or XLSX file to import."), "error")
        else:
            result = importer.import_learners(db.session, upload.read(), institution, year)
            context["result"] = result
            context["institution"] = institution
            if result.ok:
                flash(_("Imported %(rows)d rows: %(created)d new learners, %(enrolled)d new "
                        "enrolments, %(updated)d changed, %(unchanged)d unchanged.",
                        rows=result.rows, created=result.learners_created,
                        enrolled=result.enrolled,
                        updated=result.learners_updated + result.enrolments_updated,
                        unchanged=result.unchanged), "success")
            else:
                context["report"] = self._keep_report(result.problems)
                audit("import_refused", target=f"institution:{institution.code}",
                      academic_year=year, problems=len(result.problems))
        status = 200 if context["result"] is None or context["result"].ok else 422
        return self.render("admin/imports/index.html", **context), status

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


def register(admin: Any) -> None:
    """Add the import page to the menu, under the learners."""
    from flask_babel import lazy_gettext as _l

    admin.add_view(ImportView(name=_l("Import learners"), category=_l("Learners"),
                              endpoint="learner_import", url="/admin/import"))
