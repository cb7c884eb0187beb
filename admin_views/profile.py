"""First-login and later profile and password pages: who answers for the account, and its secret."""


from flask import flash, redirect, session, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from models import db
from models.profiles import current_profile, record_responsible
from rules import RuleViolation
from rules.audit import record
from rules.passwords import names_of, password_problems, set_password
from web import security
from web.forms import Form

from .base import PageView


class ProfileForm(Form):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    surname = StringField(_l("Surname"), validators=[DataRequired(), Length(max=100)])
    position = StringField(_l("Position"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(min=9, max=32)])


class PasswordForm(Form):
    current = PasswordField(_l("Current or one-time password"),
                            validators=[DataRequired(), Length(max=200)])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))])


class ProfileView(PageView):
    """Open to every signed-in user, also before first login is done (auth.first_login_gate)."""

    @expose("/", methods=("GET", "POST"))
    def index(self) -> str | Response:
        """The responsible person: a new name starts a new term, the old one is kept."""
        profile = current_profile(current_user)
        form = ProfileForm(obj=profile)
        if form.validate_on_submit():
            try:
                saved = record_responsible(current_user, form.first_name.data.strip(),
                                           form.surname.data.strip(), form.position.data.strip(),
                                           form.phone.data.strip())
                db.session.commit()
            except RuleViolation as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                if profile is None or saved is not profile:
                    flash(_("The responsible person has been recorded."), "success")
                else:
                    flash(_("The profile has been saved."), "success")
                if current_user.must_change_password:
                    return redirect(url_for(".password"))
                return redirect(url_for("admin.index"))
        return self.render("auth/profile.html", form=form, first=profile is None)

    @expose("/password", methods=("GET", "POST"))
    def password(self) -> str | Response:
        """Replace the (one-time) password; every other session of the account ends."""
        form = PasswordForm()
        if form.validate_on_submit():
            user = current_user._get_current_object()
            problems = []
            if not user.check_password(form.current.data):
                problems.append(_("The current password is wrong."))
            elif form.new.data == form.current.data:
                problems.append(_("The new password must differ from the one-time or current "
                                  "password."))
            problems += password_problems(form.new.data, names_of(user))
            if problems:
                record("password_change_refused", user.login, reasons=len(problems))
                db.session.commit()
                for problem in problems:
                    flash(problem, "error")
            else:
                set_password(user, form.new.data)
                user.must_change_password = False
                user.session_version += 1
                record("password_changed", user.login)
                db.session.commit()
                security.renew_session()  # the old session dies with the old version
                login_user(user)
                session.permanent = True
                security.start_session()
                flash(_("Your new password has been saved."), "success")
                return redirect(url_for("admin.index"))
        return self.render("auth/password.html", form=form,
                           first=current_user.must_change_password)
