"""Long work of the screens as jobs: a large export, a rollover of every filtered row, a
province's credential cards; each gives the same result as the screen would, to its owner."""

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

import clock
from models import Enrolment, Learner, Round, User, db
from models.jobs import Job, JobStatus
from rules.enrolment import current_academic_year
from rules.identity import check_digit
from seed.learners import letters


def nid(n: int) -> str:
    first12 = f"1{n:011d}"
    return first12 + str(check_digit(first12))


def seed(tree, count: int) -> int:
    year = current_academic_year(db.session)
    learners = [Learner(national_id=nid(2000 + i), first_name=f"ชื่อ{letters(i)}", last_name="สกุล",
                        gender="F") for i in range(count)]
    db.session.add_all(learners)
    db.session.add_all(Enrolment(learner=learner, institution=tree.a.school, academic_year=year,
                                 grade="P1", status="active") for learner in learners)
    db.session.commit()
    return year


@pytest.fixture
def small_jobs(app, tmp_path, monkeypatch):
    """Jobs from a few rows up, results in a temporary folder."""
    monkeypatch.setitem(app.config, "LEC_JOBS_DIR", str(tmp_path / "results"))
    monkeypatch.setitem(app.config, "LEC_EXPORT_JOB_ROWS", 2)
    monkeypatch.setitem(app.config, "LEC_ROLLOVER_JOB_ROWS", 2)


def only_job() -> Job:
    db.session.expire_all()
    (job,) = db.session.scalars(select(Job)).all()
    return job


def test_a_large_export_becomes_a_job_with_the_same_rows(app, tree, browser, small_jobs):
    seed(tree, 3)
    school = browser(tree.a.school_user)
    direct = school.get("/admin/student/export/csv/?search=%E0%B8%8A%E0%B8%B7%E0%B9%88%E0%B8%AD1")
    assert direct.status_code == 200  # one row: still a direct download
    direct_rows = list(csv.reader(io.StringIO(direct.get_data().decode("utf-8-sig"))))
    direct.close()
    response = school.post("/admin/student/export/csv/")
    assert response.status_code == 302 and response.location.endswith("/admin/jobs/")
    job = only_job()
    assert job.status == JobStatus.DONE and (job.rows_done, job.rows_total) == (3, 3)
    state = school.get(f"/admin/jobs/{job.id}/progress.json").get_json()
    download = school.get(state["download"])
    rows = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    download.close()
    # The job writes what the download writes: the whole learner record (issue 13 item 4).
    assert rows[0] == direct_rows[0] and "เลขประจำตัวประชาชน" in rows[0]
    first_name = rows[0].index("ชื่อ")
    assert sorted(row[first_name] for row in rows[1:]) == ["ชื่อก", "ชื่อข", "ชื่อค"]
    # The other province does not see it.
    assert browser(tree.b.province_user).get(state["download"]).status_code == 404


def test_a_link_to_a_large_export_only_asks_and_the_button_starts_the_job(
        app, tree, browser, small_jobs):
    """A GET that queued a job let another site's link, a crawler or a prefetch start one in
    the user's name; the link now shows what will happen and a button (POST, CSRF) does it."""
    seed(tree, 3)
    school = browser(tree.a.school_user)
    asked = school.get("/admin/student/export/xlsx/?search=%E0%B8%8A%E0%B8%B7%E0%B9%88%E0%B8%AD")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'id="export-job-intro"' in page
    assert db.session.scalars(select(Job)).all() == []
    assert 'method="post"' in page and "search=" in page  # the button keeps the list's search
    without_token = school.client.post("/admin/student/export/xlsx/")
    assert without_token.status_code == 400 and db.session.scalars(select(Job)).all() == []
    started = school.post("/admin/student/export/xlsx/?search=%E0%B8%8A%E0%B8%B7%E0%B9%88%E0%B8%AD")
    assert started.status_code == 302 and started.location.endswith("/admin/jobs/")
    assert only_job().status == JobStatus.DONE


def test_an_institutions_export_job_with_whole_ids_is_not_handed_to_the_levels_above(
        app, tree, browser, small_jobs):
    """The file was written with the school's right to whole IDs: those above follow the job
    but download nothing, and make their own export, masked, instead."""
    seed(tree, 3)
    school = browser(tree.a.school_user)
    school.post("/admin/student/export/csv/")
    job = only_job()
    state = school.get(f"/admin/jobs/{job.id}/progress.json").get_json()
    download = school.get(state["download"])
    assert nid(2000) in download.get_data().decode("utf-8-sig")
    download.close()
    for user in (tree.a.muni_user, tree.a.province_user, tree.department):
        above = browser(user)
        seen = above.get(f"/admin/jobs/{job.id}/progress.json")
        assert seen.status_code == 200 and seen.get_json()["download"] is None, user.login
        refused = above.get(f"/admin/jobs/{job.id}/download")
        assert refused.status_code == 404 and nid(2000) not in refused.get_data(as_text=True)


