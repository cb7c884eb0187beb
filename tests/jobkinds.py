"""Job kinds for the tests: import-like work that writes learners row by row through the rules."""

import time
from pathlib import Path

import jobs
from models import Learner, db
from models.jobs import Job


@jobs.task("test_learners")
def add_learners(job: Job, ids: list[str], hang_file: str = "", name: str = "") -> str | None:
    """One learner per ID, flushed one by one; waits at half way while `hang_file` exists
    on the first attempt, so a test can kill the worker with rows written but not committed."""
    for n, national_id in enumerate(ids, start=1):
        db.session.add(Learner(national_id=national_id, first_name=f"สมชาย{n}",
                               last_name="ใจดี", gender="M"))
        db.session.flush()
        jobs.report_progress(job, n, len(ids))
        while hang_file and job.attempts == 1 and n == len(ids) // 2 and Path(hang_file).exists():
            time.sleep(0.05)
    if name:
        jobs.result_file(job, name).write_text(f"{len(ids)} learners\n", encoding="utf-8")
        return name
    return None
