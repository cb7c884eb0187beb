"""The progress page of a province and of the department (issue 14, item 7): totals, sorting,
the late-only filter, the LAOs holding a province back as a table, and cancel tick boxes only
where the user may cancel."""

import re
from datetime import timedelta

from test_confirmation import enrol, open_round

import clock
from models import Confirmation, db
from rules import acting_as
from rules import confirmation as rules


def _confirm_muni(tree, round_) -> None:  # noqa: ANN001
    """Province 33's municipality confirms its school and its students; its SAO does not."""
    enrol(tree.a.school)
    with acting_as(tree.a.school_user):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    with acting_as(tree.a.muni_user):
        rules.confirm_lao(db.session, round_, tree.a.muni, "students")
        db.session.commit()


def _lao_table(page: str) -> str:
    """The table of every LAO of the province (after its heading)."""
    return page.split("อปท. ทั้งหมดในจังหวัด", 1)[1].split("</table>", 1)[0]


def test_the_province_page_totals_and_lists_the_blocking_laos_as_a_table(tree, browser):
    round_ = open_round()
    _confirm_muni(tree, round_)
    page = browser(tree.a.province_user).get("/admin/confirmation/").get_data(as_text=True)
    assert "อปท. ยืนยันแล้ว 1 / 2 แห่ง" in page
    blocking = page.split('class="table table-sm table-striped lec-blocking"', 1)[1].split(
        "</table>", 1)[0]
    assert tree.a.sao.code in blocking and tree.a.muni.code not in blocking
    assert "<ul>" not in page.split("lec-blocking", 1)[0].split("อปท. ยืนยันแล้ว", 1)[1]
    national = browser(tree.department).get("/admin/confirmation/").get_data(as_text=True)
    assert "จังหวัดยืนยันแล้ว 0 / 2 จังหวัด" in national
    assert "อปท. ยืนยันแล้ว 1 / 4 แห่ง" in national


def test_the_lao_table_sorts_by_any_column_both_ways(tree, browser):
    round_ = open_round()
    _confirm_muni(tree, round_)
    province = browser(tree.a.province_user)

    def order(query: str) -> list[str]:
        table = _lao_table(province.get(f"/admin/confirmation/?province=33&{query}")
                           .get_data(as_text=True))
        return re.findall(r">(0[56]\d{6})</a>", table)

    muni, sao = tree.a.muni.code, tree.a.sao.code
    assert order("sort=code") == [muni, sao]
    assert order("sort=code&desc=1") == [sao, muni]
    assert order("sort=learners&desc=1") == [muni, sao]  # the municipality has a learner
    assert order("sort=done") == [sao, muni]  # fewest institutions confirmed first


def test_late_only_shows_the_units_past_their_deadline(tree, browser):
    today = clock.today()
    round_ = open_round()
    _confirm_muni(tree, round_)
    province = browser(tree.a.province_user)
    on_time = _lao_table(province.get("/admin/confirmation/?late=1").get_data(as_text=True))
    assert tree.a.sao.code not in on_time  # nobody is late before the deadline
    round_.institution_deadline = round_.lao_deadline = today - timedelta(days=2)
    db.session.commit()
    late = province.get("/admin/confirmation/?late=1").get_data(as_text=True)
    assert tree.a.sao.code in _lao_table(late) and tree.a.muni.code not in _lao_table(late)
    assert "แสดงเฉพาะหน่วยที่ยืนยันข้อมูลล่าช้า" in late
    every = _lao_table(province.get("/admin/confirmation/").get_data(as_text=True))
    assert tree.a.sao.code in every and tree.a.muni.code in every