def test_a_large_xlsx_export_job_finishes_and_downloads(app, tree, browser, small_jobs):
    """The rows stream from a server-side cursor; the job's own bookkeeping after them must
    not (it was sent as a cursor on PostgreSQL and every XLSX job failed at its end)."""
    seed(tree, 3)
    school = browser(tree.a.school_user)
    assert school.post("/admin/student/export/xlsx/").status_code == 302
    job = only_job()
    assert job.status == JobStatus.DONE, job.message
    state = school.get(f"/admin/jobs/{job.id}/progress.json").get_json()
    download = school.get(state["download"])
    sheet = load_workbook(io.BytesIO(download.get_data())).active
    download.close()
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sheet.max_row == 4 and all(names), names


def test_an_export_jobs_title_reads_in_each_readers_language(app, tree, browser, small_jobs):
    """It was stored translated, "นักเรียน (XLSX)", and stayed Thai on the English page."""
    seed(tree, 3)
    school = browser(tree.a.school_user)
    school.post("/admin/student/export/xlsx/")
    school.get("/language/en")
    page = school.get("/admin/jobs/").get_data(as_text=True)
    assert "Export: Students (XLSX)" in page and "นักเรียน" not in page
    school.get("/language/th")
    assert "ส่งออกข้อมูล: นักเรียน (XLSX)" in school.get("/admin/jobs/").get_data(as_text=True)


def test_rollover_of_every_filtered_row_runs_as_a_job_through_the_rules(
        app, tree, browser, small_jobs):
    year = seed(tree, 3)
    school = browser(tree.a.school_user)
    response = school.post("/admin/student/rollover/?action=promote")
    assert response.status_code == 302 and response.location.endswith("/admin/jobs/")
    job = only_job()
    assert job.status == JobStatus.DONE and (job.rows_done, job.rows_total) == (3, 3)
    rows = db.session.scalars(select(Enrolment).where(Enrolment.academic_year == year + 1)).all()
    assert sorted(r.grade for r in rows) == ["P2", "P2", "P2"]
    # Its title reads in each reader's language, not in the submitter's Thai.
    school.get("/language/en")
    assert "Year rollover: Promote" in school.get("/admin/jobs/").get_data(as_text=True)
    school.get("/language/th")
    assert "ขึ้นปีการศึกษาใหม่: เลื่อนชั้น" in school.get("/admin/jobs/").get_data(as_text=True)


def test_a_refused_rollover_job_writes_nothing_and_says_why_in_thai(
        app, tree, browser, small_jobs, monkeypatch):
    year = seed(tree, 3)
    from rules import RuleViolation, enrolment

    calls = []
    original = enrolment.roll_over

    def third_is_refused(session, row, action, carried, years):
        calls.append(row.id)
        if len(calls) == 3:
            raise RuleViolation("ชั้นเรียนนี้ถูกล็อกแล้ว")
        return original(session, row, action, carried, years)

    monkeypatch.setattr("admin_views.rollover.roll_over", third_is_refused)
    browser(tree.a.school_user).post("/admin/student/rollover/?action=promote")
    job = only_job()
    assert job.status == JobStatus.FAILED and job.message == "ชั้นเรียนนี้ถูกล็อกแล้ว"
    assert db.session.scalars(select(Enrolment).where(
        Enrolment.academic_year == year + 1)).all() == []


def test_a_rollover_job_into_a_year_without_a_round_fails_and_says_why(
        app, tree, browser, small_jobs):
    year = seed(tree, 3)
    today = clock.today()
    db.session.add(Round(academic_year=year, number=1, opens_on=today - timedelta(days=10),
                         closes_on=today + timedelta(days=30), institution_deadline=today,
                         lao_deadline=today, province_deadline=today))
    db.session.commit()
    browser(tree.a.school_user).post("/admin/student/rollover/?action=promote")
    job = only_job()
    assert job.status == JobStatus.FAILED
    assert f"ปีการศึกษา {year + 1} ยังไม่มีครั้งที่เก็บข้อมูล" in job.message
    assert db.session.scalars(select(Enrolment).where(
        Enrolment.academic_year == year + 1)).all() == []


def test_a_provinces_cards_are_a_job_for_its_owner_alone_once(app, tree, browser, small_jobs):
    province = browser(tree.a.province_user)
    page = province.get("/admin/cards/").get_data(as_text=True)
    assert "group=all" in page
    assert province.get("/admin/cards/preview?group=all").status_code == 200
    response = province.post("/admin/cards/issue", data={"group": "all"})
    assert response.status_code == 302 and response.location.endswith("/admin/jobs/")
    job = only_job()
    assert job.status == JobStatus.DONE
    accounts = db.session.scalars(select(User).where(User.province_code == "33",
                                                     User.level.in_(["lao", "institution"])))
    logins = {user.login for user in accounts}
    assert len(logins) == 4 and all(user.must_change_password for user in db.session.scalars(
        select(User).where(User.login.in_(logins))))
    url = f"/admin/jobs/{job.id}/download"
    # Even the department may not read a province's one-time passwords.
    assert browser(tree.department).get(url).status_code == 404
    sheet = province.get(url)
    text = sheet.get_data(as_text=True)
    sheet.close()
    assert set(re.findall(r'class="secret">([^<]+)<', text)) >= logins
    assert province.get(url).status_code == 404  # handed over once
