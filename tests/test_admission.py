"""SPEC §8 online admission, through HTTP as a parent and an institution would use it."""

import re
from datetime import date

import pytest
from conftest import csrf_token
from flask_babel import force_locale
from markupsafe import escape
from sqlalchemy import func, select

import clock
from models import Application, AuditEntry, Enrolment, Learner, db
from rules import RuleViolation
from rules.contacts import email_problem, phone_problem
from rules.identity import check_digit
from web.admission import REFUSED_LIMIT, SUBMIT_LIMIT, academic_years


def national_id(first12: str = "110170012345") -> str:
    return first12 + str(check_digit(first12))


def wrong_checksum(first12: str = "110170012345") -> str:
    return first12 + str((check_digit(first12) + 1) % 10)


YEAR = academic_years()[0]


def p1_birth_date() -> date:
    """A child who turns 6 just before the term of YEAR begins, as P1 expects."""
    return date(clock.ce_year(YEAR) - 6, 1, 10)


def child(**changes: str) -> dict[str, str]:
    data = {
        "national_id": national_id(), "title": "เด็กหญิง", "first_name": "มะลิ",
        "last_name": "ใจดี", "birth_date": p1_birth_date().isoformat(), "gender": "F",
        "grade": "P1", "academic_year": str(YEAR), "contact_name": "นางสมศรี ใจดี",
        "contact_phone": "081 234 5678", "contact_email": "", "website": "",
    }
    return data | changes


def open_for_applications(institution) -> None:  # noqa: ANN001
    institution.accepts_online_applications = True
    db.session.commit()


def submit(client, institution, data: dict[str, str], address: str = "127.0.0.1"
           ):  # noqa: ANN001, ANN201
    environ = {"REMOTE_ADDR": address}
    page = client.get(f"/apply/{institution.code}", environ_base=environ)
    return client.post(f"/apply/{institution.code}", environ_base=environ,
                       data={"csrf_token": csrf_token(page.get_data(as_text=True)), **data})


def known_last_year(tree) -> None:  # noqa: ANN001
    """The child of `child()`, registered at another province's centre last year."""
    learner = Learner(national_id=national_id(), title="เด็กหญิง", first_name="มะลิ",
                      last_name="ใจดี", gender="F", birth_date=p1_birth_date())
    db.session.add(Enrolment(learner=learner, institution=tree.b.cdc, academic_year=YEAR - 1,
                             grade="A5", status="active"))
    db.session.commit()


def applications() -> int:
    return db.session.scalar(select(func.count()).select_from(Application))


def track(client, code: str):  # noqa: ANN001, ANN201
    page = client.get("/track")
    return client.post("/track", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                       "code": code})


def test_parent_applies_tracks_and_institution_enrols(client, tree, browser) -> None:
    school = tree.a.school
    open_for_applications(school)

    # The parent walks province → LAO → institution; only institutions taking applications show.
    steps = client.get("/apply").get_data(as_text=True)
    assert "ศรีสะเกษ" in steps and "/apply/province/33" in steps
    assert "/apply/province/34" not in steps  # nothing open in province 34
    steps = client.get("/apply/province/33").get_data(as_text=True)
    assert tree.a.muni.name in steps and tree.a.sao.name not in steps
    steps = client.get(f"/apply/lao/{tree.a.muni.id}").get_data(as_text=True)
    assert school.name in steps and f"/apply/{school.code}" in steps

    form = client.get(f"/apply/{school.code}").get_data(as_text=True)
    assert "เลขประจำตัวประชาชน" in form and 'name="website"' in form
    response = submit(client, school, child())
    assert response.status_code == 302
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    code = re.search(r">\s*([2-9A-Z]{10})\s*<", done).group(1)
    assert "รหัสติดตาม" in done

    status = track(client, code)
    assert status.status_code == 200
    text = status.get_data(as_text=True)
    assert "มะลิ" in text and school.name in text and "รอสถานศึกษาพิจารณา" in text
    assert national_id() not in text  # the code holder sees the application, not the ID

    # The institution sees it, scoped: the other province's school does not.
    staff = browser(tree.a.school_user)
    listing = staff.get("/admin/application/").get_data(as_text=True)
    assert "มะลิ" in listing
    assert "มะลิ" not in browser(tree.b.school_user).get("/admin/application/").get_data(
        as_text=True)
    application_id = db.session.scalar(select(Application.id))
    assert browser(tree.b.school_user).post(
        f"/admin/application/accept/{application_id}").status_code == 404

    # Those above the institution follow its applications but do not decide them.
    lao = browser(tree.a.muni_user)
    assert "มะลิ" in lao.get("/admin/application/").get_data(as_text=True)
    assert lao.post(f"/admin/application/accept/{application_id}").status_code == 403

    accepted = staff.post(f"/admin/application/accept/{application_id}", follow_redirects=True)
    assert f"ปีการศึกษา {YEAR} เรียบร้อยแล้ว" in accepted.get_data(as_text=True)
    students = staff.get(f"/admin/student/?flt1_0={YEAR}")
    assert students.status_code == 200
    assert "มะลิ" in students.get_data(as_text=True)
    assert "มะลิ" not in staff.get(f"/admin/student/?flt1_0={YEAR - 1}").get_data(as_text=True)
    assert "รับเข้าเรียนแล้ว" in track(client, code).get_data(as_text=True)


