"""One calendar: dates are typed and shown in the Buddhist Era, day first, as people write them."""

from datetime import date

import pytest

from web.fields import DateProblem, format_be_date, parse_be_date


@pytest.mark.parametrize("typed", ["16/05/2569", "16/5/2569", " 16-5-2569 ", "16.05.2569",
                                   "๑๖/๐๕/๒๕๖๙", "16 พฤษภาคม 2569", "16 พ.ค. 2569", "16 พ.ค. 69",
                                   "๑๖ พ.ค. ๒๕๖๙", "16/05/69", "2026-05-16", "2569-05-16",
                                   "๒๕๖๙-๐๕-๑๖"])
def test_the_forms_people_type_read_as_the_same_day(typed: str) -> None:
    assert parse_be_date(typed) == date(2026, 5, 16)


@pytest.mark.parametrize(("typed", "words"), [
    ("16/05/2026", "พ.ศ."), ("31/02/2569", "ไม่มีวันนี้"), ("16 Mayy 2569", "ชื่อเดือน"),
    ("tomorrow", "วัน/เดือน/ปี")])
def test_a_date_that_cannot_be_read_says_why_in_thai(app, typed: str, words: str) -> None:
    with app.test_request_context(), pytest.raises(DateProblem) as problem:
        parse_be_date(typed)
    assert words in str(problem.value.args[0])


def test_dates_are_shown_day_first_in_the_buddhist_era() -> None:
    assert format_be_date(date(2026, 5, 6)) == "06/05/2569"
    assert parse_be_date("") is None


def test_an_admin_form_types_and_shows_be_dates(tree, browser) -> None:
    from models import Round, db

    department = browser(tree.department)
    form = department.get("/admin/round/new/").get_data(as_text=True)
    assert 'placeholder="วว/ดด/ปปปป"' in form and "datepicker" not in form
    response = department.post("/admin/round/new/", data={
        "academic_year": "2569", "number": "1", "opens_on": "16/05/2569",
        "closes_on": "๓๐ มิ.ย. ๒๕๖๙", "institution_deadline": "10/06/2569",
        "lao_deadline": "20 มิถุนายน 2569", "province_deadline": "25/06/2569"})
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    round_ = db.session.query(Round).one()
    assert (round_.opens_on, round_.closes_on) == (date(2026, 5, 16), date(2026, 6, 30))
    edit = department.get(f"/admin/round/edit/?id={round_.id}").get_data(as_text=True)
    assert 'value="16/05/2569"' in edit
