"""Inline-edit widgets and row links: Flask-Admin's, with what is the same built once per page."""

import html
import json
import re

from flask_admin.model import widgets
from sqlalchemy import select

from models import Enrolment, Learner, db
from rules.enrolment import current_academic_year
from rules.identity import check_digit


def nid(n: int) -> str:
    first12 = f"1{n:011d}"
    return first12 + str(check_digit(first12))


def test_a_list_of_editable_rows_builds_each_choice_list_once(app, tree, browser, monkeypatch):
    year = current_academic_year(db.session)
    learners = [Learner(national_id=nid(3000 + i), first_name=f"ชื่อ{i}", last_name="สกุล",
                        gender="F") for i in range(4)]
    db.session.add_all(learners)
    db.session.add_all(Enrolment(learner=learner, institution=tree.a.school, academic_year=year,
                                 grade="P1", status="active") for learner in learners)
    db.session.commit()
    school = browser(tree.a.school_user)
    ours = school.get("/admin/student/").get_data(as_text=True)
    built = []
    original = widgets.XEditableWidget.get_kwargs
    monkeypatch.setattr(widgets.XEditableWidget, "get_kwargs",
                        lambda self, field, kwargs: built.append(field.name)
                        or original(self, field, kwargs))
    school.get("/admin/student/")
    grade_fields = [name for name in built if name.endswith("grade")]
    assert len(grade_fields) == 1  # once for the page, not once per row
    # Each row's grade editor names the one choice list; the page carries that list once.
    names = re.findall(r'<a [^>]*data-lec-source="([^"]+)"[^>]*name="grade"', ours)
    assert len(names) == 4 and len(set(names)) == 1
    assert "data-source=" not in ours
    blocks = re.findall(r'<div hidden class="lec-source" id="([^"]+)">([^<]*)</div>', ours)
    assert [name for name, _ in blocks] == names[:1]
    assert {"value": "P1", "text": "ป.๑"} in json.loads(html.unescape(blocks[0][1]))
    # The editor opens on the row's own grade (its code), showing its Thai label.
    assert len(re.findall(r'name="grade" data-pk="\d+" data-value="P1">ป.๑</a>', ours)) == 4
    assert len(db.session.scalars(select(Enrolment)).all()) == 4


def test_row_links_are_flask_admins_with_each_rows_key(app, tree, browser):
    year = current_academic_year(db.session)
    learner = Learner(national_id=nid(3100), first_name="ชื่อ", last_name="สกุล", gender="M")
    db.session.add(Enrolment(learner=learner, institution=tree.a.school, academic_year=year,
                             grade="P2", status="active"))
    db.session.commit()
    enrolment = db.session.scalars(select(Enrolment).where(Enrolment.learner == learner)).one()
    page = browser(tree.a.school_user).get("/admin/student/?page_size=50").get_data(as_text=True)
    back = "url=/admin/student/?page_size%3D50"
    assert (f'href="/admin/student/details/?id={enrolment.id}&amp;{back}" title="ดูข้อมูล"'
            in page)
    assert f'href="/admin/student/edit/?id={enrolment.id}&amp;{back}" title="แก้ไขข้อมูล"' in page
