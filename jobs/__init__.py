"""Long work off the request (issue 11 item 4): submit a job, a worker runs it, the owner
downloads its result from the jobs page.

A job kind is a function registered with `@task("kind")`; it receives the Job and its
parameters and does all its writes in the worker's one session, which the runner commits
together with the job's "done" status. A failure rolls everything back and leaves a Thai
message on the job; a killed worker leaves the job "running" with nothing committed, and after
LEC_JOB_STALE_SECONDS without progress (or as long waiting in the queue, its message lost) the
job shows as stopped and its owner may run it again.
"""

import logging
import shutil
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from huey import Huey
from redis.exceptions import RedisError
from sqlalchemy import update

import clock
from models import User, db
from models.jobs import Job, JobStatus
from rules import RuleViolation, acting_as
from rules.audit import record
from rules.permissions import may_reveal_id
from rules.scope import Unit, covers, unit_of

from . import queue

log = logging.getLogger(__name__)
#: What a queue that cannot be reached raises: Redis down, or the SQLite queue file locked or gone.
QUEUE_DOWN = (RedisError, sqlite3.Error, OSError)

Handler = Callable[..., str | None]


@dataclass(frozen=True)
class Kind:
    """A registered kind of job; `private` results (cards) go to their owner alone, once;
    a job with a `page` (an import) shows its result on that endpoint instead of a download."""

    handler: Handler
    private: bool = False
    page: str | None = None


REGISTRY: dict[str, Kind] = {}


class Title:
    """A job's title as its English sentence and values, so each reader sees it in their own
    language (`-k Title` in the Makefile extracts the sentence). A value that is a message
    itself (a lazy string, such as a list's name) is kept in English and translated too."""

    def __init__(self, msgid: str, **values: Any) -> None:
        self.msgid = msgid
        with force_locale("en"):
            self.values = {key: {"message": str(value)} if isinstance(value, LazyString)
                           else value for key, value in values.items()}


def task(kind: str, private: bool = False, page: str | None = None
         ) -> Callable[[Handler], Handler]:
    """Register `fn(job, **params) -> result file name or None` as the work of `kind`."""

    def register(fn: Handler) -> Handler:
        REGISTRY[kind] = Kind(fn, private, page)
        return fn

    return register


def init_app(app: Flask) -> None:
    """Build the app's queue from its settings (jobs/queue.py) and put it to use."""
    queue.configure(app)
    use_queue(app, queue.build(app))


def use_queue(app: Flask, huey: Huey) -> None:
    """Make `huey` the app's queue, with the one task that runs any job by its id."""

    @huey.task(name="lec.run_job")
    def run_job(job_id: int) -> None:
        execute(app, job_id)

    app.extensions["lec_jobs"] = huey
    app.extensions["lec_jobs_task"] = run_job


def _unit(user: User) -> Unit:
    """The job's place in the tree is its owner's: the levels above see it too."""
    return unit_of(user)


def submit(kind: str, user: User, title: str | Title = "", **params: Any) -> Job:
    """Queue `kind` for `user` and return its job; the submission is audited."""
    if kind not in REGISTRY:
        raise KeyError(kind)
    unit = _unit(user)
    text, values = (title.msgid, title.values) if isinstance(title, Title) else (title, None)
    job = Job(kind=kind, owner_id=user.id, title=text[:200], title_values=values,
              language=str(get_locale() or "") or None, params=params,
              province_code=unit.province_code, lao_id=unit.lao_id,
              institution_id=unit.institution_id, status=JobStatus.QUEUED)
    db.session.add(job)
    db.session.flush()
    record("job_submit", str(job), kind=kind, job_id=job.id)
    db.session.commit()
    _enqueue(job)
    db.session.refresh(job)
    return job


def _enqueue(job: Job) -> None:
    """Hand the job to the queue. A queue that cannot be reached fails the job in words, with
    nothing done, so its owner may run it again; the page does not fail."""
    try:
        current_app.extensions["lec_jobs_task"](job.id)
    except QUEUE_DOWN:
        log.exception("job %s (%s) could not be queued", job.id, job.kind)
        job.status = JobStatus.FAILED
        job.message = _("The job queue cannot be reached right now, so the job was not "
                        "started. Nothing was saved. Run it again in a few minutes.")
        job.finished_at = clock.now()
        db.session.commit()


def stalled(job: Job) -> bool:
    """A running job whose worker has given no sign of life for LEC_JOB_STALE_SECONDS (it was
    killed), or a job waiting that long in the queue (its message lost, or no worker runs)."""
    if job.status == JobStatus.RUNNING:
        seen = progress(job)[2] or _timestamp(job.started_at)
    elif job.status == JobStatus.QUEUED:
        seen = _timestamp(job.finished_at or job.created_at)  # a re-run: its last attempt's end
    else:
        return False
    return time.time() - seen > current_app.config["LEC_JOB_STALE_SECONDS"]


def _timestamp(moment: Any) -> float:
    return moment.timestamp() if moment else 0.0


def may_rerun(job: Job) -> bool:
    """A failed job, or a stalled one: nothing of either was committed."""
    return job.status == JobStatus.FAILED or stalled(job)


