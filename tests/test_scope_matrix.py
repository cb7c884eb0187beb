"""The scope matrix derived from the source of truth: every model of `rules.scope.PATHS` and every
view registered on the admin, for every level. A model or view added without an entry in PATHS
or in `rules.permissions.PAGES` makes the guards below fail.
"""

from datetime import date

import pytest
from sqlalchemy import insert, select
from test_admission import child, p1_birth_date
from test_admission import national_id as applicant_id
from test_confirmation import enrol, open_round

import clock
from models import (
    Application,
    AuditEntry,
    BudgetRate,
    Building,
    CentreBasicData,
    CodeException,
    District,
    Enrolment,
    OtherSchoolCount,
    Province,
    Round,
    Subdistrict,
    db,
)
from models.risk import ObecCount, QualityScore, RiskFlag, RiskThreshold
from models.rounds import SnapshotCount
from models.tokens import AgencyToken
from rules import acting_as, scope, spotchecks
from rules import confirmation as confirm
from rules.permissions import (
    PAGES,
    may_bulk_edit,
    may_cancel,
    may_confirm,
    may_issue_cards_for,
    may_open,
    may_reveal_id,
    may_sample,
    may_see,
    may_write,
)
from rules.scope import PATHS, Unit, covers, subtree
from rules.tree import _institution_unit as institution_unit

#: Mapped models with no place in the tree, and why.
UNSCOPED = {
    "ThrottleHit": "the throttles' counters, read by no view",
    "Job": "a user's own background jobs: jobs/ shows each user only the jobs they started",
    "ProvinceTotal": "sums of confirmed counts, read only by the department's national report",
}
#: Reference tables: thousands of rows, nobody but the department lists them.
REFERENCE = (Province, District, Subdistrict)


def users(tree) -> dict[str, object]:  # noqa: ANN001
    return {"department": tree.department, "province": tree.a.province_user,
            "lao": tree.a.muni_user, "institution": tree.a.school_user}


@pytest.fixture
def world(app, tree):  # noqa: ANN001, ANN201
    """One row (at least) of every scoped model, in both provinces where it belongs."""
    round_ = open_round()
    for unit in (tree.a, tree.b):
        enrol(unit.school)
        enrol(unit.cdc, grade="A3")
        db.session.add_all([
            CentreBasicData(institution=unit.cdc, teachers=2),
            Building(institution=unit.school, name="อาคาร ๑", built_year=2540),
            OtherSchoolCount(round_id=round_.id, other_school_id=unit.other.id, grade="P1",
                             boys=1, girls=2),
        ])
        unit.school.accepts_online_applications = True
    moved_between_provinces(tree, round_.academic_year)
    db.session.add_all([
        BudgetRate(academic_year=round_.academic_year, lunch_max_1=100, lunch_max_2=200,
                   lunch_max_3=300, lunch_rate_1=2000, lunch_rate_2=2000, lunch_rate_3=2000,
                   lunch_rate_4=2000, lunch_days=200, milk_unit_price=700, milk_days=260,
                   cdc_lunch_rate=2000, cdc_lunch_days=245, cdc_milk_days=260),
        CodeException(code=tree.a.school.code, rule="kind", reason="ย้ายสังกัด",
                      granted_by="dla.staff"),
    ])
    db.session.commit()
    fields = {k: v for k, v in child().items()
              if k not in ("website", "birth_date", "academic_year", "contact_email")}
    fields["national_id"] = applicant_id("110170099999")
    db.session.add(Application(institution_id=tree.a.school.id, birth_date=p1_birth_date(),
                               academic_year=round_.academic_year, **fields))
    # Computed rows, written set-wise by rules/risk/ and rules/quality.py, not through the ORM.
    now = clock.now()
    for unit, code in ((tree.a, "33"), (tree.b, "34")):
        db.session.execute(insert(RiskFlag).values(
            round_id=round_.id, rule="incomplete", province_code=code, lao_id=unit.muni.id,
            institution_id=unit.school.id))
        db.session.execute(insert(QualityScore).values(
            round_id=round_.id, province_code=code, lao_id=unit.muni.id,
            institution_id=unit.school.id, computed_at=now))
    db.session.execute(insert(RiskThreshold).values(academic_year=round_.academic_year,
                                                    setting="incomplete", value=0.1))
    db.session.execute(insert(AgencyToken).values(agency="สำนักงานสถิติ", token_hash="0" * 64,
                                                  created_at=now, created_by="dla.staff"))
    db.session.execute(insert(ObecCount).values(count_date=date(2026, 6, 10),
                                                school_code=tree.a.other.code, grade="P1",
                                                boys=1, girls=2))
    with acting_as(tree.a.school_user):
        confirm.confirm_institution(db.session, round_, tree.a.school)
    with acting_as(tree.a.province_user):
        spotchecks.draw(db.session, round_, tree.a.muni, None, 1, 5, "33")
    db.session.commit()
    return tree


