"""National IDs are masked for levels that do not need them, in lists and in exports alike."""

import io

from openpyxl import load_workbook
from sqlalchemy import select
from test_import_learners import HEADER, YEAR, csv_bytes, row, upload

from models import AuditEntry, Enrolment, Learner, db
from models.jobs import Job
from rules.identity import check_digit, mask_contact, mask_national_id

FIRST12 = "110370012345"
NATIONAL_ID = FIRST12 + str(check_digit(FIRST12))


def enrol_one(tree) -> None:
    learner = Learner(national_id=NATIONAL_ID, first_name="ทดสอบ", last_name="ความลับ",
                      gender="F")
    db.session.add(Enrolment(learner=learner, institution=tree.a.school, academic_year=2569,
                             grade="P1", status="active"))
    db.session.commit()


def test_the_institution_sees_the_full_id_the_levels_above_do_not(app, tree, browser):
    enrol_one(tree)
    own = browser(tree.a.school_user)
    assert NATIONAL_ID in own.get("/admin/student/").get_data(as_text=True)
    assert NATIONAL_ID in own.get("/admin/student/export/csv/").get_data(as_text=True)
    for user in (tree.a.muni_user, tree.a.province_user, tree.department):
        b = browser(user)
        page = b.get("/admin/student/").get_data(as_text=True)
        assert "ความลับ" in page and NATIONAL_ID not in page
        csv_text = b.get("/admin/student/export/csv/").get_data(as_text=True)
        assert "ความลับ" in csv_text and NATIONAL_ID not in csv_text
        sheet = load_workbook(io.BytesIO(b.get("/admin/student/export/xlsx/").get_data())).active
        cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row]
        assert "ทดสอบ ความลับ" in " ".join(cells) and NATIONAL_ID not in " ".join(cells)


def test_the_identity_form_above_the_institution_leaves_the_whole_id_out(app, tree, browser):
    enrol_one(tree)
    learner = db.session.query(Learner).filter_by(national_id=NATIONAL_ID).one()
    own = browser(tree.a.school_user).get(f"/admin/learner/edit/?id={learner.id}")
    assert NATIONAL_ID in own.get_data(as_text=True)
    for user in (tree.a.muni_user, tree.a.province_user, tree.department):
        page = browser(user).get(f"/admin/learner/edit/?id={learner.id}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "ความลับ" in text
        assert NATIONAL_ID not in text and mask_national_id(NATIONAL_ID) in text
    lao = browser(tree.a.muni_user)
    form = {"national_id": "1234567890121", "title": "เด็กหญิง", "first_name": "ทดสอบ",
            "last_name": "ความลับ", "gender": "F", "guardian_name": "ผู้ปกครองใหม่"}
    lao.post(f"/admin/learner/edit/?id={learner.id}", data=form)
    db.session.expire_all()
    assert db.session.get(Learner, learner.id).national_id == NATIONAL_ID


def test_the_import_preview_masks_the_learners_missing_from_the_file_above_the_institution(
        app, tree, browser):
    """The preview lists the learners a file leaves out: whole IDs for the school itself only,
    never for an LAO or province importing into it or opening the school's own check."""
    learner = Learner(national_id=NATIONAL_ID, first_name="ทดสอบ", last_name="ความลับ",
                      gender="F")
    db.session.add(Enrolment(learner=learner, institution=tree.a.school, academic_year=YEAR,
                             grade="P1", status="active"))
    db.session.commit()
    masked = f"{mask_national_id(NATIONAL_ID)} ทดสอบ ความลับ"
    for user in (tree.a.muni_user, tree.a.province_user, tree.department):
        page = upload(browser(user), csv_bytes([row(1)]), institution=tree.a.school.code)
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and masked in text and NATIONAL_ID not in text
    own = upload(browser(tree.a.school_user), csv_bytes([row(1)])).get_data(as_text=True)
    assert f"{NATIONAL_ID} ทดสอบ ความลับ" in own
    check = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
    for user in (tree.a.muni_user, tree.a.province_user):
        text = browser(user).get(f"/admin/import/job/{check.id}/").get_data(as_text=True)
        assert masked in text and NATIONAL_ID not in text


def _problems(b, job: Job) -> list[str]:
    """The import job's page and its problem report, as CSV and as XLSX, as `b` reads them."""
    page = b.get(f"/admin/import/job/{job.id}/").get_data(as_text=True)
    report = f"/admin/import/job/{job.id}/report/"
    csv_text = b.get(report + "csv/").get_data().decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(b.get(report + "xlsx/").get_data())).active
    return [page, csv_text, " ".join(str(c) for r in sheet.iter_rows(values_only=True)
                                     for c in r)]


