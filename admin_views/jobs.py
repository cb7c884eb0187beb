"""My jobs: the user's background jobs with their progress, result file and a re-run button."""

import shutil
from typing import Any

from flask import abort, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

import jobs
from models import db
from models.jobs import STALLED_LABELS, STATUS_LABELS, Job, JobStatus
from rules.audit import record

from .base import PageView

#: The newest jobs shown on the page; older ones stay in the database.
SHOWN = 100


def visible_job(job_id: int) -> Job:
    """The job if the user may see it; 404 for one that does not exist or lies outside."""
    job = db.session.get(Job, job_id)
    if job is None or not jobs.may_see(current_user, job):
        abort(404)
    return job


def may_rerun_here(job: Job) -> bool:
    """Only its owner runs a job again, once it failed or stalled."""
    return job.owner_id == current_user.id and jobs.may_rerun(job)


def state(job: Job) -> dict[str, Any]:
    """What the progress bar needs, as JSON."""
    done, total, _seen = jobs.progress(job)
    page = jobs.REGISTRY[job.kind].page if job.kind in jobs.REGISTRY else None
    finished = jobs.result_path(job) is not None
    stalled = jobs.stalled(job)
    labels = STALLED_LABELS if stalled else STATUS_LABELS
    return {
        "id": job.id, "status": job.status, "label": str(labels[JobStatus(job.status)]),
        "stalled": stalled, "done": done, "total": total, "message": job.message,
        "download": (url_for("jobs.download", job_id=job.id) if finished and page is None
                     and jobs.may_download(current_user, job) else None),
        "page": url_for(page, job_id=job.id) if finished and page else None,
    }


class JobsView(PageView):
    """Every signed-in user sees their own jobs here; a job's result is theirs to download."""

    @expose("/")
    def index(self) -> str:
        mine = db.session.scalars(select(Job).where(Job.owner_id == current_user.id)
                                  .order_by(Job.created_at.desc(), Job.id.desc()).limit(SHOWN))
        rows = [(job, state(job), may_rerun_here(job)) for job in mine]
        return self.render("admin/jobs/index.html", rows=rows)

    @expose("/<int:job_id>/progress.json")
    def progress(self, job_id: int) -> dict[str, Any]:
        return state(visible_job(job_id))

    @expose("/<int:job_id>/download")
    def download(self, job_id: int) -> Response:
        """The result file; a private one (credential cards) is handed over once, then removed."""
        job = visible_job(job_id)
        path = jobs.result_path(job)
        if path is None or not jobs.may_download(current_user, job):
            abort(404)
        record("job_download", str(job), kind=job.kind, job_id=job.id, file=job.result_name)
        db.session.commit()
        source: Any = path
        if jobs.REGISTRY[job.kind].private:
            source = path.open("rb")  # noqa: SIM115 - closed when the download ends
            shutil.rmtree(jobs.results_dir(job.id))  # the open file keeps the data until then
        response = send_file(source, as_attachment=True, download_name=job.result_name)
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/<int:job_id>/rerun", methods=("POST",))
    def rerun(self, job_id: int) -> Response:
        job = visible_job(job_id)
        if not may_rerun_here(job):
            abort(403)
        jobs.rerun(job)
        flash(_("The job is queued again."), "info")
        page = jobs.REGISTRY[job.kind].page if job.kind in jobs.REGISTRY else None
        if page and request.form.get("back") == "page":  # from the job's own page, back there
            return redirect(url_for(page, job_id=job.id))
        return redirect(url_for(".index"))
