"""The public online admission pages (SPEC §8): no sign-in, Thai first, usable without JavaScript.

A parent walks province → LAO → institution with plain links, fills in one form and receives a
tracking code; the status page shows that one application and nothing else. Every POST carries
CSRF, and submissions and look-ups are rate-limited per real client address by the one
throttle (rules.throttle), whose counts every worker shares.
"""

import re
from datetime import date, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

import clock
from models import Application, Institution, Lao, Province, db
from models.admission import APPLICATION_STATUS_LABELS, TRACKING_LENGTH
from models.organisations import InstitutionKind
from models.people import GENDER_LABELS, GRADE_LABELS, GRADES_BY_KIND, TITLES
from rules import RuleViolation
from rules.admission import CHILD_TITLES, age_group, commit_application
from rules.contacts import email_problem, phone_problem
from rules.identity import THAI_DIGITS, normalise_national_id
from web import security
from web.fields import BEDateField
from web.forms import Form, RuleCheck

bp = Blueprint("admission", __name__)

#: Accepted applications per address: enough for a family with twins, too few for a script.
SUBMIT_LIMIT = (5, timedelta(minutes=10))
#: Refused submissions per address, counted apart: a parent fixing typo after typo must never
#: be locked out by them, yet a flood of junk posts (each a validation and often a database
#: check) is still stopped. Six times the accepted allowance leaves room for a real struggle
#: with the form.
REFUSED_LIMIT = (30, timedelta(minutes=10))
TRACK_LIMIT = (30, timedelta(minutes=10))


@bp.after_request
def no_store(response: Response) -> Response:
    """A status page names a child: keep it out of shared caches and the back-button cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _client_key(kind: str) -> str:
    return f"{kind}:{(request.remote_addr or 'unknown')[:64]}"


def over_limit(kind: str, limit: tuple[int, timedelta]) -> bool:
    """Count this request against the real client address; True once it used up its window."""
    allowed, window = limit
    return not security.throttle(current_app).allow(_client_key(kind), allowed,
                                                   int(window.total_seconds()))


def used_up(kind: str, limit: tuple[int, timedelta]) -> bool:
    """Whether the real client address has used up `limit`, without counting this request."""
    allowed, window = limit
    return security.throttle(current_app).used_up(_client_key(kind), allowed,
                                                  int(window.total_seconds()))


def count_use(kind: str) -> None:
    """Count one use of `kind` by the real client address, once its outcome is known."""
    security.throttle(current_app).count(_client_key(kind))


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _phone(value: str | None) -> str | None:
    """A phone number typed on a Thai keyboard comes in Thai digits."""
    return _strip(value.translate(THAI_DIGITS)) if isinstance(value, str) else value


def academic_years(today: date | None = None) -> list[int]:
    """The BE years a parent may apply for: the current academic year first, then the next."""
    this = clock.academic_year(today)
    return [this, this + 1]


class ApplicationForm(Form):
    """What a parent types: the child, the grade wanted, and how to reach them."""

    national_id = StringField(
        _l("National ID (13 digits) or G-code"),
        filters=[normalise_national_id], validators=[DataRequired(), Length(max=13)],
        render_kw={"autocomplete": "off", "inputmode": "text"})
    title = SelectField(_l("Title"), choices=[(t, t) for t in TITLES],
                        validators=[DataRequired()])
    first_name = StringField(_l("First name"), filters=[_strip],
                             validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), filters=[_strip],
                            validators=[DataRequired(), Length(max=100)])
    # InputRequired, not DataRequired: a date typed but unreadable keeps the field's own reason
    # (a CE year, no such day) instead of a bare "please fill in".
    birth_date = BEDateField(_l("Birth date"), validators=[InputRequired()])
    gender = SelectField(_l("Gender"), choices=list(GENDER_LABELS.items()),
                         validators=[DataRequired()])
    grade = SelectField(_l("Grade level applied for"), validators=[DataRequired()])
    academic_year = SelectField(_l("Academic year"), coerce=int, validators=[DataRequired()])
    contact_name = StringField(_l("Parent or guardian's name"), filters=[_strip],
                               validators=[DataRequired(), Length(max=200)])
    # The rules' own checks (rules.contacts), so a number or address taken anywhere else is
    # taken here, and a learner's guardian phone (String(50)) holds what is accepted.
    contact_phone = StringField(
        _l("Phone number"), filters=[_phone],
        validators=[DataRequired(), Length(max=50), RuleCheck(phone_problem)],
        render_kw={"inputmode": "tel", "autocomplete": "tel"})
    contact_email = StringField(
        _l("Email (optional)"), filters=[_strip],
        validators=[Optional(), Length(max=200), RuleCheck(email_problem)],
        render_kw={"inputmode": "email", "autocomplete": "email"})
    # The honeypot: hidden from people, irresistible to form-filling robots.
    website = StringField(_l("Leave this field empty"), validators=[Length(max=200)],
                          render_kw={"autocomplete": "off", "tabindex": "-1"})


APPLICANT_FIELDS = ("national_id", "title", "first_name", "last_name", "birth_date", "gender",
                    "grade", "academic_year", "contact_name", "contact_phone", "contact_email")


class TrackForm(Form):
    code = StringField(_l("Tracking code"),
                       # Copied by hand, a code gets spaces or dashes between its groups.
                       filters=[lambda v: re.sub(r"[\s-]", "", v or "").upper()],
                       validators=[DataRequired(), Length(max=TRACKING_LENGTH)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters"})


def _open_institutions() -> Select:
    return select(Institution).where(Institution.accepts_online_applications.is_(True),
                                     Institution.active.is_(True))


def _open_lao_ids() -> Select:
    return _open_institutions().with_only_columns(Institution.lao_id)


@bp.route("/apply")
def provinces() -> str:
    """Step 1: the provinces that have at least one institution taking applications."""
    rows = db.session.scalars(
        select(Province).where(Province.code.in_(
            select(Lao.province_code).where(Lao.id.in_(_open_lao_ids()))))
        .order_by(Province.name_th)).all()
    return render_template("admission/provinces.html", provinces=rows)


@bp.route("/apply/province/<code>")
def laos(code: str) -> str:
    """Step 2: the LAOs of the province with an institution taking applications."""
    province = db.session.get(Province, code[:2]) or abort(404)
    rows = db.session.scalars(
        select(Lao).where(Lao.province_code == province.code, Lao.id.in_(_open_lao_ids()))
        .order_by(Lao.name)).all()
    return render_template("admission/laos.html", province=province, laos=rows)


@bp.route("/apply/lao/<int:lao_id>")
def institutions(lao_id: int) -> str:
    """Step 3: the LAO's institutions that take applications."""
    lao = db.session.get(Lao, lao_id) or abort(404)
    rows = db.session.scalars(
        _open_institutions().where(Institution.lao_id == lao.id).order_by(Institution.name)).all()
    return render_template("admission/institutions.html", lao=lao, institutions=rows)


