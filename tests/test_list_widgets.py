"""Inline-edit widgets and row links: Flask-Admin's, with what is the same built once per page
(or once per language)."""

import html
import json
import re
from functools import reduce
from html.parser import HTMLParser

import pytest
from flask_admin.model import widgets
from sqlalchemy import select, update

from admin_views.base import ScopedModelView
from models import Enrolment, Learner, db
from rules.enrolment import current_academic_year
from rules.identity import check_digit
from rules.permissions import may_open
from seed.learners import letters


def nid(n: int) -> str:
    first12 = f"1{n:011d}"
    return first12 + str(check_digit(first12))


def test_a_list_of_editable_rows_builds_each_choice_list_once(app, tree, browser, monkeypatch):
    year = current_academic_year(db.session)
    learners = [Learner(national_id=nid(3000 + i), first_name=f"ชื่อ{letters(i)}", last_name="สกุล",
                        gender="F") for i in range(4)]
    db.session.add_all(learners)
    db.session.add_all(Enrolment(learner=learner, institution=tree.a.school, academic_year=year,
                                 grade="P1", status="active") for learner in learners)
    db.session.commit()
    school = browser(tree.a.school_user)
    view = next(view for view in app.extensions["admin"][0]._views if view.endpoint == "student")
    widget = view._list_form_class.grade.kwargs["widget"]
    monkeypatch.setitem(widget.__dict__, "_lec_openings", {})  # as a worker's first page
    built = []
    original = widgets.XEditableWidget.get_kwargs
    monkeypatch.setattr(widgets.XEditableWidget, "get_kwargs",
                        lambda self, field, kwargs: built.append(field.name)
                        or original(self, field, kwargs))
    ours = school.get("/admin/student/").get_data(as_text=True)
    again = school.get("/admin/student/").get_data(as_text=True)
    grade_fields = [name for name in built if name.endswith("grade")]
    assert len(grade_fields) == 1  # once for the language, not once per row or page
    # Each row's grade editor names the one choice list; the page carries that list once.
    names = re.findall(r'<a [^>]*data-lec-source="([^"]+)"[^>]*name="grade"', ours)
    assert len(names) == 4 and len(set(names)) == 1
    assert "data-source=" not in ours
    blocks = re.findall(r'<div hidden class="lec-source" id="([^"]+)">([^<]*)</div>', ours)
    assert [name for name, _ in blocks] == names[:1]
    assert {"value": "P1", "text": "ป.๑"} in json.loads(html.unescape(blocks[0][1]))
    # A page made from the language's tags names its list and carries it just the same.
    assert re.findall(r'<div hidden class="lec-source" id="([^"]+)">([^<]*)</div>', again) == blocks
    assert re.findall(r'<a [^>]*data-lec-source="([^"]+)"[^>]*name="grade"', again) == names
    # Each editor posts the page's own CSRF token, the one its forms carry.
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', again)
    editors = re.findall(r'<a [^>]*data-csrf="([^"]*)"[^>]*name="grade"', again)
    assert token and editors == [token.group(1)] * 4
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


