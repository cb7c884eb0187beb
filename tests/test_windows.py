"""SPEC §4: a round takes writes until 24:00 Bangkok time of its closing day; after that only
the department writes to it (frozen clock)."""

from datetime import UTC, date, datetime

import pytest
from test_confirmation import enrol

import clock
from models import OtherSchoolCount, Round, db
from rules import RuleViolation, acting_as, spotchecks, windows
from rules import confirmation as rules

BANGKOK = clock.BANGKOK


@pytest.fixture
def round_2569(app) -> Round:  # noqa: ANN001
    """Round 2569/1 of the guideline's example: opens 1 May, closes 11 June at 24:00."""
    round_ = Round(academic_year=2569, number=1, opens_on=date(2026, 5, 1),
                   closes_on=date(2026, 6, 11), institution_deadline=date(2026, 6, 10),
                   lao_deadline=date(2026, 6, 10), province_deadline=date(2026, 6, 11))
    db.session.add(round_)
    db.session.commit()
    return round_


def freeze(monkeypatch: pytest.MonkeyPatch, *moment: int) -> None:
    at = datetime(*moment, tzinfo=BANGKOK)
    monkeypatch.setattr(clock, "now", lambda: at)


def count(tree, round_: Round) -> OtherSchoolCount:  # noqa: ANN001
    return OtherSchoolCount(round_id=round_.id, other_school_id=tree.a.other.id, grade="P1",
                            boys=1, girls=1)


def test_a_write_at_235959_on_the_closing_day_works(tree, round_2569, monkeypatch) -> None:
    freeze(monkeypatch, 2026, 6, 11, 23, 59, 59)
    with acting_as(tree.a.sao_user):
        db.session.add(count(tree, round_2569))
        db.session.commit()
        enrol(tree.a.cdc, "A3", year=2569)


def test_a_write_at_midnight_is_refused(tree, round_2569, monkeypatch) -> None:
    freeze(monkeypatch, 2026, 6, 12, 0, 0, 0)
    with acting_as(tree.a.sao_user):
        db.session.add(count(tree, round_2569))
        with pytest.raises(RuleViolation) as closed:
            db.session.commit()
    db.session.rollback()
    assert "๒๔.๐๐ น." in str(closed.value) and "ติดต่อ สถ." in str(closed.value)
    with acting_as(tree.a.cdc_user), pytest.raises(RuleViolation):
        enrol(tree.a.cdc, "A3", year=2569)
    db.session.rollback()
    with acting_as(tree.a.cdc_user), pytest.raises(RuleViolation):
        rules.confirm_institution(db.session, round_2569, tree.a.cdc)
    db.session.rollback()


def test_the_department_writes_after_closing(tree, round_2569, monkeypatch) -> None:
    freeze(monkeypatch, 2026, 6, 20, 9, 0, 0)
    with acting_as(tree.department):
        db.session.add(count(tree, round_2569))
        db.session.commit()


def test_before_opening_is_refused_too(tree, round_2569, monkeypatch) -> None:
    freeze(monkeypatch, 2026, 4, 30, 23, 59, 59)
    with acting_as(tree.a.sao_user):
        db.session.add(count(tree, round_2569))
        with pytest.raises(RuleViolation) as early:
            db.session.commit()
    assert "เปิดให้บันทึกข้อมูล" in str(early.value)


def test_extending_the_round_reopens_it(tree, round_2569, monkeypatch) -> None:
    freeze(monkeypatch, 2026, 6, 12, 0, 0, 0)
    with acting_as(tree.department):
        round_2569.closes_on = date(2026, 6, 18)
        db.session.commit()
    with acting_as(tree.a.sao_user):
        db.session.add(count(tree, round_2569))
        db.session.commit()


def test_only_the_department_sets_rounds(tree, round_2569) -> None:
    with acting_as(tree.a.province_user):
        round_2569.closes_on = date(2026, 7, 1)
        with pytest.raises(RuleViolation):
            db.session.commit()