def test_accept_reuses_learner_and_catches_a_child_active_elsewhere(client, tree,
                                                                    browser) -> None:
    open_for_applications(tree.a.school)
    open_for_applications(tree.b.school)
    assert submit(client, tree.a.school, child()).status_code == 302
    assert submit(client, tree.b.school, child()).status_code == 302
    first, second = db.session.scalars(select(Application).order_by(Application.id)).all()
    assert browser(tree.a.school_user).post(
        f"/admin/application/accept/{first.id}").status_code == 302

    other = browser(tree.b.school_user)
    refused = other.post(f"/admin/application/accept/{second.id}", follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert tree.a.school.code in text and tree.a.school.name in text
    db.session.expire_all()
    assert db.session.get(Application, second.id).status == "submitted"
    assert db.session.scalar(select(func.count()).select_from(Learner)) == 1
    assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 1


def test_rejection_reason_reaches_the_parent(client, tree, browser) -> None:
    open_for_applications(tree.a.school)
    submit(client, tree.a.school, child())
    application = db.session.scalar(select(Application))
    staff = browser(tree.a.school_user)
    empty = staff.post(f"/admin/application/reject/{application.id}", data={"reason": " "},
                       follow_redirects=True)
    assert "เหตุผล" in empty.get_data(as_text=True)
    staff.post(f"/admin/application/reject/{application.id}",
               data={"reason": "ชั้น ป.1 เต็มแล้ว กรุณาติดต่อ อบต."})
    text = track(client, application.tracking_code).get_data(as_text=True)
    assert "ไม่รับสมัคร" in text and "ชั้น ป.1 เต็มแล้ว" in text
    assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 0


def test_institution_opens_and_closes_its_own_admission(client, tree, browser) -> None:
    staff = browser(tree.a.school_user)
    assert "/apply/province/33" not in client.get("/apply").get_data(as_text=True)
    staff.post("/admin/application/online/", data={"accepting": "1"})
    assert "/apply/province/33" in client.get("/apply").get_data(as_text=True)
    staff.post("/admin/application/online/", data={"accepting": "0"})
    assert "/apply/province/33" not in client.get("/apply").get_data(as_text=True)
    # Only an institution has its own admission to switch.
    assert browser(tree.a.muni_user).post("/admin/application/online/",
                                          data={"accepting": "1"}).status_code == 403


@pytest.mark.parametrize(("changes", "message"), [
    ({"national_id": wrong_checksum()}, wrong_checksum()),  # the rule names the failing ID
    ({"birth_date": date(clock.ce_year(YEAR) - 3, 1, 10).isoformat()}, "ไม่เหมาะกับ"),
    ({"first_name": ""}, "กรุณากรอก"),
    ({"first_name": "ทดสอบ1"}, "กรุณาลบ “1” ออก"),  # a placeholder, not a child's name
    ({"last_name": "ก" * 101}, "ต้องมีความยาวไม่เกิน 100 ตัวอักษร"),
    ({"contact_phone": "1" * 51}, "ต้องมีความยาวไม่เกิน 50 ตัวอักษร"),
    ({"grade": "A3"}, "ตัวเลือกไม่ถูกต้อง"),
    ({"birth_date": "01/06/2023"}, "กรุณาใส่ปีเป็นพุทธศักราช"),  # the field's own reason
    ({"birth_date": "31/02/2566"}, "ไม่มีวันนี้ในปฏิทิน"),
])
def test_bad_input_is_refused_in_thai_and_the_typing_kept(client, tree, changes, message
                                                         ) -> None:
    open_for_applications(tree.a.school)
    response = submit(client, tree.a.school, child(**changes))
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = " ".join(re.findall(r'(?:alert-danger|invalid-feedback)[^>]*>(.*?)</div>', text,
                                 re.S))
    assert message in errors
    if "birth_date" in changes:  # not drowned by a bare "please fill in"
        assert "กรุณากรอกข้อมูลในช่องนี้" not in errors
    assert applications() == 0
    for name, value in child(**changes).items():
        if name not in ("national_id", "title", "gender", "grade", "academic_year"):
            assert not value or re.search(f'name="{name}"[^>]*value="{value}"', text), name
    assert f'value="{child(**changes)["national_id"]}"' in text


def test_closed_institution_refuses_applications(client, tree) -> None:
    page = client.get(f"/apply/{tree.a.school.code}").get_data(as_text=True)
    assert "ไม่เปิดรับสมัครออนไลน์" in page
    token = csrf_token(client.get("/track").get_data(as_text=True))
    response = client.post(f"/apply/{tree.a.school.code}", data={"csrf_token": token, **child()})
    assert response.status_code == 422
    assert "ไม่เปิดรับสมัครออนไลน์" in response.get_data(as_text=True)
    assert applications() == 0


def test_burst_of_submissions_is_throttled(client, tree) -> None:
    open_for_applications(tree.a.school)
    allowed = SUBMIT_LIMIT[0]
    for n in range(allowed):
        ident = national_id(f"1101700{n:05d}")
        assert submit(client, tree.a.school, child(national_id=ident)).status_code == 302
    response = submit(client, tree.a.school, child(national_id=national_id("110170099999")))
    text = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "ส่งใบสมัครจากการเชื่อมต่อนี้มากเกินไป" in text
    assert 'value="นางสมศรี ใจดี"' in text
    assert applications() == allowed
    # Another address is not held back by this one.
    other = submit(client, tree.a.school, child(national_id=national_id("110170088888")),
                   address="192.0.2.7")
    assert other.status_code == 302


def test_typos_do_not_lock_a_parent_out_but_a_flood_is_stopped(client, tree) -> None:
    open_for_applications(tree.a.school)
    for _ in range(SUBMIT_LIMIT[0] + 1):
        assert submit(client, tree.a.school, child(birth_date="01/06/2023")).status_code == 422
    assert submit(client, tree.a.school, child()).status_code == 302
    assert applications() == 1
    for _ in range(REFUSED_LIMIT[0] - SUBMIT_LIMIT[0] - 1):
        submit(client, tree.a.school, child(first_name=""))
    flood = submit(client, tree.a.school, child(national_id=national_id("110170077777")))
    assert flood.status_code == 429
    assert "ส่งใบสมัครจากการเชื่อมต่อนี้มากเกินไป" in flood.get_data(as_text=True)
    assert applications() == 1


def test_honeypot_and_missing_csrf_save_nothing(client, tree) -> None:
    open_for_applications(tree.a.school)
    assert submit(client, tree.a.school, child(website="http://spam.example")).status_code == 400
    assert client.post(f"/apply/{tree.a.school.code}", data=child()).status_code == 400
    assert applications() == 0


def test_wrong_tracking_code_reveals_nothing(client, tree) -> None:
    open_for_applications(tree.a.school)
    submit(client, tree.a.school, child())
    response = track(client, "ZZZZZZZZZZ")
    text = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "ไม่พบใบสมัคร" in text
    assert "มะลิ" not in text and tree.a.school.name not in text
    assert track(client, "' OR 1=1 --").status_code in (404, 422)


@pytest.mark.parametrize("path", ["/apply", "/apply/province/33", "/track"])
def test_public_pages_carry_the_security_headers(client, tree, path) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert 'lang="th"' in response.get_data(as_text=True)


def test_unknown_places_are_plain_not_found_pages(client, tree) -> None:
    for path in ("/apply/province/99", "/apply/lao/999999", "/apply/3000000000"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Traceback" not in response.get_data(as_text=True)


def test_a_centre_takes_a_g_code_child_by_age_group(client, tree) -> None:
    open_for_applications(tree.a.cdc)
    form = client.get(f"/apply/{tree.a.cdc.code}").get_data(as_text=True)
    assert 'value="A3"' in form and 'value="P1"' not in form
    response = submit(client, tree.a.cdc, child(
        national_id="g 6733 0000 0012", grade="A3",
        birth_date=date(clock.ce_year(YEAR) - 3, 3, 1).isoformat()))
    assert response.status_code == 302
    assert db.session.scalar(select(Application.national_id)) == "G673300000012"


def test_the_rule_guards_every_write_path_not_just_the_form(app, tree) -> None:
    application = Application(institution_id=tree.a.school.id, **{
        k: v for k, v in child().items() if k not in ("website", "birth_date", "academic_year",
                                                      "contact_email")},
        birth_date=p1_birth_date(), academic_year=YEAR)
    db.session.add(application)
    with pytest.raises(RuleViolation, match="ไม่เปิดรับสมัครออนไลน์|not taking"):
        db.session.commit()
    db.session.rollback()
    open_for_applications(tree.a.school)
    application = db.session.merge(application)
    application.status = "rejected"
    with pytest.raises(RuleViolation, match="เหตุผล|reason"):
        db.session.commit()  # a refusal the parent could not understand
    db.session.rollback()


def test_a_contact_written_past_the_form_is_checked_too(app, tree) -> None:
    open_for_applications(tree.a.school)
    db.session.add(Application(institution_id=tree.a.school.id, **{
        k: v for k, v in child(contact_phone="โทรหาแม่").items()
        if k not in ("website", "birth_date", "academic_year", "contact_email")},
        birth_date=p1_birth_date(), academic_year=YEAR))
    with pytest.raises(RuleViolation, match="ไม่ใช่หมายเลขโทรศัพท์|not a phone number"):
        db.session.commit()
    db.session.rollback()
    assert applications() == 0


def test_accept_reuses_a_learner_known_from_last_year(client, tree, browser) -> None:
    known_last_year(tree)
    open_for_applications(tree.a.school)
    submit(client, tree.a.school, child())
    application_id = db.session.scalar(select(Application.id))
    accepted = browser(tree.a.school_user).post(f"/admin/application/accept/{application_id}",
                                                follow_redirects=True)
    assert f"ปีการศึกษา {YEAR} เรียบร้อยแล้ว" in accepted.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Learner)) == 1
    years = db.session.scalars(select(Enrolment.academic_year).order_by(
        Enrolment.academic_year)).all()
    assert years == [YEAR - 1, YEAR]