def test_an_import_problem_quotes_the_familys_phone_and_the_id_masked_above_the_institution(
        app, tree, browser):
    """A refused file's problems quote the bad values back for the institution to correct;
    the LAO and province who open its check read a guardian's phone and a national ID there
    masked, on the page and in the problem report, as on the learner's page."""
    bad_id = FIRST12 + str((check_digit(FIRST12) + 1) % 10)  # fails the check digit
    phone = "0812-3456"  # too few digits to call
    header = [*HEADER, "โทรศัพท์ผู้ปกครอง"]
    data = csv_bytes([[*row(1, id=bad_id), "081 234 5678"], [*row(2), phone]], header=header)
    own = browser(tree.a.school_user)
    assert upload(own, data).status_code == 422
    check = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
    for text in _problems(own, check):
        assert bad_id in text and f"{phone} ไม่ใช่หมายเลขโทรศัพท์" in text
    masked = (mask_national_id(bad_id), f"{mask_contact('guardian_phone', phone)} ไม่ใช่")
    for user in (tree.a.muni_user, tree.a.province_user, tree.department):
        for text in _problems(browser(user), check):
            assert "ไม่ใช่เลขประจำตัวประชาชนที่ถูกต้อง" in text, user.login
            assert all(m in text for m in masked), user.login
            assert bad_id not in text and phone not in text, user.login


def test_the_audit_log_keeps_no_whole_id_from_an_address(app, tree, browser):
    """The log that the LAO and province read keeps an export of a list searched by ID, and a
    page not found, with the ID masked as the lists show it, however it was typed."""
    enrol_one(tree)
    school = browser(tree.a.school_user)
    dashed = f"{NATIONAL_ID[0]}-{NATIONAL_ID[1:5]}-{NATIONAL_ID[5:10]}-{NATIONAL_ID[10:12]}-" \
             f"{NATIONAL_ID[12]}"
    assert school.get(f"/admin/student/export/csv/?search={NATIONAL_ID}").status_code == 200
    assert school.get(f"/admin/student/details/?id=999999&q={dashed}").status_code == 404
    for user in (tree.a.muni_user, tree.a.province_user):
        b = browser(user)
        for page in ("/admin/audit/", "/admin/audit/export/csv/"):
            text = b.get(page).get_data(as_text=True)
            assert mask_national_id(NATIONAL_ID) in text, (user.login, page)
            assert NATIONAL_ID not in text and dashed not in text, (user.login, page)


def test_opening_a_learners_record_is_logged_for_the_levels_above(app, tree, browser):
    """Every look-up of a child's data is audited: each showing of a learner's details or edit
    form writes one entry naming the learner (ID masked), which the LAO and province of the
    learner's institution read even when someone above them opened it; lists write none."""
    enrol_one(tree)
    learner = db.session.query(Learner).filter_by(national_id=NATIONAL_ID).one()
    enrolment = db.session.query(Enrolment).filter_by(learner_id=learner.id).one()

    def opened() -> list[AuditEntry]:
        return db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "learner_opened")).all()

    department = browser(tree.department)
    assert department.get("/admin/student/").status_code == 200 and opened() == []
    pages = [f"/admin/learner/details/?id={learner.id}", f"/admin/learner/edit/?id={learner.id}",
             f"/admin/student/details/?id={enrolment.id}",
             f"/admin/student/edit/?id={enrolment.id}"]
    for n, page in enumerate(pages, 1):
        assert department.get(page).status_code == 200
        assert len(opened()) == n, page
    assert {e.subject_institution_id for e in opened()} == {tree.a.school.id}
    named = f"ทดสอบ ความลับ ({mask_national_id(NATIONAL_ID)})"
    for user in (tree.a.muni_user, tree.a.province_user):
        text = browser(user).get("/admin/audit/").get_data(as_text=True)
        assert "เปิดดูข้อมูลผู้เรียน" in text and text.count(named) == len(pages), user.login
        assert NATIONAL_ID not in text
    assert named not in browser(tree.b.province_user).get("/admin/audit/").get_data(as_text=True)


FAMILY = {"guardian_name": "สมชาย ใจดี", "guardian_phone": "081-234-5678",
          "registered_address": "12 หมู่ 3 ถนนราษฎร์", "current_address": "99 ถนนสุขใจ"}
MASKED_FAMILY = ("ส…", "xxx-xxx-xx78", "1…", "9…")


def enrol_with_family(tree, year: int = 2569) -> Enrolment:
    learner = Learner(national_id=NATIONAL_ID, first_name="ทดสอบ", last_name="ความลับ",
                      gender="F", **FAMILY)
    enrolment = Enrolment(learner=learner, institution=tree.a.school, academic_year=year,
                          grade="P1", status="active")
    db.session.add(enrolment)
    db.session.commit()
    return enrolment


