"""The scope matrix (issue 2): every level is refused every object outside its subtree.

Each object is labelled with its owners (province, LAO, institution) in the `tree` fixture;
for every signed-in level and every object it does not own, every admin path answers 403 or
404 (or leaves the object out of lists and lookups), and nothing is written.
"""

import pytest
from sqlalchemy import select

from models import Institution, Lao, OtherSchool, User, db
from rules import RuleViolation, acting_as

ACTORS = {  # actor -> (level, its owner label)
    "province": ("a", None, None),
    "lao": ("a", "muni", None),
    "institution": ("a", "muni", "school"),
}


def targets(tree):
    """(view endpoint, object, owner label, text shown in the list)."""
    rows = [("user", tree.department, (None, None, None), tree.department.login)]
    for p in ("a", "b"):
        u = getattr(tree, p)
        rows += [
            ("lao", u.muni, (p, "muni", None), u.muni.code),
            ("lao", u.sao, (p, "sao", None), u.sao.code),
            ("institution", u.school, (p, "muni", "school"), u.school.code),
            ("institution", u.cdc, (p, "sao", "cdc"), u.cdc.code),
            ("other_school", u.other, (p, "sao", None), u.other.code),
            ("user", u.province_user, (p, None, None), u.province_user.login),
            ("user", u.muni_user, (p, "muni", None), u.muni_user.login),
            ("user", u.school_user, (p, "muni", "school"), u.school_user.login),
            ("user", u.cdc_user, (p, "sao", "cdc"), u.cdc_user.login),
        ]
    return rows


def row_shown(response, obj) -> bool:
    """Whether a list page links to `obj` (its details/edit link or its bulk checkbox)."""
    page = response.get_data(as_text=True)
    return f"?id={obj.id}&amp;" in page or f'value="{obj.id}"' in page


def owns(actor: str, owner: tuple) -> bool:
    mine = ACTORS[actor]
    depth = {"province": 1, "lao": 2, "institution": 3}[actor]
    return owner[:depth] == mine[:depth]


def actor_user(tree, actor):
    return {"province": tree.a.province_user, "lao": tree.a.muni_user,
            "institution": tree.a.school_user}[actor]


def snapshot(obj):
    db.session.expire_all()
    model = type(obj)
    fresh = db.session.get(model, obj.id)
    return None if fresh is None else {c.key: getattr(fresh, c.key)
                                       for c in model.__mapper__.column_attrs}


LOOKUPS = {"lao": ("institution", "lao"), "institution": ("user", "institution"),
           "other_school": None, "user": None}
ACTIONS = {"lao": "delete", "institution": "deactivate", "other_school": "delete",
           "user": "delete"}


@pytest.mark.parametrize("actor", sorted(ACTORS))
def test_every_level_is_refused_everything_outside_its_subtree(app, tree, browser, actor):
    b = browser(actor_user(tree, actor))
    refused = 0
    for view, obj, owner, label in targets(tree):
        if owns(actor, owner):
            continue
        before = snapshot(obj)
        listing = b.get(f"/admin/{view}/")
        assert listing.status_code == 403 or not row_shown(listing, obj), (actor, view, label)
        for path in ("details", "edit"):
            assert b.get(f"/admin/{view}/{path}/?id={obj.id}").status_code in (403, 404)
        assert b.post(f"/admin/{view}/edit/?id={obj.id}",
                      {"name": "แก้ไขโดยผู้ไม่มีสิทธิ์"}).status_code in (403, 404)
        assert b.post(f"/admin/{view}/delete/", {"id": str(obj.id)}).status_code in (403, 404)
        assert b.post(f"/admin/{view}/action/", {"action": ACTIONS[view],
                                                 "rowid": str(obj.id)}).status_code in (403, 404)
        assert b.post(f"/admin/{view}/ajax/update/", {"list_form_pk": str(obj.id),
                                                      "name": "x"}).status_code in (403, 404)
        if LOOKUPS[view]:
            host, field = LOOKUPS[view]
            found = b.get(f"/admin/{host}/ajax/lookup/?name={field}&query={label}")
            assert found.status_code in (403, 404) or label not in found.get_data(as_text=True)
        assert snapshot(obj) == before, (actor, view, label)
        refused += 1
    assert refused >= 9  # the matrix is not empty for any level