def test_the_form_defaults_to_the_current_academic_year(client, tree) -> None:  # noqa: ANN001
    open_for_applications(tree.a.school)
    page = client.get(f"/apply/{tree.a.school.code}").get_data(as_text=True)
    this = clock.academic_year()
    assert re.search(rf'<option selected value="{this}">', page), this


def test_a_centre_works_out_the_age_group_and_offers_only_child_titles(client,
                                                                        tree) -> None:  # noqa: ANN001
    open_for_applications(tree.a.cdc)
    page = client.get(f"/apply/{tree.a.cdc.code}").get_data(as_text=True)
    assert "นางสาว" not in page and ">นาย<" not in page and "เด็กหญิง" in page
    three = date(clock.ce_year(YEAR) - 3, 3, 1)  # three at the start of the year
    be = f"{three.day:02d}/{three.month:02d}/{clock.be_year(three.year)}"
    response = submit(client, tree.a.cdc, child(grade="", birth_date=be))
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert db.session.scalars(select(Application)).one().grade == "A3"


@pytest.mark.parametrize(("born", "message"), [
    (clock.term_start(YEAR), "อายุน้อยเกินไปสำหรับสถานศึกษานี้"),  # newborn: no age group yet
    (date(clock.ce_year(YEAR) - 8, 1, 10), "อายุเกินกว่าที่สถานศึกษานี้รับ"),
])
def test_a_centre_says_when_a_child_is_too_young_or_too_old(client, tree, born, message
                                                           ) -> None:  # noqa: ANN001
    open_for_applications(tree.a.cdc)
    be = f"{born.day:02d}/{born.month:02d}/{clock.be_year(born.year)}"
    response = submit(client, tree.a.cdc, child(grade="", title="เด็กหญิง", birth_date=be))
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in text and "ระดับชั้น -" not in text
    assert applications() == 0


