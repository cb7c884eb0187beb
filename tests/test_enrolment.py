"""SPEC §3 enrolment rules through the ORM: grades, one active enrolment, removal, rollover."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

import clock
from models import Enrolment, Learner, OtherSchoolCount, Round, db
from rules import RuleViolation, acting_as
from rules.enrolment import age_warning, current_academic_year, grade_problems, roll_over
from rules.identity import check_digit

YEAR = clock.academic_year()


def open_round(year: int) -> Round:
    """A round whose window is open today, so the window rules let the writes through."""
    today = clock.today()
    return Round(academic_year=year, number=1, opens_on=today - timedelta(days=10),
                 closes_on=today + timedelta(days=30), institution_deadline=today,
                 lao_deadline=today, province_deadline=today)


def nid(n: int) -> str:
    first12 = f"1{n:011d}"
    return first12 + str(check_digit(first12))


def learner(n: int = 1, **fields: object) -> Learner:
    row = Learner(national_id=nid(n), first_name="สมหญิง", last_name="ใจดี", gender="F",
                  **fields)
    db.session.add(row)
    return row


def test_grades_fit_the_kind() -> None:
    assert grade_problems("P1", "school") == []
    assert grade_problems("A3", "cdc") == []
    assert grade_problems("P1", "cdc")
    assert grade_problems("A3", "school")


def test_age_warning_is_a_warning_not_a_block() -> None:
    assert age_warning(date(clock.ce_year(YEAR) - 6, 1, 1), "P1", YEAR) is None  # six on 16 May
    assert age_warning(date(2010, 1, 1), "P1", YEAR)
    assert age_warning(None, "P1", YEAR) is None


def test_one_active_enrolment_nationwide(tree) -> None:  # noqa: ANN001
    child = learner()
    db.session.add(Enrolment(learner=child, institution=tree.a.school, academic_year=YEAR,
                             grade="P1"))
    db.session.commit()
    db.session.add(Enrolment(learner=child, institution=tree.b.school, academic_year=YEAR,
                             grade="P1"))
    with pytest.raises(RuleViolation) as refused:
        db.session.commit()
    message = str(refused.value)
    assert tree.a.school.code in message and tree.a.school.name in message
    assert tree.a.muni.name in message and tree.a.school.phone in message
    db.session.rollback()
    # Next year is a different year: allowed.
    db.session.add(Enrolment(learner=child, institution=tree.b.school, academic_year=YEAR + 1,
                             grade="P2"))
    db.session.commit()


def test_two_pending_active_enrolments_in_one_flush_are_refused(tree) -> None:  # noqa: ANN001
    child = learner()
    db.session.add_all([
        Enrolment(learner=child, institution=tree.a.school, academic_year=YEAR, grade="P1"),
        Enrolment(learner=child, institution=tree.b.school, academic_year=YEAR, grade="P1")])
    with pytest.raises(RuleViolation):
        db.session.flush()


def test_database_index_holds_without_the_rule(tree) -> None:  # noqa: ANN001
    child = learner()
    db.session.add(Enrolment(learner=child, institution=tree.a.school, academic_year=YEAR,
                             grade="P1"))
    db.session.commit()
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        db.session.execute(Enrolment.__table__.insert().values(
            learner_id=child.id, institution_id=tree.b.school.id, academic_year=YEAR,
            grade="P1", status="active"))
    db.session.rollback()


def test_grade_the_institution_does_not_teach(tree) -> None:  # noqa: ANN001
    db.session.add(Enrolment(learner=learner(), institution=tree.a.cdc, academic_year=YEAR,
                             grade="P1"))
    with pytest.raises(RuleViolation):
        db.session.flush()


def test_removal_needs_a_reason_and_other_needs_a_note(tree) -> None:  # noqa: ANN001
    enrolment = Enrolment(learner=learner(), institution=tree.a.school, academic_year=YEAR,
                          grade="P1")
    db.session.add(enrolment)
    db.session.commit()
    enrolment.status = "removed"
    with pytest.raises(RuleViolation):
        db.session.commit()
    db.session.rollback()
    enrolment.status, enrolment.removal_reason = "removed", "other"
    with pytest.raises(RuleViolation):
        db.session.commit()
    db.session.rollback()
    enrolment.status, enrolment.removal_reason = "removed", "unreachable"
    db.session.commit()
    assert enrolment.status_changed_at is not None


def test_institution_creates_learner_with_its_enrolment(tree) -> None:  # noqa: ANN001
    with acting_as(tree.a.school_user):
        child = learner()
        db.session.add(Enrolment(learner=child, institution=tree.a.school, academic_year=YEAR,
                                 grade="P1"))
        db.session.commit()
        # ...but not an enrolment at someone else's school, nor a learner with no enrolment.
        db.session.add(Enrolment(learner=learner(2), institution=tree.b.school,
                                 academic_year=YEAR, grade="P1"))
        with pytest.raises(RuleViolation):
            db.session.commit()
        db.session.rollback()
        learner(3)
        with pytest.raises(RuleViolation):
            db.session.commit()
        db.session.rollback()


def test_other_institution_cannot_edit_learner(tree) -> None:  # noqa: ANN001
    child = learner()
    db.session.add(Enrolment(learner=child, institution=tree.a.school, academic_year=YEAR,
                             grade="P1"))
    db.session.commit()
    with acting_as(tree.b.school_user):
        child.first_name = "อื่น"
        with pytest.raises(RuleViolation):
            db.session.commit()
        db.session.rollback()


@pytest.mark.parametrize(("action", "status", "grade"), [
    ("promote", "active", "P2"), ("repeat", "active", "P1"),
    ("graduate", "graduated", None), ("withdraw", "withdrawn", None)])
def test_rollover(tree, action: str, status: str, grade: str | None) -> None:  # noqa: ANN001
    enrolment = Enrolment(learner=learner(), institution=tree.a.school, academic_year=YEAR,
                          grade="P1")
    db.session.add(enrolment)
    db.session.commit()
    new = roll_over(db.session, enrolment, action)
    db.session.commit()
    assert enrolment.status == status
    assert (new.grade if new else None) == grade
    if new:
        assert new.academic_year == YEAR + 1
        assert roll_over(db.session, enrolment, action) is None  # idempotent


def test_rollover_waits_for_the_next_years_round(tree) -> None:  # noqa: ANN001
    """Rollover brings learners into next year only as an import may: once its round is open."""
    db.session.add(open_round(YEAR))
    enrolment = Enrolment(learner=learner(), institution=tree.a.school, academic_year=YEAR,
                          grade="P1")
    db.session.add(enrolment)
    db.session.commit()
    with acting_as(tree.a.school_user), pytest.raises(RuleViolation) as early:
        roll_over(db.session, enrolment, "promote")
    assert f"ปีการศึกษา {YEAR + 1} ยังไม่มีครั้งที่เก็บข้อมูล" in str(early.value)
    db.session.rollback()
    assert db.session.scalar(select(Enrolment).where(Enrolment.academic_year == YEAR + 1)) is None

    db.session.add(open_round(YEAR + 1))
    db.session.commit()
    with acting_as(tree.a.school_user):
        new = roll_over(db.session, enrolment, "promote")
        db.session.commit()
    assert (new.academic_year, new.grade) == (YEAR + 1, "P2")


def test_last_grade_cannot_be_promoted(tree) -> None:  # noqa: ANN001
    enrolment = Enrolment(learner=learner(), institution=tree.a.cdc, academic_year=YEAR,
                          grade="A5")
    db.session.add(enrolment)
    db.session.commit()
    with pytest.raises(RuleViolation):
        roll_over(db.session, enrolment, "promote")


def test_counts_refuse_negative_and_closed_school(tree) -> None:  # noqa: ANN001
    round_ = open_round(YEAR)
    db.session.add(round_)
    db.session.commit()
    db.session.add(OtherSchoolCount(round=round_, other_school=tree.a.other, grade="P1",
                                    boys=-1, girls=2))
    with pytest.raises(RuleViolation):
        db.session.commit()
    db.session.rollback()
    tree.a.other.closed = True
    db.session.add(OtherSchoolCount(round_id=round_.id, other_school=tree.a.other, grade="P1",
                                    boys=1, girls=0))
    with pytest.raises(RuleViolation):
        db.session.commit()
    db.session.rollback()
    assert current_academic_year(db.session) == YEAR
    assert db.session.scalar(select(OtherSchoolCount)) is None