def test_cancel_tick_boxes_appear_only_where_the_user_may_cancel(tree, browser):
    round_ = open_round()
    _confirm_muni(tree, round_)
    ticks = 'name="confirmation"'
    assert ticks in browser(tree.a.province_user).get("/admin/confirmation/").get_data(
        as_text=True)  # the LAO's confirmation, from above
    own = browser(tree.a.school_user).get("/admin/confirmation/").get_data(as_text=True)
    assert ticks not in own and 'id="lec-cancel"' not in own
    other = browser(tree.a.sao_user).get(f"/admin/confirmation/?lao={tree.a.sao.id}")
    assert ticks not in other.get_data(as_text=True)  # nothing confirmed below it


def test_ticked_confirmations_are_cancelled_together_with_one_reason(tree, browser):
    round_ = open_round()
    _confirm_muni(tree, round_)
    lao_confirmation = db.session.query(Confirmation).filter_by(level="lao").one()
    province = browser(tree.a.province_user)
    refused = province.post("/admin/confirmation/cancel/", data={
        "confirmation": [lao_confirmation.id], "reason": "", "round": round_.id})
    assert refused.status_code == 302
    db.session.expire_all()
    assert db.session.get(Confirmation, lao_confirmation.id).cancelled_at is None
    done = province.post("/admin/confirmation/cancel/", data={
        "confirmation": [lao_confirmation.id], "reason": "จำนวนนักเรียนไม่ตรง",
        "round": round_.id, "province": "33"})
    assert done.status_code == 302 and "province=33" in done.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Confirmation, lao_confirmation.id).cancelled_at is not None
    school = db.session.query(Confirmation).filter_by(level="institution").one()
    assert browser(tree.b.province_user).post("/admin/confirmation/cancel/", data={
        "confirmation": [school.id], "reason": "x"}).status_code == 404
    refused_level = browser(tree.a.school_user).post("/admin/confirmation/cancel/", data={
        "confirmation": [school.id], "reason": "x"})
    assert refused_level.status_code == 302
    db.session.expire_all()
    assert db.session.get(Confirmation, school.id).cancelled_at is None


def test_the_lao_is_offered_a_cancel_and_a_change_list_only_when_it_can_use_them(tree, browser):
    round_ = open_round()
    enrol(tree.a.school)
    with acting_as(tree.a.school_user):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    lao = browser(tree.a.muni_user)
    lao_page = f"/admin/confirmation/?lao={tree.a.muni.id}"
    changed = "ดูสิ่งที่เปลี่ยนแปลงหลังการยืนยันครั้งล่าสุด"
    page = lao.get(lao_page).get_data(as_text=True)
    assert 'name="confirmation"' in page and 'id="lec-cancel"' in page
    with acting_as(tree.a.muni_user):
        rules.confirm_lao(db.session, round_, tree.a.muni, "students")
        db.session.commit()
    frozen = lao.get(lao_page).get_data(as_text=True)  # the LAO's own confirmation holds it
    assert 'name="confirmation"' not in frozen and 'id="lec-cancel"' not in frozen
    assert changed not in frozen
    with acting_as(tree.a.province_user):
        rules.cancel(db.session, db.session.query(Confirmation).filter_by(level="lao").one(),
                     "ตรวจใหม่")
        db.session.commit()
    with acting_as(tree.a.muni_user):
        rules.cancel(db.session,
                     db.session.query(Confirmation).filter_by(level="institution").one(),
                     "จำนวนไม่ตรง")
        db.session.commit()
    reopened = lao.get(lao_page).get_data(as_text=True)
    assert changed in reopened  # a confirmation was cancelled: there is a change list to read
    assert changed not in browser(tree.a.sao_user).get(
        f"/admin/confirmation/?lao={tree.a.sao.id}").get_data(as_text=True)  # never confirmed


