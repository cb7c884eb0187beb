"""A cancel from above reaches the unit it cancels (SPEC §5): its home and its confirmation page
say who cancelled, when and why, until it confirms again."""

from test_confirmation import enrol, open_round
from test_dashboard_queries import counted

from i18n import be_date
from models import Confirmation, db
from rules import acting_as
from rules import confirmation as rules
from rules.progress import live_confirmation


def _notice(page: str) -> str:
    """The text of the cancel notices on a page, '' when there is none."""
    return "".join(part.split("</div>", 1)[0]
                   for part in page.split('lec-cancelled" role="alert">')[1:])


def _confirm_school(tree, round_) -> Confirmation:  # noqa: ANN001
    with acting_as(tree.a.school_user):
        confirmation = rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    return confirmation


def test_a_school_is_told_who_cancelled_its_confirmation_and_why_until_it_confirms(
        app, tree, browser) -> None:
    round_ = open_round()
    enrol(tree.a.school)
    school = browser(tree.a.school_user)
    home, own_page = "/admin/", "/admin/confirmation/"
    _confirm_school(tree, round_)
    assert _notice(school.get(home).get_data(as_text=True)) == ""
    with acting_as(tree.a.muni_user):
        cancelled = rules.cancel(db.session, live_confirmation(
            db.session, round_.id, "institution", "students", institution_id=tree.a.school.id),
            "ระดับชั้น ป.๑ <b>ผิด</b>")
        db.session.commit()
    with app.test_request_context():
        when = be_date(cancelled.cancelled_at)
    told = (f"การยืนยันข้อมูลครั้งที่ {round_} ถูกยกเลิกโดย สมชาย ทดสอบ {tree.a.muni.code} "
            f"{tree.a.muni.code} {tree.a.muni.name} เมื่อ {when} "
            "เหตุผล: ระดับชั้น ป.๑ &lt;b&gt;ผิด&lt;/b&gt; — แก้ไขข้อมูลแล้วยืนยันอีกครั้ง")
    for url in (home, own_page):
        assert _notice(school.get(url).get_data(as_text=True)).strip() == told, url
    # The LAO that cancelled reads the school's page without a notice addressed to the school.
    lao_view = browser(tree.a.muni_user).get(f"{own_page}?institution={tree.a.school.id}")
    assert _notice(lao_view.get_data(as_text=True)) == ""
    _confirm_school(tree, round_)
    for url in (home, own_page):
        assert _notice(school.get(url).get_data(as_text=True)) == "", url


def test_an_lao_is_told_which_database_its_province_cancelled(app, tree, browser) -> None:
    round_ = open_round()
    enrol(tree.a.school)
    _confirm_school(tree, round_)
    with acting_as(tree.a.muni_user):
        confirmation = rules.confirm_lao(db.session, round_, tree.a.muni, "students")
        db.session.commit()
    with acting_as(tree.a.province_user):
        rules.cancel(db.session, confirmation, "จำนวนนักเรียนไม่ตรงกับทะเบียน")
        db.session.commit()
    with app.test_request_context():
        when = be_date(db.session.get(Confirmation, confirmation.id).cancelled_at)
    told = (f"การยืนยันภาพรวมของฐานข้อมูลนักเรียน ครั้งที่ {round_} ถูกยกเลิกโดย "
            f"สมชาย ทดสอบ 33 จังหวัดศรีสะเกษ (33) เมื่อ {when} "
            "เหตุผล: จำนวนนักเรียนไม่ตรงกับทะเบียน — แก้ไขข้อมูลแล้วยืนยันอีกครั้ง")
    lao = browser(tree.a.muni_user)
    for url in ("/admin/", "/admin/confirmation/"):
        assert _notice(lao.get(url).get_data(as_text=True)).strip() == told, url
    province_view = browser(tree.a.province_user).get(
        f"/admin/confirmation/?lao={tree.a.muni.id}").get_data(as_text=True)
    assert _notice(province_view) == ""


def test_the_cancel_notice_costs_one_statement_however_often_it_was_cancelled(tree,
                                                                             browser) -> None:
    round_ = open_round()
    enrol(tree.a.school)
    school = browser(tree.a.school_user)
    school.get("/admin/")
    with counted() as never:
        school.get("/admin/")
    for reason in ("หนึ่ง", "สอง", "สาม"):
        confirmation = _confirm_school(tree, round_)
        with acting_as(tree.a.muni_user):
            rules.cancel(db.session, confirmation, reason)
            db.session.commit()
    with counted() as thrice:
        page = school.get("/admin/").get_data(as_text=True)
    assert "เหตุผล: สาม" in _notice(page) and "สอง" not in _notice(page)
    assert len(never) == len(thrice), (len(never), len(thrice))


def test_a_province_is_told_the_department_cancelled_its_confirmation(tree, browser) -> None:
    from models import OtherSchoolCount

    round_ = open_round()
    db.session.add(OtherSchoolCount(round_id=round_.id, other_school_id=tree.a.other.id,
                                    grade="P1", boys=1, girls=1))
    db.session.commit()
    for user, institution in ((tree.a.school_user, tree.a.school), (tree.a.cdc_user, tree.a.cdc)):
        with acting_as(user):
            rules.confirm_institution(db.session, round_, institution)
    with acting_as(tree.a.muni_user):
        rules.confirm_lao(db.session, round_, tree.a.muni, "students")
    with acting_as(tree.a.sao_user):
        rules.confirm_lao(db.session, round_, tree.a.sao, "children")
        rules.confirm_lao(db.session, round_, tree.a.sao, "other")
    with acting_as(tree.a.province_user):
        confirmation = rules.confirm_province(db.session, round_, "33")
    with acting_as(tree.department):
        rules.cancel(db.session, confirmation, "ตรวจพบข้อมูลซ้ำ")
    db.session.commit()
    page = browser(tree.a.province_user).get("/admin/").get_data(as_text=True)
    assert (f"ถูกยกเลิกโดย สมชาย ทดสอบ {tree.department.login} "
            "กรมส่งเสริมการปกครองท้องถิ่น (สถ.) เมื่อ") in _notice(page)
    assert "เหตุผล: ตรวจพบข้อมูลซ้ำ" in _notice(page)
