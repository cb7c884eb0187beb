"""Hardening that wraps every request: headers and CSP, session lifetimes, sign-in throttling."""

import os
import re
import secrets
import time
import uuid
from typing import Protocol

from flask import Flask, Response, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy import delete, func, select

from models import SignInFailure, db

#: A minute's slack before the last-seen time is rewritten, so not every request sets a cookie.
SEEN_RESOLUTION = 60


def clock() -> float:
    """Seconds since the epoch; tests replace it to travel in time."""
    return time.time()


def csp_nonce() -> str:
    """One nonce per response, shared by every inline script and the CSP header."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy() -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{csp_nonce()}'",
        # Flask-Admin's and Bootstrap's widgets set style attributes; styles cannot run code.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


INLINE_HANDLER = re.compile(r'(\s)onclick="')
SCRIPT_LINK = re.compile(r'href="javascript:[^"]*"')


def _disarm_inline_handlers(response: Response) -> None:
    """Flask-Admin writes onclick attributes, which the CSP refuses even to parse without
    reporting; static/lec-csp.js runs the known ones from these data attributes instead."""
    if (response.mimetype != "text/html" or response.direct_passthrough
            or response.is_streamed):
        return
    html = response.get_data(as_text=True)
    if "onclick=" not in html and "javascript:" not in html:
        return
    html = INLINE_HANDLER.sub(r'\1data-lec-onclick="', html)
    response.set_data(SCRIPT_LINK.sub('href="#" data-lec-nolink="1"', html))


def _headers(response: Response) -> Response:
    _disarm_inline_handlers(response)
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if current_user and current_user.is_authenticated:
        # Pages behind sign-in hold personal data: never keep them in a shared cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def start_session() -> None:
    """Call right after login_user: the clock of the absolute and idle lifetimes starts here."""
    now = int(clock())
    session["signed_in_at"] = now
    session["seen_at"] = now


def _lifetimes(app: Flask) -> Response | None:
    """End a session idle too long or older than its absolute lifetime."""
    if request.endpoint in (None, "static", "admin.static") or not current_user.is_authenticated:
        return None
    now = int(clock())
    signed_in_at = session.get("signed_in_at", 0)
    seen_at = session.get("seen_at", 0)
    if (now - seen_at > app.config["LEC_IDLE_SECONDS"]
            or now - signed_in_at > app.config["LEC_ABSOLUTE_SECONDS"]):
        logout_user()
        session.clear()
        flash(_("Your session has expired. Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    if now - seen_at >= SEEN_RESOLUTION:
        session["seen_at"] = now
    return None


class Store(Protocol):
    """Where failed sign-ins are counted, shared by every worker."""

    def hit(self, key: str, now: float, window: int) -> None: ...
    def count(self, key: str, now: float, window: int) -> int: ...
    def clear(self, key: str) -> None: ...


class DatabaseStore:
    """The embedded default: one row per failure, old rows pruned as new ones come."""

    def hit(self, key: str, now: float, window: int) -> None:
        db.session.execute(delete(SignInFailure).where(SignInFailure.key == key,
                                                       SignInFailure.at <= now - window))
        db.session.add(SignInFailure(key=key, at=now))
        db.session.flush()

    def count(self, key: str, now: float, window: int) -> int:
        return db.session.scalar(select(func.count()).select_from(SignInFailure).where(
            SignInFailure.key == key, SignInFailure.at > now - window)) or 0

    def clear(self, key: str) -> None:
        db.session.execute(delete(SignInFailure).where(SignInFailure.key == key))


class RedisStore:
    """Production: a sorted set of failure times per key, expiring with its window."""

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)

    def hit(self, key: str, now: float, window: int) -> None:
        name = f"lec:signin:{key}"
        with self.redis.pipeline() as pipe:
            pipe.zremrangebyscore(name, 0, now - window)
            pipe.zadd(name, {uuid.uuid4().hex: now})
            pipe.expire(name, window)
            pipe.execute()

    def count(self, key: str, now: float, window: int) -> int:
        return int(self.redis.zcount(f"lec:signin:{key}", f"({now - window}", "+inf"))

    def clear(self, key: str) -> None:
        self.redis.delete(f"lec:signin:{key}")


class Throttle:
    """Failed sign-ins per account, per account and address, and per address, in a window."""

    def __init__(self, store: Store, window: int, per_account: int, per_pair: int,
                 per_address: int) -> None:
        self.store = store
        self.window = window
        self.limits = {"account": per_account, "pair": per_pair, "address": per_address}

    def _keys(self, login: str, address: str) -> dict[str, str]:
        login = login.strip().lower()
        return {"account": f"a:{login}", "pair": f"p:{login}|{address}",
                "address": f"i:{address}"}

    def refused(self, login: str, address: str) -> bool:
        """Whether this attempt comes after too many failures within the window."""
        now = clock()
        return any(self.store.count(key, now, self.window) >= self.limits[kind]
                   for kind, key in self._keys(login, address).items())

    def failed(self, login: str, address: str) -> None:
        now = clock()
        for key in self._keys(login, address).values():
            self.store.hit(key, now, self.window)

    def succeeded(self, login: str, address: str) -> None:
        """The right password ends the account's count from this address."""
        self.store.clear(self._keys(login, address)["pair"])


def throttle(app: Flask) -> Throttle:
    return app.extensions["lec_throttle"]


def init_app(app: Flask) -> None:
    """Install headers, lifetimes, cookie flags and the throttle on `app`."""
    app.config.setdefault("LEC_IDLE_SECONDS", int(os.environ.get("LEC_IDLE_MINUTES", "30")) * 60)
    app.config.setdefault("LEC_ABSOLUTE_SECONDS",
                          int(os.environ.get("LEC_ABSOLUTE_HOURS", "8")) * 3600)
    app.config.setdefault("LEC_THROTTLE_WINDOW", 3600)
    app.config.setdefault("LEC_THROTTLE_PER_PAIR", 100)
    app.config.setdefault("LEC_THROTTLE_PER_ACCOUNT", 1000)
    app.config.setdefault("LEC_THROTTLE_PER_ADDRESS", 1000)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    development = (app.debug or app.testing
                   or os.environ.get("LEC_ENV", "production") == "development")
    if "LEC_SECURE_COOKIES" not in os.environ:
        app.config["SESSION_COOKIE_SECURE"] = not development
    url = app.config.get("REDIS_URL")
    store: Store = RedisStore(url) if url else DatabaseStore()
    app.extensions["lec_throttle"] = Throttle(
        store, app.config["LEC_THROTTLE_WINDOW"], app.config["LEC_THROTTLE_PER_ACCOUNT"],
        app.config["LEC_THROTTLE_PER_PAIR"], app.config["LEC_THROTTLE_PER_ADDRESS"])
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.before_request(lambda: _lifetimes(app))
    app.after_request(_headers)
