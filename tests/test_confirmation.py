"""SPEC §5 step by step: institutions confirm, then LAOs per database, then the province; cancels
come from above with a reason; nothing under a live confirmation changes, by any path."""

import re
from datetime import date, timedelta
from itertools import count

import pytest
from sqlalchemy import func, select

import clock
from models import (
    Building,
    CentreBasicData,
    Confirmation,
    Enrolment,
    Institution,
    Lao,
    Learner,
    OtherSchool,
    OtherSchoolCount,
    Round,
    SnapshotCount,
    db,
)
from rules import RuleViolation, acting_as, windows
from rules import confirmation as rules
from rules.enrolment import roll_over
from rules.identity import check_digit
from rules.progress import live_confirmation

YEAR = clock.academic_year()
_ids = count(1)


def national_id() -> str:
    first12 = f"1{next(_ids):011d}"
    return first12 + str(check_digit(first12))


def open_round(year: int = YEAR, number: int = 1, closes: date | None = None) -> Round:
    """A round open for as long as the rules let a round of its year be open, or that closed at
    the end of `closes`."""
    first, last = windows.round_date_bounds(year)
    last = closes or last
    round_ = Round(academic_year=year, number=number, opens_on=first, closes_on=last,
                   institution_deadline=last, lao_deadline=last, province_deadline=last)
    db.session.add(round_)
    db.session.commit()
    return round_


def enrol(institution: Institution, grade: str = "P1", gender: str = "M",
          year: int = YEAR) -> Enrolment:
    learner = Learner(national_id=national_id(), first_name="ทดสอบ", last_name="ระบบ",
                      gender=gender)
    enrolment = Enrolment(learner=learner, institution=institution, academic_year=year,
                          grade=grade, status="active")
    db.session.add(enrolment)
    db.session.commit()
    return enrolment


def snapshot(confirmation: Confirmation) -> dict[tuple[str, str], int]:
    return {(s.grade, s.gender): s.count for s in db.session.scalars(
        select(SnapshotCount).where(SnapshotCount.confirmation_id == confirmation.id))}


def second_school(tree) -> Institution:  # noqa: ANN001
    school = Institution(code="3033200002", name="โรงเรียนเทศบาล ๒", kind="school",
                         lao=tree.a.muni, phone="045 000 002", email="school2@example.org")
    db.session.add(school)
    db.session.commit()
    return school


def test_the_guideline_step_by_step(tree) -> None:
    """Record → institution confirms → LAO refused → all confirm → LAO confirms → edit refused →
    province cancels LAO → LAO cancels institution → edit → both confirm again."""
    round_ = open_round()
    school2 = second_school(tree)
    boy = enrol(tree.a.school, "P1", "M")
    enrol(tree.a.school, "P1", "F")
    enrol(school2, "K2", "F")

    with acting_as(tree.a.school_user):
        first = rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    assert snapshot(first) == {("P1", "M"): 1, ("P1", "F"): 1}

    with acting_as(tree.a.muni_user), pytest.raises(RuleViolation) as refused:
        rules.confirm_lao(db.session, round_, tree.a.muni, "students")
    db.session.rollback()
    assert "3033200002" in str(refused.value) and "ยืนยันข้อมูล" in str(refused.value)

    with acting_as(None):
        rules.confirm_institution(db.session, round_, school2)
        db.session.commit()
    with acting_as(tree.a.muni_user):
        lao = rules.confirm_lao(db.session, round_, tree.a.muni, "students")
        db.session.commit()
    assert snapshot(lao) == {("P1", "M"): 1, ("P1", "F"): 1, ("K2", "F"): 1}

    boy.grade = "P2"
    with pytest.raises(RuleViolation) as locked:
        db.session.commit()
    db.session.rollback()
    assert "ยกเลิกการยืนยันข้อมูล" in str(locked.value)

    with acting_as(tree.a.muni_user), pytest.raises(RuleViolation) as out_of_order:
        rules.cancel(db.session, first, "แก้ไขระดับชั้น")
    db.session.rollback()
    assert "แจ้งจังหวัด" in str(out_of_order.value)

    with acting_as(tree.a.province_user):
        rules.cancel(db.session, lao, "สถานศึกษาขอแก้ไข")
        db.session.commit()
    with acting_as(tree.a.muni_user):
        rules.cancel(db.session, first, "แก้ไขระดับชั้น")
        db.session.commit()

    boy = db.session.get(Enrolment, boy.id)
    boy.grade = "P2"
    db.session.commit()

    with acting_as(tree.a.school_user):
        again = rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    with acting_as(tree.a.muni_user):
        lao_again = rules.confirm_lao(db.session, round_, tree.a.muni, "students")
        db.session.commit()
    assert snapshot(again) == {("P2", "M"): 1, ("P1", "F"): 1}
    assert snapshot(lao_again)[("P2", "M")] == 1
    db.session.refresh(lao)
    assert lao.cancelled_by == tree.a.province_user.login and not lao.live