def test_each_level_sees_its_own_subtree(app, tree, browser):
    """The other half of the matrix: scoping does not hide what a unit owns."""
    page = browser(tree.a.province_user).get("/admin/institution/")
    assert row_shown(page, tree.a.school) and row_shown(page, tree.a.cdc)
    page = browser(tree.a.muni_user).get("/admin/institution/")
    assert row_shown(page, tree.a.school) and not row_shown(page, tree.a.cdc)
    page = browser(tree.a.school_user).get(f"/admin/institution/edit/?id={tree.a.school.id}")
    assert page.status_code == 200


def test_an_lao_cannot_create_an_institution_under_another_lao(app, tree, browser):
    b = browser(tree.a.muni_user)
    response = b.post("/admin/institution/new/", {
        "code": "3033600077", "name": "ศพด.แอบสร้าง", "kind": "cdc",
        "lao": str(tree.a.sao.id), "active": "y"})
    assert response.status_code == 200
    assert db.session.scalar(select(Institution).where(Institution.code == "3033600077")) is None


def test_an_institution_cannot_change_its_own_code_or_lao(app, tree, browser):
    b = browser(tree.a.school_user)
    b.post(f"/admin/institution/edit/?id={tree.a.school.id}",
           {"name": "ชื่อใหม่", "code": "3033200099", "lao": str(tree.a.sao.id),
            "phone": "045 111 222"})
    school = db.session.get(Institution, tree.a.school.id)
    db.session.refresh(school)
    assert school.code == "3033200001" and school.lao_id == tree.a.muni.id
    assert school.name == "ชื่อใหม่" and school.phone == "045 111 222"


def test_a_province_cannot_create_a_department_account(app, tree, browser):
    b = browser(tree.a.province_user)
    b.post("/admin/user/new/", {"login": "sneaky", "level": "department",
                                "new_password": "a-long-password-1"})
    assert db.session.scalar(select(User).where(User.login == "sneaky")) is None


def test_department_bulk_edits_across_the_nation(app, tree, browser):
    b = browser(tree.department)
    ids = [str(tree.a.school.id), str(tree.b.cdc.id)]
    response = b.post("/admin/institution/action/", {"action": "deactivate", "rowid": ids})
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(Institution, tree.a.school.id).active
    assert not db.session.get(Institution, tree.b.cdc.id).active


def test_models_in_matrix_cover_every_scoped_entity(app, tree):
    """A new entity view must be added to the matrix above."""
    models = {type(obj) for _v, obj, _o, _l in targets(tree)}
    assert models == {Lao, Institution, OtherSchool, User}


@pytest.mark.parametrize("kind, code", [("cdc", "3034600099"), ("other", "1034000099")])
def test_a_province_cannot_move_a_unit_out_of_its_province_through_its_lao(app, tree, kind,
                                                                             code):
    """The move is made on the relationship, whose foreign key SQLAlchemy fills in only after
    the rules ran: the scope check must still see the LAO the row moves to (the code is
    changed to fit the new province, so only the scope can refuse it)."""
    obj = getattr(tree.a, kind)
    before = snapshot(obj)
    with acting_as(tree.a.province_user), pytest.raises(RuleViolation) as refused:
        moved = db.session.get(type(obj), obj.id)
        moved.lao, moved.code = tree.b.sao, code
        db.session.commit()
    db.session.rollback()
    assert refused.value.messages == ["ท่านไม่มีสิทธิ์แก้ไขข้อมูลนอกหน่วยงานของท่าน"]
    assert snapshot(obj) == before


def test_an_institution_cannot_move_itself_through_its_lao(app, tree):
    before = snapshot(tree.a.cdc)
    with acting_as(tree.a.cdc_user), pytest.raises(RuleViolation) as refused:
        db.session.get(Institution, tree.a.cdc.id).lao = tree.a.muni
        db.session.commit()
    db.session.rollback()
    assert "lao_id" in str(refused.value)  # a locked field, not only a code that no longer fits
    assert snapshot(tree.a.cdc) == before


@pytest.mark.parametrize(("actor", "view"), [("province_user", "institution"),
                                             ("muni_user", "institution"),
                                             ("school_user", "institution"),
                                             ("school_user", "learner")])
def test_every_level_picks_a_subdistrict_from_the_whole_country(app, tree, browser, actor,
                                                                 view):
    """Subdistricts are the country's reference data: the institution form's picker found
    nothing for anyone but the department."""
    found = browser(getattr(tree.a, actor)).get(
        f"/admin/{view}/ajax/lookup/?name=subdistrict&query=330101"
        if view == "institution" else
        f"/admin/{view}/ajax/lookup/?name=registered_subdistrict&query=330101")
    assert found.status_code == 200 and "330101" in found.get_data(as_text=True)
