"""Context on every form and confirmation (issue 14, item 6): whose record a page is about, who
confirmed by name, who answered for a unit on a given day, a logged reveal beside each masked
ID, a record's history, and help under the fields people get wrong."""

import re
from datetime import UTC, datetime

from sqlalchemy import update
from test_confirmation import enrol, national_id, open_round

from models import Building, db
from models.profiles import Profile, record_responsible
from rules import acting_as
from rules import confirmation as rules
from rules.identity import mask_national_id


def heading(page: str) -> str:
    """The text of the heading that names whose record the page is about."""
    match = re.search(r'<h2 class="h5 lec-subject">(.*?)</h2>', page, re.S)
    assert match, "no record heading on the page"
    return match[1]


def test_an_enrolment_form_names_the_learner_the_id_and_the_institution(tree, browser):
    enrolment = enrol(tree.a.school)
    learner = enrolment.learner
    url = f"/admin/student/edit/?id={enrolment.id}"
    own = heading(browser(tree.a.school_user).get(url).get_data(as_text=True))
    assert learner.full_name in own and learner.national_id in own
    assert tree.a.school.name in own and "ป.๑" in own and str(enrolment.academic_year) in own
    above = heading(browser(tree.a.muni_user).get(url).get_data(as_text=True))
    assert learner.full_name in above and learner.national_id not in above
    assert mask_national_id(learner.national_id) in above


def test_other_forms_and_details_name_their_record(tree, browser):
    enrolment = enrol(tree.a.school)
    building = Building(institution=tree.a.school, name="อาคารเรียน ๑", rooms=4)
    db.session.add(building)
    db.session.commit()
    lao = browser(tree.a.muni_user)
    learner = heading(lao.get(f"/admin/learner/details/?id={enrolment.learner_id}")
                      .get_data(as_text=True))
    assert enrolment.learner.full_name in learner
    school = heading(lao.get(f"/admin/institution/edit/?id={tree.a.school.id}")
                     .get_data(as_text=True))
    assert tree.a.school.code in school and tree.a.muni.name in school
    own = heading(browser(tree.a.school_user).get(f"/admin/building/edit/?id={building.id}")
                  .get_data(as_text=True))
    assert "อาคารเรียน ๑" in own and tree.a.school.name in own
    new = browser(tree.a.cdc_user).get("/admin/centre_basic_data/new/").get_data(as_text=True)
    assert tree.a.cdc.name in re.search(r'lec-subject">(.*?)</h2>', new, re.S)[1]


def test_a_record_links_to_its_own_history_for_the_levels_that_read_the_log(tree, browser):
    mine, other = enrol(tree.a.school), enrol(tree.a.school, "P2")
    lao = browser(tree.a.muni_user)
    page = lao.get(f"/admin/student/edit/?id={mine.id}").get_data(as_text=True)
    link = re.search(r'class="lec-history" href="([^"]+)"', page)
    assert link, "no history link"
    history = lao.get(link[1].replace("&amp;", "&")).get_data(as_text=True)
    # The log lists this enrolment's creation and not the other enrolment's.
    rows = re.findall(r"<td class=\"col-object_id\">\s*(\S+)\s*</td>", history)
    assert rows and set(rows) == {str(mine.id)}, rows
    assert str(other.id) not in rows
    school = browser(tree.a.school_user).get(f"/admin/student/edit/?id={mine.id}")
    assert "lec-history" not in school.get_data(as_text=True)  # no audit log at its level


def test_a_masked_id_has_a_reveal_button_only_above_the_institution(tree, browser):
    enrolment = enrol(tree.a.school)
    nid = enrolment.learner.national_id
    listed = browser(tree.a.muni_user).get("/admin/student/").get_data(as_text=True)
    assert mask_national_id(nid) in listed and nid not in listed
    button = re.search(r'<button[^>]*class="[^"]*lec-reveal[^"]*"[^>]*>', listed)
    assert button and 'data-model="Learner"' in button[0]
    assert f'data-id="{enrolment.learner_id}"' in button[0]
    assert 'data-url="/admin/reveal/"' in button[0]
    details = browser(tree.a.province_user).get(
        f"/admin/learner/details/?id={enrolment.learner_id}").get_data(as_text=True)
    assert "lec-reveal" in details
    own = browser(tree.a.school_user).get("/admin/student/").get_data(as_text=True)
    assert nid in own and "data-model=" not in own
    enrolment.status, enrolment.removal_reason = "removed", "never_came"
    db.session.commit()
    register = browser(tree.a.muni_user).get("/admin/student/removed/").get_data(as_text=True)
    assert mask_national_id(nid) in register and 'data-model="Learner"' in register
    export = browser(tree.a.muni_user).get("/admin/learner/export/csv/").get_data(as_text=True)
    assert mask_national_id(nid) in export and "data-model" not in export


