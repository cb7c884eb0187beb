"""The learner import runs as jobs (issues 11 and 12): the web request only keeps the file; a
worker checks it and, after the preview, writes it all or nothing, even if killed half way."""

import io
import re
import signal
import time
from datetime import timedelta
from pathlib import Path

from huey import SqliteHuey
from sqlalchemy import func, select, update
from test_import_learners import YEAR, csv_bytes, row, upload, upload_and_confirm
from test_jobs import _wait, _worker, fresh

import clock
import jobs
from models import Enrolment, Learner, db
from models.jobs import Job, JobStatus


def learners() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Learner.id)))


def import_jobs() -> list[Job]:
    db.session.expire_all()
    return db.session.scalars(select(Job).where(Job.kind == "import").order_by(Job.id)).all()


def queue_on_file(app, tmp_path, monkeypatch) -> Path:
    """A real queue for the rest of the test: jobs wait for a worker process."""
    queue_file = tmp_path / "queue.sqlite"
    monkeypatch.setitem(app.extensions, "lec_jobs", app.extensions["lec_jobs"])
    monkeypatch.setitem(app.extensions, "lec_jobs_task", app.extensions["lec_jobs_task"])
    jobs.use_queue(app, SqliteHuey("lec", filename=str(queue_file), results=False))
    return queue_file


def queue_upload(browser, rows: list[list[str]]):
    """Upload a file whose check waits in the queue: the page it answers with follows it."""
    return browser.post(f"/admin/import/?year={YEAR}", data={
        "file": (io.BytesIO(csv_bytes(rows)), "learners.csv"), "year": str(YEAR)},
        content_type="multipart/form-data")


def run_worker_until_done(app, queue_file: Path, job: Job) -> None:
    """A worker process on the queue file until `job` has finished."""
    worker = _worker(app, queue_file, Path(app.config["LEC_JOBS_DIR"]))
    try:
        _wait(lambda: fresh(job).status == JobStatus.DONE)
    finally:
        worker.terminate()
        worker.wait(10)


def test_the_upload_only_queues_the_check_and_a_worker_reads_the_file(
        app, tree, browser, tmp_path, monkeypatch):
    queue_file = queue_on_file(app, tmp_path, monkeypatch)
    school = browser(tree.a.school_user)
    response = queue_upload(school, [row(1), row(2)])
    assert response.status_code == 303
    waiting = school.get(response.headers["Location"])
    assert waiting.status_code == 200
    assert "รอคิว" in waiting.get_data(as_text=True)  # no worker yet: nothing was parsed
    [check] = import_jobs()
    assert check.status == JobStatus.QUEUED and check.params["write"] is False
    run_worker_until_done(app, queue_file, check)
    preview = school.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'action="/admin/import/commit/\d+/"', preview)
    assert learners() == 0  # the check writes nothing


def test_a_bad_row_refuses_the_whole_import_job(app, tree, browser):
    school = browser(tree.a.school_user)
    page = upload(school, csv_bytes([row(1), row(2), row(3, grade="Z9")]))
    assert page.status_code == 422
    assert "ไม่สามารถนำเข้า" in page.get_data(as_text=True) or "ระดับชั้น" in page.get_data(
        as_text=True)
    assert 'action="/admin/import/commit/' not in page.get_data(as_text=True)
    assert learners() == 0
    [check] = import_jobs()
    assert check.status == JobStatus.DONE and not check.params["write"]


def test_the_writing_job_refuses_what_changed_since_the_preview(app, tree, browser):
    school = browser(tree.a.school_user)
    preview = upload(school, csv_bytes([row(1), row(7)]))
    commit = re.search(r'action="(/admin/import/commit/\d+/)"',
                       preview.get_data(as_text=True)).group(1)
    # Meanwhile another school enrols learner 7.
    other = upload_and_confirm(browser(tree.b.school_user), csv_bytes([row(7)]))
    assert other.status_code == 200 and learners() == 1
    page = school.post(commit, follow_redirects=True)
    assert page.status_code == 422 and tree.b.school.code in page.get_data(as_text=True)
    assert learners() == 1  # learner 1 was not written either
    assert db.session.scalar(select(func.count(Enrolment.id)).where(
        Enrolment.institution_id == tree.a.school.id)) == 0


