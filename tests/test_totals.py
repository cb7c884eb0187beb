"""The sums the national report reads (rules/totals.py) follow every confirm and cancel, equal a
rebuild from the snapshots, and lose nothing when a province's institutions confirm at once."""

import threading

import pytest
from sqlalchemy import func, select
from test_confirmation import enrol, open_round

from models import (
    Confirmation,
    Institution,
    OtherSchoolCount,
    ProvinceTotal,
    Round,
    SnapshotCount,
    db,
)
from rules import acting_as, totals
from rules import confirmation as rules


def kept(round_id: int) -> dict[tuple, int]:
    db.session.expire_all()
    return {(t.province_code, t.database, t.grade, t.gender): t.count for t in db.session.scalars(
        select(ProvinceTotal).where(ProvinceTotal.round_id == round_id)) if t.count}


def from_snapshots(round_id: int) -> dict[tuple, int]:
    """The same sums read the long way: every live lowest snapshot."""
    rows = db.session.execute(
        select(Confirmation.province_code, Confirmation.database, SnapshotCount.grade,
               SnapshotCount.gender, func.sum(SnapshotCount.count))
        .join(Confirmation, Confirmation.id == SnapshotCount.confirmation_id)
        .where(totals.lowest(round_id))
        .group_by(Confirmation.province_code, Confirmation.database, SnapshotCount.grade,
                  SnapshotCount.gender))
    return {tuple(key): number for *key, number in rows if number}


def test_totals_follow_confirms_and_cancels_and_equal_a_rebuild(tree):
    round_ = open_round()
    for grade, gender in (("P1", "M"), ("P1", "F"), ("M1", "M")):
        enrol(tree.a.school, grade, gender)
    enrol(tree.b.school, "K2", "F")
    enrol(tree.a.cdc, "A3", "M")
    db.session.add(OtherSchoolCount(round_id=round_.id, other_school_id=tree.a.other.id,
                                    grade="P2", boys=3, girls=4))
    db.session.commit()
    with acting_as(None):
        school = rules.confirm_institution(db.session, round_, tree.a.school)
        rules.confirm_institution(db.session, round_, tree.b.school)
        rules.confirm_institution(db.session, round_, tree.a.cdc)
        rules.confirm_lao(db.session, round_, tree.a.sao, "other")
        db.session.commit()
    a, b = tree.a.school_user.province_code, tree.b.school_user.province_code
    assert kept(round_.id) == from_snapshots(round_.id) == {
        (a, "students", "P1", "M"): 1, (a, "students", "P1", "F"): 1,
        (a, "students", "M1", "M"): 1, (b, "students", "K2", "F"): 1,
        (a, "children", "A3", "M"): 1, (a, "other", "P2", "M"): 3, (a, "other", "P2", "F"): 4}
    db.session.refresh(school)
    assert (school.subsidised, school.learners) == (2, 3)  # M1 is not K1-P6

    with acting_as(tree.a.muni_user):
        rules.cancel(db.session, school, "แก้ไขข้อมูล")
        db.session.commit()
    assert (a, "students", "P1", "M") not in kept(round_.id)
    assert kept(round_.id) == from_snapshots(round_.id)
    enrol(tree.a.school, "P3", "F")
    with acting_as(None):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    assert kept(round_.id) == from_snapshots(round_.id)
    assert kept(round_.id)[(a, "students", "P3", "F")] == 1
    before = kept(round_.id)
    totals.rebuild(db.session, round_.id)
    db.session.commit()
    assert kept(round_.id) == before


def test_the_department_report_shows_the_kept_totals(tree, browser):
    round_ = open_round()
    for _n in range(3):
        enrol(tree.a.school, "P1", "F")
    with acting_as(None):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    client = browser(tree.department)
    page = client.get(f"/admin/reports/?round={round_.id}").get_data(as_text=True)
    assert ">3<" in page and ">30<" not in page
    # Bookkeeping gone wrong would show at once: the report reads the kept rows.
    db.session.execute(ProvinceTotal.__table__.update().values(count=ProvinceTotal.count * 10))
    db.session.commit()
    page = client.get(f"/admin/reports/?round={round_.id}").get_data(as_text=True)
    assert ">30<" in page


@pytest.mark.postgresql_only
def test_institutions_of_one_province_confirming_at_once_lose_no_count(app, tree):
    round_id = open_round().id
    schools = []
    for n in range(8):
        school = Institution(code=f"30332001{n:02d}", name=f"โรงเรียน {n}", kind="school",
                             lao=tree.a.muni)
        db.session.add(school)
        db.session.commit()
        for grade in ("P1", "P2", "P1"):
            enrol(school, grade, "M" if n % 2 else "F")
        schools.append(school.id)
    start = threading.Barrier(len(schools))
    errors: list[BaseException] = []

    def confirm(school_id: int) -> None:
        with app.app_context(), acting_as(None):
            try:
                start.wait()
                rules.confirm_institution(db.session, db.session.get(Round, round_id),
                                          db.session.get(Institution, school_id))
                db.session.commit()
            except BaseException as exc:  # a deadlock or a lost update fails the test
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm, args=(i,)) for i in schools]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    province = tree.a.school_user.province_code
    assert kept(round_id) == from_snapshots(round_id) == {
        (province, "students", "P1", "F"): 8, (province, "students", "P1", "M"): 8,
        (province, "students", "P2", "F"): 4, (province, "students", "P2", "M"): 4}


def test_the_totals_command_rebuilds_them_from_the_snapshots(tree, runner):
    round_ = open_round()
    enrol(tree.a.school, "P4", "M")
    with acting_as(None):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    right = kept(round_.id)
    db.session.execute(ProvinceTotal.__table__.delete())
    db.session.commit()
    assert kept(round_.id) == {}
    result = runner.invoke(args=["lec", "totals"])
    assert result.exit_code == 0, result.output
    assert kept(round_.id) == right
