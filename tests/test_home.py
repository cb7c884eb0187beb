"""The home page of each level says what to do now, and costs the same number of statements
however many units lie below."""

from test_confirmation import enrol, open_round
from test_dashboard_queries import add_schools, counted

from models import Lao, OtherSchoolCount, db
from models.profiles import record_responsible
from rules import acting_as, progress
from rules import confirmation as rules


def test_a_school_sees_its_live_counts_unconfirmed_and_the_next_step(tree, browser) -> None:
    round_ = open_round()
    enrol(tree.a.school, "P1", "M")
    enrol(tree.a.school, "P1", "F")
    enrol(tree.a.school, "P2", "F")
    db.session.commit()
    page = browser(tree.a.school_user).get("/admin/").get_data(as_text=True)
    assert "ยังไม่ได้ยืนยันข้อมูล" in page
    assert "<td>ป.๑</td><td class=\"text-right\">1</td><td class=\"text-right\">1</td>" in page
    assert f"/admin/confirmation/?round={round_.id}" in page


def test_a_centre_counts_by_age_group_and_is_pointed_to_its_basic_data(tree, browser) -> None:
    """A centre's table was headed "ระดับชั้น" and its steps never named its basic data."""
    open_round()
    enrol(tree.a.cdc, "A3", "F")
    db.session.commit()
    centre = browser(tree.a.cdc_user).get("/admin/").get_data(as_text=True)
    assert '<th scope="col">กลุ่มอายุ</th>' in centre and "ตามกลุ่มอายุ" in centre
    assert "/admin/centre_basic_data/" in centre
    school = browser(tree.a.school_user).get("/admin/").get_data(as_text=True)
    assert '<th scope="col">ระดับชั้น</th>' in school and "/admin/centre_basic_data/" not in school


def test_after_confirming_the_school_is_led_to_its_summary(tree, browser) -> None:
    round_ = open_round()
    enrol(tree.a.school)
    db.session.commit()
    with acting_as(None):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    page = browser(tree.a.school_user).get("/admin/").get_data(as_text=True)
    assert "ยืนยันข้อมูลแล้วเมื่อ" in page
    assert f"/admin/reports/summary/?round={round_.id}" in page


def test_an_lao_sees_who_is_late_with_the_responsible_person(tree, browser) -> None:
    open_round()
    school_user = tree.a.school_user
    record_responsible(school_user, "สมศรี", "ใจดี", "ครู", "081 234 5678")
    db.session.commit()
    page = browser(tree.a.muni_user).get("/admin/").get_data(as_text=True)
    assert tree.a.school.code in page and "สมศรี ใจดี" in page and "081 234 5678" in page


def test_an_lao_is_offered_the_overall_confirmation_only_of_a_database_that_is_ready(tree,
                                                                                     browser):
    round_ = open_round()
    db.session.add(OtherSchoolCount(round_id=round_.id, other_school_id=tree.a.other.id,
                                    grade="P1", boys=3, girls=4))
    db.session.commit()
    page = browser(tree.a.sao_user).get("/admin/").get_data(as_text=True)
    sections = page.split('class="lec-actions"')[0].split('data-database="')[1:]
    children, other = sorted(sections)  # "children…" sorts before "other…"
    assert "ยืนยันแล้ว 0 จาก 1 แห่ง" in children
    assert "?database=children" not in children  # no confirm button
    assert "อีก 1 แห่ง" in children  # says what is missing
    # …ภาพรวมของฐานข้อมูลเด็กเล็กได้, without a space before ได้
    assert "ซึ่งต้องยืนยันข้อมูลก่อนจึงจะยืนยันภาพรวมของฐานข้อมูลเด็กเล็กได้</p>" in children
    assert "ทุกหน่วยยืนยันข้อมูลแล้ว" not in page
    assert "กรอกจำนวนนักเรียนแล้ว 1 จาก 1 โรงเรียน" in other and "ยืนยันแล้ว" not in other
    assert f"/admin/confirmation/confirm/{round_.id}?database=other" in other
    assert "จำนวนนักเรียนสถานศึกษาสังกัดอื่น" in other  # the button names its database


def test_the_province_home_costs_the_same_for_any_number_of_laos(tree, browser) -> None:
    round_ = open_round()
    province = browser(tree.a.province_user)
    province.get("/admin/")
    with counted() as few:
        first = province.get("/admin/").get_data(as_text=True)
    assert "<svg" in first and "อปท." in first
    db.session.add_all([Lao(code=f"063301{n:02d}", name=f"อบต. {n}", lao_type=6,
                            province_code="33", district_code="3301") for n in range(10, 40)])
    db.session.commit()
    add_schools(db.session.get(Lao, tree.a.sao.id), 10, 20, round_)
    with counted() as many:
        page = province.get("/admin/")
    assert page.status_code == 200
    assert len(few) == len(many), (len(few), len(many))