def test_days_to_deadline_in_bangkok(monkeypatch) -> None:
    # 18:00 UTC on 9 June is already 10 June in Bangkok.
    at = datetime(2026, 6, 9, 18, 0, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: at)
    assert windows.days_to(date(2026, 6, 10)) == 0
    assert windows.days_to(date(2026, 6, 9)) == -1


def test_the_department_extends_a_round_through_its_page(tree, round_2569, browser) -> None:
    staff = browser(tree.department)
    page = staff.get("/admin/round/")
    assert page.status_code == 200 and "2569" in page.get_data(as_text=True)
    form = {"academic_year": "2569", "number": "1", "opens_on": "2026-05-01",
            "closes_on": "2026-06-30", "institution_deadline": "2026-06-10",
            "lao_deadline": "2026-06-10", "province_deadline": "2026-06-11"}
    staff.post(f"/admin/round/edit/?id={round_2569.id}", form)
    db.session.expire_all()
    assert db.session.get(Round, round_2569.id).closes_on == date(2026, 6, 30)

    province = browser(tree.a.province_user)
    assert province.get("/admin/round/").status_code == 200
    province.post(f"/admin/round/edit/?id={round_2569.id}", form | {"closes_on": "2026-12-31"})
    db.session.expire_all()
    assert db.session.get(Round, round_2569.id).closes_on == date(2026, 6, 30)


def test_each_level_works_to_its_own_deadline_and_the_department_to_the_provinces(
        tree, round_2569) -> None:
    round_2569.institution_deadline, round_2569.lao_deadline = date(2026, 6, 5), date(2026, 6, 8)
    assert windows.deadline_of(round_2569, tree.a.school_user) == date(2026, 6, 5)
    assert windows.deadline_of(round_2569, tree.a.cdc_user) == date(2026, 6, 5)
    assert windows.deadline_of(round_2569, tree.a.sao_user) == date(2026, 6, 8)
    assert windows.deadline_of(round_2569, tree.a.province_user) == date(2026, 6, 11)
    assert windows.deadline_of(round_2569, tree.department) == date(2026, 6, 11)


ROUND_FORM = {"academic_year": "2569", "number": "1", "opens_on": "01/05/2569",
              "closes_on": "11/06/2569", "institution_deadline": "10/06/2569",
              "lao_deadline": "10/06/2569", "province_deadline": "11/06/2569"}


@pytest.mark.parametrize(("change", "message"), [
    ({"opens_on": "28/11/2569", "closes_on": "01/11/2569"},
     "วันปิดบันทึกข้อมูล (1 พ.ย. 2569) อยู่ก่อนวันเปิดบันทึกข้อมูล (28 พ.ย. 2569)"),
    ({"institution_deadline": "05/07/2569"},
     "วันที่ อปท. ต้องยืนยันข้อมูล (10 มิ.ย. 2569) อยู่ก่อนวันที่สถานศึกษาต้องยืนยันข้อมูล "
     "(5 ก.ค. 2569)"),
    ({"province_deadline": "09/06/2569"},
     "วันที่จังหวัดต้องยืนยันข้อมูล (9 มิ.ย. 2569) อยู่ก่อนวันที่ อปท. ต้องยืนยันข้อมูล "
     "(10 มิ.ย. 2569)"),
    ({"institution_deadline": "20/04/2569"},
     "วันที่สถานศึกษาต้องยืนยันข้อมูล (20 เม.ย. 2569) อยู่ก่อนวันเปิดบันทึกข้อมูล (1 พ.ค. 2569)"),
    ({"closes_on": "11/06/2599"}, "ต้องปิดไม่เกินวันที่ 31 ธ.ค. 2571"),
    ({"opens_on": "01/05/2500"}, "เปิดได้ตั้งแต่วันที่ 1 ม.ค. 2568"),
    ({"number": "0"}, "ครั้งที่ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง 10"),
    ({"number": "-3"}, "ครั้งที่ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง 10"),
])
def test_the_round_form_refuses_dates_out_of_order_or_range(tree, round_2569, browser, change,
                                                            message) -> None:
    page = browser(tree.department).post(f"/admin/round/edit/?id={round_2569.id}",
                                         ROUND_FORM | change)
    assert message in page.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(Round, round_2569.id)
    assert (saved.number, saved.opens_on, saved.closes_on, saved.institution_deadline,
            saved.province_deadline) == (1, date(2026, 5, 1), date(2026, 6, 11),
                                         date(2026, 6, 10), date(2026, 6, 11))