def _form_for(institution: Institution) -> ApplicationForm:
    """The form for this institution: a centre's age group follows from the birth date, and a
    young child is offered only the titles of a child."""
    form = ApplicationForm()
    form.grade.choices = [(g, GRADE_LABELS[g]) for g in GRADES_BY_KIND[institution.kind]]
    form.academic_year.choices = [(y, str(y)) for y in academic_years()]
    if request.method == "GET":
        form.academic_year.data = clock.academic_year()
    if institution.kind == InstitutionKind.CDC:
        form.grade.choices.insert(0, ("", _("Work it out from the birth date")))
        form.grade.validators = [Optional()]
        form.grade.flags.required = False
        form.title.choices = [(t, t) for t in CHILD_TITLES]
    return form


def _derive_age_group(form: ApplicationForm, institution: Institution) -> None:
    """A centre's age group left to the system is read from the birth date."""
    if institution.kind == InstitutionKind.CDC and not form.grade.data:
        form.grade.data = age_group(form.birth_date.data, form.academic_year.data) or ""


def _submit(institution: Institution, form: ApplicationForm) -> tuple[str, int] | Response:
    """Save a valid application; anything else is refused, keeping what the parent typed."""
    if not form.validate_on_submit():
        return render_template("admission/apply.html", institution=institution, form=form), 422
    _derive_age_group(form, institution)
    if form.website.data:
        return render_template("admission/apply.html", institution=institution, form=form,
                               problems=[_("The form could not be accepted. Please try "
                                           "again.")]), 400
    application = Application(institution_id=institution.id, **{
        name: form[name].data for name in APPLICANT_FIELDS})
    application.contact_email = application.contact_email or None
    try:
        db.session.add(application)
        commit_application(db.session, application)
    except RuleViolation as exc:
        db.session.rollback()
        return render_template("admission/apply.html", institution=institution, form=form,
                               problems=exc.messages), 422
    session["admission_code"] = application.tracking_code
    return redirect(url_for("admission.submitted"))


@bp.route("/apply/<code>", methods=["GET", "POST"])
def apply(code: str) -> tuple[str, int] | str | Response:
    """Step 4: the form. Refusals keep what the parent typed and save nothing."""
    institution = db.session.scalar(select(Institution).where(Institution.code == code[:10]))
    if institution is None:
        abort(404)
    form = _form_for(institution)
    if request.method == "GET" and not institution.accepts_online_applications:
        return render_template("admission/apply.html", institution=institution, form=form,
                               closed=True)
    if request.method == "POST":
        if used_up("apply", SUBMIT_LIMIT) or used_up("apply-refused", REFUSED_LIMIT):
            return render_template(
                "admission/apply.html", institution=institution, form=form, problems=[
                    _("Too many applications have been sent from this connection. Please wait "
                      "10 minutes and send again; what you typed is still in the form.")]), 429
        outcome = _submit(institution, form)
        # Counted once the outcome is known (two requests at the same moment may both slip in;
        # a limit of a few is still a limit).
        count_use("apply" if isinstance(outcome, Response) else "apply-refused")
        return outcome
    return render_template("admission/apply.html", institution=institution, form=form)


@bp.route("/apply/submitted")
def submitted() -> str | Response:
    """Show the tracking code once, right after the application is saved."""
    code = session.get("admission_code")
    if not code:
        return redirect(url_for("admission.track"))
    application = db.session.scalar(select(Application).where(Application.tracking_code == code))
    if application is None:
        return redirect(url_for("admission.track"))
    return render_template("admission/submitted.html", application=application)


@bp.route("/track", methods=["GET", "POST"])
def track() -> tuple[str, int] | str:
    """The status of one application, found by its code; anything else is simply not found."""
    form = TrackForm()
    if request.method == "POST":
        if over_limit("track", TRACK_LIMIT):
            return render_template("admission/track.html", form=form, problems=[
                _("Too many look-ups from this connection. Please wait 10 minutes and try "
                  "again.")]), 429
        if form.validate_on_submit():
            application = db.session.scalar(
                select(Application).where(Application.tracking_code == form.code.data))
            if application is None:
                return render_template("admission/track.html", form=form, problems=[
                    _("No application was found with this tracking code.")]), 404
            return render_template("admission/track.html", form=form, application=application,
                                   status_label=APPLICATION_STATUS_LABELS[application.status],
                                   grade_label=GRADE_LABELS.get(application.grade, ""))
        return render_template("admission/track.html", form=form), 422
    return render_template("admission/track.html", form=form)
