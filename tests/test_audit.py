"""The audit log (issue 5 item 3): append-only, scoped, with old and new values, no full IDs."""

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from html import unescape

import pytest
from conftest import PASSWORD, csrf_token
from sqlalchemy import delete, func, select, update
from test_risk import YEAR, make_round

import clock
from models import AuditEntry, Confirmation, Enrolment, Institution, Learner, db
from models.jobs import Job
from rules import RuleViolation, acting_as, confirmation, lookups
from rules.audit import record
from rules.identity import check_digit
from seed.learners import letters


def _entries(**where):
    query = select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEntry, key) == value)
    return db.session.scalars(query).all()


def _national_id(n: int) -> str:
    first12 = f"1{n:011d}"
    return first12 + str(check_digit(first12))


def test_an_edit_through_the_admin_form_names_the_user_and_old_and_new_values(tree, browser):
    b = browser(tree.department)
    school = tree.a.school
    old_name, old_code = school.name, school.code
    page = b.get(f"/admin/institution/edit/?id={school.id}").get_data(as_text=True)
    assert 'name="name"' in page
    form = dict(code="3033200099", name="โรงเรียนเทศบาลใหม่", kind=school.kind, lao=school.lao_id,
                phone=school.phone or "", active="y")
    response = b.post(f"/admin/institution/edit/?id={school.id}", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Institution, school.id).name == "โรงเรียนเทศบาลใหม่"
    (entry,) = _entries(action="update", model="Institution")
    assert entry.actor_login == tree.department.login and entry.actor_id == tree.department.id
    assert entry.object_id == str(school.id) and entry.ip == "127.0.0.1"
    assert entry.changes["name"] == [old_name, "โรงเรียนเทศบาลใหม่"]
    assert entry.changes["code"] == [old_code, "3033200099"]
    # An edit that keeps the (unique) code is accepted too, and logs only what changed.
    response = b.post(f"/admin/institution/edit/?id={school.id}",
                      data={**form, "phone": "045 777 777"})
    assert response.status_code == 302
    last = _entries(action="update", model="Institution")[-1]
    assert set(last.changes) == {"phone"} and last.changes["phone"][1] == "045 777 777"
    assert entry.at is not None


def test_create_and_delete_are_logged_and_a_rollback_leaves_nothing(tree):
    with acting_as(tree.a.province_user):
        school = Institution(code="3033200099", name="โรงเรียนใหม่", kind="school",
                             lao=tree.a.muni, lao_id=tree.a.muni.id)
        db.session.add(school)
        db.session.commit()
        created = _entries(action="create", model="Institution")[-1]
        assert created.changes["name"] == [None, "โรงเรียนใหม่"]
        assert created.actor_login == "33" and created.province_code == "33"
        db.session.delete(school)
        db.session.commit()
    deleted = _entries(action="delete", model="Institution")[-1]
    assert deleted.changes["name"] == ["โรงเรียนใหม่", None]
    count = db.session.scalar(select(func.count()).select_from(AuditEntry))
    tree.a.cdc.name = "rolled back"
    db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == count


def test_no_full_national_id_in_the_log(tree):
    nid = _national_id(42)
    with acting_as(tree.a.school_user):
        learner = Learner(national_id=nid, first_name="สมหญิง", last_name="ใจดี", gender="F")
        db.session.add_all([learner, Enrolment(learner=learner, institution=tree.a.school,
                                               academic_year=2569, grade="P1")])
        db.session.commit()
        record("export", "learners.xlsx", national_id=nid, rows=1)
        db.session.commit()
    entries = _entries()
    assert any(e.model == "Learner" for e in entries)
    dumped = json.dumps([[e.changes, e.details, e.target] for e in entries], ensure_ascii=False)
    assert nid not in dumped
    (learner_entry,) = [e for e in entries if e.model == "Learner"]
    assert learner_entry.changes["national_id"][1].endswith(nid[-3:-1] + "-" + nid[-1])


def test_the_log_cannot_be_changed_or_deleted_through_the_orm(tree):
    with acting_as(tree.department):
        record("export", "x")
    db.session.commit()
    (entry,) = _entries(action="export")
    entry.target = "rewritten"
    with pytest.raises(RuleViolation):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(RuleViolation):
        db.session.commit()
    db.session.rollback()
    for statement in (update(AuditEntry).values(target="x"), delete(AuditEntry)):
        with pytest.raises(RuleViolation):
            db.session.execute(statement)
        db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).target == "x"