def test_the_round_form_saves_dates_in_order(tree, round_2569, browser) -> None:
    browser(tree.department).post(f"/admin/round/edit/?id={round_2569.id}",
                                  ROUND_FORM | {"number": "2", "closes_on": "02/01/2570"})
    db.session.expire_all()
    saved = db.session.get(Round, round_2569.id)
    assert (saved.number, saved.closes_on) == (2, date(2027, 1, 2))


def test_an_inline_closing_date_before_the_opening_is_refused_with_its_reason(
        tree, round_2569, browser) -> None:
    response = browser(tree.department).post("/admin/round/ajax/update/", {
        "list_form_pk": str(round_2569.id), "closes_on": "01/01/2500"})
    assert response.status_code == 400
    assert ("วันปิดบันทึกข้อมูล (1 ม.ค. 2500) อยู่ก่อนวันเปิดบันทึกข้อมูล (1 พ.ค. 2569)"
            in response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Round, round_2569.id).closes_on == date(2026, 6, 11)


def test_trusted_code_obeys_the_round_dates_too(app, round_2569) -> None:
    with acting_as(None):
        round_2569.province_deadline = date(2026, 6, 1)
        with pytest.raises(RuleViolation):
            db.session.commit()
    db.session.rollback()


RENAME_REFUSED = ("ครั้งที่ 2569/1 มีข้อมูลที่บันทึกไว้แล้ว ได้แก่ การยืนยันข้อมูล (รวมที่ยกเลิกแล้ว) "
                  "จึงเปลี่ยนปีการศึกษาหรือครั้งที่ไม่ได้อีก")


def _confirmed(tree, round_: Round, *, cancelled: bool = False) -> None:  # noqa: ANN001
    with acting_as(None):
        confirmation = rules.confirm_institution(db.session, round_, tree.a.school)
        if cancelled:
            rules.cancel(db.session, confirmation, "ขอแก้ไข")
        db.session.commit()


@pytest.mark.parametrize("cancelled", [False, True])
@pytest.mark.parametrize("change", [{"academic_year": "2570"}, {"number": "2"}])
def test_a_confirmed_round_keeps_its_year_and_number_on_the_form(
        tree, round_2569, browser, change, cancelled) -> None:
    """Renaming would relabel the frozen counts (live or kept as history) as another year's."""
    _confirmed(tree, round_2569, cancelled=cancelled)
    page = browser(tree.department).post(f"/admin/round/edit/?id={round_2569.id}",
                                         ROUND_FORM | change | {"closes_on": "30/06/2569"},
                                         follow_redirects=True)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert RENAME_REFUSED in text and "โปรดเพิ่มครั้งที่ใหม่แทน" in text
    db.session.expire_all()
    saved = db.session.get(Round, round_2569.id)
    assert (saved.academic_year, saved.number, saved.closes_on) == (2569, 1, date(2026, 6, 11))


def test_a_confirmed_round_can_still_be_extended(tree, round_2569, browser) -> None:
    _confirmed(tree, round_2569)
    browser(tree.department).post(f"/admin/round/edit/?id={round_2569.id}",
                                  ROUND_FORM | {"closes_on": "30/06/2569"})
    db.session.expire_all()
    saved = db.session.get(Round, round_2569.id)
    assert (saved.academic_year, saved.number, saved.closes_on) == (2569, 1, date(2026, 6, 30))


