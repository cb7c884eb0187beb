"""The queue under the jobs: Huey on Redis in production, on a SQLite file on a laptop.

Huey was chosen over RQ (Redis only, no embedded mode, fork-per-job) and Dramatiq (Redis or
RabbitMQ, no file-backed broker): one API runs on the Redis production already has and on a
SQLite file that `make run` needs nothing for, and its `immediate` mode runs a job inside the
call for tests. Only a job id travels through the queue; the work itself is in the database.
"""

import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from huey import Huey, RedisExpireHuey, SqliteHuey

from i18n import SpokenCommand, SpokenOption

#: Key prefix of the queue in Redis; workers and web servers must use the same one.
QUEUE_NAME = "lec"
#: How long Redis keeps a job's progress report without a newer one: far beyond
#: LEC_JOB_STALE_SECONDS, so a stopped job still shows how far it got, yet what a killed worker
#: left does not stay in Redis forever.
PROGRESS_SECONDS = 24 * 3600


def configure(app: Flask) -> None:
    """Read the job settings (LEC_* variables) into `app.config`."""
    env = os.environ.get
    instance = Path(app.instance_path)
    app.config.setdefault("LEC_JOBS_IMMEDIATE", app.testing)
    app.config.setdefault("LEC_JOBS_DIR", env("LEC_JOBS_DIR", str(instance / "jobs")))
    app.config.setdefault("LEC_JOBS_QUEUE_FILE",
                          env("LEC_JOBS_QUEUE_FILE", str(instance / "jobs-queue.sqlite")))
    app.config.setdefault("LEC_JOBS_QUEUE_NAME", env("LEC_JOBS_QUEUE_NAME", QUEUE_NAME))
    app.config.setdefault("LEC_JOB_STALE_SECONDS", int(env("LEC_JOB_STALE_SECONDS", "900")))
    app.config.setdefault("LEC_EXPORT_JOB_ROWS", int(env("LEC_EXPORT_JOB_ROWS", "20000")))
    app.config.setdefault("LEC_ROLLOVER_JOB_ROWS", int(env("LEC_ROLLOVER_JOB_ROWS", "1000")))


def build(app: Flask) -> Huey:
    """The Huey instance for `app`'s settings: immediate (tests), Redis, or the SQLite file."""
    name = app.config["LEC_JOBS_QUEUE_NAME"]
    if app.config["LEC_JOBS_IMMEDIATE"]:
        return Huey(name, results=False, immediate=True)
    url = app.config.get("LEC_JOBS_REDIS_URL") or app.config.get("REDIS_URL")
    if url:
        return on_redis(name, url)
    Path(app.config["LEC_JOBS_QUEUE_FILE"]).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=app.config["LEC_JOBS_QUEUE_FILE"], results=False)


def on_redis(name: str, url: str) -> Huey:
    """The queue on Redis; what is put with `put_result` (job progress) expires after
    PROGRESS_SECONDS."""
    return RedisExpireHuey(name, url=url, results=False, expire_time=PROGRESS_SECONDS)


def describe(app: Flask) -> str:
    """Which queue and result folder `app` uses, for the worker's first log line; a Redis URL
    without its password."""
    if app.config["LEC_JOBS_IMMEDIATE"]:
        where = "inside each request (LEC_JOBS_IMMEDIATE)"
    elif url := app.config.get("LEC_JOBS_REDIS_URL") or app.config.get("REDIS_URL"):
        where = f"Redis {without_password(url)}"
    else:
        where = f"SQLite file {Path(app.config['LEC_JOBS_QUEUE_FILE']).resolve()}"
    return (f"jobs queue {app.config['LEC_JOBS_QUEUE_NAME']!r} on {where}; "
            f"results in {Path(app.config['LEC_JOBS_DIR']).resolve()}")


def without_password(url: str) -> str:
    """`url` with its password (in the user part or a `password=` option) replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None and "password=" not in parts.query:
        return url
    if parts.password is not None:
        user = f"{parts.username}:***" if parts.username else ":***"
        parts = parts._replace(netloc=f"{user}@{parts.netloc.rpartition('@')[2]}")
    query = re.sub(r"(^|&)password=[^&]*", r"\1password=***", parts.query)
    return urlunsplit(parts._replace(query=query))


def huey(app: Flask | None = None) -> Huey:
    """The app's queue."""
    return (app or current_app).extensions["lec_jobs"]


def _watch_parent(parent: int) -> None:
    """End this worker when the process that started it is gone (`make run` stopped)."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


@click.command("worker", cls=SpokenCommand,
               help=_l("Run queued jobs until stopped; start as many as you like, on any "
                       "machine."))
@click.option("--threads", type=click.IntRange(1),
              default=lambda: int(os.environ.get("LEC_JOB_THREADS", "2")),
              show_default=_l("LEC_JOB_THREADS or 2"), cls=SpokenOption, metavar=_l("NUMBER"),
              help=_l("Jobs run at once by this worker."))
@click.option("--parent", type=int, default=None, metavar="PID", cls=SpokenOption,
              help=_l("Stop when process PID, which started this one, ends (used by `make "
                      "run`)."))
@with_appcontext
def worker(threads: int, parent: int | None) -> None:
    queue: Any = huey()
    if queue.immediate:
        raise click.ClickException(_("LEC_JOBS_IMMEDIATE is set: jobs run inside the request."))
    if parent:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    # Each job's start, end and failure on stderr, for the service's log.
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s")
    # Which queue this worker reads: a worker on another queue than the web server never runs
    # its jobs, and this line is where an operator sees that.
    logging.getLogger(__name__).info("%s", describe(current_app))
    queue.create_consumer(workers=threads, worker_type="thread", periodic=False).run()