def test_nobody_can_edit_or_delete_it_from_the_ui(tree, browser):
    b = browser(tree.department)
    entry = _entries(action="sign_in")[0]
    page = b.get("/admin/audit/").get_data(as_text=True)
    assert "/admin/audit/edit/" not in page and "/admin/audit/delete/" not in page
    assert "/admin/audit/new/" not in page
    for url in ("/admin/audit/new/", f"/admin/audit/edit/?id={entry.id}"):
        assert b.get(url).status_code in (302, 403, 404)
    b.post("/admin/audit/delete/", data={"id": entry.id})
    b.post(f"/admin/audit/edit/?id={entry.id}", data={"target": "x", "action": "x"})
    b.post("/admin/audit/action/", data={"action": "delete", "rowid": entry.id})
    db.session.expire_all()
    again = db.session.get(AuditEntry, entry.id)
    assert again is not None and again.target == entry.target and again.action == "sign_in"


def test_sign_ins_good_and_bad_and_refusals_are_logged(app, tree, browser):
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"login": tree.a.school_user.login, "password": "wrong one",
                                "csrf_token": token})
    (failed,) = _entries(action="sign_in_failed")
    assert failed.target == tree.a.school_user.login and failed.actor_id is None
    assert failed.institution_id == tree.a.school.id  # readable by the levels above it
    b = browser(tree.a.school_user)
    assert _entries(action="sign_in")[-1].actor_login == tree.a.school_user.login
    assert b.get("/admin/audit/").status_code == 403
    assert b.get(f"/admin/institution/edit/?id={tree.b.school.id}").status_code == 404
    (refusal,) = _entries(action="forbidden")
    assert refusal.target == "/admin/audit/" and refusal.actor_login == tree.a.school_user.login
    (miss,) = _entries(action="not_found")
    assert miss.target == f"/admin/institution/edit/?id={tree.b.school.id}"
    b.post("/logout")
    assert _entries(action="sign_out")[-1].actor_login == tree.a.school_user.login


def test_the_levels_above_read_only_their_own_subtree(tree, browser):
    for user, target in ((tree.a.school_user, "export-from-a"), (tree.b.school_user,
                                                                   "export-from-b")):
        with acting_as(user):
            record("export", target)
    db.session.commit()
    page = browser(tree.a.province_user).get("/admin/audit/").get_data(as_text=True)
    assert "export-from-a" in page and "export-from-b" not in page
    page = browser(tree.a.muni_user).get("/admin/audit/").get_data(as_text=True)
    assert "export-from-a" in page and "export-from-b" not in page
    page = browser(tree.department).get("/admin/audit/").get_data(as_text=True)
    assert "export-from-a" in page and "export-from-b" in page
    assert "บันทึกไฟล์ข้อมูล" in page  # the event named in Thai


def test_a_national_id_reveal_is_explicit_scoped_and_logged(tree, browser):
    nid = _national_id(7)
    learner = Learner(national_id=nid, first_name="มานะ", last_name="ดี", gender="M")
    db.session.add_all([learner, Enrolment(learner=learner, institution=tree.a.school,
                                           academic_year=2569, grade="P1")])
    db.session.commit()
    own = browser(tree.a.school_user)
    response = own.post("/admin/reveal/", data={"model": "Learner", "id": learner.id})
    assert response.status_code == 200 and response.get_json() == {"national_id": nid}
    assert response.headers["Cache-Control"] == "no-store"
    (entry,) = _entries(action="reveal")
    assert entry.actor_login == tree.a.school_user.login and entry.object_id is None
    assert entry.target == f"Learner:{learner.id}"
    other = browser(tree.b.school_user)
    assert other.post("/admin/reveal/", data={"model": "Learner", "id": learner.id}
                      ).status_code == 404
    assert own.client.post("/admin/reveal/", data={"model": "Learner", "id": learner.id}
                           ).status_code == 400  # no CSRF token
    for bad in ("99999999999999999999999", "²", "-1", ""):
        assert own.post("/admin/reveal/", data={"model": "Learner", "id": bad}
                        ).status_code == 404
    assert len(_entries(action="reveal")) == 1


