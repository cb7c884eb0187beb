"""Hardening that wraps every request: headers and CSP, session lifetimes, the throttle's store."""

import os
import re
import secrets
import time
from itertools import pairwise

from flask import Flask, Response, abort, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from rules.throttle import Throttle, store_for

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


ONCLICK, DATA_ONCLICK = b'onclick="', b'data-lec-onclick="'
SCRIPT_LINK = re.compile(rb'href="javascript:[^"]*"')


def _disarm_inline_handlers(response: Response) -> None:
    """Flask-Admin writes onclick attributes, which the CSP refuses even to parse without
    reporting; static/lec-csp.js runs the known ones from these data attributes instead."""
    if (response.mimetype != "text/html" or response.direct_passthrough
            or response.is_streamed):
        return
    html = response.get_data()  # bytes: a list page is ~200 KB, decoding it costs more
    if b"onclick=" not in html and b"javascript:" not in html:
        return
    response.set_data(SCRIPT_LINK.sub(b'href="#" data-lec-nolink="1"', _data_onclick(html)))


def _data_onclick(html: bytes) -> bytes:
    """Every ` onclick="` attribute renamed: a split finds them faster than a regular expression
    that stops at each of a list page's thousands of spaces."""
    parts = html.split(ONCLICK)
    renamed = [parts[0]]
    for before, after in pairwise(parts):
        renamed += [DATA_ONCLICK if before[-1:].isspace() else ONCLICK, after]
    return b"".join(renamed)


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


def renew_session() -> None:
    """A new, empty session at sign-in and sign-out, so a planted or stolen one is useless;
    only the interface language the user picked carries over."""
    language = session.get("lang")
    session.clear()
    if language is not None:
        session["lang"] = language


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
        renew_session()
        flash(_("Your session has expired. Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    if now - seen_at >= SEEN_RESOLUTION:
        session["seen_at"] = now
    return None


def _refuse_malformed() -> None:
    """A NUL byte has no place in any parameter, path or form value: 400 before any view
    (the databases refuse it, PostgreSQL with an error that would otherwise be a 500)."""
    values = [request.path, *request.args.keys(), *request.args.values()]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.keys(), *request.form.values()]
    if any("\x00" in value for value in values):
        abort(400)
    # Flask-Admin puts its `url` (where to go back) into a Location header as it is.
    if any(ord(c) < 32 or ord(c) == 127 for value in request.args.getlist("url") for c in value):
        abort(400)


def throttle(app: Flask) -> Throttle:
    return app.extensions["lec_throttle"]


def init_app(app: Flask) -> None:
    """Install headers, lifetimes, cookie flags and the throttle on `app`."""
    app.config.setdefault("LEC_IDLE_SECONDS", int(os.environ.get("LEC_IDLE_MINUTES", "30")) * 60)
    app.config.setdefault("LEC_ABSOLUTE_SECONDS",
                          int(os.environ.get("LEC_ABSOLUTE_HOURS", "8")) * 3600)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    development = (app.debug or app.testing
                   or os.environ.get("LEC_ENV", "production") == "development")
    if "LEC_SECURE_COOKIES" not in os.environ:
        app.config["SESSION_COOKIE_SECURE"] = not development
    app.extensions["lec_throttle"] = Throttle(store_for(app.config.get("REDIS_URL")))
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.before_request(_refuse_malformed)
    app.before_request(lambda: _lifetimes(app))
    app.after_request(_headers)
