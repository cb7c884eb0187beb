"""Changed since confirmation: after a cancel, the LAO sees each planted change against the
learner list the institution's confirmation froze."""


from test_risk import learner, make_round

import clock
from models import Enrolment, Institution, db
from rules import acting_as, changes, confirmation

YEAR = clock.academic_year()


def test_a_cancel_shows_each_planted_change(tree, browser) -> None:  # noqa: ANN001
    a = tree.a
    round_ = make_round(YEAR)
    round_.institution_deadline = round_.lao_deadline
    stays, leaves, moves, renamed, regraded = (learner(a.school, "P2", YEAR) for _ in range(5))
    other = Institution(code="3033200009", name="โรงเรียนเทศบาล ๙", kind="school", lao=a.muni)
    db.session.add(other)
    db.session.commit()
    with acting_as(None):
        frozen = confirmation.confirm_institution(db.session, round_, a.school)
        db.session.commit()
        confirmation.cancel(db.session, frozen, "แก้ไขรายชื่อ")
        db.session.commit()
    with acting_as(a.school_user):
        added = learner(a.school, "P3", YEAR, first_name="เด็กใหม่")
        leaves.status = "withdrawn"
        renamed.learner.first_name = "ชื่อใหม่"
        assert regraded.grade == "P2"  # loaded, as the edit form does: the log has the old value
        regraded.grade, regraded.classroom = "P3", "2"
        db.session.commit()
    with acting_as(None):  # the receiving school enrols the child who moved
        moves.status = "transferred"
        db.session.flush()
        db.session.add(Enrolment(learner=moves.learner, institution=other, academic_year=YEAR,
                                 grade="P2", status="active"))
        db.session.commit()

    found = changes.changes_since(db.session, changes.last_cancelled(db.session, round_.id,
                                                                     a.school.id))
    kinds = {(c.kind, c.learner_id) for c in found.changes}
    assert kinds == {("added", added.learner_id), ("removed", leaves.learner_id),
                     ("moved", moves.learner_id), ("changed", renamed.learner_id),
                     ("changed", regraded.learner_id)}
    assert stays.learner_id not in {c.learner_id for c in found.changes}
    assert ("P2", 5, 2) in found.counts and ("P3", 0, 2) in found.counts
    moved = next(c for c in found.changes if c.kind == "moved")
    assert "3033200009" in moved.detail
    assert {e.actor_login for e in found.edits} >= {a.school_user.login}

    page = browser(a.muni_user).get(f"/admin/changes/?round={round_.id}"
                                    f"&institution={a.school.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "เด็กใหม่" in html and "ชื่อใหม่" in html
    # Who changed what: the fields by their Thai labels, the grades by their short forms.
    assert "<strong>ระดับชั้น</strong>: ป.๒ → ป.๓" in html
    assert "<strong>ห้องเรียน</strong>: – → 2" in html
    assert "grade:" not in html and "classroom:" not in html and "first_name" not in html
    assert f"<td>{YEAR} ป.๓ " in html and f"{YEAR} P3 " not in html  # the record, in Thai too
    assert browser(tree.b.muni_user).get(f"/admin/changes/?round={round_.id}"
                                         f"&institution={a.school.id}").status_code == 404
