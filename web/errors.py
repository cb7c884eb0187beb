"""Error pages: a plain Thai page for every failure, never a trace; refusals and misses logged."""

from contextlib import suppress

from flask import Flask, g, render_template, request
from flask_login import AnonymousUserMixin, current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from models import db
from rules.audit import record

#: What is shown when even the error page cannot be drawn: Thai first, no database, no template.
BARE_APOLOGY = ("<!doctype html><html lang=\"th\"><meta charset=\"utf-8\"><title>LEC</title>"
                "<p>ระบบขัดข้องชั่วคราว ยังไม่มีการบันทึกข้อมูลใด ๆ กรุณาลองใหม่อีกครั้งในอีกสักครู่</p>"
                "<p lang=\"en\">The system is temporarily unavailable. Nothing was saved; "
                "please try again in a moment.</p></html>")


def _forget_user() -> None:
    """Nothing after this (headers, the page) may ask the database for the signed-in user."""
    g._login_user = AnonymousUserMixin()
    with suppress(Exception):
        db.session.rollback()


def _page(code: int) -> tuple[str, int]:
    try:
        return render_template("error.html", code=code), code
    except Exception:  # noqa: BLE001 - the last resort must not fail
        return BARE_APOLOGY, code


def forbidden(error: HTTPException) -> tuple[str, int]:
    """A refusal is shown plainly and logged with who asked for what."""
    db.session.rollback()
    record("forbidden", request.full_path.rstrip("?"), method=request.method)
    db.session.commit()
    return render_template("error.html", code=403), 403


def not_found(error: HTTPException) -> tuple[str, int]:
    """A signed-in user's miss is logged: it is how a hand-typed URL outside scope ends."""
    if current_user.is_authenticated:
        db.session.rollback()
        record("not_found", request.full_path.rstrip("?"), method=request.method)
        db.session.commit()
    return render_template("error.html", code=404), 404


def csrf_error(error: CSRFError) -> tuple[str, int]:
    return render_template("error.html", code=400, csrf=True), 400


def http_error(error: HTTPException) -> tuple[str, int]:
    return render_template("error.html", code=error.code), error.code or 500


def log_refused_csrf(response: Response) -> Response:
    """A POST turned away for a missing or forged CSRF token is logged (Flask-WTF sets
    g.csrf_valid once a token passes, so a 400 without it is the CSRF refusal)."""
    if request.method == "POST" and response.status_code == 400 and not g.get("csrf_valid"):
        db.session.rollback()
        record("csrf_refused", request.path)
        db.session.commit()
    return response


def init_app(app: Flask) -> None:
    """Install every error handler of the app here, and nowhere else."""

    def server_error(error: Exception) -> tuple[str, int]:
        """Log the trace for us; show the user a plain apology, never the trace."""
        app.logger.exception("unhandled error")
        with suppress(Exception):
            db.session.rollback()
        return _page(500)

    def unavailable(error: Exception) -> tuple[str, int, dict[str, str]]:
        """The database is down or unreachable: a Thai 503 page drawn without it."""
        app.logger.error("database unavailable: %s", error)
        _forget_user()
        page, code = _page(503)
        return page, code, {"Retry-After": "30"}

    app.register_error_handler(403, forbidden)
    app.register_error_handler(404, not_found)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(OperationalError, unavailable)
    app.register_error_handler(InterfaceError, unavailable)
    app.register_error_handler(Exception, server_error)
    app.after_request(log_refused_csrf)
