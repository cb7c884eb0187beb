"""Sign-in (SPEC §6, issue 2 item 4): codes as logins, safe redirects, sign-out."""

import pytest
from conftest import PASSWORD, csrf_token

from models import db
from rules.throttle import store_for
from web import security
from web.auth import FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS

PROTECTED = ["/admin/", "/admin/lao/", "/admin/institution/", "/admin/other_school/",
             "/admin/user/", "/admin/province/", "/admin/code_exception/",
             "/admin/institution/edit/?id=1", "/admin/institution/new/"]


@pytest.mark.parametrize("path", PROTECTED)
def test_anonymous_visitor_is_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def _login(client, login, password=PASSWORD, next_url=""):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login" + next_url, data={"login": login, "password": password,
                                                   "csrf_token": token})


def test_every_level_signs_in_with_its_code(client, tree):
    for user in (tree.department, tree.a.province_user, tree.a.muni_user, tree.a.school_user):
        response = _login(client, user.login)
        assert response.status_code == 302 and response.headers["Location"] == "/admin/"
        page = client.get("/admin/").get_data(as_text=True)
        assert user.login in page
        client.post("/logout", data={"csrf_token": csrf_token(page)})


def test_wrong_password_is_refused_in_thai(client, tree):
    response = _login(client, tree.a.school_user.login, "wrong password")
    assert response.status_code == 200
    assert "ชื่อผู้ใช้งานหรือรหัสผ่านไม่ถูกต้อง" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_a_closed_account_is_told_so_only_with_its_right_password(client, tree):
    """It was told "wrong login or password" and its owner tried again and again."""
    tree.a.school_user.active = False
    db.session.commit()
    refused = _login(client, tree.a.school_user.login).get_data(as_text=True)
    assert "บัญชีผู้ใช้งานนี้ถูกปิดการใช้งานแล้ว" in refused
    assert client.get("/admin/").status_code == 302
    wrong = _login(client, tree.a.school_user.login, "wrong password").get_data(as_text=True)
    assert "ชื่อผู้ใช้งานหรือรหัสผ่านไม่ถูกต้อง" in wrong and "ปิดการใช้งาน" not in wrong


@pytest.mark.parametrize("target,expected", [
    ("/admin/institution/", "/admin/institution/"),
    ("https://evil.example/", "/admin/"),
    ("//evil.example/x", "/admin/"),
    ("/\\evil.example", "/admin/"),
])
def test_next_redirect_stays_on_this_site(client, tree, target, expected):
    response = _login(client, tree.department.login, next_url=f"?next={target}")
    assert response.headers["Location"] == expected


def test_sign_out_needs_post_and_ends_the_session(client, tree):
    _login(client, tree.a.muni_user.login)
    page = client.get("/admin/").get_data(as_text=True)
    assert client.get("/logout").status_code == 405
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert client.get("/admin/").status_code == 302


def test_login_post_without_csrf_token_is_refused(client, tree):
    response = client.post("/login", data={"login": tree.department.login,
                                           "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


#: Nothing listens on port 1: a Redis that does not answer.
REDIS_DOWN = "redis://127.0.0.1:1/0"


def test_healthz_says_when_redis_is_down(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_DOWN)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "ok", "redis": "down"}


def test_sign_in_works_and_is_still_throttled_while_redis_is_down(app, client, tree,
                                                                 monkeypatch):
    throttle = security.throttle(app)
    monkeypatch.setattr(throttle, "store", store_for(REDIS_DOWN))
    for _attempt in range(FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        assert _login(client, tree.a.school_user.login, "wrong").status_code == 200
    refused = _login(client, tree.a.school_user.login, "wrong")
    assert refused.status_code == 429 and "กรุณารอ" in refused.get_data(as_text=True)
    assert _login(client, tree.department.login).headers["Location"] == "/admin/"