def test_an_id_typed_in_thai_digits_finds_the_child_already_registered(client, tree,
                                                                       browser) -> None:
    known_last_year(tree)
    open_for_applications(tree.a.school)
    thai = national_id().translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    assert submit(client, tree.a.school, child(national_id=thai)).status_code == 302
    application = db.session.scalar(select(Application))
    assert application.national_id == national_id()
    staff = browser(tree.a.school_user)
    assert national_id() in staff.get(
        f"/admin/application/details/?id={application.id}").get_data(as_text=True)
    staff.post(f"/admin/application/accept/{application.id}")
    assert db.session.scalar(select(func.count()).select_from(Learner)) == 1


def test_the_same_child_is_sent_once_until_the_institution_says_no(client, tree,
                                                                    browser) -> None:
    open_for_applications(tree.a.school)
    assert submit(client, tree.a.school, child()).status_code == 302
    again = submit(client, tree.a.school, child(national_id=f"{national_id()[:1]}-"
                                                             f"{national_id()[1:]}"))
    assert again.status_code == 422
    assert "ได้ส่งไว้แล้ว" in again.get_data(as_text=True)
    assert applications() == 1
    # Another institution, or another year, is another application.
    open_for_applications(tree.b.school)
    assert submit(client, tree.b.school, child()).status_code == 302
    # Once refused, the parent may send a corrected application.
    first = db.session.scalar(select(Application).order_by(Application.id))
    browser(tree.a.school_user).post(f"/admin/application/reject/{first.id}",
                                     data={"reason": "กรุณาแนบสำเนาทะเบียนบ้าน"})
    assert submit(client, tree.a.school, child()).status_code == 302
    assert applications() == 3


