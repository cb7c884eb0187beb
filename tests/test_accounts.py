"""Account management (SPEC §1, §6): a level manages only accounts of the levels below it, in
its own subtree, and no account is ever deleted, so its responsible-person history stays."""

import pytest
from conftest import Browser
from sqlalchemy import delete, select

from models import Institution, Level, User, db
from models.profiles import Profile
from rules import RuleViolation, acting_as

LEVEL_REFUSED = "ท่านสร้างหรือแก้ไขได้เฉพาะบัญชีผู้ใช้งานที่มีระดับต่ำกว่าระดับของท่าน"
NEVER_DELETED = "บัญชีผู้ใช้งานไม่มีการลบ"


def snapshot(user: User) -> dict:
    """The account's row as the database holds it now."""
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    return None if fresh is None else {c.key: getattr(fresh, c.key)
                                       for c in User.__mapper__.column_attrs}


def account_form(user: User, **changes: str) -> dict:
    """The account's edit form as the browser posts it, with `changes` typed in."""
    form = {"login": user.login, "name": user.name or "", "level": user.level,
            "province_code": user.province_code or "", "lao": str(user.lao_id or ""),
            "institution": str(user.institution_id or ""), "active": "y"}
    return form | changes


@pytest.mark.parametrize("level", [Level.DEPARTMENT, Level.PROVINCE])
def test_a_province_cannot_raise_an_account_to_its_level_or_above(app, tree, browser, level):
    account = tree.a.sao_user
    before = snapshot(account)
    page = browser(tree.a.province_user).post(
        f"/admin/user/edit/?id={account.id}", account_form(account, level=level),
        follow_redirects=True)
    assert page.status_code == 200
    assert LEVEL_REFUSED in page.get_data(as_text=True)
    assert snapshot(account) == before


def test_a_province_cannot_move_an_account_out_of_its_province(app, tree):
    account = tree.a.sao_user
    before = snapshot(account)
    with acting_as(tree.a.province_user), pytest.raises(RuleViolation) as refused:
        db.session.get(User, account.id).lao = tree.b.sao
        db.session.commit()
    db.session.rollback()
    assert "ท่านไม่มีสิทธิ์แก้ไขข้อมูลนอกหน่วยงานของท่าน" in refused.value.messages
    assert snapshot(account) == before


def test_a_province_cannot_create_a_province_account(app, tree, browser):
    page = browser(tree.a.province_user).post("/admin/user/new/", {
        "login": "33-second", "level": "province", "province_code": "33",
        "new_password": "a-long-password-1", "active": "y"}, follow_redirects=True)
    assert LEVEL_REFUSED in page.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.login == "33-second")) is None


def test_the_level_list_offers_only_levels_below_the_user(app, tree, browser):
    page = browser(tree.a.province_user).get("/admin/user/new/").get_data(as_text=True)
    assert 'value="lao"' in page and 'value="institution"' in page
    assert 'value="province"' not in page and 'value="department"' not in page
    page = browser(tree.department).get("/admin/user/new/").get_data(as_text=True)
    assert all(f'value="{level}"' in page for level in Level)


def test_a_province_still_manages_the_accounts_below_it(app, tree, browser):
    account = tree.a.sao_user
    page = browser(tree.a.province_user).post(
        f"/admin/user/edit/?id={account.id}", account_form(account, name="อบต. ทดสอบ"),
        follow_redirects=True)
    assert LEVEL_REFUSED not in page.get_data(as_text=True)
    assert snapshot(account)["name"] == "อบต. ทดสอบ"


def test_an_lao_cannot_create_or_raise_an_account_to_lao_level(app, tree, browser):
    lao = tree.a.muni_user
    assert browser(lao).get("/admin/user/new/").status_code == 403
    with acting_as(lao), pytest.raises(RuleViolation):
        db.session.add(User(login="muni-second", level=Level.LAO, lao=tree.a.muni))
        db.session.commit()
    db.session.rollback()
    before = snapshot(tree.a.school_user)
    with acting_as(lao), pytest.raises(RuleViolation):
        db.session.get(User, tree.a.school_user.id).level = Level.LAO
        db.session.commit()
    db.session.rollback()
    assert snapshot(tree.a.school_user) == before
    assert db.session.scalar(select(User).where(User.login == "muni-second")) is None


def test_the_department_may_create_and_raise_any_account(app, tree, browser):
    b = browser(tree.department)
    account = tree.a.sao_user
    b.post(f"/admin/user/edit/?id={account.id}", account_form(account, level="department"))
    after = snapshot(account)
    assert after["level"] == Level.DEPARTMENT and after["province_code"] is None
    b.post("/admin/user/new/", {"login": "dla.second", "level": "department",
                                "new_password": "a-long-password-1", "active": "y"})
    created = db.session.scalar(select(User).where(User.login == "dla.second"))
    assert created is not None and created.level == Level.DEPARTMENT


def profiles_of(user: User) -> int:
    return len(db.session.scalars(select(Profile).where(Profile.user_id == user.id)).all())


@pytest.mark.parametrize("actor", ["department", "province"])
def test_no_one_deletes_an_account_in_the_admin(app, tree, browser, actor):
    b = browser(tree.department if actor == "department" else tree.a.province_user)
    account = tree.a.sao_user
    listing = b.get("/admin/user/").get_data(as_text=True)
    assert "/admin/user/delete/" not in listing and 'value="delete"' not in listing
    assert b.post("/admin/user/delete/", {"id": str(account.id)}).status_code == 403
    b.post("/admin/user/action/", {"action": "delete", "rowid": str(account.id)})
    assert snapshot(account) is not None and profiles_of(account) == 1


