"""The set-based import refuses what the flush refuses, with the same messages (issue 11 item 5)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

import clock
from models import Enrolment, Learner, Round, db
from rules import RuleViolation, acting_as, confirmation, windows
from rules.identity import check_digit
from seed.learners import letters
from spreadsheets import learner_bulk
from spreadsheets.columns import LEARNER_FIELDS

YEAR = clock.academic_year()


def nid(n: int) -> str:
    body = f"2{n:011d}"
    return body + str(check_digit(body))


def values(n: int, **changes) -> dict:
    row = {"national_id": nid(n), "title": "เด็กชาย", "first_name": f"ก{letters(n)}",
           "last_name": "ข", "gender": "M", "birth_date": date(2018, 1, 1), "grade": "P1",
           "classroom": "1"}
    row.update(changes)
    return row


def flush_messages(institution, row: dict) -> set[str]:
    """The row path: the row written alone through the ORM, the rules on the flush (or on
    the autoflush that adding the enrolment of a saved learner makes)."""
    learner = db.session.scalar(select(Learner).where(
        Learner.national_id == row["national_id"])) or Learner(national_id=row["national_id"])
    for key in LEARNER_FIELDS:
        if key in row:
            setattr(learner, key, row[key])
    try:
        db.session.add(Enrolment(learner=learner, institution=institution,
                                 institution_id=institution.id, academic_year=YEAR,
                                 grade=row["grade"], classroom=row["classroom"],
                                 status="active"))
        db.session.flush()
    except RuleViolation as refused:
        return set(refused.messages)
    finally:
        db.session.rollback()
    return set()


def bulk_messages(institution, row: dict) -> set[str]:
    """The fast path: the same row planned set-wise."""
    plan = learner_bulk.plan(db.session, [(2, row)], institution, YEAR)
    problems = plan.problems + learner_bulk.lock_problems(db.session, plan, institution, YEAR)
    db.session.rollback()
    return {p.reason for p in problems}


BAD_ROWS = {
    "future birth date": dict(birth_date=clock.today() + timedelta(days=3)),
    "birth date of 1857 (2400 BE)": dict(birth_date=date(1857, 1, 1)),
    "G-code of no province": dict(national_id="G680000000001"),
    "no first name": dict(first_name=""),
    "no gender": dict(gender=None),
    "grade of another kind": dict(grade="A3"),
    "checksum": dict(national_id="2000000000000"),
    "unknown registered subdistrict": dict(registered_subdistrict_code="999999"),
    "unknown current subdistrict": dict(current_subdistrict_code="339999"),
    "negative weight": dict(weight_kg=Decimal("-5")),
    "no height": dict(height_cm=Decimal("0")),
    "height in metres": dict(height_cm=Decimal("1.2")),
    "weight typed without its point": dict(weight_kg=Decimal("450")),
    "title the form cannot show": dict(title="นาง"),
    "digit in a first name": dict(first_name="ทดสอบ1"),
    "emoji and sign in a last name": dict(last_name="=ใจดี😀"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_each_bad_row_gets_the_flushs_own_messages(app, tree, case):
    row = values(1, **BAD_ROWS[case])
    with acting_as(tree.a.school_user):
        expected = flush_messages(tree.a.school, row)
        assert expected, "the flush must refuse this row"
        assert bulk_messages(tree.a.school, row) == expected


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_each_problem_of_the_bulk_path_names_its_column(app, tree, case):
    """The bad-rows report shows the column of every problem, the birth date's too."""
    with acting_as(tree.a.school_user), app.test_request_context():
        plan = learner_bulk.plan(db.session, [(2, values(1, **BAD_ROWS[case]))],
                                 tree.a.school, YEAR, titles={"birth_date": "วันเดือนปีเกิด"})
        db.session.rollback()
    assert plan.problems and all(p.column for p in plan.problems), plan.problems
    if "birth" in case:  # named as the file names it
        assert [p.column for p in plan.problems] == ["วันเดือนปีเกิด"]


ACCEPTED_ROWS = {
    "no birth date": {k: v for k, v in values(1).items() if k != "birth_date"},
    "birth date empty": values(1, birth_date=None),
    "abbreviated title": values(1, title="ด.ช."),
    "known subdistrict": values(1, registered_subdistrict_code="330101",
                                current_subdistrict_code="330102"),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED_ROWS))
def test_rows_the_flush_accepts_the_bulk_path_accepts(app, tree, case):
    """A new learner without a birth date once crashed the bulk path (no attribute)."""
    with acting_as(tree.a.school_user):
        assert flush_messages(tree.a.school, ACCEPTED_ROWS[case]) == set()
        assert bulk_messages(tree.a.school, ACCEPTED_ROWS[case]) == set()


def stored_last_year(tree, n: int) -> None:
    """Learner `n` of `values`, at school A last year, written as the register holds it."""
    with acting_as(None):
        db.session.add(Enrolment(learner=Learner(**{k: v for k, v in values(n).items()
                                                    if k not in ("grade", "classroom")}),
                                 institution=tree.a.school, academic_year=YEAR - 1,
                                 grade="K3", status="active"))
        db.session.commit()