def test_fields_people_get_wrong_carry_help(tree, browser):
    enrolment = enrol(tree.a.school)
    school = browser(tree.a.school_user)
    learner = school.get(f"/admin/learner/edit/?id={enrolment.learner_id}").get_data(
        as_text=True)
    assert "หลักตรวจสอบ" in learner and "G" in learner  # ID: 13 digits, check digit, G-code
    assert "16/05/2569" in learner  # the birth date in the Buddhist Era
    edit = school.get(f"/admin/student/edit/?id={enrolment.id}").get_data(as_text=True)
    assert "ป.๑–ป.๖" in edit  # which grades there are
    check = school.get("/admin/student/enrol/").get_data(as_text=True)
    assert "หลักตรวจสอบ" in check  # before anything is typed
    typed = school.get(f"/admin/student/enrol/?national_id={national_id()}").get_data(
        as_text=True)
    assert "ป.๑–ป.๖" in typed


def _name(user, first: str, surname: str, when: datetime) -> None:  # noqa: ANN001
    record_responsible(user, first, surname, "ครู", "045111111", now=when)


def test_confirmations_name_the_person_responsible_when_they_were_made(tree, browser):
    round_ = open_round()
    enrol(tree.a.school)
    db.session.execute(update(Profile).values(valid_from=datetime(2025, 1, 1, tzinfo=UTC)))
    _name(tree.a.school_user, "มานี", "มีนา", datetime(2026, 3, 1, tzinfo=UTC))
    db.session.commit()
    with acting_as(tree.a.school_user):
        rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    _name(tree.a.school_user, "ปิติ", "ชูใจ", datetime(2099, 1, 1, tzinfo=UTC))
    db.session.commit()
    page = browser(tree.a.muni_user).get(f"/admin/confirmation/?lao={tree.a.muni.id}"
                                         ).get_data(as_text=True)
    assert "โดย มานี มีนา" in page and "ปิติ" not in page
    assert f"โดย {tree.a.school_user.login}" not in page
    summary = browser(tree.a.school_user).get("/admin/reports/summary/").get_data(as_text=True)
    assert "มานี มีนา" in summary


def test_who_was_responsible_for_a_unit_on_a_given_day(tree, browser):
    db.session.execute(update(Profile).values(valid_from=datetime(2025, 1, 1, tzinfo=UTC)))
    _name(tree.a.school_user, "มานี", "มีนา", datetime(2026, 3, 1, tzinfo=UTC))
    _name(tree.a.school_user, "ปิติ", "ชูใจ", datetime(2026, 6, 1, tzinfo=UTC))
    db.session.commit()
    lao = browser(tree.a.muni_user)
    url = f"/admin/confirmation/responsible/?institution={tree.a.school.id}"
    every = lao.get(url).get_data(as_text=True)
    assert "มานี มีนา" in every and "ปิติ ชูใจ" in every and "สมชาย" in every

    def answer(day: str) -> str:
        page = lao.get(f"{url}&on={day}").get_data(as_text=True)
        found = re.search(r'class="alert alert-info lec-answer">(.*?)</div>\s*\n', page, re.S)
        assert found, page
        return found[1]

    assert "มานี มีนา" in answer("15/04/2569") and "ปิติ" not in answer("15/04/2569")
    handover = answer("01/06/2569")  # the day it changed hands names both
    assert "มานี มีนา" in handover and "ปิติ ชูใจ" in handover
    assert "สมชาย" in answer("1 ม.ค. 2568")
    assert "ยังไม่มีผู้เข้าใช้งาน" in answer("01/01/2567")
    unreadable = lao.get(f"{url}&on=abc").get_data(as_text=True)
    assert "กรุณาใส่วันที่เป็น วัน/เดือน/ปี พ.ศ." in unreadable and 'value="abc"' in unreadable
    assert "กรุณาใส่ปีเป็นพุทธศักราช" in lao.get(f"{url}&on=15/04/2026").get_data(as_text=True)
    assert browser(tree.b.province_user).get(url).status_code == 404
    province = browser(tree.a.province_user).get(
        "/admin/confirmation/responsible/?province=33&on=01/06/2569").get_data(as_text=True)
    assert "สมชาย" in province



def test_a_unit_record_links_to_its_responsible_people(tree, browser):
    lao = browser(tree.a.muni_user)
    page = lao.get(f"/admin/institution/details/?id={tree.a.school.id}").get_data(as_text=True)
    link = re.search(r'class="lec-responsible" href="([^"]+)"', page)
    assert link, "no link to the responsible people"
    people = lao.get(link[1].replace("&amp;", "&")).get_data(as_text=True)
    assert f"ทดสอบ {tree.a.school_user.login}" in people  # the person on record
    province = browser(tree.a.province_user).get(f"/admin/lao/details/?id={tree.a.muni.id}")
    assert f"/admin/confirmation/responsible/?lao={tree.a.muni.id}" in province.get_data(
        as_text=True)
    building = Building(institution=tree.a.school, name="โรงอาหาร")
    db.session.add(building)
    db.session.commit()
    other = lao.get(f"/admin/building/details/?id={building.id}").get_data(as_text=True)
    assert "lec-responsible" not in other  # a building is not a unit