def test_the_department_home_costs_the_same_for_any_number_of_laos(tree, browser) -> None:
    round_ = open_round()
    department = browser(tree.department)
    department.get("/admin/")
    with counted() as few:
        assert department.get("/admin/").status_code == 200
    add_schools(db.session.get(Lao, tree.a.sao.id), 10, 20, round_)
    db.session.add_all([Lao(code=f"063301{n:02d}", name=f"อบต. {n}", lao_type=6,
                            province_code="33", district_code="3301") for n in range(10, 40)])
    db.session.commit()
    with counted() as many:
        page = department.get("/admin/").get_data(as_text=True)
    assert "<svg" in page
    assert len(few) == len(many), (len(few), len(many))


def test_confirming_shows_the_counts_to_freeze_first_then_leads_to_the_summary(tree,
                                                                               browser) -> None:
    round_ = open_round()
    enrol(tree.a.school, "P1", "M")
    enrol(tree.a.school, "P1", "F")
    db.session.commit()
    school = browser(tree.a.school_user)
    page = school.get(f"/admin/confirmation/?round={round_.id}").get_data(as_text=True)
    assert f'href="/admin/confirmation/confirm/{round_.id}"' in page
    assert f'action="/admin/confirmation/confirm/{round_.id}"' not in page  # no one-click lock
    preview = school.get(f"/admin/confirmation/confirm/{round_.id}").get_data(as_text=True)
    assert "<td>ป.๑</td><td class=\"text-right\">1</td><td class=\"text-right\">1</td>" in preview
    assert f'action="/admin/confirmation/confirm/{round_.id}"' in preview
    assert progress.live_confirmation(db.session, round_.id, "institution", "students",
                                   institution_id=tree.a.school.id) is None
    done = school.post(f"/admin/confirmation/confirm/{round_.id}", follow_redirects=True)
    assert f"/admin/reports/summary/?round={round_.id}" in done.get_data(as_text=True)


def test_an_lao_previews_the_sum_of_its_institutions(tree, browser) -> None:
    round_ = open_round()
    enrol(tree.a.school, "P2", "F")
    db.session.commit()
    with acting_as(None):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    lao = browser(tree.a.muni_user)
    page = lao.get(f"/admin/confirmation/confirm/{round_.id}?database=students")
    assert "<td>ป.๒</td><td class=\"text-right\">0</td><td class=\"text-right\">1</td>" in (
        page.get_data(as_text=True))
    assert lao.get(f"/admin/confirmation/confirm/{round_.id}?database=bogus").status_code == 404


def test_before_confirming_the_school_report_shows_live_counts_marked_unconfirmed(tree,
                                                                                   browser) -> None:
    round_ = open_round()
    enrol(tree.a.school, "P3", "F")
    db.session.commit()
    page = browser(tree.a.school_user).get(f"/admin/reports/?round={round_.id}")
    text = page.get_data(as_text=True)
    assert "<td>ป.๓</td><td class=\"text-right\">0</td><td class=\"text-right\">1</td>" in text
    assert "ยังไม่ได้ยืนยันข้อมูล" in text


def test_a_province_preview_says_it_leaves_out_the_laos_not_yet_confirmed(tree, browser
                                                                           ) -> None:
    """The count report adds every confirmed institution, the province's preview only the
    confirmed LAOs: while an LAO has not confirmed, the preview says so and by how many."""
    from admin_views.reports import Scope, report_rows
    from models import Level

    round_ = open_round()
    enrol(tree.a.school, "P1", "M")
    enrol(tree.a.cdc, "A3", "F")
    db.session.commit()
    with acting_as(None):
        rules.confirm_institution(db.session, round_, tree.a.school)
        rules.confirm_institution(db.session, round_, tree.a.cdc)
        rules.confirm_lao(db.session, round_, tree.a.muni, "students")
        db.session.commit()
    own, _rows = report_rows(round_, Scope(Level.PROVINCE, province="33"))
    assert own.sum() == 2  # the report counts the centre the SAO has not confirmed yet
    page = browser(tree.a.province_user).get(
        f"/admin/confirmation/confirm/{round_.id}").get_data(as_text=True)
    total = page.split('<tr class="font-weight-bold">', 1)[1].split("</tr>", 1)[0]
    assert total.endswith('<td class="text-right">1</td>')  # only the municipality's school
    assert "ยอดนี้รวมเฉพาะ อปท. ที่ยืนยันภาพรวมของข้อมูลแล้ว ยังมี อปท. อีก 1 แห่ง" in page
    assert tree.a.sao.code in page.split("lec-preview-waiting", 1)[1]
    assert 'id="lec-confirm-yes" disabled' in page


def test_the_department_is_given_the_close_of_recording_not_a_deadline_of_its_own(
        app, tree, browser) -> None:
    from datetime import timedelta

    from i18n import be_date

    round_ = open_round()
    round_.institution_deadline = round_.lao_deadline = round_.closes_on - timedelta(days=2)
    round_.province_deadline = round_.closes_on - timedelta(days=1)
    db.session.commit()
    page = browser(tree.department).get("/admin/").get_data(as_text=True)
    assert "กำหนดส่งของท่าน" not in page
    with app.test_request_context():
        closes, province = be_date(round_.closes_on), be_date(round_.province_deadline)
    assert f"ระบบจะปิดการบันทึกข้อมูลในวันที่ {closes} เวลา ๒๔.๐๐ น." in page
    assert province not in page
    # The levels that confirm keep their own deadline.
    assert f"กำหนดส่งของท่านคือ {province}" in browser(tree.a.province_user).get(
        "/admin/").get_data(as_text=True)