def test_a_birth_date_stored_before_the_rule_is_judged_only_when_a_file_changes_it(app, tree):
    """A learner imported long ago born in 1857 (2400 BE) gets a new guardian's phone from
    this year's file; a file that types such a birth date is still refused, as the flush."""
    stored_last_year(tree, 5)
    db.session.execute(update(Learner.__table__).values(birth_date=date(1857, 1, 1)))
    db.session.commit()
    kept = values(5, birth_date=date(1857, 1, 1), guardian_phone="0812345678")
    typed = values(5, birth_date=date(1856, 1, 1))
    with acting_as(tree.a.school_user):
        assert flush_messages(tree.a.school, kept) == set()
        plan = learner_bulk.plan(db.session, [(2, kept)], tree.a.school, YEAR)
        assert plan.problems == []
        assert plan.learner_changes == [{"id": plan.learner_changes[0]["id"],
                                         "guardian_phone": "0812345678"}]
        db.session.rollback()
        expected = flush_messages(tree.a.school, typed)
        assert any("01/01/2399" in m for m in expected)
        assert bulk_messages(tree.a.school, typed) == expected


def test_both_paths_store_an_abbreviated_title_as_the_form_offers_it(app, tree):
    with acting_as(tree.a.school_user):
        plan = learner_bulk.plan(db.session, [(2, values(1, title="ดญ.", gender="F"))],
                                 tree.a.school, YEAR)
        assert plan.new_learners[0]["title"] == "เด็กหญิง"
    with acting_as(None):
        learner = Learner(**{k: v for k, v in values(2, title="น.ส.", gender="F").items()
                             if k not in ("grade", "classroom")})
        db.session.add(learner)
        db.session.flush()
        assert learner.title == "นางสาว"
        db.session.rollback()


def test_both_paths_store_a_classroom_typed_in_thai_digits_as_one_room(app, tree):
    """"๑/๒" on the form and "1/2" in a file were two rooms of the counts by classroom."""
    with acting_as(tree.a.school_user):
        plan = learner_bulk.plan(db.session, [(2, values(1, classroom=" ๑/๒ "))],
                                 tree.a.school, YEAR)
        assert plan.new_enrolments[0]["classroom"] == "1/2"
        db.session.rollback()
    with acting_as(tree.a.school_user):
        learner = Learner(**{k: v for k, v in values(2).items()
                             if k not in ("grade", "classroom")})
        enrolment = Enrolment(learner=learner, institution=tree.a.school, academic_year=YEAR,
                              grade="P1", classroom="๑/๒", status="active")
        db.session.add(enrolment)
        db.session.flush()
        assert enrolment.classroom == "1/2"
        db.session.rollback()


def test_active_elsewhere_closed_round_and_confirmation_lock_match_the_flush(app, tree):
    with acting_as(None):
        db.session.add(Enrolment(learner=Learner(**{k: v for k, v in values(2).items()
                                                    if k not in ("grade", "classroom")}),
                                 institution=tree.b.school, academic_year=YEAR, grade="P1",
                                 status="active"))
        db.session.commit()
    with acting_as(tree.a.school_user):  # learner 2 studies at school b
        expected = flush_messages(tree.a.school, values(2))
        assert expected and bulk_messages(tree.a.school, values(2)) == expected

    first, last = windows.round_date_bounds(YEAR)
    closed = clock.today() - timedelta(days=1)
    round_ = Round(academic_year=YEAR, number=1, opens_on=first, closes_on=closed,
                   institution_deadline=closed, lao_deadline=closed, province_deadline=closed)
    db.session.add(round_)
    db.session.commit()
    with acting_as(tree.a.school_user):  # the year's only round is closed
        expected = flush_messages(tree.a.school, values(3))
        assert expected and bulk_messages(tree.a.school, values(3)) == expected

    round_.closes_on = last
    db.session.commit()
    with acting_as(tree.a.school_user):
        confirmation.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
        expected = flush_messages(tree.a.school, values(4))
        assert expected and bulk_messages(tree.a.school, values(4)) == expected
    assert db.session.scalar(select(func.count(Learner.id))) == 1


def test_a_height_stored_before_the_rule_is_judged_only_when_a_file_changes_it(app, tree):
    """A learner stored 1.20 (metres) tall before heights were checked for their unit gets a
    new guardian's phone from this year's file; a file that types such a height is refused,
    by the flush and the bulk path alike."""
    stored_last_year(tree, 5)
    db.session.execute(update(Learner.__table__).values(height_cm=Decimal("1.2")))
    db.session.commit()
    kept = values(5, height_cm=Decimal("1.2"), guardian_phone="0812345678")
    typed = values(5, height_cm=Decimal("1.3"))
    with acting_as(tree.a.school_user):
        assert flush_messages(tree.a.school, kept) == set()
        plan = learner_bulk.plan(db.session, [(2, kept)], tree.a.school, YEAR)
        assert plan.problems == []
        db.session.rollback()
        expected = flush_messages(tree.a.school, typed)
        assert any("เซนติเมตร" in m for m in expected)
        assert bulk_messages(tree.a.school, typed) == expected
