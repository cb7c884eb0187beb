"""Count reports, confirmation summary and budget pages (SPEC §7, issue 6 items 2-4).

All figures come from confirmation snapshots; units that have not confirmed are marked.
"""

import io
import re
from itertools import count
from types import SimpleNamespace

import openpyxl
import pytest

import clock
from admin_views.reports import MONEY
from models import BudgetRate, Enrolment, Learner, OtherSchoolCount, Round, db
from models.people import GRADE_LABELS
from rules import acting_as, windows
from rules import confirmation as rules
from rules.identity import check_digit

YEAR = clock.academic_year()
_ids = count(500)


def enrol(institution, grade: str, gender: str) -> None:
    body = f"1{next(_ids):011d}"
    learner = Learner(national_id=body + str(check_digit(body)), first_name="ทดสอบ",
                      last_name="รายงาน", gender=gender)
    db.session.add(Enrolment(learner=learner, institution=institution, academic_year=YEAR,
                             grade=grade, status="active"))


def open_round() -> Round:
    """Round 1 of this academic year, open all year, every deadline at its close."""
    first, last = windows.round_date_bounds(YEAR)
    return Round(academic_year=YEAR, number=1, opens_on=first, closes_on=last,
                 institution_deadline=last, lao_deadline=last, province_deadline=last)


@pytest.fixture
def confirmed(tree):
    """School A: 3 boys and 2 girls in P1, 1 girl in M1, confirmed. CDC A: 2 children, not
    confirmed. SAO A's other-affiliation school: 3 boys and 4 girls in P1, confirmed. School B
    (province 34): 1 boy in P1, confirmed."""
    round_ = open_round()
    db.session.add(round_)
    for gender, n in (("M", 3), ("F", 2)):
        for _ in range(n):
            enrol(tree.a.school, "P1", gender)
    enrol(tree.a.school, "M1", "F")
    enrol(tree.a.cdc, "A3", "M")
    enrol(tree.a.cdc, "A3", "F")
    enrol(tree.b.school, "P1", "M")
    db.session.add(OtherSchoolCount(round=round_, other_school_id=tree.a.other.id, grade="P1",
                                    boys=3, girls=4))
    db.session.commit()
    with acting_as(tree.a.school_user):
        school_a = rules.confirm_institution(db.session, round_, tree.a.school)
    with acting_as(tree.b.school_user):
        rules.confirm_institution(db.session, round_, tree.b.school)
    with acting_as(tree.a.sao_user):
        rules.confirm_lao(db.session, round_, tree.a.sao, "other")
    db.session.commit()
    return SimpleNamespace(round=round_, school_a=school_a, tree=tree)


def page(browser, user, url: str) -> str:
    response = browser(user).get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def grade_row(html: str, label: str) -> str:
    """The cells of one row of the grade table, as text."""
    start = html.index(f"<td>{label}</td>")
    return html[start:html.index("</tr>", start)]


def test_institution_sees_its_confirmed_counts_by_grade_and_gender(app, confirmed, browser):
    html = page(browser, confirmed.tree.a.school_user, "/admin/reports/")
    with app.test_request_context():
        cells = grade_row(html, str(GRADE_LABELS["P1"]))
    assert ">3<" in cells and ">2<" in cells and ">5<" in cells
    assert "lec-unconfirmed" not in html


def test_lao_report_marks_the_units_that_have_not_confirmed(app, confirmed, browser):
    tree = confirmed.tree
    html = page(browser, tree.a.sao_user, "/admin/reports/")
    cdc_row = html[html.index(tree.a.cdc.code):]
    cdc_row = cdc_row[:cdc_row.index("</tr>")]
    assert "ยังไม่ยืนยัน" in cdc_row  # the centre has not confirmed
    assert "lec-unconfirmed" in html
    # the centre's two children are not counted; the other-affiliation school's 7 are
    assert ">7<" in html and ">9<" not in html