def test_the_province_home_names_the_province(tree, browser) -> None:
    open_round()
    page = browser(tree.a.province_user).get("/admin/").get_data(as_text=True)
    assert '<p class="text-muted">จังหวัดศรีสะเกษ (33)</p>' in page
    assert 'title="จังหวัดศรีสะเกษ (33)"' in page  # the header, without the login twice


def test_the_department_home_counts_the_provinces_its_chart_shows(tree, browser) -> None:
    """It said "the 20 provinces furthest behind" over a chart of two."""
    open_round()
    department = browser(tree.department)
    page = department.get("/admin/").get_data(as_text=True)
    assert "จังหวัดที่ดำเนินการช้าที่สุด 2 จังหวัด: อปท. ที่ยืนยันแล้ว" in page
    assert "20 จังหวัด" not in page
    department.get("/language/en")
    page = department.get("/admin/").get_data(as_text=True)
    assert "The 2 provinces furthest behind: LAOs confirmed" in page


def test_a_round_scheduled_ahead_does_not_hide_the_open_one(tree, browser) -> None:
    """The department entered the next round before it opens: every page jumped to it, and
    the province's home said "this round is closed for recording" with the open round gone."""
    from datetime import timedelta

    import clock
    from i18n import be_date
    from models import Round

    current = open_round()
    today = clock.today()
    later = Round(academic_year=current.academic_year, number=2,
                  opens_on=today + timedelta(days=10), closes_on=today + timedelta(days=40),
                  institution_deadline=today + timedelta(days=30),
                  lao_deadline=today + timedelta(days=32),
                  province_deadline=today + timedelta(days=35))
    db.session.add(later)
    db.session.commit()
    assert progress.current_round(db.session).id == current.id
    province = browser(tree.a.province_user)
    year = current.academic_year
    for page, shown in (("/admin/", f"ครั้งที่ {year}/1"), ("/admin/confirmation/", f"ครั้งที่ {year}/1"),
                        ("/admin/reports/", f"ปีการศึกษา {year} ครั้งที่ 1 ·"),
                        ("/admin/budget/", f"ปีการศึกษา {year} ครั้งที่ 1 ·")):
        text = province.get(page).get_data(as_text=True)
        assert shown in text, page
        assert "ครั้งนี้ปิดการบันทึกข้อมูลแล้ว" not in text, page
    counts = browser(tree.a.sao_user).get("/admin/other_count/").get_data(as_text=True)
    assert f'value="{current.id}" selected' in counts
    # Asked for, the round not yet open says when it opens, not that it has closed.
    with province.client.application.test_request_context():
        opens = be_date(later.opens_on)
    text = province.get(f"/admin/confirmation/?round={later.id}").get_data(as_text=True)
    assert "ครั้งนี้ปิดการบันทึกข้อมูลแล้ว" not in text
    assert f"ครั้งนี้เปิดบันทึกข้อมูลวันที่ {opens}" in text


def test_a_bar_shows_100_percent_only_when_every_unit_has_confirmed() -> None:
    """205 of 206 LAOs showed a green 100% on the department's home."""
    from admin_views.home import Bar

    assert Bar("", 205, 206).percent == 99
    assert Bar("", 7849, 7850).percent == 99
    assert Bar("", 206, 206).percent == 100
    assert Bar("", 0, 0).percent == 0


def test_the_department_home_lists_every_province_still_owing_with_who_to_call(
        tree, browser) -> None:
    """It named no one to call, and left out a province whose LAOs had all confirmed."""
    from models import OtherSchoolCount

    round_ = open_round()
    db.session.add(OtherSchoolCount(round_id=round_.id, other_school_id=tree.a.other.id,
                                    grade="K1", boys=0, girls=0))
    with acting_as(None):
        for institution in (tree.a.school, tree.a.cdc):
            rules.confirm_institution(db.session, round_, institution)
        rules.confirm_lao(db.session, round_, tree.a.muni, "students")
        for database in ("children", "other"):
            rules.confirm_lao(db.session, round_, tree.a.sao, database)
        rules.confirm_institution(db.session, round_, tree.b.school)
        rules.confirm_lao(db.session, round_, tree.b.muni, "students")
        db.session.commit()
    department = browser(tree.department)
    page = department.get("/admin/").get_data(as_text=True)
    late = page[page.index("ยังไม่ยืนยันข้อมูล ("):]
    assert "ยังไม่ยืนยันข้อมูล (2)" in late
    assert "การยืนยันภาพรวมของข้อมูลของจังหวัด (อปท. ยืนยันครบทุกแห่งแล้ว)" in late  # 33
    assert "<td>1 อปท.</td>" in late  # 34: its SAO
    assert "สมชาย ทดสอบ 33" in late and "สมชาย ทดสอบ 34" in late
    assert 'href="tel:045000000"' in late
    department.get("/language/en")
    assert "<td>1 LAO</td>" in department.get("/admin/").get_data(as_text=True)