def test_reveals_are_limited_per_account_and_the_refusal_is_logged(tree, browser, monkeypatch):
    """A script clicking "show the whole ID" down a province's list stops at the hourly
    allowance, with a message the button shows; another account is not held back."""
    monkeypatch.setattr(lookups, "REVEALS_PER_HOUR", 2)
    learners = [Learner(national_id=_national_id(20 + n), first_name=f"มานะ{letters(n)}",
                        last_name="ดี", gender="M") for n in range(3)]
    db.session.add_all([*learners, *(Enrolment(learner=lr, institution=tree.a.school,
                                               academic_year=2569, grade="P1")
                                     for lr in learners)])
    db.session.commit()
    province = browser(tree.a.province_user)
    for learner in learners[:2]:
        assert province.post("/admin/reveal/", data={"model": "Learner", "id": learner.id}
                             ).get_json() == {"national_id": learner.national_id}
    refused = province.post("/admin/reveal/", data={"model": "Learner", "id": learners[2].id})
    assert refused.status_code == 429 and learners[2].national_id not in refused.get_data(
        as_text=True)
    assert "มากที่สุดที่อนุญาต" in refused.get_json()["detail"]
    (entry,) = _entries(action="reveal_refused")
    assert entry.target == f"Learner:{learners[2].id}" and len(_entries(action="reveal")) == 2
    assert "เปิดดูบ่อยเกินกำหนด" in province.get("/admin/audit/").get_data(as_text=True)
    assert browser(tree.a.muni_user).post("/admin/reveal/", data={
        "model": "Learner", "id": learners[2].id}).status_code == 200


def test_record_is_the_api_for_other_modules(tree):
    with acting_as(tree.a.muni_user):
        record("confirm", "round 1", database="school", learners=12)
    db.session.commit()
    (entry,) = _entries(action="confirm")
    assert entry.actor_login == tree.a.muni_user.login and entry.lao_id == tree.a.muni.id
    assert entry.details == {"database": "school", "learners": 12}
    assert PASSWORD not in json.dumps(entry.details)


def _confirmed_then_cancelled(tree, monkeypatch):  # noqa: ANN001, ANN202
    """The school's confirmation, made and cancelled at 18:56 UTC: 01:56 next day in Bangkok
    (a date after today's, so these entries head the log)."""
    monkeypatch.setattr(clock, "now", lambda: datetime(2027, 12, 4, 18, 56, tzinfo=UTC))
    round_ = make_round(YEAR)
    round_.institution_deadline = date(2028, 6, 10)  # not late at that hour
    db.session.commit()
    with acting_as(tree.a.school_user):
        frozen = confirmation.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    with acting_as(tree.a.muni_user):
        confirmation.cancel(db.session, frozen, "แก้ไขรายชื่อ")
        db.session.commit()


def test_the_log_shows_bangkok_times_and_no_raw_field_names(tree, browser, monkeypatch):
    _confirmed_then_cancelled(tree, monkeypatch)
    with acting_as(tree.a.muni_user):
        db.session.add(Job(kind="export", owner_id=tree.a.muni_user.id, title="นักเรียน (XLSX)",
                           params={"endpoint": "student", "export_type": "xlsx"}))
        db.session.commit()
    b = browser(tree.department)
    html = b.get("/admin/audit/").get_data(as_text=True)
    assert "5 ธ.ค. 2570 01:56" in html and "18:56" not in html
    assert "ยกเลิกการยืนยันข้อมูลเมื่อ" in html and "ผู้ยกเลิกการยืนยันข้อมูล" in html
    for raw in ("cancelled_at", "cancelled_by", "cancel_reason", "confirmed_by", "owner_id",
                "rows_done", ">Confirmation<", ">Job<", "params", "endpoint"):
        assert raw not in html, raw
    job = _row(html, "บันทึกไฟล์ข้อมูล #")  # the job's kind in Thai, not "export #"
    assert "ประเภทงาน" in job and "บันทึกไฟล์ข้อมูล" in job and "ประเภทสถานศึกษา" not in job
    b.get("/language/en")
    html = b.get("/admin/audit/").get_data(as_text=True)
    assert "5 Dec 2570 01:56" in html and "Cancelled on" in html and "cancelled_at" not in html
    assert "Type of job" in _row(html, "Export #") and "Kind" not in _row(html, "Export #")


def _row(html: str, text: str) -> str:
    """The first row of a list page that holds `text`."""
    return next(row for row in html.split("<tr") if text in row)


def test_a_grade_edit_is_labelled_by_the_kind_of_institution(tree, browser):
    with acting_as(tree.a.school_user):
        student = Enrolment(learner=Learner(national_id=_national_id(51), first_name="ก",
                                            last_name="ข", gender="M"),
                            institution=tree.a.school, academic_year=2569, grade="K1")
        db.session.add(student)
        db.session.commit()
        assert student.grade == "K1"  # loaded, as the edit form does: the log has the old value
        student.grade = "K2"
        db.session.commit()
    with acting_as(tree.a.cdc_user):
        child = Enrolment(learner=Learner(national_id=_national_id(52), first_name="ค",
                                          last_name="ง", gender="F"),
                          institution=tree.a.cdc, academic_year=2569, grade="A2")
        db.session.add(child)
        db.session.commit()
    html = browser(tree.department).get("/admin/audit/").get_data(as_text=True)
    school_row = _row(html, "อ.๒")
    assert "นักเรียน" in school_row and "ระดับชั้น" in school_row
    assert "อ.๑ → อ.๒" in school_row and "กลุ่มอายุ" not in school_row
    centre_row = _row(html, "เด็กอายุ ๒ ปี")
    assert "เด็กเล็ก" in centre_row and "กลุ่มอายุ" in centre_row