def rerun(job: Job) -> None:
    """Queue the job again from the start (nothing of the failed run was committed); its
    progress starts again from nothing, and its waiting is counted from now."""
    job.status = JobStatus.QUEUED
    job.message = None
    job.rows_done, job.rows_total = 0, None
    job.finished_at = clock.now()
    record("job_rerun", str(job), kind=job.kind, job_id=job.id)
    db.session.commit()
    with suppress(*QUEUE_DOWN):
        _forget_progress(job.id)
    _enqueue(job)


def may_see(user: Any, job: Job) -> bool:
    """Its owner, or a user whose subtree holds the owner's unit; private results: owner only."""
    if user is None or not user.is_authenticated:
        return False
    if job.owner_id == user.id:
        return True
    kind = REGISTRY.get(job.kind)
    if kind is not None and kind.private:
        return False
    return covers(user, Unit(job.province_code, job.lao_id, job.institution_id))


def may_download(user: Any, job: Job) -> bool:
    """Whether `user` may take the job's result file, which was written with its owner's
    rights: an institution's export holds whole national IDs, so those above it, who read
    them masked and reveal them one at a time, may see the job but not take its file."""
    return may_see(user, job) and (job.owner_id == user.id or may_reveal_id(user)
                                   or not may_reveal_id(job.owner))


def _progress_key(job_id: int) -> str:
    return f"lec.progress.{job_id}"


def report_progress(job: Job, done: int, total: int | None) -> None:
    """Tell the jobs page how far `job` is; kept in the queue's store, outside the job's
    transaction, so it shows while the work is still uncommitted; on Redis it expires
    (queue.PROGRESS_SECONDS), so a killed worker's report does not stay forever."""
    queue.huey().put_result(_progress_key(job.id), (done, total, time.time()))


def _forget_progress(job_id: int) -> None:
    """Drop what an attempt reported: a new one starts its bar from nothing, and a finished
    one's counts are on its job row."""
    queue.huey().delete(_progress_key(job_id))


def progress(job: Job) -> tuple[int, int | None, float | None]:
    """(rows done, rows in all, when last reported) of a job."""
    if job.status == JobStatus.RUNNING:
        try:
            seen = queue.huey().get(_progress_key(job.id), peek=True)
        except QUEUE_DOWN:  # the jobs pages still show what the job row knows
            seen = None
        if seen is not None:
            return seen
    return job.rows_done, job.rows_total, None


def results_dir(job_id: int, partial: bool = False) -> Path:
    root = Path(current_app.config["LEC_JOBS_DIR"])
    return root / (f"{job_id}.partial" if partial else str(job_id))


def result_file(job: Job, name: str) -> Path:
    """Where a job writes its result file; it becomes visible only if the job succeeds."""
    folder = results_dir(job.id, partial=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def result_path(job: Job) -> Path | None:
    """The finished result file, if it is still there."""
    if job.status != JobStatus.DONE or not job.result_name:
        return None
    path = results_dir(job.id) / job.result_name
    return path if path.is_file() else None


def _speaking(language: str | None) -> AbstractContextManager[Any]:
    """A job speaks its submitter's language; one from before jobs kept it, the default."""
    return force_locale(language) if language else nullcontext()


def failure_message(exc: BaseException) -> str:
    """Why a job failed, for its owner: the rule's own words, or a plain Thai sentence."""
    if isinstance(exc, RuleViolation):
        return " ".join(str(m) for m in exc.messages)
    return _("The job stopped because of an unexpected error. Nothing was saved. "
             "Run it again, or tell the system administrator if it fails again.")


def _claim(job_id: int) -> bool:
    """Take a queued job for this worker; False when another worker has it or it is done."""
    taken = db.session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(status=JobStatus.RUNNING, started_at=clock.now(), attempts=Job.attempts + 1,
                rows_done=0))
    db.session.commit()
    if taken.rowcount != 1:
        return False
    _forget_progress(job_id)
    return True


def execute(app: Flask, job_id: int) -> None:
    """Run one job in its own app context and session: all its work commits, or none."""
    with app.app_context():
        if not _claim(job_id):
            return
        job = db.session.get(Job, job_id)
        language = job.language
        shutil.rmtree(results_dir(job_id, partial=True), ignore_errors=True)
        try:
            with acting_as(job.owner), _speaking(language):
                name = REGISTRY[job.kind].handler(job, **(job.params or {}))
            if name:
                final = results_dir(job_id)
                shutil.rmtree(final, ignore_errors=True)
                results_dir(job_id, partial=True).rename(final)
                job.result_name = name
                job.result_path = str(final / name)
            job.rows_done, job.rows_total, _seen = progress(job)
            job.status = JobStatus.DONE
            job.finished_at = clock.now()
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 - every failure must end as a message
            db.session.rollback()
            if not isinstance(exc, RuleViolation):
                log.exception("job %s (%s) failed", job_id, job.kind)
            shutil.rmtree(results_dir(job_id, partial=True), ignore_errors=True)
            shutil.rmtree(results_dir(job_id), ignore_errors=True)
            with _speaking(language):
                message = failure_message(exc)
            db.session.execute(update(Job).where(Job.id == job_id).values(
                status=JobStatus.FAILED, message=message, finished_at=clock.now(),
                result_name=None, result_path=None))
            db.session.commit()
        finally:
            db.session.remove()
        with suppress(*QUEUE_DOWN):  # the job row holds its final counts now
            _forget_progress(job_id)

