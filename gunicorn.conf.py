"""Gunicorn settings for LEC: `gunicorn -c gunicorn.conf.py` serves `app:create_app()`.

A page is mostly Python (templates, forms), so processes carry the deadline crush and two
threads each cover a request's waits on PostgreSQL: 2 x cores + 1 workers x 2 threads kept
200 users under p95 500 ms on 2 cores, where 3 x 8 did not (threads of one process share its
GIL). Long work runs on the job workers, so no request comes near the timeouts. Every value
can be overridden by its LEC_* variable or on the command line.
"""

import gc
import os

env = os.environ.get
cores = os.cpu_count() or 1

wsgi_app = "app:create_app()"
bind = env("LEC_BIND", "127.0.0.1:8000")
# Processes for CPU (templates, forms), a second thread for waiting on the database.
workers = int(env("LEC_WEB_WORKERS", str(2 * cores + 1)))
worker_class = "gthread"
threads = int(env("LEC_WEB_THREADS", "2"))
# A worker silent this long is stuck and is replaced; a streamed export keeps it alive.
timeout = int(env("LEC_WEB_TIMEOUT", "120"))
# On HUP or a deploy, requests in flight have this long to finish.
graceful_timeout = int(env("LEC_WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Renew workers now and then, spread out so they do not all restart at once.
max_requests = int(env("LEC_WEB_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# Load the app once in the master: workers fork with it ready and share its memory.
preload_app = True
# Heartbeat files in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = env("LEC_WEB_ACCESS_LOG", "-")
errorlog = "-"
loglevel = env("LEC_WEB_LOG_LEVEL", "info")
proc_name = "lec"


def pre_fork(server, worker) -> None:  # noqa: ANN001
    """The loaded app's ~170,000 objects live as long as the worker: kept out of the collector,
    a full collection is no longer a 60 ms pause every dozen requests (and pages stay shared)."""
    gc.freeze()


def post_fork(server, worker) -> None:  # noqa: ANN001
    """A forked worker must not reuse the master's database connections (preload_app)."""
    from models import db

    app = worker.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)
