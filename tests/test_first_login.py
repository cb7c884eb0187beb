"""First login (SPEC §6, issue 5 item 2): profile and new password before anything else."""

from datetime import UTC, datetime, timedelta

import pytest
from conftest import csrf_token
from sqlalchemy import func, select

from models import AuditEntry, Level, Profile, User, db
from models.accounts import password_hasher
from models.profiles import record_responsible, responsible_for_unit
from rules.passwords import password_problems

OTP = "k7Hq2mWx9pRt"
GOOD = "river lantern 2569 blue"
PROFILE = {"first_name": "สมหญิง", "surname": "ใจดี", "position": "ครู", "phone": "0812345678"}


@pytest.fixture
def newcomer(tree):
    """A school account just issued a card: no profile yet, a one-time password to replace."""
    user = User(login="1033200002", level=Level.INSTITUTION, institution=tree.a.school,
                password_hash=password_hasher.hash(OTP), must_change_password=True)
    db.session.add(user)
    db.session.commit()
    return user


def _sign_in(client, login, password):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"login": login, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302
    return response


@pytest.mark.parametrize("path", ["/admin/", "/admin/institution/", "/admin/audit/",
                                  "/admin/institution/edit/?id=1"])
def test_every_admin_page_leads_to_the_profile_first(app, newcomer, path):
    client = app.test_client()
    _sign_in(client, newcomer.login, OTP)
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/profile/"


def test_first_login_walks_through_profile_then_password(app, newcomer):
    client = app.test_client()
    _sign_in(client, newcomer.login, OTP)
    page = client.get("/admin/profile/").get_data(as_text=True)
    assert "ผู้รับผิดชอบ" in page
    response = client.post("/admin/profile/", data={**PROFILE, "csrf_token": csrf_token(page)})
    assert response.headers["Location"] == "/admin/profile/password"
    # Still no dashboard: the one-time password is not replaced yet.
    assert client.get("/admin/").headers["Location"] == "/admin/profile/password"
    page = client.get("/admin/profile/password").get_data(as_text=True)
    response = client.post("/admin/profile/password", data={
        "current": OTP, "new": GOOD, "confirm": GOOD, "csrf_token": csrf_token(page)})
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    user = db.session.get(User, newcomer.id)
    db.session.refresh(user)
    assert user.check_password(GOOD) and not user.check_password(OTP)
    assert not user.must_change_password
    profile = db.session.scalar(select(Profile).where(Profile.user_id == user.id))
    assert (profile.first_name, profile.surname, profile.valid_to) == ("สมหญิง", "ใจดี", None)
    # The one-time password is spent: it no longer signs in.
    other = app.test_client()
    token = csrf_token(other.get("/login").get_data(as_text=True))
    response = other.post("/login", data={"login": user.login, "password": OTP,
                                          "csrf_token": token})
    assert response.status_code == 200


@pytest.mark.parametrize("new,message", [
    ("short1", "อย่างน้อย 10 ตัวอักษร"),
    ("password123", "มีผู้ใช้กันมาก"),
    ("qwertyuiop", "มีผู้ใช้กันมาก"),
    ("my1033200002pass", "ต้องไม่มีชื่อผู้ใช้งาน"),
    (OTP, "ต้องไม่ซ้ำกับรหัสผ่านครั้งแรก"),
])
def test_weak_or_reused_password_is_refused_and_nothing_changes(app, newcomer, new, message):
    client = app.test_client()
    _sign_in(client, newcomer.login, OTP)
    record_responsible(db.session.get(User, newcomer.id), **PROFILE)
    db.session.commit()
    before = db.session.scalar(select(User.password_hash).where(User.id == newcomer.id))
    page = client.get("/admin/profile/password").get_data(as_text=True)
    response = client.post("/admin/profile/password", data={
        "current": OTP, "new": new, "confirm": new, "csrf_token": csrf_token(page)},
        follow_redirects=True)
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(User.password_hash).where(User.id == newcomer.id)) == before
    assert client.get("/admin/").headers["Location"] == "/admin/profile/password"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "password_change_refused")) == 1


def test_wrong_current_password_is_refused(app, newcomer):
    client = app.test_client()
    _sign_in(client, newcomer.login, OTP)
    page = client.get("/admin/profile/password").get_data(as_text=True)
    response = client.post("/admin/profile/password", data={
        "current": "not the otp at all", "new": GOOD, "confirm": GOOD,
        "csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "รหัสผ่านปัจจุบันไม่ถูกต้อง" in response.get_data(as_text=True)
    assert db.session.get(User, newcomer.id).check_password(OTP)


def test_password_policy_rules():
    assert password_problems(GOOD, ["1033200002"]) == []
    # short, common, a run of sequential characters, and the login itself
    assert len(password_problems("abc123", ["abc123"])) == 4
    assert password_problems("Somchai-is-great-2569", ["somchai"])  # login in any case


def test_who_was_responsible_for_a_unit_on_a_date(app, tree):
    user = tree.a.school_user
    db.session.execute(db.delete(Profile).where(Profile.user_id == user.id))
    jan, jun = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 6))
    # After the fixture accounts' profiles began (today), whatever day the suite runs.
    later = datetime.now(UTC) + timedelta(days=1)
    first = record_responsible(user, "มานี", "มีนา", "ครูใหญ่", "045111111", now=jan)
    db.session.commit()
    # Same person, new phone: the same term, updated.
    assert record_responsible(user, "มานี", "มีนา", "ครูใหญ่", "045222222", now=jan) is first
    second = record_responsible(user, "ปิติ", "ชูใจ", "ผู้อำนวยการ", "045333333", now=jun)
    db.session.commit()
    assert second is not first
    assert first.valid_to.replace(tzinfo=None) == jun.replace(tzinfo=None)  # SQLite: naive
    assert responsible_for_unit(tree.a.school, datetime(2026, 3, 1, tzinfo=UTC)).surname == "มีนา"
    assert responsible_for_unit(tree.a.school, later).surname == "ชูใจ"
    assert responsible_for_unit(tree.a.school, datetime(2025, 3, 1, tzinfo=UTC)) is None
    assert responsible_for_unit(tree.a.muni, later) is not None  # an LAO's account too
    assert responsible_for_unit("33", later) is not None  # and a province's


def test_new_responsible_person_through_the_profile_page(app, tree, browser):
    b = browser(tree.a.muni_user)
    response = b.post("/admin/profile/", data={**PROFILE, "first_name": "ชูใจ"})
    assert response.status_code == 302
    rows = db.session.scalars(select(Profile).where(Profile.user_id == tree.a.muni_user.id)
                              .order_by(Profile.valid_from)).all()
    assert [r.first_name for r in rows] == ["สมชาย", "ชูใจ"]
    assert rows[0].valid_to is not None and rows[1].valid_to is None
    # Both terms are in the audit log as ordinary record changes.
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.model == "Profile", AuditEntry.actor_login == tree.a.muni_user.login)) == 2
