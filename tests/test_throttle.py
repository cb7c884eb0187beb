"""One throttle for sign-in, admission and look-ups, keyed on the real client (issue 12 item 5)."""

import pytest
from conftest import PASSWORD, csrf_token
from sqlalchemy import func, select

import app as app_module
from models import AuditEntry, db
from rules import throttle as throttle_module
from rules.throttle import RedisStore
from web import security

ATTACKER, OWNER = "203.0.113.5", "198.51.100.7"


def _attempt(client, login, password, address):
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client.get("/login", environ_base=environ).get_data(as_text=True))
    return client.post("/login", data={"login": login, "password": password,
                                       "csrf_token": token}, environ_base=environ)


@pytest.fixture(params=["database", "redis"])
def store(request, app):
    """The throttle on the embedded store, then on Redis (LEC_REDIS_URL in production)."""
    throttle = security.throttle(app)
    original = throttle.store
    if request.param == "redis":
        redis_store = RedisStore("redis://127.0.0.1:6379/12", prefix="lec-test-12:")
        try:
            redis_store.redis.ping()
        except Exception as exc:  # noqa: BLE001
            pytest.skip(f"Redis not available: {exc}")
        throttle.store = redis_store
    yield request.param
    if request.param == "redis":
        for key in throttle.store.redis.scan_iter("lec-test-12:*"):
            throttle.store.redis.delete(key)
    throttle.store = original


@pytest.fixture
def now(monkeypatch):
    clock = [1_900_000_000.0]
    monkeypatch.setattr(throttle_module, "clock", lambda: clock[0])
    return clock


def test_a_burst_from_one_client_does_not_lock_out_the_owner(app, tree, store, now):
    victim = tree.a.school_user.login
    attacker = app.test_client()
    refused = 0
    for i in range(100):
        now[0] += 0.5
        refused += _attempt(attacker, victim, f"guess {i}", ATTACKER).status_code == 429
    assert refused >= 90  # after 5 free failures the attacker waits, doubling each time
    owner = app.test_client()
    response = _attempt(owner, victim, PASSWORD, OWNER)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def test_delays_grow_then_pass_never_a_lock(app, tree, store, now):
    victim = tree.a.cdc_user.login
    client = app.test_client()
    for i in range(5):
        assert _attempt(client, victim, f"guess {i}", ATTACKER).status_code == 200
    response = _attempt(client, victim, PASSWORD, ATTACKER)
    assert response.status_code == 429  # even the right password waits its second
    assert "กรุณารอ" in response.get_data(as_text=True)
    now[0] += 1.5
    assert _attempt(client, victim, "guess 5", ATTACKER).status_code == 200
    assert _attempt(client, victim, PASSWORD, ATTACKER).status_code == 429
    now[0] += 2.5  # the wait doubled: 2 s
    response = _attempt(client, victim, PASSWORD, ATTACKER)
    assert response.status_code == 302


def test_many_made_up_logins_from_one_address_hold_back_only_that_address(app, tree, store,
                                                                         now):
    spammer = app.test_client()
    for i in range(60):
        now[0] += 0.1
        _attempt(spammer, f"nobody{i}", "whatever guess", ATTACKER)
    assert _attempt(spammer, "nobody-else", "x guess", ATTACKER).status_code == 429
    response = _attempt(app.test_client(), tree.a.school_user.login, PASSWORD, OWNER)
    assert response.status_code == 302


def test_behind_trusted_proxies_the_forwarded_client_is_counted(app, tree, now):
    original = app.wsgi_app
    app.config["LEC_TRUSTED_PROXIES"] = 1
    app_module._trust_proxies(app)
    try:
        victim = tree.a.school_user.login
        proxy = "10.0.0.1"  # every request comes through the proxy
        client = app.test_client()

        def attempt(password, forwarded):
            token = csrf_token(client.get("/login").get_data(as_text=True))
            return client.post("/login", data={"login": victim, "password": password,
                                               "csrf_token": token},
                               headers={"X-Forwarded-For": forwarded},
                               environ_base={"REMOTE_ADDR": proxy})

        for i in range(30):
            now[0] += 0.5
            attempt(f"guess {i}", ATTACKER)
        assert attempt(PASSWORD, OWNER).status_code == 302
        ips = set(db.session.scalars(select(AuditEntry.ip).where(
            AuditEntry.action.in_(("sign_in_failed", "sign_in")))))
        assert ips == {ATTACKER, OWNER}
    finally:
        app.wsgi_app = original
        app.config["LEC_TRUSTED_PROXIES"] = 0


def test_without_trusted_proxies_forwarded_headers_are_ignored(app, tree):
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"login": "nobody", "password": "x guess", "csrf_token": token},
                headers={"X-Forwarded-For": ATTACKER}, environ_base={"REMOTE_ADDR": OWNER})
    assert db.session.scalar(select(AuditEntry.ip).where(
        AuditEntry.action == "sign_in_failed")) == OWNER


def test_throttle_counters_are_not_audit_records(app, tree, store, now):
    client = app.test_client()
    environ = {"REMOTE_ADDR": ATTACKER}
    token = csrf_token(client.get("/track", environ_base=environ).get_data(as_text=True))
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    for _ in range(40):  # past the look-up limit too
        response = client.post("/track", data={"code": "ABCDEFGH", "csrf_token": token},
                               environ_base=environ)
    assert response.status_code == 429
    db.session.expire_all()
    after = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert after == before
