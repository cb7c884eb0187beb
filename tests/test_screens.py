"""What every screen owes its reader: the page's language, and times in Bangkok time on every
database (SQLite returns stored timestamps without their zone)."""

import json
import re
from datetime import UTC, datetime

from sqlalchemy import update
from test_confirmation import enrol, open_round

from i18n import be_date
from models import Building, Confirmation, db
from rules import acting_as
from rules import confirmation as rules


def test_admin_pages_name_their_language(tree, browser) -> None:
    page = browser(tree.a.school_user).get("/admin/").get_data(as_text=True)
    assert '<html lang="th">' in page


def test_a_naive_timestamp_is_read_as_utc_and_shown_in_bangkok_time(app) -> None:
    with app.test_request_context():
        assert be_date(datetime(2026, 11, 21, 1, 29)) == "21 พ.ย. 2569 08:29"
        assert be_date(datetime(2026, 11, 21, 1, 29, tzinfo=UTC)) == "21 พ.ย. 2569 08:29"


def test_a_confirmation_time_reads_in_bangkok_time_on_every_database(tree, browser) -> None:
    round_ = open_round()
    enrol(tree.a.school)
    db.session.commit()
    with acting_as(None):
        confirmation = rules.confirm_institution(db.session, round_, tree.a.school)
        db.session.commit()
    db.session.execute(update(Confirmation).where(Confirmation.id == confirmation.id)
                       .values(confirmed_at=datetime(2026, 5, 20, 1, 29, tzinfo=UTC)))
    db.session.commit()
    page = browser(tree.a.school_user).get("/admin/").get_data(as_text=True)
    assert "20 พ.ค. 2569 08:29" in page and "01:29" not in page


def test_a_buildings_condition_reads_as_words_everywhere_it_shows(tree, browser) -> None:
    with acting_as(tree.a.school_user):
        building = Building(institution=tree.a.school, name="อาคารเรียน ๒", condition="fair")
        db.session.add(building)
        db.session.commit()
    school = browser(tree.a.school_user)
    listed = school.get("/admin/building/").get_data(as_text=True)
    assert '<td class="col-condition">ต้องซ่อมแซม</td>' in listed
    filters = json.loads(re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', listed)[1])
    equals = next(f for f in filters["สภาพ"] if f["operation"] == "เท่ากับ")
    assert equals["options"] == [["good", "ดี"], ["fair", "ต้องซ่อมแซม"],
                                 ["poor", "ไม่ปลอดภัย"]]  # the filter offers the words
    details = school.get(f"/admin/building/details/?id={building.id}").get_data(as_text=True)
    assert "ต้องซ่อมแซม" in details and ">fair<" not in details
    exported = school.get("/admin/building/export/csv/").get_data(as_text=True)
    assert "ต้องซ่อมแซม" in exported and "fair" not in exported
    form = school.get(f"/admin/building/edit/?id={building.id}").get_data(as_text=True)
    assert '<option selected value="fair">ต้องซ่อมแซม</option>' in form.replace(
        'value="fair" selected', 'selected value="fair"')
    arg = equals["arg"]
    assert "อาคารเรียน ๒" in school.get(f"/admin/building/?flt0_{arg}=fair").get_data(
        as_text=True)
    assert "อาคารเรียน ๒" not in school.get(f"/admin/building/?flt0_{arg}=poor").get_data(
        as_text=True)
    log = browser(tree.department).get("/admin/audit/").get_data(as_text=True)
    assert "<strong>สภาพ</strong>: – → ต้องซ่อมแซม" in log
