"""Hardening (issue 5 item 4): hashing, sessions, cookies, throttling, CSRF and headers."""

import re

import pytest
from conftest import PASSWORD, Browser, csrf_token
from sqlalchemy import func, select
from werkzeug.routing.converters import NumberConverter

from app import create_app
from models import User, db
from web import security

HANDLED = (r"modelActions\.execute\('|safeConfirm\('|confirm\('|faForm\.addInlineField\(|"
           r"^return false;?$")


def test_password_hash_meets_owasp_minimums(tree):
    user = tree.a.school_user
    user.set_password("a fresh password 1")
    db.session.commit()
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    match = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$.+", stored)
    assert match, stored
    memory, iterations, lanes = map(int, match.groups())
    assert memory >= 19456 and iterations >= 2 and lanes >= 1
    assert "a fresh password 1" not in stored


def _cookie(client):
    return client.get_cookie("session").value


def _replay(app, value):
    fresh = app.test_client()
    fresh.set_cookie("session", value)
    return fresh.get("/admin/")


def test_cookie_captured_before_logout_is_refused_after_it(app, tree, browser):
    b = browser(tree.a.muni_user)
    stolen = _cookie(b.client)
    assert _replay(app, stolen).status_code == 200
    b.post("/logout")
    response = _replay(app, stolen)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_cookie_dies_with_password_change_and_disable(app, tree, browser):
    b = browser(tree.a.school_user)
    stolen = _cookie(b.client)
    new = "plum orchard at dusk 42"
    response = b.post("/admin/profile/password",
                      data={"current": PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 302
    assert _replay(app, stolen).status_code == 302
    assert b.get("/admin/").status_code == 200  # the user's own browser got a new session

    b2 = browser(tree.a.cdc_user)
    stolen = _cookie(b2.client)
    user = db.session.get(User, tree.a.cdc_user.id)
    user.active = False
    db.session.commit()
    assert _replay(app, stolen).status_code == 302


def test_tampered_cookie_is_refused(app, tree, browser):
    b = browser(tree.department)
    value = _cookie(b.client)
    tampered = value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    assert _replay(app, tampered).status_code == 302


def test_session_is_renewed_at_sign_in(app, tree):
    client = app.test_client()
    client.get("/login")
    before = _cookie(client)
    Browser(client).login(tree.a.muni_user.login)
    assert _cookie(client) != before


def test_cookie_flags(app, tree):
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"login": tree.department.login, "password": PASSWORD,
                                           "csrf_token": token})
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header


def test_cookies_are_secure_outside_development(monkeypatch, tmp_path):
    monkeypatch.delenv("LEC_SECURE_COOKIES", raising=False)
    monkeypatch.delenv("LEC_ENV", raising=False)
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite", "SECRET_KEY": "x"}
    assert create_app(config).config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("LEC_ENV", "development")
    assert create_app(config).config["SESSION_COOKIE_SECURE"] is False


def test_idle_and_absolute_lifetimes(app, tree, browser, monkeypatch):
    now = [1_900_000_000.0]
    monkeypatch.setattr(security, "clock", lambda: now[0])
    b = browser(tree.a.muni_user)
    idle = app.config["LEC_IDLE_SECONDS"]
    now[0] += idle - 60
    assert b.get("/admin/").status_code == 200  # active use keeps the session alive
    now[0] += idle + 1
    response = b.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")

    b = browser(tree.a.muni_user)
    for _ in range(app.config["LEC_ABSOLUTE_SECONDS"] // (idle - 60) + 1):
        now[0] += idle - 60
        response = b.get("/admin/")
    assert response.status_code == 302, "an always-busy session still ends"


def _post_rules(app):
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        url = rule.rule
        for arg, conv in rule._converters.items():
            number = isinstance(conv, NumberConverter)
            url = re.sub(rf"<[^>]*\b{arg}>", "1" if number else "x", url)
        yield rule.rule, url


def _row_counts():
    return {t.name: db.session.execute(select(func.count()).select_from(t)).scalar()
            for t in db.metadata.sorted_tables}


def test_every_post_route_refuses_a_missing_or_forged_csrf_token(app, tree, browser):
    b = browser(tree.department)
    routes = list(_post_rules(app))
    assert len(routes) > 20
    before = _row_counts()
    for rule, url in routes:
        for token in (None, "forged-token"):
            data = {"id": "1", "rowid": "1", "login": "x", "password": "x", "name": "x",
                    "user_id": str(tree.a.school_user.id), "group": "province"}
            if token:
                data["csrf_token"] = token
            response = b.client.post(url, data=data)
            assert response.status_code == 400, (rule, token, response.status_code)
    db.session.expire_all()
    after = _row_counts()
    logged = after.pop("audit_entry") - before.pop("audit_entry")
    assert after == before
    assert logged == 2 * len(routes)  # each refusal is in the audit log
    assert b.get("/admin/").status_code == 200


ADMIN_PAGES = ["/admin/", "/admin/institution/", "/admin/institution/new/", "/admin/user/",
               "/admin/audit/", "/admin/cards/", "/admin/profile/"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_security_headers_and_a_csp_the_admin_pages_pass(tree, browser, path):
    b = browser(tree.department)
    response = b.get(path)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "admin pages load scripts"
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag or "src=" in tag, tag
        if "src=" in tag:
            src = re.search(r'src="([^"]+)"', tag).group(1)
            assert src.startswith("/"), f"script from another origin: {src}"
            assert f'nonce="{nonce}"' in tag, tag
    assert "lec-csp.js" in html
    # Inline handlers are refused by the CSP: none is left in the page, and static/lec-csp.js
    # runs each of Flask-Admin's (moved to data-lec-onclick) from a known pattern.
    assert not re.findall(r'\son[a-z]+="', html) and 'href="javascript:' not in html
    for handler in re.findall(r'data-lec-onclick="([^"]*)"', html):
        assert re.search(HANDLED, handler), f"unhandled inline handler: {handler}"


def test_login_page_has_the_headers_too(client):
    response = client.get("/login")
    assert "Content-Security-Policy" in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"