def test_the_familys_contacts_show_whole_only_to_the_institution(app, tree, browser):
    """The guardian's name and phone and the addresses are the institution's to call the
    family: the levels above read them masked on the learner's page and in the exports, and
    the edit form leaves them out, as it does the whole ID; what they save keeps them."""
    learner = enrol_with_family(tree).learner
    own = browser(tree.a.school_user)
    for page in (f"/admin/learner/details/?id={learner.id}",
                 f"/admin/learner/edit/?id={learner.id}", "/admin/student/export/csv/"):
        text = own.get(page).get_data(as_text=True)
        assert all(value in text for value in FAMILY.values()), page
    for user in (tree.a.muni_user, tree.a.province_user, tree.department):
        b = browser(user)
        details = b.get(f"/admin/learner/details/?id={learner.id}").get_data(as_text=True)
        csv_text = b.get("/admin/student/export/csv/").get_data(as_text=True)
        sheet = load_workbook(io.BytesIO(b.get("/admin/student/export/xlsx/").get_data())).active
        cells = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row)
        for text in (details, csv_text, cells):
            assert "ความลับ" in text and all(m in text for m in MASKED_FAMILY), user.login
            assert not any(value in text for value in FAMILY.values()), user.login
        edit = b.get(f"/admin/learner/edit/?id={learner.id}").get_data(as_text=True)
        assert "ความลับ" in edit and 'name="guardian_name"' not in edit
        assert 'name="guardian_phone"' not in edit and 'name="current_address"' not in edit
        assert not any(value in edit for value in FAMILY.values()), user.login
    form = {"title": "เด็กหญิง", "first_name": "ทดสอบ", "last_name": "ความลับ", "gender": "F",
            "guardian_name": "ผู้ปกครองใหม่", "guardian_phone": "x", "current_address": "x"}
    browser(tree.a.muni_user).post(f"/admin/learner/edit/?id={learner.id}", data=form)
    db.session.expire_all()
    kept = db.session.get(Learner, learner.id)
    assert {key: getattr(kept, key) for key in FAMILY} == FAMILY


def test_the_enrol_form_above_the_institution_neither_shows_nor_overwrites_the_contacts(
        app, tree, browser):
    """Checking an ID from above fills in who the learner is, not how to reach the family;
    enrolling them for the new year keeps the contacts the institution recorded. A learner
    new to the system gets the fields, for whoever enrols them to type in."""
    learner = enrol_with_family(tree, year=2568).learner
    lao = browser(tree.a.muni_user)
    page = lao.get(f"/admin/student/enrol/?national_id={NATIONAL_ID}").get_data(as_text=True)
    assert 'name="first_name"' in page and "ทดสอบ" in page
    assert 'name="guardian_name"' not in page and 'name="guardian_phone"' not in page
    assert not any(value in page for value in FAMILY.values())
    own = browser(tree.a.school_user).get(f"/admin/student/enrol/?national_id={NATIONAL_ID}")
    assert FAMILY["guardian_name"] in own.get_data(as_text=True)
    saved = lao.post(f"/admin/student/enrol/?national_id={NATIONAL_ID}", data={
        "national_id": NATIONAL_ID, "institution_code": tree.a.school.code, "title": "เด็กหญิง",
        "first_name": "ทดสอบ", "last_name": "ความลับ", "gender": "F", "grade": "P2",
        "guardian_name": "ผู้ปกครองใหม่", "guardian_phone": "0899999999"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    db.session.expire_all()
    kept = db.session.get(Learner, learner.id)
    assert (kept.guardian_name, kept.guardian_phone) == (FAMILY["guardian_name"],
                                                         FAMILY["guardian_phone"])
    other = FIRST12[:-1] + "9"
    other += str(check_digit(other))
    new = lao.get(f"/admin/student/enrol/?national_id={other}").get_data(as_text=True)
    assert 'name="guardian_name"' in new and 'name="guardian_phone"' in new


def test_the_audit_log_shows_the_familys_contacts_masked_above_the_institution(
        app, tree, browser):
    """A change of guardian is logged with its old and new values; the LAO and province who
    read the log see them masked, as on the learner's page."""
    learner = enrol_with_family(tree).learner
    own = browser(tree.a.school_user)
    assert own.post(f"/admin/learner/edit/?id={learner.id}", data={
        "national_id": NATIONAL_ID, "title": "เด็กหญิง", "first_name": "ทดสอบ",
        "last_name": "ความลับ", "gender": "F", **FAMILY,
        "guardian_name": "มานี มีนา", "guardian_phone": "089-999-1111"}).status_code == 302
    for user in (tree.a.muni_user, tree.a.province_user):
        b = browser(user)
        for page in ("/admin/audit/", "/admin/audit/export/csv/"):
            text = b.get(page).get_data(as_text=True)
            assert "xxx-xxx-xx78" in text and "xxx-xxx-xx11" in text and "ม…" in text, page
            assert not any(v in text for v in (*FAMILY.values(), "มานี มีนา", "089-999-1111"))