@pytest.mark.parametrize("actor", ["department", "trusted code"])
def test_no_one_deletes_an_account_by_script(app, tree, actor):
    account = tree.a.sao_user
    with app.test_request_context(), acting_as(
            tree.department if actor == "department" else None):
        with pytest.raises(RuleViolation) as refused:
            db.session.delete(db.session.get(User, account.id))
            db.session.commit()
        db.session.rollback()
        assert NEVER_DELETED in str(refused.value)
        with pytest.raises(RuleViolation):
            db.session.execute(delete(User).where(User.id == account.id))
        db.session.rollback()
    assert snapshot(account) is not None and profiles_of(account) == 1


def test_a_refused_bulk_delete_says_why_and_claims_no_success(app, tree, browser):
    page = browser(tree.department).post(
        "/admin/institution/action/", {"action": "delete", "rowid": str(tree.a.school.id)},
        follow_redirects=True).get_data(as_text=True)
    assert db.session.get(Institution, tree.a.school.id) is not None
    assert "successfully deleted" not in page and "เรียบร้อยแล้ว" not in page
    assert "ไม่สามารถลบข้อมูลนี้ได้ เพราะยังมีข้อมูลอื่นอ้างอิงถึงข้อมูลนี้อยู่" in page


def test_the_department_deactivates_an_account_from_the_list(app, tree, browser):
    """The Active tick in the account list saves, as the edit form does."""
    account = tree.a.province_user
    response = browser(tree.department).post("/admin/user/ajax/update/", {
        "list_form_pk": str(account.id), "active": ""})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "new_password" not in response.get_data(as_text=True)
    assert snapshot(account)["active"] is False


def test_a_login_is_one_word_found_in_any_case(app, tree, browser):
    """" dla.sp " could never sign in, and "DLA.Somchai" beside "dla.somchai" was a second
    account for the same person."""
    b = browser(tree.department)
    page = b.post("/admin/user/new/", {"login": "dla sp", "level": "department",
                                       "new_password": "a-long-password-1", "active": "y"})
    assert "ชื่อผู้ใช้งานต้องเป็นคำเดียว ไม่มีเว้นวรรค" in page.get_data(as_text=True)
    b.post("/admin/user/new/", {"login": "  dla.somchai ", "level": "department",
                                "new_password": "a-long-password-1", "active": "y"})
    created = db.session.scalar(select(User).where(User.login == "dla.somchai"))
    assert created is not None
    page = b.post("/admin/user/new/", {"login": "DLA.Somchai", "level": "department",
                                       "new_password": "a-long-password-1", "active": "y"})
    assert "dla.somchai" in page.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.login == "DLA.Somchai")) is None
    Browser(app.test_client()).login(" DLA.SomChai ", "a-long-password-1")  # signs in


def test_an_account_for_a_province_that_does_not_exist_says_so(app, tree, browser):
    """Province 99 was refused as "a code or name that must be unique is already used"."""
    page = browser(tree.department).post("/admin/user/new/", {
        "login": "99", "level": "province", "province_code": "99",
        "new_password": "a-long-password-1", "active": "y"}).get_data(as_text=True)
    assert "ไม่มีจังหวัดรหัส 99" in page
    assert "ต้องไม่ซ้ำ" not in page
    assert db.session.scalar(select(User).where(User.login == "99")) is None


def test_a_department_account_without_a_password_is_refused(app, tree, browser):
    """It was created, and could never sign in: no card is issued for a department account."""
    page = browser(tree.department).post("/admin/user/new/", {
        "login": "dla.nopass", "level": "department", "new_password": "",
        "active": "y"}).get_data(as_text=True)
    assert "บัญชีระดับ สถ. ต้องมีรหัสผ่าน" in page
    assert db.session.scalar(select(User).where(User.login == "dla.nopass")) is None


def test_bangkok_gets_no_province_account(app, tree, browser):
    """Bangkok has no Provincial Office of Local Administration and no LAOs under DLA."""
    b = browser(tree.department)
    page = b.post("/admin/user/new/", {
        "login": "10", "level": "province", "province_code": "10",
        "new_password": "a-long-password-1", "active": "y"}).get_data(as_text=True)
    assert "กรุงเทพมหานครไม่มีบัญชีระดับจังหวัด" in page
    assert db.session.scalar(select(User).where(User.login == "10")) is None
    account = tree.a.province_user
    page = b.post(f"/admin/user/edit/?id={account.id}",
                  account_form(account, province_code="10")).get_data(as_text=True)
    assert "กรุงเทพมหานครไม่มีบัญชีระดับจังหวัด" in page
    assert snapshot(account)["province_code"] == "33"


def test_an_account_without_its_unit_is_told_only_that(app, tree, browser):
    """A province forgetting to pick the LAO was also told the account lay outside its unit."""
    page = browser(tree.a.province_user).post("/admin/user/new/", {
        "login": "lao.helper", "name": "ผู้ช่วย", "level": "lao",
        "new_password": "a-long-password-1", "active": "y"}).get_data(as_text=True)
    assert "บัญชีระดับ อปท. ต้องระบุ อปท." in page
    assert "ท่านไม่มีสิทธิ์แก้ไขข้อมูลนอกหน่วยงานของท่าน" not in page
    assert 'value="ผู้ช่วย"' in page  # what was typed is kept
    assert db.session.scalar(select(User).where(User.login == "lao.helper")) is None