def test_province_and_nation_sum_confirmed_snapshots_only(app, confirmed, browser):
    tree = confirmed.tree
    html = page(browser, tree.a.province_user, "/admin/reports/")
    assert tree.a.muni.code in html and tree.a.sao.code in html
    assert ">13<" in html  # 6 in school A + 7 in the other-affiliation school
    # ... and the page says so: the progress pages count the 6 learners alone.
    assert 'id="report-includes-other"' in html and "สังกัดอื่น" in html
    lao = page(browser, tree.a.muni_user, "/admin/reports/")
    assert 'id="report-includes-other"' not in lao  # an LAO has the other schools as a row
    national = page(browser, tree.department, "/admin/reports/")
    assert ">14<" in national  # and 1 in province 34
    assert national.count("ยังไม่ยืนยัน") >= 2  # neither province has confirmed


def test_cancelled_confirmation_no_longer_counts(app, confirmed, browser):
    tree = confirmed.tree
    with acting_as(tree.a.muni_user):
        rules.cancel(db.session, confirmed.school_a, "แก้ไขข้อมูล")
        db.session.commit()
    html = page(browser, tree.a.muni_user, "/admin/reports/")
    row = html[html.index(tree.a.school.code):]
    assert "ยังไม่ยืนยัน" in row[:row.index("</tr>")]
    assert ">6<" not in html


def test_reports_stay_inside_the_users_subtree(app, confirmed, browser):
    tree = confirmed.tree
    assert browser(tree.a.school_user).get(f"/admin/reports/?lao={tree.a.muni.id}"
                                           ).status_code == 404
    assert browser(tree.b.province_user).get("/admin/reports/?province=33").status_code == 404
    assert browser(tree.b.muni_user).get(
        f"/admin/reports/summary/?institution={tree.a.school.id}").status_code == 404


def test_report_as_xlsx_has_units_and_grades(app, confirmed, browser):
    response = browser(confirmed.tree.department).get(
        f"/admin/reports/xlsx/?round={confirmed.round.id}")
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    units = list(book.worksheets[0].iter_rows(values_only=True))
    by_code = {row[0]: row for row in units[1:]}
    assert by_code["33"][-1] == 13 and by_code["34"][-1] == 1
    assert units[-1][-1] == 14 and units[-1][1] == "รวม"
    grades = list(book.worksheets[1].iter_rows(values_only=True))
    assert grades[1][1:] == (7, 6, 13)  # P1: boys 3 + 3 + 1, girls 2 + 4
    assert grades[-1] == ("รวม", 7, 7, 14)  # as the screen's table ends
    assert book.worksheets[0].freeze_panes == "A2"


def test_an_institutions_report_as_xlsx_names_it_and_totals_its_grades(app, confirmed,
                                                                       browser):
    school = confirmed.tree.a.school
    response = browser(confirmed.tree.a.school_user).get(
        f"/admin/reports/xlsx/?round={confirmed.round.id}")
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    units = list(book.worksheets[0].iter_rows(values_only=True))
    assert units[1:] == [(school.code, school.name, "ยืนยันข้อมูลแล้ว", 3, 2, 0, 1, 3, 3, 6)]
    grades = list(book.worksheets[1].iter_rows(values_only=True))
    assert grades[1:] == [("ป.๑", 3, 2, 5), ("ม.๑", 0, 1, 1), ("รวม", 3, 3, 6)]


def test_an_unconfirmed_institutions_workbook_has_the_counts_its_screen_shows(app, confirmed,
                                                                             browser):
    centre = browser(confirmed.tree.a.cdc_user)
    assert "lec-unconfirmed" in page(browser, confirmed.tree.a.cdc_user, "/admin/reports/")
    book = openpyxl.load_workbook(io.BytesIO(centre.get(
        f"/admin/reports/xlsx/?round={confirmed.round.id}").get_data()))
    grades = list(book.worksheets[1].iter_rows(values_only=True))
    assert grades[1:] == [("เด็กอายุ ๓ ปี", 1, 1, 2), ("รวม", 1, 1, 2)]  # recorded, not zeros
    (unit,) = list(book.worksheets[0].iter_rows(values_only=True))[1:]
    assert unit[2] == "ยังไม่ยืนยัน" and unit[-1] == 2


