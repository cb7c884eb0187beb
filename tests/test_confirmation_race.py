"""SPEC §5.6 on PostgreSQL with real threads: an institution's data changing (its confirmation
cancelled, an enrolment edited) while its LAO confirms, 500 interleavings. Never an LAO
confirmed over an unconfirmed institution, never an edit landed under a confirmation. And two
requests confirming one unit at the same moment: the second is refused in words, not a 500."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from test_confirmation import enrol, open_round, second_school

from models import Confirmation, Enrolment, Institution, Lao, Round, SnapshotCount, db
from rules import RuleViolation, acting_as
from rules import confirmation as rules
from rules.progress import live_confirmation

ROUNDS = 500


def _run(app, user, steps: list[Callable[[], None]], errors: list[BaseException]) -> None:  # noqa: ANN001
    """Each step in its own transaction, as separate requests would run them."""
    with app.app_context(), acting_as(user):
        for step in steps:
            try:
                step()
                db.session.commit()
            except RuleViolation:
                db.session.rollback()
            except BaseException as exc:  # a deadlock or a broken constraint fails the test
                db.session.rollback()
                errors.append(exc)
        db.session.remove()


@pytest.mark.postgresql_only
def test_confirming_an_lao_races_cancels_and_edits(app, tree) -> None:  # noqa: ANN001
    round_id = open_round().id
    school_a_id, school_b_id = tree.a.school.id, second_school(tree).id
    lao_id = tree.a.muni.id
    enrolment_id = enrol(tree.a.school, "P1").id
    enrol(db.session.get(Institution, school_b_id), "K1")
    # Plain copies: the fixture's users belong to this thread's session.
    lao_user, school_user = (
        SimpleNamespace(**{k: getattr(u, k) for k in (
            "id", "login", "level", "province_code", "lao_id", "institution_id")})
        for u in (tree.a.muni_user, tree.a.school_user))

    def here() -> tuple[Round, Lao, Institution]:
        return (db.session.get(Round, round_id), db.session.get(Lao, lao_id),
                db.session.get(Institution, school_a_id))

    def live(level: str, **unit: int) -> Confirmation | None:
        database = "students"
        return live_confirmation(db.session, round_id, level, database, **unit)

    def cancel_a() -> None:
        rules.cancel(db.session, live("institution", institution_id=school_a_id), "แก้ไข")

    def edit_a() -> None:
        enrolment = db.session.get(Enrolment, enrolment_id)
        enrolment.grade = "P2" if enrolment.grade == "P1" else "P1"
        db.session.flush()

    def confirm_a() -> None:
        round_, _, school = here()
        rules.confirm_institution(db.session, round_, school)

    def confirm_lao() -> None:
        round_, lao, _ = here()
        rules.confirm_lao(db.session, round_, lao, "students")

    with acting_as(None):
        rules.confirm_institution(db.session, here()[0], db.session.get(Institution,
                                                                           school_b_id))
        db.session.commit()

    outcomes: set[tuple[bool, bool]] = set()
    for i in range(ROUNDS):
        # Start: B confirmed; LAO not; A confirmed on even rounds, unconfirmed on odd ones.
        with acting_as(None):
            if (lao := live("lao", lao_id=lao_id)) is not None:
                rules.cancel(db.session, lao, "รอบใหม่")
            a = live("institution", institution_id=school_a_id)
            if i % 2 == 0 and a is None:
                confirm_a()
            elif i % 2 == 1 and a is not None:
                rules.cancel(db.session, a, "รอบใหม่")
            db.session.commit()
        if i % 2 == 0:  # the LAO cancels A so A can edit, while the LAO confirms
            left = (lao_user, [cancel_a, edit_a])
            right = (lao_user, [confirm_lao])
        else:  # A edits while A confirms and the LAO confirms at once
            left = (school_user, [edit_a])
            right = (school_user, [confirm_a, lambda: None])
        errors: list[BaseException] = []
        threads = [threading.Thread(target=_run, args=(app, user, steps, errors))
                   for user, steps in (left, right)]
        if i % 2 == 1:
            threads.append(threading.Thread(target=_run, args=(app, lao_user, [confirm_lao],
                                                               errors)))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors, errors

        db.session.expire_all()
        lao_live = live("lao", lao_id=lao_id)
        a_live = live("institution", institution_id=school_a_id)
        outcomes.add((lao_live is not None, a_live is not None))
        if lao_live is not None:
            assert a_live is not None, f"round {i}: LAO confirmed over an unconfirmed school"
        if a_live is not None:
            grade = db.session.get(Enrolment, enrolment_id).grade
            frozen = db.session.scalars(select(SnapshotCount.grade).where(
                SnapshotCount.confirmation_id == a_live.id)).all()
            assert frozen == [grade], f"round {i}: an edit landed under the confirmation"
    # Both orders happened, so the test did exercise the race.
    assert (True, True) in outcomes and (False, False) in outcomes, outcomes


@pytest.mark.parametrize(("level", "message"), [
    ("institution", "สถานศึกษานี้ยืนยันข้อมูลของครั้งนี้แล้ว"),
    ("lao", "อปท. นี้ยืนยันภาพรวมของข้อมูลฐานนี้ในครั้งนี้แล้ว"),
])
def test_the_second_of_two_simultaneous_confirms_is_told_so(tree, browser, monkeypatch, level,
                                                            message) -> None:  # noqa: ANN001
    """Another request committed the same unit's confirmation after this one checked (what
    SQLite, without row locks, lets happen): the check is made to miss it, the unique index
    refuses the insert, and the user gets the usual refusal and the progress page, not a 500."""
    round_id = open_round().id
    enrol(tree.a.school, "P1")
    school = tree.a.school
    if level == "lao":
        with acting_as(None):
            rules.confirm_institution(db.session, db.session.get(Round, round_id), school)
            db.session.commit()
    unit = ({"institution_id": school.id, "lao_id": school.lao_id, "province_code": "33"}
            if level == "institution" else {"lao_id": tree.a.muni.id, "province_code": "33"})
    client = browser(tree.a.school_user if level == "institution" else tree.a.muni_user)
    with db.engine.begin() as other:  # the winner, on its own connection
        other.execute(Confirmation.__table__.insert().values(
            round_id=round_id, level=level, database="students",
            confirmed_at=datetime.now(UTC), confirmed_by="winner", **unit))
    real_check = rules.live_confirmation
    checks: list[str] = []

    def check_before_the_winner_committed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        checks.append(args[2])
        return None if checks.count(level) == 1 else real_check(*args, **kwargs)

    monkeypatch.setattr(rules, "live_confirmation", check_before_the_winner_committed)
    response = client.post(f"/admin/confirmation/confirm/{round_id}", {"database": "students"})
    assert response.status_code == 302
    assert "/admin/confirmation/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message in page
    db.session.expire_all()
    assert db.session.scalars(select(Confirmation.confirmed_by).where(
        Confirmation.level == level)).all() == ["winner"]
