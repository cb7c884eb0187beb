"""Sign-in and sign-out and the first-login gate (SPEC §6, issue 5); the policy is rules.passwords.

The login is the unit's code, or a personal login for the department. Failed sign-ins slow down
the account from that address, and the address, with growing delays (rules.throttle), never a
lock; every attempt is audited.
"""

from functools import cache
from math import ceil
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models import Profile, User, db
from models.accounts import password_hasher
from rules.accounts import by_login
from rules.audit import record
from web import security
from web.forms import Form
from web.params import bounded_int

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to continue.")
login_manager.login_message_category = "info"

#: Pages a user may open before the first-login profile and password are done.
OPEN_ENDPOINTS = frozenset({"static", "admin.static", "healthz", "home"})
#: Failures without delay; each further one doubles the wait (1 s, 2 s, 4 s ... 15 minutes).
FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
FREE_FAILURES_PER_ADDRESS = 50


class LoginForm(Form):
    login = StringField(_l("Login"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Find the session's user, with the unit every page's header names, a province's too (one
    statement, not two); a cookie from before a logout or password change is refused."""
    ident, _sep, version = user_id.partition(":")
    try:
        key, session_version = bounded_int(ident), bounded_int(version)
    except ValueError:
        return None
    user = db.session.get(User, key,
                          options=[joinedload(User.institution), joinedload(User.lao),
                                   joinedload(User.province)])
    if user is None or not user.active or user.session_version != session_version:
        return None
    return user


def is_local_path(target: str | None) -> bool:
    """A path of this site: one leading slash, no host however it is spelled (`//`, `/\\`,
    `%2F%2F`, control characters a browser drops), whatever the encoding."""
    if not target or len(target) > 2000:
        return False
    decoded = target
    for _round in range(3):  # a browser may decode more than once: test every spelling
        if any(ord(c) < 32 or ord(c) == 127 or c == "\\" for c in decoded):
            return False
        parts = urlsplit(decoded)
        if (parts.scheme or parts.netloc or not decoded.startswith("/")
                or decoded.startswith("//")):
            return False
        decoded, previous = unquote(decoded), decoded
        if decoded == previous:
            break
    return True


def safe_next(target: str | None) -> str:
    """Only redirect within this site after sign-in, never to another host."""
    return target if is_local_path(target) else url_for("admin.index")


@cache
def _decoy_hash() -> str:
    return password_hasher.hash("decoy password for unknown logins")


def _client_address() -> str:
    """The real client: ProxyFix has put the address the trusted proxies saw here."""
    return request.remote_addr or "unknown"


def sign_in_keys(login: str, address: str) -> tuple[str, str]:
    """Failures count per account and client address, and per address over all accounts:
    never per account alone, so nobody can lock the owner out from elsewhere."""
    return f"signin:{login.strip().lower()}|{address}", f"signin-address:{address}"


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """Show the sign-in form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        name = form.login.data.strip()
        address = _client_address()
        throttle = security.throttle(current_app)
        user = by_login(db.session, name)
        keys = sign_in_keys(name, address)
        wait = max(throttle.wait(keys[0], FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS),
                   throttle.wait(keys[1], FREE_FAILURES_PER_ADDRESS))
        if wait > 0:
            record("sign_in_throttled", name, user=user)
            db.session.commit()
            flash(_("Too many failed sign-ins from this connection. Please wait %(seconds)d "
                    "seconds and try again.", seconds=ceil(wait)), "error")
            return render_template("login.html", form=form), 429
        if user is not None and user.active and user.check_password(form.password.data):
            throttle.clear(keys[0])
            security.renew_session()
            login_user(user)
            session.permanent = True
            security.start_session()
            record("sign_in", user.login)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
        if user is None:
            password_hasher.verify(_decoy_hash(), "decoy password for unknown logins")
        for key in keys:
            throttle.failed(key)
        record("sign_in_failed", name, user=user)
        db.session.commit()
        if user is not None and not user.active and user.check_password(form.password.data):
            # Said only to whoever knows the password: the owner learns why, nobody else
            # learns that the account exists.
            flash(_("This account is closed. Ask the office that manages your accounts (the "
                    "Provincial Office of Local Administration, or DLA for a province's "
                    "account) to open it again."), "error")
        else:
            flash(_("Wrong login or password."), "error")
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Sign out everywhere: bumping the version kills every copy of the session cookie."""
    current_user.session_version += 1
    record("sign_out", current_user.login)
    db.session.commit()
    logout_user()
    security.renew_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language/<code>")
def language(code: str) -> Response:
    """Switch the interface language and go back where the user was."""
    if code in ("th", "en"):
        session["lang"] = code
    referrer = urlsplit(request.referrer or "")
    back = referrer._replace(scheme="", netloc="").geturl() if (
        referrer.netloc == request.host) else None
    return redirect(safe_next(back))


def has_current_profile(user: User) -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(Profile).where(
        Profile.user_id == user.id, Profile.valid_to.is_(None))))


@bp.before_app_request
def first_login_gate() -> Response | None:
    """Until the profile exists and the one-time password is replaced, only that page opens."""
    if (session.get("ready") or not current_user.is_authenticated
            or request.endpoint in OPEN_ENDPOINTS or request.blueprint in ("auth", "profile")):
        return None
    if not has_current_profile(current_user):
        return redirect(url_for("profile.index"))
    if current_user.must_change_password:
        return redirect(url_for("profile.password"))
    session["ready"] = True
    return None