def test_the_export_separates_the_fields_of_a_change(tree, browser):
    with acting_as(tree.a.province_user):
        school = tree.a.school
        old_name, old_phone = school.name, school.phone
        school.name, school.phone = "โรงเรียนใหม่", "045 111 111"
        db.session.commit()
    data = browser(tree.department).get("/admin/audit/export/csv/").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    column = rows[0].index("ค่าเดิมและค่าใหม่")
    (cell,) = [r[column] for r in rows[1:] if "โรงเรียนใหม่" in r[column]]
    assert sorted(cell.split("; ")) == [f"ชื่อ: {old_name} → โรงเรียนใหม่",
                                        f"โทรศัพท์: {old_phone} → 045 111 111"]


def _concerning(rows: list[list[str]]) -> list[str]:
    """The "Concerning" cells of an export of the log (Thai header)."""
    column = rows[0].index("เกี่ยวกับ")
    return [r[column] for r in rows[1:]]


def test_concerning_reads_in_the_readers_language_for_new_and_old_entries(tree, browser,
                                                                          monkeypatch):
    _confirmed_then_cancelled(tree, monkeypatch)
    frozen = db.session.scalars(select(Confirmation)).one()
    round_name = str(frozen.round)
    with acting_as(tree.a.muni_user):
        db.session.add(Job(kind="export", owner_id=tree.a.muni_user.id, title="x",
                           params={"endpoint": "student", "export_type": "xlsx"}))
        db.session.commit()
    job = db.session.scalars(select(Job)).one()
    # Entries written before: their stored text is as it always was, in codes and English.
    with acting_as(tree.a.muni_user):
        record("job_submit", f"export #{job.id}", kind="export", job_id=job.id)
        record("export", target="student", format="csv")
        record("export", target="report:counts", round_id=frozen.round_id)
        record("import", target=f"institution:{tree.a.school.code}", rows=3)
        record("export", target=f"learners:{tree.a.school.code}", format="xlsx")
        record("reveal", "Learner:12", model="Learner", object_id="12")
    db.session.add(AuditEntry(at=clock.now(), action="update", model="Enrolment",
                              object_id="7", target="2569 K1 สมชาย ใจดี",
                              changes={"classroom": ["1", "2"]}))
    db.session.add(AuditEntry(at=clock.now(), action="create", model="SpotCheckItem",
                              object_id="9", target="<SpotCheckItem 9>"))
    db.session.commit()
    b = browser(tree.department)
    data = b.get("/admin/audit/export/csv/").get_data(as_text=True)
    cells = _concerning(list(csv.reader(io.StringIO(data.lstrip("\ufeff")))))
    for shown in (f"การยืนยันข้อมูล #{frozen.id}",  # the confirm and cancel events
                  f"{round_name} สถานศึกษา ฐานข้อมูลนักเรียน",  # the confirmation record
                  f"บันทึกไฟล์ข้อมูล #{job.id}",  # the job and the event naming it
                  "นักเรียน", "จำนวนนักเรียนตามระดับชั้นและเพศ",  # the list and report exported
                  f"สถานศึกษา {tree.a.school.code}", "2569 อ.๑ สมชาย ใจดี",
                  f"ไฟล์รายชื่อนักเรียนหรือเด็กเล็กของสถานศึกษา {tree.a.school.code}",
                  "ข้อมูลประจำตัวผู้เรียน #12"):
        assert shown in cells, shown
    for raw in ("confirmation:", "export #", "institution students", "K1", "report:counts",
                "learners:", "Learner:", "<SpotCheckItem"):
        assert not [c for c in cells if raw in c], raw
    html = b.get("/admin/audit/").get_data(as_text=True)
    assert f"การยืนยันข้อมูล #{frozen.id}" in html and "confirmation:" not in html
    assert f"<strong>ครั้งที่</strong>: {round_name}" in html  # the round, not its number
    b.get("/language/en")
    html = b.get("/admin/audit/").get_data(as_text=True)
    assert f"Data confirmation #{frozen.id}" in html and f"Export #{job.id}" in html
    assert f"{round_name} Institution Students database" in html


