"""Background jobs: all or nothing, progress, a killed worker, scoped and audited results."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huey import SqliteHuey
from jobkinds import add_learners  # noqa: F401 - registers the test kinds
from sqlalchemy import func, select

import jobs
from models import Learner, db
from models.audit import AuditEntry
from models.jobs import Job, JobStatus
from rules.identity import check_digit

WORKER = Path(__file__).parent / "job_worker.py"


def nid(n: int) -> str:
    body = f"1{n:011d}"
    return body + str(check_digit(body))


def learners() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Learner.id)))


def fresh(job: Job) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job.id)


def seen(job: Job) -> tuple[str, int]:
    """The job's status and rows done, read without holding a SQLite lock on the worker."""
    job = fresh(job)
    try:
        return job.status, jobs.progress(job)[0]
    finally:
        db.session.rollback()


@pytest.fixture
def results(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "LEC_JOBS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


def test_job_runs_reports_progress_and_hands_its_file_to_its_owner(app, tree, browser, results):
    owner = tree.department
    job = jobs.submit("test_learners", owner, title="นำเข้า",
                      ids=[nid(n) for n in range(1, 6)], name="report.txt")
    job = fresh(job)
    assert job.status == JobStatus.DONE
    assert (job.rows_done, job.rows_total) == (5, 5)
    assert learners() == 5
    client = browser(owner)
    state = client.get(f"/admin/jobs/{job.id}/progress.json").get_json()
    assert state["status"] == "done" and state["done"] == 5 and state["total"] == 5
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert "นำเข้า" in page and "เสร็จแล้ว" in page
    download = client.get(state["download"])
    assert download.status_code == 200
    assert download.get_data(as_text=True) == "5 learners\n"
    download.close()
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.action.in_(["job_submit", "job_download"]))).all()
    assert sorted(actions) == ["job_download", "job_submit"]


def test_a_bad_row_fails_the_job_in_thai_and_writes_nothing(app, tree, browser, results):
    ids = [nid(1), nid(2), "1234567890123", nid(4)]  # the third has a wrong check digit
    job = fresh(jobs.submit("test_learners", tree.department, ids=ids, name="report.txt"))
    assert job.status == JobStatus.FAILED
    assert "เลขประจำตัวประชาชน" in job.message
    assert learners() == 0
    assert jobs.result_path(job) is None and not any(results.glob("*/*"))
    client = browser(tree.department)
    assert client.get(f"/admin/jobs/{job.id}/download").status_code == 404
    assert "ทำอีกครั้ง" in client.get("/admin/jobs/").get_data(as_text=True)


def test_an_unexpected_error_says_so_in_thai(app, tree, results, monkeypatch):
    def broken(job, **params):
        raise ZeroDivisionError

    monkeypatch.setitem(jobs.REGISTRY, "broken", jobs.Kind(broken))
    job = fresh(jobs.submit("broken", tree.department))
    assert job.status == JobStatus.FAILED
    assert "ไม่มีการบันทึก" in job.message and "ZeroDivision" not in job.message


def test_result_is_refused_outside_the_owners_scope(app, tree, browser, results):
    job = jobs.submit("test_learners", tree.a.muni_user, title="งานของเทศบาล", ids=[],
                      name="report.txt")
    job_id = job.id
    for user in (tree.b.province_user, tree.a.sao_user, tree.a.school_user, tree.b.school_user):
        client = browser(user)
        assert client.get(f"/admin/jobs/{job_id}/download").status_code == 404, user.login
        assert client.get(f"/admin/jobs/{job_id}/progress.json").status_code == 404
    for user in (tree.a.muni_user, tree.a.province_user, tree.department):
        download = browser(user).get(f"/admin/jobs/{job_id}/download")
        download.close()
        assert download.status_code == 200, user.login
    # Another user's job is not on "my jobs".
    page = browser(tree.a.province_user).get("/admin/jobs/").get_data(as_text=True)
    assert "งานของเทศบาล" not in page and "ท่านยังไม่มีงาน" in page
    assert app.test_client().get(f"/admin/jobs/{job_id}/download").status_code == 302