def test_no_path_changes_a_confirmed_institution(tree) -> None:
    """Create, change, delete an enrolment, change the learner, its basic data and buildings."""
    round_ = open_round()
    enrolment = enrol(tree.a.cdc, "A3", "F")
    db.session.add_all([CentreBasicData(institution=tree.a.cdc, teachers=2),
                        Building(institution=tree.a.cdc, name="อาคาร ๑")])
    db.session.commit()
    with acting_as(tree.a.cdc_user):
        rules.confirm_institution(db.session, round_, tree.a.cdc)
        db.session.commit()

    attempts = [
        lambda: setattr(db.session.get(Enrolment, enrolment.id), "grade", "A4"),
        lambda: db.session.delete(db.session.get(Enrolment, enrolment.id)),
        lambda: setattr(db.session.get(Learner, enrolment.learner_id), "first_name", "ผี"),
        lambda: db.session.add(Enrolment(
            learner=Learner(national_id=national_id(), first_name="ใหม่", last_name="ใหม่",
                            gender="M"),
            institution_id=tree.a.cdc.id, academic_year=YEAR, grade="A2")),
        # Linked by relationship only, as a form builds it: no institution_id before the flush.
        lambda: db.session.add(Enrolment(
            learner=Learner(national_id=national_id(), first_name="ใหม่", last_name="สอง",
                            gender="F"),
            institution=db.session.get(Institution, tree.a.cdc.id), academic_year=YEAR,
            grade="A2")),
        lambda: setattr(db.session.scalars(select(CentreBasicData)).one(), "teachers", 9),
        lambda: db.session.add(Building(institution_id=tree.a.cdc.id, name="อาคาร ๒")),
        lambda: db.session.delete(db.session.scalars(select(Building)).one()),
    ]
    for attempt in attempts:
        for actor in (None, tree.department):  # even trusted code and the department
            with acting_as(actor):
                attempt()
                with pytest.raises(RuleViolation):
                    db.session.commit()
                db.session.rollback()
    assert db.session.get(Enrolment, enrolment.id).grade == "A3"
    assert db.session.scalar(select(func.count(Building.id))) == 1
    # Another year of the same institution is not under this confirmation.
    enrol(tree.a.cdc, "A2", "M", year=YEAR + 1)


def test_a_past_years_confirmation_does_not_freeze_the_learner_for_good(tree) -> None:
    """Last year's school confirmed its closed round; this year's school may fix the name."""
    closed = date(clock.ce_year(YEAR - 1), 6, 11)
    past = Round(academic_year=YEAR - 1, number=1, opens_on=date(clock.ce_year(YEAR - 1), 5, 1),
                 closes_on=closed, institution_deadline=closed, lao_deadline=closed,
                 province_deadline=closed)
    db.session.add(past)
    db.session.commit()
    last_year = enrol(tree.a.school, "P1", year=YEAR - 1)
    with acting_as(None):
        rules.confirm_institution(db.session, past, tree.a.school)
        db.session.commit()
    db.session.get(Learner, last_year.learner_id).first_name = "แก้ชื่อ"
    db.session.commit()
    db.session.get(Enrolment, last_year.id).grade = "P2"  # but last year's record stays
    with pytest.raises(RuleViolation):
        db.session.commit()


def test_the_rollover_closes_a_year_whose_confirmed_rounds_have_closed(tree) -> None:
    """Graduate and withdraw record how last year ended; its confirmed counts stay as they were."""
    past = open_round(YEAR - 1, closes=date(clock.ce_year(YEAR - 1), 6, 11))
    leaving, going, staying = (enrol(tree.a.school, grade, year=YEAR - 1)
                               for grade in ("P6", "P3", "P1"))
    with acting_as(None):
        confirmation = rules.confirm_institution(db.session, past, tree.a.school)
        db.session.commit()
    counted = snapshot(confirmation)
    with acting_as(tree.a.school_user):
        roll_over(db.session, leaving, "graduate")
        roll_over(db.session, going, "withdraw")
        db.session.commit()
        assert (leaving.status, going.status) == ("graduated", "withdrawn")
        assert snapshot(confirmation) == counted
        # Anything else of that year stays as confirmed.
        for field, value in (("grade", "P2"), ("status", "transferred")):
            setattr(staying, field, value)
            with pytest.raises(RuleViolation):
                db.session.commit()
            db.session.rollback()


