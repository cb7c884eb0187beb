"""Job kinds for the tests: import-like work that writes learners row by row through the rules,
and a way to stop the real import job half way."""

import os
import time
from pathlib import Path

import jobs
from models import Learner, db
from models.jobs import Job
from seed.learners import letters
from spreadsheets import learner_bulk


def hang_after_bulk_write(hang_file: str, written_file: str) -> None:
    """Make the import wait after its rows are written, uncommitted, while `hang_file` exists."""
    write = learner_bulk.apply

    def write_then_wait(session, found) -> None:  # noqa: ANN001
        write(session, found)
        Path(written_file).touch()
        while Path(hang_file).exists():
            time.sleep(0.05)

    learner_bulk.apply = write_then_wait


if os.environ.get("LEC_TEST_HANG_FILE"):
    hang_after_bulk_write(os.environ["LEC_TEST_HANG_FILE"], os.environ["LEC_TEST_WRITTEN_FILE"])


@jobs.task("test_learners")
def add_learners(job: Job, ids: list[str], hang_file: str = "", name: str = "") -> str | None:
    """One learner per ID, flushed one by one; waits at half way while `hang_file` exists
    on the first attempt, so a test can kill the worker with rows written but not committed."""
    for n, national_id in enumerate(ids, start=1):
        db.session.add(Learner(national_id=national_id, first_name=f"สมชาย{letters(n)}",
                               last_name="ใจดี", gender="M"))
        db.session.flush()
        jobs.report_progress(job, n, len(ids))
        while hang_file and job.attempts == 1 and n == len(ids) // 2 and Path(hang_file).exists():
            time.sleep(0.05)
    if name:
        jobs.result_file(job, name).write_text(f"{len(ids)} learners\n", encoding="utf-8")
        return name
    return None