def _worker(app, queue_file: Path, results: Path, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "LEC_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                   "LEC_JOBS_QUEUE_FILE": str(queue_file), "LEC_JOBS_DIR": str(results), **env}
    environment.pop("LEC_REDIS_URL", None)
    environment.update(env)
    return subprocess.Popen([sys.executable, str(WORKER)], env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(predicate, seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_killed_worker_commits_nothing_and_the_job_runs_again(
        app, tree, browser, results, tmp_path, monkeypatch):
    queue_file = tmp_path / "queue.sqlite"
    monkeypatch.setitem(app.extensions, "lec_jobs", app.extensions["lec_jobs"])
    monkeypatch.setitem(app.extensions, "lec_jobs_task", app.extensions["lec_jobs_task"])
    jobs.use_queue(app, SqliteHuey("lec", filename=str(queue_file), results=False))
    hang = tmp_path / "hang"
    hang.touch()
    job = jobs.submit("test_learners", tree.department, ids=[nid(n) for n in range(1, 11)],
                      hang_file=str(hang), name="report.txt")
    worker = _worker(app, queue_file, results)
    try:
        # Half the rows are written in the worker's transaction, then it is killed.
        _wait(lambda: seen(job) == (JobStatus.RUNNING, 5))
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        worker.kill()
    assert learners() == 0
    job = fresh(job)
    assert job.status == JobStatus.RUNNING and not jobs.may_rerun(job)
    client = browser(tree.department)
    assert client.post(f"/admin/jobs/{job.id}/rerun").status_code == 403
    monkeypatch.setitem(app.config, "LEC_JOB_STALE_SECONDS", 0)
    assert client.post(f"/admin/jobs/{job.id}/rerun").status_code == 302
    worker = _worker(app, queue_file, results)
    try:
        _wait(lambda: seen(job)[0] == JobStatus.DONE)
        _wait(lambda: jobs.queue.huey().storage.result_store_size() == 0)  # its progress too
    finally:
        worker.terminate()
        worker.wait(10)
    job = fresh(job)
    assert (job.attempts, job.rows_done, learners()) == (2, 10, 10)
    download = client.get(f"/admin/jobs/{job.id}/download")
    assert download.get_data(as_text=True) == "10 learners\n"
    download.close()


@pytest.mark.skipif(os.environ.get("CI") != "true" and not os.environ.get("LEC_TEST_REDIS"),
                    reason="the Redis queue is tested in CI (or with LEC_TEST_REDIS=1)")
def test_jobs_travel_through_redis_and_leave_no_progress_there(
        app, tree, browser, results, monkeypatch):
    queue = jobs.queue.on_redis("lec-test-11", "redis://127.0.0.1:6379/11")
    queue.flush()
    redis = queue.storage.conn
    monkeypatch.setitem(app.extensions, "lec_jobs", app.extensions["lec_jobs"])
    monkeypatch.setitem(app.extensions, "lec_jobs_task", app.extensions["lec_jobs_task"])
    jobs.use_queue(app, queue)
    try:
        job = jobs.submit("test_learners", tree.department, ids=[nid(1), nid(2)])
        assert fresh(job).status == JobStatus.QUEUED and queue.pending_count() == 1
        jobs.report_progress(job, 0, 2)  # as a worker does while the job runs
        [key] = redis.scan_iter(match="*progress*")
        assert 0 < redis.ttl(key) <= jobs.queue.PROGRESS_SECONDS
        queue.execute(queue.dequeue())  # what a worker on another machine does
        job = fresh(job)
        assert job.status == JobStatus.DONE and (job.rows_done, learners()) == (2, 2)
        assert list(redis.scan_iter(match=f"*{queue.storage.name}*")) == []
        page = browser(tree.department).get("/admin/jobs/").get_data(as_text=True)
        assert "2 จาก 2 แถว" in page
    finally:
        queue.flush()


def test_a_job_sent_while_the_queue_is_down_fails_in_words_and_runs_again_later(
        app, tree, browser, results, monkeypatch):
    monkeypatch.setitem(app.extensions, "lec_jobs", app.extensions["lec_jobs"])
    monkeypatch.setitem(app.extensions, "lec_jobs_task", app.extensions["lec_jobs_task"])
    working = app.extensions["lec_jobs"], app.extensions["lec_jobs_task"]
    jobs.use_queue(app, jobs.queue.on_redis("lec-down", "redis://127.0.0.1:9/0"))
    job = fresh(jobs.submit("test_learners", tree.department, ids=[nid(1)], name="r.txt"))
    assert job.status == JobStatus.FAILED and "คิวงาน" in job.message
    client = browser(tree.department)
    page = client.get("/admin/jobs/")
    assert page.status_code == 200 and "ทำอีกครั้ง" in page.get_data(as_text=True)
    assert learners() == 0
    app.extensions["lec_jobs"], app.extensions["lec_jobs_task"] = working  # the queue is back
    jobs.rerun(fresh(job))
    assert fresh(job).status == JobStatus.DONE and learners() == 1


def test_make_runs_worker_needs_no_redis_and_stops_with_its_parent(tmp_path):
    """What `make run` starts beside the web server: a worker on the SQLite queue file."""
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "LEC_REDIS_URL"}
    env.update(LEC_DATABASE_URL=f"sqlite:///{tmp_path}/lec.sqlite",
               LEC_JOBS_QUEUE_FILE=str(tmp_path / "queue.sqlite"), LEC_SECRET_KEY="test")
    flask = Path(sys.executable).parent / "flask"
    shell = subprocess.Popen(
        ["sh", "-c", f'"{flask}" --app app lec worker --parent $$ & echo $!; sleep 120'],
        cwd=root, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
    worker = int(shell.stdout.readline())
    try:
        _wait(lambda: (tmp_path / "queue.sqlite").exists(), 60)  # the consumer is up
        assert Path(f"/proc/{worker}").exists()
    finally:
        shell.kill()  # as when `make run` is stopped
        shell.wait(10)
        shell.stdout.close()
    _wait(lambda: not Path(f"/proc/{worker}").exists()
          or "Z" in Path(f"/proc/{worker}/stat").read_text().split()[2], 30)


def test_the_worker_says_which_queue_and_result_folder_it_uses(tmp_path):
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k not in ("LEC_REDIS_URL", "LEC_JOBS_DIR")}
    env.update(LEC_DATABASE_URL=f"sqlite:///{tmp_path}/lec.sqlite", LEC_SECRET_KEY="test",
               LEC_JOBS_QUEUE_FILE=str(tmp_path / "queue.sqlite"),
               LEC_JOBS_DIR=str(tmp_path / "results"))
    flask = Path(sys.executable).parent / "flask"
    worker = subprocess.Popen([str(flask), "--app", "app", "lec", "worker"], cwd=root, env=env,
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        first = worker.stderr.readline()
    finally:
        worker.kill()
        worker.wait(10)
        worker.stderr.close()
    assert f"SQLite file {tmp_path / 'queue.sqlite'}" in first
    assert f"results in {tmp_path / 'results'}" in first


def test_a_redis_queue_is_named_without_its_password(app, monkeypatch):
    monkeypatch.setitem(app.config, "LEC_JOBS_IMMEDIATE", False)
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://:s3cret@cache.example:6379/2")
    line = jobs.queue.describe(app)
    assert "Redis redis://:***@cache.example:6379/2" in line and "s3cret" not in line