def test_a_jobs_title_reads_in_the_readers_language_with_its_values(tree, browser):
    school = tree.a.school.name
    with acting_as(tree.a.school_user):
        db.session.add(Job(kind="import", owner_id=tree.a.school_user.id,
                           title="Import of %(file)s into %(name)s",
                           title_values={"file": "new.csv", "name": school}))
        db.session.commit()
    # An entry logged before the values were kept as JSON: they were stored as Python text.
    db.session.add(AuditEntry(at=clock.now(), action="create", model="Job", object_id="99",
                              target="import #99", changes={
                                  "title": [None, "Check of %(file)s for %(name)s"],
                                  "title_values": [None, str({"file": "old.csv",
                                                              "name": school})]}))
    db.session.commit()
    b = browser(tree.department)
    html = b.get("/admin/audit/").get_data(as_text=True)
    assert f"นำเข้าไฟล์ new.csv เข้า {school}" in html
    assert f"ตรวจไฟล์ old.csv ของ {school}" in html
    assert "%(file)s" not in html and "Import of" not in html
    b.get("/language/en")
    html = b.get("/admin/audit/").get_data(as_text=True)
    assert f"Import of new.csv into {school}" in html and f"Check of old.csv for {school}" in html


def test_an_enrolment_made_by_the_rollover_is_named_by_its_learner_and_grade(tree, browser):
    from test_learner_views import _open_round, _seed

    year = _seed(tree, 1, grade="K1")
    _open_round(year)
    _open_round(year + 1)
    assert browser(tree.a.school_user).post(
        "/admin/student/rollover/?action=promote").status_code == 302
    carried = db.session.scalar(select(Enrolment).where(Enrolment.academic_year == year + 1))
    (entry,) = _entries(action="create", model="Enrolment", object_id=str(carried.id))
    assert entry.target == f"{year + 1} K2 ชื่อก สกุล"
    # An entry written before, when the rollover logged no learner.
    db.session.add(AuditEntry(at=clock.now(), action="create", model="Enrolment",
                              object_id="99", target=f"{year + 1} K2 None"))
    db.session.commit()
    b = browser(tree.department)
    cells = _concerning(list(csv.reader(io.StringIO(
        b.get("/admin/audit/export/csv/").get_data(as_text=True).lstrip("\ufeff")))))
    assert f"{year + 1} อ.๒ ชื่อก สกุล" in cells and f"{year + 1} อ.๒" in cells
    assert not [c for c in cells if "None" in c or "K2" in c]
    html = b.get("/admin/audit/").get_data(as_text=True)
    assert f'<td class="col-target">{year + 1} อ.๒ ชื่อก สกุล</td>' in html
    assert f'<td class="col-target">{year + 1} อ.๒</td>' in html and "None" not in html


def test_the_event_filter_offers_the_events_by_their_names(app, tree, browser):
    """Nobody reading "เข้าสู่ระบบ" in the list can guess to type the stored code sign_in."""
    html = browser(tree.department).get("/admin/audit/").get_data(as_text=True)
    groups = json.loads(unescape(re.search(
        r'<div id="filter-groups-data" class="d-none">(.*?)</div>', html, re.S)[1]))
    assert ["sign_in", "เข้าสู่ระบบ"] in groups["เหตุการณ์"][0]["options"]
    assert ["reveal", "เปิดดูเลขประจำตัวประชาชน"] in groups["เหตุการณ์"][0]["options"]

def test_a_confirmation_names_its_lao_and_institution_by_their_codes(tree, browser,
                                                                     monkeypatch):
    """The log keeps the units' numbers in the system; a reader sees "อปท.: 05330101", not
    "อปท.: 1", on the page and in the export."""
    _confirmed_then_cancelled(tree, monkeypatch)
    muni, school = tree.a.muni, tree.a.school
    province = browser(tree.a.province_user)
    html = province.get("/admin/audit/").get_data(as_text=True)
    cancelled = next(row for row in html.split("<tr") if "แก้ไขรายชื่อ" in row
                     and "ยกเลิกการยืนยันข้อมูลเมื่อ" not in row)  # the event, not the row change
    assert f"อปท.</strong>: {muni.code}<" in cancelled
    assert f"สถานศึกษา</strong>: {school.code}<" in cancelled
    data = province.get("/admin/audit/export/csv/").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    column = rows[0].index("รายละเอียด")
    (cell,) = [r[column] for r in rows[1:] if "แก้ไขรายชื่อ" in r[column]]
    assert {f"อปท.: {muni.code}", f"สถานศึกษา: {school.code}"} <= set(cell.split("; "))