def test_a_running_rounds_confirmation_still_refuses_the_rollover(tree) -> None:
    round_ = open_round()
    leaving = enrol(tree.a.school, "P6")
    with acting_as(None):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    with acting_as(tree.a.school_user), pytest.raises(RuleViolation) as refused:
        roll_over(db.session, leaving, "graduate")
        db.session.commit()
    db.session.rollback()
    assert "ยกเลิกการยืนยันข้อมูล" in str(refused.value)
    assert db.session.get(Enrolment, leaving.id).status == "active"


def test_a_later_round_of_the_year_records_anew(tree) -> None:
    """Round 1 closed with its snapshot; while round 2 is open the school records changes for it,
    and its own confirmation of round 2 freezes them again."""
    first = open_round(closes=clock.today() - timedelta(days=1))
    second = open_round(number=2)
    enrolment = enrol(tree.a.school, "P1")
    with acting_as(None):
        confirmation = rules.confirm_institution(db.session, first, tree.a.school)
        db.session.commit()
    counted = snapshot(confirmation)
    with acting_as(tree.a.school_user):
        enrolment.grade = "P2"
        db.session.commit()
        assert snapshot(confirmation) == counted
        rules.confirm_institution(db.session, second, tree.a.school)
        db.session.commit()
        enrolment.grade = "P3"
        with pytest.raises(RuleViolation):
            db.session.commit()
        db.session.rollback()
    assert db.session.get(Enrolment, enrolment.id).grade == "P2"


def test_lao_with_no_institution_of_a_kind_has_nothing_to_confirm(tree) -> None:
    round_ = open_round()
    with acting_as(tree.a.sao_user), pytest.raises(RuleViolation) as nothing:
        rules.confirm_lao(db.session, round_, tree.a.sao, "students")
    assert "ไม่มีข้อมูลที่ต้องยืนยัน" in str(nothing.value)


def test_inactive_institutions_do_not_hold_the_lao_back(tree) -> None:
    round_ = open_round()
    school2 = second_school(tree)
    school2.active = False
    db.session.commit()
    with acting_as(tree.a.school_user):
        rules.confirm_institution(db.session, round_, tree.a.school)
    with acting_as(tree.a.muni_user):
        rules.confirm_lao(db.session, round_, tree.a.muni, "students")
        db.session.commit()


def test_other_counts_need_every_open_school_and_then_freeze(tree) -> None:
    round_ = open_round()
    closed = OtherSchool(code="1033000002", name="โรงเรียนปิด", affiliation="obec",
                         lao=tree.a.sao, closed=True)
    db.session.add(closed)
    db.session.commit()
    with acting_as(tree.a.sao_user), pytest.raises(RuleViolation) as early:
        rules.confirm_lao(db.session, round_, tree.a.sao, "other")
    db.session.rollback()
    assert tree.a.other.code in str(early.value) and closed.code not in str(early.value)

    db.session.add_all([OtherSchoolCount(round_id=round_.id, other_school_id=tree.a.other.id,
                                         grade="P1", boys=3, girls=4),
                        OtherSchoolCount(round_id=round_.id, other_school_id=tree.a.other.id,
                                         grade="P2", boys=1, girls=0)])
    db.session.commit()
    with acting_as(tree.a.sao_user):
        confirmation = rules.confirm_lao(db.session, round_, tree.a.sao, "other")
        db.session.commit()
    assert snapshot(confirmation) == {("P1", "M"): 3, ("P1", "F"): 4, ("P2", "M"): 1,
                                      ("P2", "F"): 0}
    row = db.session.scalars(select(OtherSchoolCount).where(OtherSchoolCount.grade == "P1")).one()
    row.boys = 30
    with pytest.raises(RuleViolation) as frozen:
        db.session.commit()
    db.session.rollback()
    assert "ยืนยันภาพรวมของข้อมูล" in str(frozen.value)
    # Nor can a new funded school slip in under the confirmation.
    db.session.add(OtherSchool(code="1033000003", name="ใหม่", affiliation="obec",
                               lao_id=tree.a.sao.id))
    with pytest.raises(RuleViolation):
        db.session.commit()
    db.session.rollback()


