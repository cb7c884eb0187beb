"""Rule bugs found by trying the product (issue 10), each refused on every path now."""

from datetime import date

import pytest
from sqlalchemy import select
from test_confirmation import YEAR, enrol, open_round

from models import Building, CentreBasicData, Enrolment, Lao, OtherSchool, OtherSchoolCount, db
from models.people import EnrolmentStatus, RemovalReason
from models.rounds import Round
from rules import RuleViolation, acting_as


def refused(*objects: object) -> str:
    db.session.add_all(objects)
    with pytest.raises(RuleViolation) as caught:
        db.session.commit()
    db.session.rollback()
    return str(caught.value)


def test_a_new_lao_is_created_through_its_form_with_a_valid_code(app, tree, browser):
    response = browser(tree.department).post("/admin/lao/new/", {
        "code": "06330103", "name": "อบต.ใหม่", "lao_type": "6", "province": "33",
        "district": "3301"})
    assert response.status_code == 302, response.get_data(as_text=True)
    lao = db.session.scalar(select(Lao).where(Lao.code == "06330103"))
    assert lao is not None and lao.province_code == "33"


def test_a_school_is_not_marked_closed_while_a_running_round_counts_learners(app, tree):
    round_ = open_round()
    db.session.add(OtherSchoolCount(round_id=round_.id, other_school_id=tree.a.other.id,
                                    grade="P1", boys=94, girls=90))
    db.session.commit()
    name = tree.a.other.name
    tree.a.other.closed = True
    assert name in refused()
    assert not db.session.get(OtherSchool, tree.a.other.id).closed
    count = db.session.scalar(select(OtherSchoolCount))
    count.boys = count.girls = 0
    db.session.commit()
    tree.a.other.closed = True
    db.session.commit()
    assert db.session.get(OtherSchool, tree.a.other.id).closed


def test_closing_through_the_list_is_refused_while_counts_remain(app, tree, browser):
    round_ = open_round()
    db.session.add(OtherSchoolCount(round_id=round_.id, other_school_id=tree.a.other.id,
                                    grade="P1", boys=94, girls=90))
    db.session.commit()
    response = browser(tree.a.sao_user).post("/admin/other_school/ajax/update/", {
        "list_form_pk": str(tree.a.other.id), "closed": "y"})
    assert response.status_code == 400
    db.session.expire_all()
    assert not db.session.get(OtherSchool, tree.a.other.id).closed


def test_centre_basic_data_counts_are_not_negative(app, tree):
    message = refused(CentreBasicData(institution=tree.a.cdc, teachers=-3, caretakers=1))
    assert "0" in message
    db.session.add(CentreBasicData(institution=tree.a.cdc, teachers=3, caretakers=1))
    db.session.commit()


def test_an_lao_cannot_create_centre_basic_data_for_a_school(app, tree):
    with acting_as(tree.a.muni_user):
        message = refused(CentreBasicData(institution=tree.a.school, teachers=1))
    assert tree.a.school.name in message
    with acting_as(None):  # not even trusted code: the data is for centres only
        refused(CentreBasicData(institution=tree.a.school, teachers=1))
    assert db.session.scalar(select(CentreBasicData)) is None


def test_a_gregorian_year_is_refused_where_a_buddhist_era_year_is_asked(app, tree):
    assert "2540" in refused(Building(institution=tree.a.school, name="อาคาร ๑", built_year=1990))
    refused(Round(academic_year=1990, number=1, opens_on=date(1990, 5, 16),
                  closes_on=date(1990, 6, 10), institution_deadline=date(1990, 6, 10),
                  lao_deadline=date(1990, 6, 10), province_deadline=date(1990, 6, 10)))
    db.session.add(Building(institution=tree.a.school, name="อาคาร ๑", built_year=2540))
    db.session.commit()


def test_a_g_code_names_a_province_that_exists(app, tree):
    from models import Learner

    message = refused(Learner(national_id="G679900000001", first_name="ทดสอบ",
                              last_name="ระบบ", gender="M"))
    assert "99" in message
    db.session.add(Learner(national_id="G673300000001", first_name="ทดสอบ", last_name="ระบบ",
                           gender="M"))
    db.session.commit()


def removed(tree) -> Enrolment:  # noqa: ANN001
    """A learner of school A removed as a ghost in the open round."""
    open_round()
    enrolment = enrol(tree.a.school)
    enrolment.status = EnrolmentStatus.REMOVED
    enrolment.removal_reason = RemovalReason.NEVER_CAME
    db.session.commit()
    return enrolment


def test_a_removed_learner_is_not_made_active_again_by_editing_the_status(app, tree):
    enrolment = removed(tree)
    enrolment.status = EnrolmentStatus.ACTIVE
    refused()
    assert db.session.get(Enrolment, enrolment.id).status == EnrolmentStatus.REMOVED


def test_the_removed_learner_is_enrolled_again_by_id_instead(app, tree):
    enrolment = removed(tree)
    db.session.add(Enrolment(learner=enrolment.learner, institution=tree.a.school,
                             academic_year=YEAR, grade="P1", status=EnrolmentStatus.ACTIVE))
    db.session.commit()