def test_an_import_job_is_seen_only_inside_its_scope(app, tree, browser):
    page = upload(browser(tree.a.school_user), csv_bytes([row(1, gender="?")]))
    [check] = import_jobs()
    for user in (tree.b.school_user, tree.a.cdc_user, tree.b.province_user, tree.a.sao_user):
        client = browser(user)
        assert client.get(f"/admin/import/job/{check.id}/").status_code == 404, user.login
        assert client.get(f"/admin/import/job/{check.id}/report/csv/").status_code == 404
        assert client.post(f"/admin/import/commit/{check.id}/").status_code == 404
    for user in (tree.a.muni_user, tree.a.province_user, tree.department):
        assert browser(user).get(f"/admin/import/job/{check.id}/").status_code == 422
    assert page.status_code == 422


def test_a_worker_killed_while_writing_commits_nothing_and_the_import_runs_again(
        app, tree, browser, tmp_path, monkeypatch):
    school = browser(tree.a.school_user)
    preview = upload(school, csv_bytes([row(n) for n in range(1, 21)]))
    commit = re.search(r'action="(/admin/import/commit/\d+/)"',
                       preview.get_data(as_text=True)).group(1)
    queue_file = queue_on_file(app, tmp_path, monkeypatch)
    hang, written = tmp_path / "hang", tmp_path / "written"
    hang.touch()
    response = school.post(commit)
    assert response.status_code == 303
    job = import_jobs()[-1]
    assert job.params["write"] is True and job.status == JobStatus.QUEUED
    worker = _worker(app, queue_file, Path(app.config["LEC_JOBS_DIR"]),
                     LEC_TEST_HANG_FILE=str(hang), LEC_TEST_WRITTEN_FILE=str(written))
    try:
        _wait(lambda: written.exists())  # 20 learners written in the worker's transaction
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        worker.kill()
    assert learners() == 0
    assert fresh(job).status == JobStatus.RUNNING
    monkeypatch.setitem(app.config, "LEC_JOB_STALE_SECONDS", 0)
    assert school.post(f"/admin/jobs/{job.id}/rerun").status_code == 302
    run_worker_until_done(app, queue_file, job)
    assert learners() == 20
    done = school.get(f"/admin/import/job/{job.id}/").get_data(as_text=True)
    assert 'id="import-done"' in done and "20" in done


def test_job_titles_and_the_preview_read_in_the_readers_language(app, tree, browser):
    school = browser(tree.a.school_user)
    school.get("/language/en")
    preview = upload(school, csv_bytes([row(1)]), name="imp4.csv").get_data(as_text=True)
    assert f"Check of imp4.csv for {tree.a.school.name}" in preview and "ตรวจไฟล์" not in preview
    read_as = preview.split("How the columns were understood", 1)[1].split("</table>", 1)[0]
    assert "<td>First name</td>" in read_as and "<td>Birth date</td>" in read_as
    assert f"Check of imp4.csv for {tree.a.school.name}" in school.get(
        "/admin/jobs/").get_data(as_text=True)
    school.get("/language/th")
    mine = school.get("/admin/jobs/").get_data(as_text=True)
    assert f"ตรวจไฟล์ imp4.csv ของ {tree.a.school.name}" in mine and "Check of" not in mine
    # A job submitted before titles were kept this way shows the words it was stored with.
    [check] = import_jobs()
    check.title, check.title_values = "ตรวจไฟล์ old.csv", None
    db.session.commit()
    assert "ตรวจไฟล์ old.csv" in school.get("/admin/jobs/").get_data(as_text=True)


def test_a_worker_checks_the_file_in_the_language_of_who_uploaded_it(
        app, tree, browser, tmp_path, monkeypatch):
    queue_file = queue_on_file(app, tmp_path, monkeypatch)
    school = browser(tree.a.school_user)
    school.get("/language/en")
    response = queue_upload(school, [row(1)])
    [check] = import_jobs()
    run_worker_until_done(app, queue_file, check)
    preview = school.get(response.headers["Location"]).get_data(as_text=True)
    read_as = preview.split("How the columns were understood", 1)[1].split("</table>", 1)[0]
    assert "<td>First name</td>" in read_as and "<td>Birth date</td>" in read_as


def left_by_a_killed_worker(app, job: Job, done: int, total: int) -> None:
    """What a worker killed (kill -9) mid-job long ago leaves: the job running, its last
    progress report older than LEC_JOB_STALE_SECONDS."""
    long_ago = app.config["LEC_JOB_STALE_SECONDS"] + 60
    job = fresh(job)
    job.status, job.attempts = JobStatus.RUNNING, 1
    job.started_at = clock.now() - timedelta(seconds=long_ago)
    db.session.commit()
    jobs.queue.huey().put(jobs._progress_key(job.id), (done, total, time.time() - long_ago))