def test_province_waits_for_every_lao_and_every_database(tree) -> None:
    round_ = open_round()
    with acting_as(None):
        rules.confirm_institution(db.session, round_, tree.a.school)
        rules.confirm_lao(db.session, round_, tree.a.muni, "students")
        db.session.commit()
    with acting_as(tree.a.province_user), pytest.raises(RuleViolation) as early:
        rules.confirm_province(db.session, round_, "33")
    db.session.rollback()
    assert tree.a.sao.code in str(early.value) and tree.a.muni.code not in str(early.value)

    db.session.add(OtherSchoolCount(round_id=round_.id, other_school_id=tree.a.other.id,
                                    grade="K1", boys=0, girls=0))
    enrol(tree.a.cdc, "A4", "M")
    with acting_as(None):
        rules.confirm_institution(db.session, round_, tree.a.cdc)
        rules.confirm_lao(db.session, round_, tree.a.sao, "children")
        rules.confirm_lao(db.session, round_, tree.a.sao, "other")
        db.session.commit()
    with acting_as(tree.a.province_user):
        province = rules.confirm_province(db.session, round_, "33")
        db.session.commit()
    assert snapshot(province) == {("A4", "M"): 1, ("K1", "M"): 0, ("K1", "F"): 0}

    lao = live_confirmation(db.session, round_.id, "lao", "children", lao_id=tree.a.sao.id)
    with acting_as(tree.a.province_user), pytest.raises(RuleViolation) as blocked:
        rules.cancel(db.session, lao, "ขอแก้ไข")
    db.session.rollback()
    assert "สถ. ต้องยกเลิก" in str(blocked.value)
    with acting_as(tree.department):
        rules.cancel(db.session, province, "ขอแก้ไข")
        rules.cancel(db.session, lao, "ขอแก้ไข")
        db.session.commit()


def test_cancelling_needs_a_higher_level_and_a_reason(tree) -> None:
    round_ = open_round()
    with acting_as(tree.a.school_user):
        confirmation = rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    with acting_as(tree.a.school_user), pytest.raises(RuleViolation) as own:
        rules.cancel(db.session, confirmation, "ขอแก้ไข")
    assert "โปรดแจ้ง อปท." in str(own.value)
    with acting_as(tree.a.muni_user), pytest.raises(RuleViolation) as no_reason:
        rules.cancel(db.session, confirmation, "  ")
    assert "เหตุผล" in str(no_reason.value)
    with acting_as(tree.b.muni_user), pytest.raises(RuleViolation):  # another province's LAO
        rules.cancel(db.session, confirmation, "ขอแก้ไข")
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Confirmation, confirmation.id).live


def test_only_one_live_confirmation_per_unit(tree) -> None:
    round_ = open_round()
    with acting_as(tree.a.school_user):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
        with pytest.raises(RuleViolation) as twice:
            rules.confirm_institution(db.session, round_, tree.a.school)
    assert "ยืนยันข้อมูลของครั้งนี้แล้ว" in str(twice.value)


def test_confirmations_are_written_only_by_the_rules(tree) -> None:
    """A confirmation made, cancelled or deleted by hand (import, CLI, shell) is refused."""
    round_ = open_round()
    db.session.add(Confirmation(round_id=round_.id, level="lao", database="students",
                                province_code="33", lao_id=tree.a.muni.id,
                                confirmed_at=date(2026, 1, 1), confirmed_by="x"))
    with pytest.raises(RuleViolation):
        db.session.commit()
    db.session.rollback()
    with acting_as(None):
        confirmation = rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    confirmation.cancel_reason = "x"
    with pytest.raises(RuleViolation):
        db.session.commit()
    db.session.rollback()
    db.session.delete(confirmation)
    with pytest.raises(RuleViolation):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Confirmation, confirmation.id).live


def test_confirm_and_cancel_are_audited(tree) -> None:
    audit = pytest.importorskip("models.audit")
    round_ = open_round()
    with acting_as(tree.a.school_user):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    model = next(m for m in vars(audit).values() if isinstance(m, type)
                 and hasattr(m, "__tablename__") and hasattr(m, "action"))
    actions = set(db.session.scalars(select(model.action)))
    assert "confirm" in actions


# --- through the web pages --------------------------------------------------------------------