def test_a_confirmation_id_that_is_no_number_is_dropped_not_a_server_error(tree, browser):
    round_ = open_round()
    _confirm_muni(tree, round_)
    lao_confirmation = db.session.query(Confirmation).filter_by(level="lao").one()
    province = browser(tree.a.province_user)
    refused = province.post("/admin/confirmation/cancel/", data={
        "confirmation": ["²", "١"], "reason": "ขอแก้ไข", "round": round_.id},
        follow_redirects=True)
    assert refused.status_code == 200
    assert "กรุณาเลือกการยืนยันข้อมูลที่จะยกเลิก" in refused.get_data(as_text=True)
    done = province.post("/admin/confirmation/cancel/", data={
        "confirmation": ["²", lao_confirmation.id], "reason": "ขอแก้ไข", "round": round_.id})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Confirmation, lao_confirmation.id).cancelled_at is not None


def test_every_page_counts_the_laos_that_have_something_to_confirm(tree, browser):
    """An LAO with no institution and no other-affiliation school has nothing to confirm. The
    province's pages and the national table counted it as confirmed (2 / 3), the department's
    home left it out (1 / 2): now every page leaves it out, and says so."""
    from models import Lao

    round_ = open_round()
    _confirm_muni(tree, round_)
    db.session.add(Lao(code="06330199", name="อบต. ไม่มีสถานศึกษา", lao_type=6,
                       province_code="33", district_code="3301"))
    db.session.commit()
    not_counted = ("ไม่นับ อปท. ที่ไม่มีข้อมูลที่ต้องยืนยัน (ไม่มีสถานศึกษาและสถานศึกษาสังกัดอื่น) "
                   "อีก 1 แห่ง")
    province = browser(tree.a.province_user)
    for url in ("/admin/", "/admin/confirmation/"):
        page = province.get(url).get_data(as_text=True)
        assert "อปท. ยืนยันแล้ว 1 / 2 แห่ง" in page, url
        assert not_counted in page, url
    department = browser(tree.department)
    national = department.get("/admin/confirmation/").get_data(as_text=True)
    assert "อปท. ยืนยันแล้ว 1 / 4 แห่ง" in national and not_counted in national
    assert "<td>1 / 2</td>" in national  # province 33's row
    home = department.get("/admin/").get_data(as_text=True)
    assert ">1/2</text>" in home and not_counted in home
    assert "ยืนยันแล้ว 1 จาก 2 แห่ง" in home.split("ฐานข้อมูลนักเรียน", 1)[1]  # the students bar
    report = department.get("/admin/reports/").get_data(as_text=True)
    assert "ยังไม่ยืนยัน (อปท. ยืนยันข้อมูลแล้ว 1 จาก 2 แห่ง)" in report
    lao_table = _lao_table(province.get("/admin/confirmation/").get_data(as_text=True))
    assert "06330199" in lao_table and "ไม่มีข้อมูลที่ต้องยืนยัน" in lao_table


def test_a_refused_cancel_keeps_the_reason_typed_and_the_boxes_ticked(tree, browser):
    """A cancel refused (no box ticked, or no reason) came back to an empty form: the reason
    had to be typed again and the boxes found again."""
    round_ = open_round()
    _confirm_muni(tree, round_)
    lao_confirmation = db.session.query(Confirmation).filter_by(level="lao").one()
    province = browser(tree.a.province_user)
    refused = province.post("/admin/confirmation/cancel/", data={
        "reason": "จำนวนนักเรียนไม่ตรง", "round": round_.id, "province": "33"},
        follow_redirects=True)
    page = refused.get_data(as_text=True)
    assert "กรุณาเลือกการยืนยันข้อมูลที่จะยกเลิก" in page
    assert re.search(r'id="lec-cancel-reason"[^>]*value="จำนวนนักเรียนไม่ตรง"', page)
    refused = province.post("/admin/confirmation/cancel/", data={
        "confirmation": [lao_confirmation.id], "reason": "", "round": round_.id,
        "province": "33"}, follow_redirects=True)
    page = refused.get_data(as_text=True)
    assert f'name="confirmation" value="{lao_confirmation.id}" checked' in page
    db.session.expire_all()
    assert db.session.get(Confirmation, lao_confirmation.id).cancelled_at is None
