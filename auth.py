"""Sign-in and sign-out: the login is the unit's code, or a personal login for the department."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from i18n import wtforms_translations
from models import User, db

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to continue.")
login_manager.login_message_category = "info"


class Form(FlaskForm):
    """Base of every form: CSRF from Flask-WTF and WTForms' messages in Thai."""

    class Meta:
        def get_translations(self, form: FlaskForm) -> object:
            return wtforms_translations


class LoginForm(Form):
    login = StringField(_l("Login"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Find the session's user; a cookie from before a logout or password change is refused."""
    ident, _sep, version = user_id.partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def safe_next(target: str | None) -> str:
    """Only redirect within this site after sign-in, never to another host."""
    if target and urlsplit(target).netloc == "" and target.startswith("/") and "\\" not in target:
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Show the sign-in form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.login == form.login.data.strip()))
        if user is not None and user.active and user.check_password(form.password.data):
            session.clear()  # a fresh session at sign-in, so a planted one is useless
            login_user(user)
            session.permanent = True
            return redirect(safe_next(request.args.get("next")))
        flash(_("Wrong login or password."), "error")
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Sign out everywhere: bumping the version kills every copy of the session cookie."""
    current_user.session_version += 1
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language/<code>")
def language(code: str) -> Response:
    """Switch the interface language and go back where the user was."""
    if code in ("th", "en"):
        session["lang"] = code
    return redirect(safe_next(request.referrer and urlsplit(request.referrer)._replace(
        scheme="", netloc="").geturl()))