def test_scripts_cannot_rename_a_confirmed_round_either(tree, round_2569) -> None:
    _confirmed(tree, round_2569)
    with acting_as(None):
        round_2569.academic_year = 2570
        with pytest.raises(RuleViolation) as renamed:
            db.session.commit()
    db.session.rollback()
    assert RENAME_REFUSED in str(renamed.value)
    with acting_as(None):  # setting the same values again is no change
        round_2569.academic_year, round_2569.number = 2569, 1
        round_2569.closes_on = date(2026, 6, 20)
        db.session.commit()
    db.session.expire_all()
    assert db.session.get(Round, round_2569.id).academic_year == 2569


def _counted(tree, round_: Round) -> None:  # noqa: ANN001
    with acting_as(None):
        db.session.add(count(tree, round_))
        db.session.commit()


def _spot_checked(tree, round_: Round) -> None:  # noqa: ANN001
    with acting_as(None):
        enrol(tree.a.school, year=round_.academic_year)
        spotchecks.draw(db.session, round_, tree.a.muni, None, 1, 5, "33")
        db.session.commit()


@pytest.mark.parametrize(("record", "named"), [
    (_counted, "จำนวนนักเรียนของสถานศึกษาสังกัดอื่น"),
    (_spot_checked, "การสุ่มตรวจสอบ"),
], ids=["counts", "spot_check"])
def test_a_round_with_counts_or_spot_checks_keeps_its_year_and_number(
        tree, round_2569, browser, record, named) -> None:
    """With no confirmation yet, an LAO's head counts or a province's spot check would still
    claim another year once the round is renamed."""
    record(tree, round_2569)
    page = browser(tree.department).post(f"/admin/round/edit/?id={round_2569.id}",
                                         ROUND_FORM | {"academic_year": "2570"},
                                         follow_redirects=True)
    text = page.get_data(as_text=True)
    assert (f"ครั้งที่ 2569/1 มีข้อมูลที่บันทึกไว้แล้ว ได้แก่ {named} "
            "จึงเปลี่ยนปีการศึกษาหรือครั้งที่ไม่ได้อีก") in text
    assert "การยืนยันข้อมูล" not in text.split("มีข้อมูลที่บันทึกไว้แล้ว", 1)[1].split("จึง", 1)[0]
    db.session.expire_all()
    saved = db.session.get(Round, round_2569.id)
    assert (saved.academic_year, saved.number) == (2569, 1)


def test_a_round_with_nothing_recorded_can_be_renamed(tree, round_2569, browser) -> None:
    """A mistyped year or number is corrected while nothing is recorded for the round yet."""
    browser(tree.department).post(f"/admin/round/edit/?id={round_2569.id}",
                                  ROUND_FORM | {"academic_year": "2570", "number": "2"})
    db.session.expire_all()
    saved = db.session.get(Round, round_2569.id)
    assert (saved.academic_year, saved.number) == (2570, 2)


def test_a_second_round_of_the_same_year_and_number_is_refused_by_name(
        tree, round_2569, browser) -> None:
    """Round 2569/1 added again was refused as "a code or name that must be unique"."""
    staff = browser(tree.department)
    page = staff.post("/admin/round/new/", ROUND_FORM).get_data(as_text=True)
    assert "ครั้งที่ 2569/1 มีอยู่แล้ว" in page
    assert "ต้องไม่ซ้ำ" not in page
    assert db.session.query(Round).count() == 1
    second = staff.post("/admin/round/new/", ROUND_FORM | {"number": "2"})
    assert second.status_code == 302
    page = staff.post(f"/admin/round/edit/?id={round_2569.id}",
                      ROUND_FORM | {"number": "2"}).get_data(as_text=True)
    assert "ครั้งที่ 2569/2 มีอยู่แล้ว" in page
    db.session.expire_all()
    assert db.session.get(Round, round_2569.id).number == 1