def test_an_unconfirmed_institution_is_not_told_its_counts_are_confirmed(app, confirmed,
                                                                          browser):
    """The centre sees what it has recorded; the page must not call that confirmed data."""
    html = page(browser, confirmed.tree.a.cdc_user, "/admin/reports/")
    assert "ยังไม่ได้ยืนยันข้อมูล: ตัวเลขนี้คือจำนวนผู้เรียนที่บันทึกไว้ขณะนี้" in html
    assert "จากข้อมูลที่ยืนยันแล้วเท่านั้น" not in html
    confirmed_school = page(browser, confirmed.tree.a.school_user, "/admin/reports/")
    assert "จากข้อมูลที่ยืนยันแล้วเท่านั้น" in confirmed_school


def test_printable_confirmation_summary(app, confirmed, browser):
    tree = confirmed.tree
    html = page(browser, tree.a.school_user,
                f"/admin/reports/summary/?institution={tree.a.school.id}")
    assert "size: A4" in html and "@media print" in html
    assert tree.a.school_user.login in html  # who confirmed
    assert html.count('class="line"') == 2  # two signature lines
    assert ">5<" in html and ">6<" in html
    unconfirmed = page(browser, tree.a.cdc_user,
                       f"/admin/reports/summary/?institution={tree.a.cdc.id}")
    assert 'class="line"' not in unconfirmed


def test_budget_estimate_pages_match_a_hand_calculation(app, confirmed, browser):
    db.session.add(BudgetRate.fy2566(YEAR))
    db.session.commit()
    # By hand (baht): province 33: school A has 5 pupils K1-P6 (the M1 girl gets nothing):
    #   lunch 5 x 36 x 200 = 36,000.00; milk 5 x 7.37 x 260 = 9,581.00. The other-affiliation
    #   school, 7 pupils: milk 7 x 1,916.20 = 13,413.40. Province 34: 1 pupil: lunch 7,200.00,
    #   milk 1,916.20. Nation: lunch 43,200.00 + milk 24,910.60 = 68,110.60.
    national = page(browser, confirmed.tree.department, "/admin/budget/")
    assert "58,994.40" in national  # province 33: 36,000 + 9,581 + 13,413.40
    assert "9,116.20" in national
    assert "68,110.60" in national and "43,200.00" in national and "24,910.60" in national
    lao = page(browser, confirmed.tree.a.sao_user, "/admin/budget/")
    assert "13,413.40" in lao
    response = browser(confirmed.tree.department).get("/admin/budget/xlsx/")
    rows = list(openpyxl.load_workbook(io.BytesIO(response.get_data())).active
                .iter_rows(values_only=True))
    total = next(r for r in rows if r[1] == "รวม")
    assert total[-1] == pytest.approx(68110.60)