def moved_between_provinces(tree, year: int) -> None:  # noqa: ANN001
    """Learners with a history in both provinces, so the rank of their enrolments decides where
    they belong: one now active at school b, after last year still active at school a and a
    transfer out of it; one active nowhere, whose latest row (same year, later id) is school b's."""
    active_at_b = enrol(tree.a.school, year=year - 1)
    active_at_b.learner.enrolments += [
        Enrolment(institution=tree.a.school, academic_year=year, grade="P2", status="transferred"),
        Enrolment(institution=tree.b.school, academic_year=year, grade="P2", status="active")]
    left_b = enrol(tree.b.school, year=year - 1)
    left_b.status = "graduated"
    left_b.learner.enrolments += [
        Enrolment(institution=tree.a.school, academic_year=year, grade="P2", status="withdrawn")]
    db.session.commit()
    left_b.learner.enrolments.append(
        Enrolment(institution=tree.b.school, academic_year=year, grade="P2", status="withdrawn"))
    db.session.commit()


def unit_of(obj: object) -> Unit:
    """Where a stored row hangs, by the Python half of its Path."""
    return PATHS[type(obj)].unit(db.session, lambda key: getattr(obj, key))


#: National tables every level reads.
NATIONAL = {BudgetRate, Round, RiskThreshold, ObecCount}


# --- guards: nothing is added without its entry -------------------------------------------

def test_every_mapped_model_has_a_place_in_the_tree_or_a_reason_not_to(app):
    mapped = {m.class_.__name__ for m in db.Model.registry.mappers}
    missing = mapped - {m.__name__ for m in PATHS} - set(UNSCOPED)
    assert not missing, f"add these models to rules.scope.PATHS (or UNSCOPED): {missing}"
    assert not set(UNSCOPED) - mapped, "UNSCOPED names a model that no longer exists"


def test_every_registered_view_has_a_page_entry_and_every_entry_a_view(app):
    admin = app.extensions["admin"][0]
    endpoints = {v.endpoint for v in [admin.index_view, *admin._views]}
    assert endpoints - set(PAGES) == set(), "add the new views to rules.permissions.PAGES"
    assert set(PAGES) - endpoints == set(), "PAGES names a view that is not registered"
    for view in admin._views:
        model = getattr(view, "model", None)
        assert model is None or model in PATHS, f"{view.endpoint}: {model} has no Path"


def test_every_scoped_model_has_rows_in_the_matrix(app, world):
    for model in PATHS:
        assert db.session.scalar(select(model).limit(1)) is not None, model.__name__


# --- the matrix: SQL subtree and Python covers agree, for every model and level ------------

@pytest.mark.parametrize("level", ["department", "province", "lao", "institution"])
def test_subtree_and_covers_agree_for_every_model(app, world, level):
    user = users(world)[level]
    for model in PATHS:
        if model in REFERENCE:
            shown = db.session.scalar(select(model).where(subtree(model, user)).limit(1))
            assert shown is not None, model.__name__  # every level picks from them
            continue
        rows = db.session.scalars(select(model)).all()
        inside = set(db.session.scalars(select(model).where(subtree(model, user))))
        for row in rows:
            expected = covers(user, unit_of(row)) or model in NATIONAL or (
                model is AuditEntry and row.subject_institution_id is not None
                and covers(user, institution_unit(db.session, row.subject_institution_id)))
            assert (row in inside) == expected, (level, model.__name__, unit_of(row))