def test_a_phone_number_in_thai_digits_is_taken(client, tree) -> None:
    open_for_applications(tree.a.school)
    assert submit(client, tree.a.school, child(contact_phone="๐๘๑ ๒๓๔ ๕๖๗๘")).status_code == 302
    assert db.session.scalar(select(Application.contact_phone)) == "081 234 5678"


@pytest.mark.parametrize("phone", ["045 123 456 ต่อ 12", "02 123 4567 ext. 1234",
                                   "045 123 456, 081 234 5678"])
def test_a_phone_number_taken_elsewhere_is_taken_here(client, tree, phone) -> None:
    """The number a school or a guardian may have on record is not refused to a parent."""
    assert phone_problem(phone) is None
    open_for_applications(tree.a.school)
    assert submit(client, tree.a.school, child(contact_phone=phone)).status_code == 302
    assert db.session.scalar(select(Application.contact_phone)) == phone


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("contact_phone", "0812345", phone_problem), ("contact_phone", "โทรหาแม่", phone_problem),
    ("contact_email", "somsri@example.org.", email_problem)])
def test_a_bad_contact_is_refused_in_the_words_used_everywhere(client, tree, field, value,
                                                              problem) -> None:
    open_for_applications(tree.a.school)
    response = submit(client, tree.a.school, child(**{field: value}))
    assert response.status_code == 422
    with force_locale("th"):
        words = escape(problem(value))
    assert "ไม่ใช่" in words
    assert words in response.get_data(as_text=True)
    assert applications() == 0