def test_a_stalled_import_says_so_and_runs_again_from_its_page_from_nothing(
        app, tree, browser, tmp_path, monkeypatch):
    queue_file = queue_on_file(app, tmp_path, monkeypatch)
    school = browser(tree.a.school_user)
    response = queue_upload(school, [row(1), row(2)])
    page_url = response.headers["Location"]
    [check] = import_jobs()
    left_by_a_killed_worker(app, check, 38000, 38000)
    stopped = "หยุดไปกลางคัน (เครื่องที่ทำงานหยุดทำงาน) ไม่มีการบันทึกข้อมูลครึ่ง ๆ กลาง ๆ"
    page = school.get(page_url).get_data(as_text=True)
    button = f'action="/admin/jobs/{check.id}/rerun"'
    assert stopped in page and button in page and "กำลังทำ" not in page
    assert stopped in school.get("/admin/jobs/").get_data(as_text=True)
    state = school.get(f"/admin/jobs/{check.id}/progress.json").get_json()
    assert state["stalled"] is True and state["label"].startswith("หยุดไปกลางคัน")
    # Someone else who may see the job is not offered to run it.
    assert button not in browser(tree.a.muni_user).get(page_url).get_data(as_text=True)
    rerun = school.post(f"/admin/jobs/{check.id}/rerun", data={"back": "page"})
    assert rerun.status_code == 302 and rerun.headers["Location"].endswith(page_url)
    again = school.get(page_url).get_data(as_text=True)
    assert "รอคิว" in again and "38,000" not in again and stopped not in again
    assert school.get(f"/admin/jobs/{check.id}/progress.json").get_json()["done"] == 0
    # The worker claims it: the dead attempt's count is not shown while it starts.
    assert jobs._claim(check.id)
    state = school.get(f"/admin/jobs/{check.id}/progress.json").get_json()
    assert (state["status"], state["done"], state["total"]) == ("running", 0, None)
    db.session.execute(update(Job).where(Job.id == check.id).values(status=JobStatus.QUEUED))
    db.session.commit()
    run_worker_until_done(app, queue_file, check)
    assert 'action="/admin/import/commit/' in school.get(page_url).get_data(as_text=True)


def test_a_job_whose_queue_message_was_lost_may_run_again(
        app, tree, browser, tmp_path, monkeypatch):
    queue_on_file(app, tmp_path, monkeypatch)
    school = browser(tree.a.school_user)
    response = queue_upload(school, [row(1)])
    [check] = import_jobs()
    button = f'action="/admin/jobs/{check.id}/rerun"'
    assert button not in school.get(response.headers["Location"]).get_data(as_text=True)
    jobs.queue.huey().flush()  # the queue lost its message (Redis restarted without saving)
    check.created_at = clock.now() - timedelta(seconds=app.config["LEC_JOB_STALE_SECONDS"] + 60)
    db.session.commit()
    lost = "รอคิวนานเกินไป"
    page = school.get(response.headers["Location"]).get_data(as_text=True)
    assert lost in page and button in page
    mine = school.get("/admin/jobs/").get_data(as_text=True)
    assert lost in mine and button in mine
    assert school.post(f"/admin/jobs/{check.id}/rerun").status_code == 302
    assert jobs.queue.huey().pending_count() == 1
    page = school.get(response.headers["Location"]).get_data(as_text=True)
    assert lost not in page and "รอคิว" in page and button not in page


def test_a_check_that_found_problems_says_so_in_my_jobs_with_counts_as_people_write_them(
        app, tree, browser):
    school = browser(tree.a.school_user)
    preview = upload(school, csv_bytes([row(n, gender="?") for n in range(1, 1002)]))
    assert preview.status_code == 422
    counts = preview.get_data(as_text=True).split('id="import-counts"', 1)[1].split("</table>")[0]
    assert "<td>1,001</td>" in counts and "1001" not in counts
    mine = school.get("/admin/jobs/").get_data(as_text=True)
    assert "1,001 จาก 1,001 แถว" in mine and "พบปัญหา 1,001 แถว ยังนำเข้าข้อมูลไม่ได้" in mine