def flashed(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def test_pages_confirm_and_cancel_step_by_step(tree, browser) -> None:
    round_ = open_round()
    school2 = second_school(tree)
    enrol(tree.a.school, "P1", "M")
    school, lao, province = (browser(tree.a.school_user), browser(tree.a.muni_user),
                             browser(tree.a.province_user))
    url = f"/admin/confirmation/confirm/{round_.id}"

    page = school.post(url, follow_redirects=True)
    assert page.status_code == 200
    assert live_confirmation(db.session, round_.id, "institution", "students",
                                   institution_id=tree.a.school.id) is not None

    page = lao.get(f"/admin/confirmation/?round={round_.id}")
    assert "3033200002" in flashed(page) and "045 000 002" in flashed(page)
    refused = lao.post(url, {"database": "students"}, follow_redirects=True)
    assert "3033200002" in flashed(refused)
    assert live_confirmation(db.session, round_.id, "lao", "students",
                                   lao_id=tree.a.muni.id) is None

    with acting_as(None):
        rules.confirm_institution(db.session, round_, school2)
        db.session.commit()
    lao.post(url, {"database": "students"}, follow_redirects=True)
    confirmed = live_confirmation(db.session, round_.id, "lao", "students",
                                        lao_id=tree.a.muni.id)
    assert confirmed is not None and confirmed.confirmed_by == tree.a.muni.code

    first = live_confirmation(db.session, round_.id, "institution", "students",
                                    institution_id=tree.a.school.id)
    page = school.post(f"/admin/confirmation/cancel/{first.id}", {"reason": "ขอแก้ไข"},
                       follow_redirects=True)
    assert db.session.get(Confirmation, first.id).live  # an institution cannot cancel itself
    page = lao.post(f"/admin/confirmation/cancel/{first.id}", {"reason": "ขอแก้ไข"},
                    follow_redirects=True)
    assert db.session.get(Confirmation, first.id).live  # the LAO is confirmed above it
    province.post(f"/admin/confirmation/cancel/{confirmed.id}", {"reason": ""},
                  follow_redirects=True)
    assert db.session.get(Confirmation, confirmed.id).live  # a reason is required
    province.post(f"/admin/confirmation/cancel/{confirmed.id}", {"reason": "ขอแก้ไข"})
    lao.post(f"/admin/confirmation/cancel/{first.id}", {"reason": "ขอแก้ไข"})
    db.session.expire_all()
    assert not db.session.get(Confirmation, confirmed.id).live
    assert db.session.get(Confirmation, first.id).cancel_reason == "ขอแก้ไข"


def test_a_unit_refused_a_cancel_is_sent_back_to_its_own_page(tree, browser) -> None:
    round_ = open_round()
    enrol(tree.a.school)
    with acting_as(tree.a.school_user):
        school_confirmation = rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    with acting_as(tree.a.muni_user):
        lao_confirmation = rules.confirm_lao(db.session, round_, tree.a.muni, "students")
        db.session.commit()
    for user, confirmation, told in (
            (tree.a.school_user, school_confirmation, "ต้องทำโดย อปท. (หรือระดับที่สูงกว่า)"),
            (tree.a.muni_user, lao_confirmation, "ต้องทำโดยสำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด")):
        client = browser(user)
        refused = client.post(f"/admin/confirmation/cancel/{confirmation.id}",
                              {"reason": "ขอแก้ไข"})
        assert refused.headers["Location"] == f"/admin/confirmation/?round={round_.id}"
        page = client.get(refused.headers["Location"])
        assert page.status_code == 200, user.login
        assert told in page.get_data(as_text=True)  # the refusal, flashed on the page
    db.session.expire_all()
    assert db.session.get(Confirmation, lao_confirmation.id).live
    # The level above still goes back to the page it cancelled from.
    done = browser(tree.a.province_user).post(
        f"/admin/confirmation/cancel/{lao_confirmation.id}", {"reason": "ขอแก้ไข"})
    assert done.headers["Location"] == f"/admin/confirmation/?round={round_.id}&province=33"


def test_other_provinces_cannot_touch_a_confirmation(tree, browser) -> None:
    round_ = open_round()
    with acting_as(None):
        confirmation = rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    outsider = browser(tree.b.province_user)
    response = outsider.post(f"/admin/confirmation/cancel/{confirmation.id}",
                             {"reason": "x"})
    assert response.status_code == 404
    assert outsider.get(f"/admin/confirmation/?province=33&round={round_.id}").status_code == 404
    assert outsider.get(f"/admin/confirmation/?lao={tree.a.muni.id}").status_code == 404


def test_every_level_sees_its_progress_page(tree, browser) -> None:
    open_round()
    for user in (tree.department, tree.a.province_user, tree.a.muni_user, tree.a.cdc_user):
        page = browser(user).get("/admin/confirmation/")
        assert page.status_code == 200, user.login
        assert "24:00" in flashed(page) or "๒๔.๐๐" in flashed(page)


def test_spot_checks_are_reproducible_and_record_outcomes(tree, browser) -> None:
    from models import SpotCheck, SpotCheckItem

    open_round()
    for n in range(12):
        enrol(tree.a.school, "P1", "M" if n % 2 else "F")
    province = browser(tree.a.province_user)
    for _ in range(2):
        page = province.post("/admin/spot_checks/", {"unit_code": tree.a.muni.code,
                                                      "size": 5, "seed": 7})
        assert page.status_code == 302
    first, second = db.session.scalars(select(SpotCheck).order_by(SpotCheck.id)).all()
    assert [i.learner_id for i in first.items] == [i.learner_id for i in second.items]
    assert len(first.items) == 5
    province.post("/admin/spot_checks/", {"unit_code": tree.a.muni.code, "size": 5, "seed": 8})
    third = db.session.scalars(select(SpotCheck).order_by(SpotCheck.id.desc())).first()
    assert [i.learner_id for i in third.items] != [i.learner_id for i in first.items]

    item = first.items[0]
    province.post(f"/admin/spot_checks/{first.id}", {"item_id": item.id,
                                                      "outcome": "data_wrong", "note": "ชื่อผิด"})
    db.session.expire_all()
    item = db.session.get(SpotCheckItem, item.id)
    assert item.outcome == "data_wrong" and item.checked_by == "33"
    assert browser(tree.b.province_user).get(f"/admin/spot_checks/{first.id}").status_code == 404
    assert browser(tree.a.muni_user).get("/admin/spot_checks/").status_code == 403


def draw_spot_check(tree, browser, size: int = 3):  # noqa: ANN001, ANN201
    """The province of A samples its school: (its signed-in client, the check)."""
    from models import SpotCheck

    open_round()
    for _ in range(size):
        enrol(tree.a.school)
    province = browser(tree.a.province_user)
    page = province.post("/admin/spot_checks/", {"unit_code": tree.a.school.code, "size": size,
                                                 "seed": 4242})
    assert page.status_code == 302
    return province, db.session.scalars(select(SpotCheck)).one()


def outcome_row(page: str, item_id: int) -> str:
    """The outcome form of one sampled learner on the spot check's page."""
    start = page.index(f'name="item_id" value="{item_id}"')
    return page[start:page.index("</form>", start)]


def test_a_spot_check_page_shows_each_recorded_outcome_and_note(tree, browser) -> None:
    """Saving one row again must not turn another's outcome back into the first choice."""
    province, check = draw_spot_check(tree, browser)
    first, second, _third = check.items
    province.post(f"/admin/spot_checks/{check.id}", {"item_id": second.id,
                                                      "outcome": "not_found", "note": "ย้ายแล้ว"})
    page = province.get(f"/admin/spot_checks/{check.id}").get_data(as_text=True)
    row = outcome_row(page, second.id)
    assert re.search(r'<option selected value="not_found">', row), row
    # Who drew the sample and who recorded the outcome, by name as well as by login.
    user = tree.a.province_user
    user.name = "สมหญิง รักดี"
    db.session.commit()
    page = province.get(f"/admin/spot_checks/{check.id}").get_data(as_text=True)
    assert f"ผู้สุ่ม {user.name} ({user.login})" in page
    assert f"บันทึกโดย {user.name} ({user.login}) เมื่อ" in page
    assert 'value="ย้ายแล้ว"' in row
    assert "selected" not in outcome_row(page, first.id)


def test_a_spot_checked_learner_not_seen_yet_shows_no_outcome_and_a_blank_one_is_refused(
        tree, browser) -> None:
    """The outcome list of an unchecked learner started on "พบตัว", as if found already."""
    province, check = draw_spot_check(tree, browser)
    page = province.get(f"/admin/spot_checks/{check.id}").get_data(as_text=True)
    row = outcome_row(page, check.items[0].id)
    assert '<option value="">เลือกผลการตรวจสอบ</option><option value="found">' in row
    assert "selected" not in row
    refused = province.post(f"/admin/spot_checks/{check.id}", {
        "item_id": check.items[0].id, "outcome": "", "note": "ครูประจำชั้นยืนยัน"}
    ).get_data(as_text=True)
    assert "กรุณาเลือกผลการตรวจสอบ" in refused
    # The refused row keeps the note typed in it, and only that row does.
    assert 'value="ครูประจำชั้นยืนยัน"' in outcome_row(refused, check.items[0].id)
    assert "ครูประจำชั้นยืนยัน" not in outcome_row(refused, check.items[1].id)
    db.session.expire_all()
    assert check.items[0].outcome is None


def test_a_spot_check_page_names_the_unit_and_the_seed(tree, browser) -> None:
    """Drawing the sample again needs the unit, the round, the size and the seed."""
    province, check = draw_spot_check(tree, browser)
    page = province.get(f"/admin/spot_checks/{check.id}").get_data(as_text=True)
    assert f"{tree.a.school.code} {tree.a.school.name}" in page
    assert re.search(r"ค่าตั้งต้นการสุ่ม \(Seed\)</dt><dd[^>]*>4242</dd>", page)
    assert "ค่าเริ่มต้นการสุ่ม" not in page  # one word for the seed on the page
    assert f"ปีการศึกษา {YEAR} ครั้งที่ 1" in page


def test_the_spot_check_list_shows_how_many_learners_are_checked(tree, browser) -> None:
    province, check = draw_spot_check(tree, browser)
    assert "ตรวจสอบแล้ว 0 จาก 3 คน" in province.get("/admin/spot_checks/").get_data(as_text=True)
    province.post(f"/admin/spot_checks/{check.id}", {"item_id": check.items[0].id,
                                                      "outcome": "found", "note": ""})
    assert "ตรวจสอบแล้ว 1 จาก 3 คน" in province.get("/admin/spot_checks/").get_data(as_text=True)


def test_an_unknown_unit_code_is_worded_for_the_samplers_level(tree, browser) -> None:
    """The department has no province: it is told only that the code names no unit."""
    open_round()
    staff = browser(tree.department)
    page = staff.post("/admin/spot_checks/", {"unit_code": "9999999999", "size": 3, "seed": 1})
    text = page.get_data(as_text=True)
    assert "ไม่พบ อปท. หรือสถานศึกษาที่มีรหัสนี้" in text and "จังหวัดของท่าน" not in text
    province = browser(tree.a.province_user)
    page = province.post("/admin/spot_checks/", {"unit_code": tree.b.school.code, "size": 3,
                                                 "seed": 1})
    assert "ไม่พบ อปท. หรือสถานศึกษาที่มีรหัสนี้ในจังหวัดของท่าน" in page.get_data(as_text=True)


def test_inline_edit_and_bulk_action_obey_the_lao_lock(tree, browser) -> None:
    """Even the department cannot slip an institution out of (or into) a confirmed LAO."""
    round_ = open_round()
    with acting_as(None):
        rules.confirm_institution(db.session, round_, tree.a.school)
        rules.confirm_lao(db.session, round_, tree.a.muni, "students")
        db.session.commit()
    staff = browser(tree.department)
    inline = staff.post("/admin/institution/ajax/update/",
                        {"list_form_pk": tree.a.school.id, "active": ""})
    assert inline.status_code == 400 and "ยืนยันภาพรวมของข้อมูล" in inline.get_data(as_text=True)
    staff.post("/admin/institution/action/", {"action": "deactivate",
                                             "rowid": [tree.a.school.id]})
    db.session.expire_all()
    assert db.session.get(Institution, tree.a.school.id).active


def test_an_empty_preview_says_what_holds_each_level_back(tree, browser) -> None:
    """Only institutions record learners: an LAO or province with nothing to freeze yet is not
    told to record learners; a province is pointed at its LAOs not yet confirmed instead."""
    round_ = open_round()
    url = f"/admin/confirmation/confirm/{round_.id}"
    record_first = "กรุณาบันทึกข้อมูลผู้เรียนก่อน"
    assert record_first in browser(tree.a.school_user).get(url).get_data(as_text=True)

    lao = browser(tree.a.muni_user).get(f"{url}?database=students").get_data(as_text=True)
    assert record_first not in lao
    assert "ยอดนี้มาจากการยืนยันข้อมูลของสถานศึกษาในสังกัด" in lao
    other = browser(tree.a.sao_user).get(f"{url}?database=other").get_data(as_text=True)
    assert "ยังไม่มีการบันทึกจำนวนนักเรียนของสถานศึกษาสังกัดอื่น" in other

    province = browser(tree.a.province_user).get(url).get_data(as_text=True)
    assert record_first not in province and "ยังไม่มีผู้เรียนให้ยืนยัน" not in province
    assert "ยังมี อปท. อีก 2 แห่ง" in province  # the note on the LAOs not yet confirmed
    assert 'id="lec-confirm-yes" disabled' in province


def many_waiting_laos(tree, how_many: int) -> list[str]:  # noqa: ANN001
    """`how_many` more municipalities in province 33, each with a school, none confirmed; the
    codes of every LAO the province then waits for, in code order."""
    for n in range(3, 3 + how_many):
        lao = Lao(code=f"053301{n:02d}", name=f"เทศบาลตำบลรอ {n}", lao_type=5,
                  province_code="33", district_code="3301")
        db.session.add_all([lao, Institution(code=f"30332{n:05d}", name=f"โรงเรียนรอ {n}",
                                             kind="school", lao=lao)])
    db.session.commit()
    return sorted([tree.a.muni.code, tree.a.sao.code]
                  + [f"053301{n:02d}" for n in range(3, 3 + how_many)])


def test_a_province_too_early_is_told_how_many_and_the_first_few_with_a_link(tree,
                                                                              browser) -> None:
    round_ = open_round()
    waiting = many_waiting_laos(tree, 8)  # 10 LAOs in all
    province = browser(tree.a.province_user)
    url = f"/admin/confirmation/confirm/{round_.id}"
    listed = f"/admin/confirmation/?round={round_.id}&amp;province=33#lec-not-confirmed"

    refused = province.post(url, follow_redirects=True).get_data(as_text=True)
    flash = refused.split('alert-danger', 1)[1].split("</div>", 1)[0]
    assert "ยังมี อปท. ที่ยังไม่ยืนยันอีก 10 แห่ง เช่น" in flash
    assert all(code in flash for code in waiting[:5])
    assert not any(code in flash for code in waiting[5:])
    assert f'<a href="{listed}">ดูรายชื่อ อปท. ที่ยังไม่ยืนยันทั้งหมด (10 แห่ง)</a>' in flash
    target = province.get(listed.replace("&amp;", "&")).get_data(as_text=True)
    assert all(code in target.split('id="lec-not-confirmed"', 1)[1] for code in waiting)

    note = province.get(url).get_data(as_text=True).split("lec-preview-waiting", 1)[1]
    note = note.split("</div>", 1)[0]
    assert all(code in note for code in waiting[:5])
    assert not any(code in note for code in waiting[5:])
    assert "และอีก 5 แห่ง" in note and f'href="{listed}"' in note
    assert live_confirmation(db.session, round_.id, "province", "all",
                             province_code="33") is None


@pytest.mark.parametrize(("database", "told", "see_all"), [
    ("students", "ยังมีสถานศึกษาที่ยังไม่ยืนยันข้อมูลอีก 8 แห่ง เช่น",
     "ดูรายชื่อสถานศึกษาที่ยังไม่ยืนยันข้อมูลทั้งหมด (8 แห่ง)"),
    ("other", "ยังมีสถานศึกษาที่ยังไม่ได้บันทึกอีก 8 แห่ง เช่น",
     "ดูรายชื่อสถานศึกษาที่ยังไม่ได้บันทึกจำนวนนักเรียนทั้งหมด (8 แห่ง)"),
], ids=["students", "other"])
def test_an_lao_too_early_is_told_how_many_and_the_first_few_with_a_link(
        tree, browser, database, told, see_all) -> None:
    """An LAO may wait for some 200 institutions: the refusal counts them, names five and
    links to the full list, as a province's does."""
    round_ = open_round()
    if database == "students":
        lao, user, prefix = tree.a.muni, tree.a.muni_user, "30332"
        db.session.add_all([Institution(code=f"{prefix}{n:05d}", name=f"โรงเรียนรอ {n}",
                                        kind="school", lao=lao) for n in range(2, 9)])
    else:
        lao, user, prefix = tree.a.sao, tree.a.sao_user, "10330"
        db.session.add_all([OtherSchool(code=f"{prefix}{n:05d}", name=f"โรงเรียนรอ {n}",
                                        affiliation="obec", lao=lao) for n in range(2, 9)])
    db.session.commit()
    waiting = [f"{prefix}{n:05d}" for n in range(1, 9)]
    client = browser(user)
    listed = f"/admin/confirmation/?round={round_.id}&amp;lao={lao.id}#lec-not-confirmed"

    refused = client.post(f"/admin/confirmation/confirm/{round_.id}", {"database": database},
                          follow_redirects=True).get_data(as_text=True)
    flash = refused.split('alert-danger', 1)[1].split("</div>", 1)[0]
    assert told in flash
    assert all(code in flash for code in waiting[:5])
    assert not any(code in flash for code in waiting[5:])
    assert f'<a href="{listed}">{see_all}</a>' in flash
    target = client.get(listed.replace("&amp;", "&")).get_data(as_text=True)
    assert all(code in target.split('id="lec-not-confirmed"', 1)[1] for code in waiting)
    assert live_confirmation(db.session, round_.id, "lao", database, lao_id=lao.id) is None


def test_the_confirmation_pages_name_the_province(tree, browser) -> None:
    """Not "จังหวัด 33": the progress page and the second look name the province."""
    round_ = open_round()
    named = "จังหวัดศรีสะเกษ (33)"
    province = browser(tree.a.province_user)
    assert f'<h3 class="h5">{named} <a' in province.get("/admin/confirmation/").get_data(
        as_text=True)
    assert f"<strong>{named}</strong>" in province.get(
        f"/admin/confirmation/confirm/{round_.id}").get_data(as_text=True)
    drilled = browser(tree.department).get(f"/admin/confirmation/?round={round_.id}&province=33")
    assert f'<h3 class="h5">{named} <a' in drilled.get_data(as_text=True)