def test_a_tracking_code_copied_with_dashes_is_found(client, tree) -> None:
    open_for_applications(tree.a.school)
    submit(client, tree.a.school, child())
    code = db.session.scalar(select(Application.tracking_code))
    response = track(client, f"{code[:5]}-{code[5:]}".lower())
    assert response.status_code == 200
    assert "มะลิ" in response.get_data(as_text=True)


def test_the_parents_contact_shows_whole_only_to_the_institution_deciding(client, tree,
                                                                          browser) -> None:
    """The institution decides an application and calls the parent back; the LAO, province
    and department only follow it, so its list, page, export and log show them the parent's
    name, phone and e-mail masked, as they show a guardian's on a learner's record."""
    open_for_applications(tree.a.school)
    contact = {"contact_name": "นางสมศรี ใจดี", "contact_phone": "081 234 5678",
               "contact_email": "somsri@example.com"}
    assert submit(client, tree.a.school, child(**contact)).status_code == 302
    application_id = db.session.scalar(select(Application.id))
    pages = ("/admin/application/", f"/admin/application/details/?id={application_id}",
             "/admin/application/export/csv/")
    staff = browser(tree.a.school_user)
    for page in pages:
        text = staff.get(page).get_data(as_text=True)
        assert contact["contact_phone"] in text and "xxx-xxx-xx78" not in text, page
    details = staff.get(pages[1]).get_data(as_text=True)
    assert contact["contact_name"] in details and contact["contact_email"] in details
    for user in (tree.a.muni_user, tree.a.province_user, tree.department):
        b = browser(user)
        for page in pages:
            text = b.get(page).get_data(as_text=True)
            assert "มะลิ" in text and "xxx-xxx-xx78" in text, (user.login, page)
            assert not any(value in text for value in contact.values()), (user.login, page)
        details = b.get(pages[1]).get_data(as_text=True)
        assert "น…" in details and "s…" in details
    log = browser(tree.department).get("/admin/audit/?search=").get_data(as_text=True)
    assert "xxx-xxx-xx78" in log and not any(value in log for value in contact.values())


def test_the_log_names_a_decided_application_without_its_tracking_code(client, tree,
                                                                        browser) -> None:
    """The tracking code is the parent's only key to the status page; the LAO, province and
    department who read the log learn which application an institution accepted or refused
    by its record number and child, never by the code, in entries logged before too."""
    open_for_applications(tree.a.school)
    submit(client, tree.a.school, child())
    submit(client, tree.a.school, child(national_id=national_id("110170012346"),
                                        first_name="มะปราง"))
    accepted, refused = db.session.scalars(select(Application).order_by(Application.id)).all()
    codes = (accepted.tracking_code, refused.tracking_code)
    staff = browser(tree.a.school_user)
    assert staff.post(f"/admin/application/accept/{accepted.id}").status_code == 302
    assert staff.post(f"/admin/application/reject/{refused.id}",
                      data={"reason": "ชั้น ป.1 เต็มแล้ว"}).status_code == 302
    logged = db.session.scalars(select(AuditEntry).where(AuditEntry.model == "Application"))
    assert all(code not in f"{e.target} {e.changes}" for e in logged for code in codes)
    # As the log named an application before: by its code, with the code among the values.
    db.session.add(AuditEntry(
        action="update", actor_login=tree.a.school_user.login, province_code="33",
        lao_id=tree.a.school.lao_id, institution_id=tree.a.school.id, model="Application",
        object_id=str(accepted.id), target=f"{codes[0]} เด็กหญิงมะลิ ใจดี",
        changes={"tracking_code": [codes[0], codes[0]], "status": ["submitted", "accepted"]}))
    db.session.commit()
    for user in (tree.a.muni_user, tree.a.province_user, tree.department):
        b = browser(user)
        for page in ("/admin/audit/?flt0_model=Application", "/admin/audit/export/csv/"):
            text = b.get(page).get_data(as_text=True)
            assert "เด็กหญิงมะลิ ใจดี" in text and "เด็กหญิงมะปราง ใจดี" in text, page
            assert "รับเข้าเรียนแล้ว" in text and "ไม่รับสมัคร" in text, page
            assert "ชั้น ป.1 เต็มแล้ว" in text and tree.a.school_user.login in text, page
            assert not any(code in text for code in codes), (user.login, page)
