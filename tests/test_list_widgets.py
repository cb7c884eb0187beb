"""Inline-edit widgets: the same HTML as Flask-Admin's, with choices built once per page."""

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
    sources = re.findall(r'data-source="([^"]+)"', ours)
    assert len(sources) >= 4 and len(set(sources)) == 1
    choices = json.loads(sources[0].replace("&#34;", '"').replace("&quot;", '"'))
    assert {"value": "P1", "text": "ป.๑"} in choices
    assert len(db.session.scalars(select(Enrolment)).all()) == 4