class _Rows(HTMLParser):
    """The body rows of a list page: per cell its class, text, links, inputs and editors."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[dict]] = []
        self.cell: dict | None = None
        self.in_head = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "thead":
            self.in_head = True
        elif tag == "tr" and not self.in_head:
            self.rows.append([])
        elif tag == "td" and self.rows and not self.in_head:
            self.cell = {"class": attrs.get("class"), "text": "", "tags": []}
            self.rows[-1].append(self.cell)
        elif self.cell is not None:
            kept = {k: v for k, v in attrs.items()
                    if k in ("href", "title", "name", "value", "class", "data-pk", "data-id",
                             "data-model", "data-url", "data-type", "data-role")}
            if kept.get("name") == "csrf_token":  # signed with the second it was made in
                kept.pop("value", None)
            self.cell["tags"].append((tag, sorted(kept.items())))

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self.in_head = False
        elif tag == "td":
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell["text"] = " ".join((self.cell["text"] + " " + data).split())


def _body_rows(page: str) -> list[list[dict]]:
    table = page[page.index('<table class="table table-striped'):]
    parser = _Rows()
    parser.feed(table[:table.index("</table>")])
    return [row for row in parser.rows if row]


def _ours_and_flask_admins(app, client, endpoint: str, monkeypatch) -> tuple[list, list, int]:
    """A list's body rows as LEC draws them and as Flask-Admin's own list template draws them,
    the students' remove icon (LEC's own, for active learners) taken out; and how many."""
    url = f"/admin/{endpoint}/"
    ours = _body_rows(client.get(url).get_data(as_text=True))
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == endpoint)
    with monkeypatch.context() as patch:
        patch.setattr(view, "list_template", "admin/model/list.html")
        theirs = _body_rows(client.get(url).get_data(as_text=True))
    removals = 0
    for row in ours:
        links = row[1]["tags"] if len(row) > 1 else []
        removal = [t for t in links if "/remove/" in dict(t[1]).get("href", "")]
        if removal:
            removals += 1
            assert [c["text"] for c in row if c["class"] == "col-status"] == ["กำลังศึกษา"]
            row[1]["tags"] = links[:links.index(removal[0])]
    return ours, theirs, removals


def _learners(tree) -> None:
    year = current_academic_year(db.session)
    for i, status in enumerate(("active", "active", "withdrawn")):
        learner = Learner(national_id=nid(3200 + i), first_name=f"ชื่อ{letters(i)}",
                          last_name="สกุล", gender="F")
        db.session.add(Enrolment(learner=learner, institution=tree.a.school, academic_year=year,
                                 grade="P3", classroom="1/2", status=status))
    db.session.commit()
    # Text to escape, in names stored before names were held to letters.
    names = Learner.__table__.c.first_name
    db.session.execute(update(Learner.__table__).values(first_name="<" + names + ">"))
    db.session.commit()


@pytest.mark.parametrize(("who", "endpoint"), [
    ("a.school_user", "student"),     # inline editors, the remove icon, whole IDs
    ("a.province_user", "student"),   # masked IDs with the reveal button
    ("a.province_user", "institution"),  # text and yes/no editors
    ("department", "user"),           # the accounts' yes/no editor
])
def test_list_rows_are_the_rows_flask_admins_own_template_draws(app, tree, browser,
                                                                monkeypatch, who, endpoint):
    _learners(tree)
    client = browser(reduce(getattr, who.split("."), tree))
    ours, theirs, removals = _ours_and_flask_admins(app, client, endpoint, monkeypatch)
    assert len(ours) >= 2
    assert ours == theirs
    assert removals == (2 if endpoint == "student" else 0)


def test_every_list_the_department_opens_draws_flask_admins_rows(app, tree, browser,
                                                                monkeypatch):
    _learners(tree)  # and with them the audit log's entries
    client = browser(tree.department)
    lists = [view.endpoint for view in app.extensions["admin"][0]._views
             if isinstance(view, ScopedModelView) and may_open(tree.department, view.endpoint)]
    assert {"student", "child", "learner", "lao", "institution", "user", "audit",
            "province"} <= set(lists)
    for endpoint in lists:
        ours, theirs, _removals = _ours_and_flask_admins(app, client, endpoint, monkeypatch)
        assert ours == theirs, endpoint


def test_yes_no_icons_say_the_column_and_yes_or_no_in_thai(app, tree, browser):
    page = browser(tree.department).get("/admin/user/").get_data(as_text=True)
    titles = set(re.findall(r'<span class="fa fa-(?:check|minus)-circle[^"]*" title="([^"]*)"',
                            page))
    assert titles and not any(": true" in t or ": false" in t for t in titles), titles
    assert {"เปิดใช้งาน: ใช่", "ต้องเปลี่ยนรหัสผ่าน: ไม่ใช่"} <= titles, titles
    assert "active: true" not in page