@pytest.mark.parametrize("level", ["province", "lao", "institution"])
def test_every_view_is_open_to_its_levels_and_hides_rows_outside_the_subtree(
        app, world, browser, level):
    user = users(world)[level]
    b = browser(user)
    admin = app.extensions["admin"][0]
    for view in admin._views:
        if view.endpoint in ("reveal", "changes"):  # POST only; a page about one unit asked
            continue
        url = view.url.rstrip("/") + "/"
        response = b.get(url)
        if not may_open(user, view.endpoint):
            assert response.status_code == 403, (level, view.endpoint)
            continue
        assert response.status_code == 200, (level, view.endpoint)
        model = getattr(view, "model", None)
        if model is None or model in NATIONAL or model in REFERENCE:
            continue
        outside = [row for row in db.session.scalars(select(model).where(
            ~subtree(model, user))).all()]
        for row in outside[:2]:
            pk = model.__mapper__.primary_key[0].key
            details = b.get(f"{url}details/?id={getattr(row, pk)}")
            assert details.status_code in (403, 404), (level, view.endpoint, unit_of(row))


# --- unit tests of the questions ----------------------------------------------------------

def test_covers_follows_the_tree(app, tree):
    a, b = tree.a, tree.b
    school = Unit("33", a.muni.id, a.school.id)
    assert covers(tree.department, Unit()) and covers(tree.department, school)
    assert covers(a.province_user, school) and not covers(b.province_user, school)
    assert covers(a.muni_user, school) and not covers(a.sao_user, school)
    assert covers(a.school_user, school) and not covers(a.cdc_user, school)
    assert not covers(a.province_user, Unit()) and not covers(a.muni_user, Unit("33"))


def test_meets_is_the_subtree_or_the_way_down_to_it(app, tree):
    """A province and an LAO above a user's own unit lead to it; a neighbour's does not."""
    a = tree.a
    assert scope.meets(a.muni_user, Unit("33")) and scope.meets(a.muni_user, Unit())
    assert not scope.meets(a.muni_user, Unit("34")) and not scope.meets(a.muni_user,
                                                                      Unit("33", a.sao.id))
    assert scope.meets(a.school_user, Unit("33", a.muni.id))
    assert not scope.meets(a.school_user, Unit("33", a.muni.id, a.cdc.id))
    assert scope.meets(a.province_user, Unit("33", a.sao.id, a.cdc.id))
    assert not scope.meets(a.province_user, Unit("34"))
    assert scope.meets(tree.department, Unit("34", tree.b.sao.id))


def test_may_questions(app, tree):
    a = tree.a
    assert may_write(None, Province) and may_write(tree.department, Province)
    assert not may_write(a.province_user, Province)
    assert not may_write(tree.department, SnapshotCount)  # the confirmation rules write them
    assert may_see(a.muni_user, Unit("33", a.muni.id)) and not may_see(a.sao_user,
                                                                       Unit("33", a.muni.id))
    assert may_bulk_edit(a.school_user, "student") and not may_bulk_edit(a.school_user, "learner")
    assert may_bulk_edit(tree.department, "learner")
    assert may_reveal_id(a.school_user) and not may_reveal_id(a.muni_user)
    assert may_confirm(a.muni_user, "lao") and not may_confirm(a.muni_user, "institution")
    assert may_confirm(tree.department, "province") and may_confirm(None, "institution")
    assert may_cancel(a.muni_user, "institution") and not may_cancel(a.muni_user, "lao")
    assert may_cancel(tree.department, "province") and not may_cancel(a.province_user,
                                                                      "province")
    assert may_issue_cards_for(tree.department, a.province_user)
    assert not may_issue_cards_for(tree.department, a.muni_user)
    assert may_issue_cards_for(a.province_user, a.school_user)
    assert not may_issue_cards_for(a.province_user, tree.b.school_user)
    assert not may_issue_cards_for(a.muni_user, a.school_user)
    assert may_sample(a.province_user, Unit("33", a.muni.id))
    assert not may_sample(a.province_user, Unit("34", tree.b.muni.id))
    assert not may_sample(a.muni_user, Unit("33", a.muni.id))
    assert not may_open(a.school_user, "no-such-page")  # a page without an entry is closed


def test_each_user_works_for_their_own_unit_and_the_department_for_the_country(tree) -> None:
    assert scope.unit_of(tree.a.school_user).institution_id == tree.a.school.id
    assert scope.unit_of(tree.a.sao_user).lao_id == tree.a.sao.id
    assert scope.unit_of(tree.a.province_user) == Unit("33")
    assert scope.unit_of(tree.department) == Unit() and scope.whole_country(tree.department)
    assert not any(scope.whole_country(u) for u in users(tree).values() if u is not tree.department)