def test_an_lao_with_only_secondary_pupils_is_listed_at_zero_on_page_and_workbook(app, tree,
                                                                                 browser):
    """M1-M6 get neither lunch nor milk (SPEC §7), but an LAO that confirmed only secondary
    pupils is still a row of its province's estimate, at 0, on the screen and in the workbook
    alike, so the department sees it was counted and funds nothing."""
    round_ = open_round()
    db.session.add_all([round_, BudgetRate.fy2566(YEAR), OtherSchoolCount(
        round=round_, other_school_id=tree.a.other.id, grade="P1", boys=1, girls=0)])
    enrol(tree.a.school, "M1", "F")
    enrol(tree.a.school, "M4", "M")
    db.session.commit()
    with acting_as(tree.a.school_user):
        rules.confirm_institution(db.session, round_, tree.a.school)
    with acting_as(tree.a.sao_user):
        rules.confirm_lao(db.session, round_, tree.a.sao, "other")
    db.session.commit()
    html = page(browser, tree.a.province_user, "/admin/budget/")
    muni = html[html.index(f"<td>{tree.a.muni.code}</td>"):]
    assert re.findall(r'text-right">([^<]*)<', muni[:muni.index("</tr>")]) == [
        "1", "0", "0.00", "0", "0.00", "0.00"]  # the LAO has not confirmed its own data
    book = openpyxl.load_workbook(io.BytesIO(
        browser(tree.a.province_user).get("/admin/budget/xlsx/").get_data()))
    rows = list(book.active.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [tree.a.muni.code, tree.a.sao.code, "", ""]
    assert rows[-1][1].startswith("อปท. 2 แห่งยังไม่ยืนยันข้อมูล")  # neither LAO confirmed all
    assert rows[0][3:] == (0, 0, 0, 0, 0)
    assert rows[1][5] == 1 and rows[2][5] == 1  # the SAO's one P1 pupil gets milk


def test_budget_without_rates_says_so(app, confirmed, browser):
    html = page(browser, confirmed.tree.department, "/admin/budget/")
    assert str(YEAR) in html and "alert-warning" in html


def _rate_form(year: int) -> dict:
    """The FY2566 rates as the department types them: money in baht, the rest as numbers."""
    data = {f: v for f, v in BudgetRate.fy2566(year).__dict__.items() if not f.startswith("_")}
    return data | {name: f"{data[name] / 100:.2f}" for name in MONEY}


def test_only_the_department_edits_rates(app, tree, browser):
    data = _rate_form(2570)
    browser(tree.a.province_user).post("/admin/budget_rate/new/", data=data)
    assert db.session.query(BudgetRate).count() == 0
    response = browser(tree.department).post("/admin/budget_rate/new/", data=data)
    assert response.status_code == 302
    assert db.session.query(BudgetRate).one().lunch_rate_1 == 3600


def test_rates_are_typed_and_shown_in_baht_and_kept_in_satang(app, tree, browser):
    department = browser(tree.department)
    data = _rate_form(2570) | {"lunch_rate_1": "36", "milk_unit_price": "7.37",
                               "cdc_lunch_rate": "1,021.50"}
    assert department.post("/admin/budget_rate/new/", data=data).status_code == 302
    rate = db.session.query(BudgetRate).one()
    assert (rate.lunch_rate_1, rate.milk_unit_price, rate.cdc_lunch_rate) == (3600, 737, 102150)
    listed = department.get("/admin/budget_rate/").get_data(as_text=True)
    assert "36.00" in listed and "7.37" in listed and "1,021.50" in listed
    assert "3600" not in listed and "102150" not in listed
    form = department.get(f"/admin/budget_rate/edit/?id={rate.id}").get_data(as_text=True)
    assert 'value="36.00"' in form
    exported = department.get("/admin/budget_rate/export/xlsx/")
    sheet = openpyxl.load_workbook(io.BytesIO(exported.get_data())).active
    cell = sheet.cell(row=2, column=2)  # the small school's lunch rate
    assert cell.value == pytest.approx(36.0) and cell.number_format == "#,##0.00"


def test_budget_export_money_cells_read_as_baht_with_separators(app, confirmed, browser):
    db.session.add(BudgetRate.fy2566(YEAR))
    db.session.commit()
    response = browser(confirmed.tree.department).get("/admin/budget/xlsx/")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    total = next(row for row in sheet.iter_rows() if row[1].value == "รวม")
    assert total[-1].number_format == "#,##0.00" and total[2].number_format == "#,##0"


def test_an_laos_workbook_calls_it_confirmed_only_once_it_has_confirmed(app, confirmed,
                                                                        browser):
    """Its institutions having confirmed is not the LAO's own overall confirmation: the LAO's
    workbook says what the province's report says of it."""
    tree, url = confirmed.tree, f"/admin/reports/xlsx/?round={confirmed.round.id}"

    def own_status() -> str:
        book = openpyxl.load_workbook(io.BytesIO(browser(tree.a.muni_user).get(url).get_data()))
        *_units, own = list(book.worksheets[0].iter_rows(values_only=True))
        assert own[:2] == (tree.a.muni.code, "รวม")
        return own[2]

    province = page(browser, tree.a.province_user, "/admin/reports/")
    row = province[province.index(tree.a.muni.code):]
    assert "ยังไม่ยืนยัน" in row[:row.index("</tr>")]
    assert own_status() == "ยังไม่ยืนยัน"
    with acting_as(tree.a.muni_user):
        rules.confirm_lao(db.session, confirmed.round, tree.a.muni, "students")
        db.session.commit()
    assert own_status() == "ยืนยันข้อมูลแล้ว"


def _status_cells(html: str) -> dict[str, str]:
    """The status cell of each row of the units-below table, as text, by the row's code."""
    table = html.split("lec-grade-table", 1)[1].split("<tbody>", 2)[2].split("</tbody>", 1)[0]
    cells = {}
    for row in table.split("</tr>")[:-1]:
        tds = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        cells[tds[0]] = re.sub(r"<[^>]+>", "", tds[2]).strip()
    return cells


def test_the_units_below_say_not_confirmed_once(app, confirmed, browser):
    """The status cell said it twice: a badge, then the same words ("ยังไม่ยืนยัน ยังไม่ยืนยัน:
    ฐานข้อมูลนักเรียน")."""
    tree = confirmed.tree
    laos = _status_cells(page(browser, tree.a.province_user, "/admin/reports/"))
    assert laos[tree.a.muni.code] == "ยังไม่ยืนยัน: ฐานข้อมูลนักเรียน"
    assert laos[tree.a.sao.code] == "ยังไม่ยืนยัน: ฐานข้อมูลเด็กเล็ก"
    institutions = _status_cells(page(browser, tree.a.sao_user, "/admin/reports/"))
    assert institutions[tree.a.cdc.code] == "ยังไม่ยืนยัน"
    provinces = _status_cells(page(browser, tree.department, "/admin/reports/"))
    assert provinces["33"] == "ยังไม่ยืนยัน (อปท. ยืนยันข้อมูลแล้ว 0 จาก 2 แห่ง)"

def test_counts_and_pupils_are_written_with_thousands_separators(app, tree, browser):
    """The count report wrote 1234 where the budget page wrote its money 1,234.00."""
    round_ = open_round()
    db.session.add_all([round_, BudgetRate.fy2566(YEAR), OtherSchoolCount(
        round=round_, other_school_id=tree.a.other.id, grade="P1", boys=1200, girls=34)])
    db.session.commit()
    with acting_as(tree.a.sao_user):
        rules.confirm_lao(db.session, round_, tree.a.sao, "other")
    db.session.commit()
    for user in (tree.a.sao_user, tree.a.province_user):
        html = page(browser, user, "/admin/reports/")
        assert ">1,200<" in html and ">1,234<" in html and ">1234<" not in html, user.login
    summary = page(browser, tree.a.sao_user, f"/admin/reports/summary/?lao={tree.a.sao.id}")
    assert ">1,234<" in summary and ">1234<" not in summary
    budget = page(browser, tree.a.province_user, "/admin/budget/")
    assert ">1,234<" in budget and ">1234<" not in budget


def _budget_table(html: str) -> dict[str, list[str]]:
    """The cells of each row of the budget table, as text, by the row's code."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    cells = {}
    for row in body.split("</tr>")[:-1]:
        tds = [re.sub(r"<[^>]+>", "", td).strip()
               for td in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        cells[tds[0] or tds[1]] = tds[2:]
    return cells


def _budget_book(browser, user) -> list[tuple]:  # noqa: ANN001
    response = browser(user).get("/admin/budget/xlsx/")
    assert response.status_code == 200
    return list(openpyxl.load_workbook(io.BytesIO(response.get_data())).active
                .iter_rows(values_only=True))


LAOS_WAITING = "อปท. %d แห่งยังไม่ยืนยันข้อมูล นักเรียนและเด็กเล็กที่ยังไม่ได้ยืนยันข้อมูลจึงยังไม่รวมอยู่ในประมาณการนี้"


def test_the_budget_estimate_says_which_units_have_not_confirmed(app, tree, browser):
    """It listed only the units with confirmed data: an LAO that had not confirmed was missing
    from the total with nothing to say so. Province 34: the municipality confirmed (1 pupil),
    the SAO has not (its CDC and other-affiliation school wait); province 33 confirmed nothing."""
    round_ = open_round()
    db.session.add_all([round_, BudgetRate.fy2566(YEAR)])
    enrol(tree.b.school, "P1", "M")
    enrol(tree.b.cdc, "A3", "F")
    db.session.commit()
    with acting_as(tree.b.school_user):
        rules.confirm_institution(db.session, round_, tree.b.school)
    with acting_as(tree.b.muni_user):
        rules.confirm_lao(db.session, round_, tree.b.muni, "students")
    db.session.commit()

    national = page(browser, tree.department, "/admin/budget/")
    assert LAOS_WAITING % 3 in national
    provinces = _budget_table(national)
    assert provinces["34"] == ["1", "1", "7,200.00", "1", "1,916.20", "9,116.20"]
    assert provinces["33"] == ["2", "ยังไม่ได้ยืนยันข้อมูล"]  # not a province funding nothing
    assert provinces["รวม"][0] == "3"

    html = page(browser, tree.b.province_user, "/admin/budget/")
    assert LAOS_WAITING % 1 in html
    laos = _budget_table(html)
    assert laos[tree.b.muni.code][0] == "0" and laos[tree.b.sao.code] == ["1", "ยังไม่ได้ยืนยันข้อมูล"]
    book = _budget_book(browser, tree.b.province_user)
    assert book[0][2] == "อปท. ที่ยังไม่ยืนยัน"
    assert [r[:4] for r in book[1:3]] == [(tree.b.muni.code, tree.b.muni.name, 0, 1),
                                          (tree.b.sao.code, tree.b.sao.name, 1,
                                           "ยังไม่ได้ยืนยันข้อมูล")]
    assert book[3][1:3] == ("รวม", 1) and book[-1][1] == LAOS_WAITING % 1

    sao = page(browser, tree.b.sao_user, "/admin/budget/")
    assert "สถานศึกษา 1 แห่งยังไม่ยืนยันข้อมูล" in sao
    assert _budget_table(sao)[tree.b.cdc.code] == ["1", "ยังไม่ได้ยืนยันข้อมูล"]

    db.session.add(OtherSchoolCount(round=round_, other_school_id=tree.b.other.id, grade="P1",
                                    boys=2, girls=0))
    db.session.commit()
    with acting_as(tree.b.cdc_user):
        rules.confirm_institution(db.session, round_, tree.b.cdc)
    with acting_as(tree.b.sao_user):
        rules.confirm_lao(db.session, round_, tree.b.sao, "children")
        rules.confirm_lao(db.session, round_, tree.b.sao, "other")
    db.session.commit()
    html = page(browser, tree.b.province_user, "/admin/budget/")
    assert "ยังไม่ยืนยันข้อมูล" not in html and "lec-unconfirmed" not in html
    assert [row[0] for row in _budget_table(html).values()] == ["0", "0", "0"]
    book = _budget_book(browser, tree.b.province_user)
    assert book[-1][1:3] == ("รวม", 0) and [r[2] for r in book[1:]] == [0, 0, 0]


def test_the_national_budget_estimate_costs_the_same_statements_with_more_laos(app, tree,
                                                                              browser):
    """Saying how many LAOs of each province have not confirmed reads the progress tally once,
    not once per province or LAO."""
    from test_dashboard_queries import counted

    from models import Institution, Lao

    round_ = open_round()
    db.session.add_all([round_, BudgetRate.fy2566(YEAR)])
    db.session.commit()
    department = browser(tree.department)

    def statements() -> int:
        with counted() as seen:
            assert department.get("/admin/budget/").status_code == 200
        return len(seen)

    before = statements()
    for n in range(5):
        lao = Lao(code=f"0630010{n}", name=f"อบต.เพิ่ม {n}", lao_type=6, province_code="30",
                  district_code="3001")
        db.session.add_all([lao, Institution(code=f"303030000{n}", name=f"ร.ร. เพิ่ม {n}",
                                             kind="school", lao=lao)])
    db.session.commit()
    assert "อปท. 9 แห่ง" in department.get("/admin/budget/").get_data(as_text=True)
    assert statements() == before
