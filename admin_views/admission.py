"""The institution's side of online admission: open or close it, and decide each application."""

from typing import Any

from flask import abort, flash, redirect
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

import clock
from models import Application, Institution, db
from models.admission import APPLICATION_STATUS_LABELS, ApplicationStatus
from models.people import GENDER_LABELS, GRADE_LABELS
from rules import RuleViolation
from rules.admission import accept
from rules.enrolment import commit_enrolment
from rules.identity import APPLICATION_CONTACTS, mask_national_id
from rules.permissions import may_reveal_id, may_write, own_institution_id
from web.forms import Form

from .base import ScopedModelView, contact, labelled


class OnlineForm(Form):
    accepting = HiddenField(validators=[AnyOf(("0", "1"))])


class RejectForm(Form):
    reason = TextAreaField(_l("Reason (the parent sees it)"),
                           validators=[DataRequired(), Length(max=500)])


class AcceptForm(Form):
    """Only the CSRF token: accepting needs no more than the click."""


def _national_id(view: Any, context: Any, model: Application, name: str) -> str:
    return mask_national_id(model.national_id, reveal=may_reveal_id(current_user))


class ApplicationView(ScopedModelView):
    """Applications sent to the user's institutions; institutions accept or refuse them."""

    can_create = False
    can_edit = False
    can_delete = False
    column_list = ("created_at", "first_name", "national_id", "birth_date", "grade",
                   "academic_year", "contact_phone", "status", "institution")
    column_details_list = ("created_at", "institution", "national_id", "first_name",
                           "gender", "birth_date", "grade", "academic_year",
                           "contact_name", "contact_phone", "contact_email", "status",
                           "reject_reason", "decided_at", "decided_by")
    column_labels = {
        "created_at": _l("Sent on"), "first_name": _l("Child"),
        "national_id": _l("National ID or G-code"), "birth_date": _l("Birth date"),
        "gender": _l("Gender"), "grade": _l("Grade level applied for"),
        "academic_year": _l("Academic year"), "contact_name": _l("Parent or guardian"),
        "contact_phone": _l("Phone"), "contact_email": _l("Email"), "status": _l("Status"),
        "reject_reason": _l("Reason not accepted"), "decided_at": _l("Decided on"),
        "decided_by": _l("Decided by"), "institution": _l("Institution"),
        "institution.code": _l("Institution code"),
    }
    column_formatters = {
        "first_name": lambda v, c, m, n: m.child_name,
        "national_id": _national_id,
        "gender": labelled(GENDER_LABELS),
        "grade": labelled(GRADE_LABELS),
        "status": labelled(APPLICATION_STATUS_LABELS),
    } | dict.fromkeys(APPLICATION_CONTACTS, contact)  # the institution calls the parent back
    column_formatters_detail = column_formatters
    column_choices = {
        "status": [(str(k), v) for k, v in APPLICATION_STATUS_LABELS.items()],
        "grade": list(GRADE_LABELS.items()),
    }
    column_filters = ("status", "academic_year", "grade", "institution.code")
    column_sortable_list = ("created_at", "grade", "academic_year", "status")
    column_default_sort = ("created_at", True)
    column_auto_select_related = True
    list_template = "admission/admin_list.html"
    details_template = "admission/admin_details.html"

    def _institution(self) -> Institution | None:
        own = own_institution_id(current_user)
        return db.session.get(Institution, own) if own is not None else None

    def render(self, template: str, **kwargs: Any) -> str:
        kwargs.setdefault("own_institution", self._institution())
        kwargs.setdefault("may_decide", may_write(current_user, Application))
        kwargs.setdefault("reject_form", RejectForm())
        kwargs.setdefault("accept_form", AcceptForm())
        kwargs.setdefault("online_form", OnlineForm())
        return super().render(template, **kwargs)

    def _back(self, application: Application | None = None) -> Response:
        if application is None:
            return redirect(self.get_url(".index_view"))
        return redirect(self.get_url(".details_view", id=application.id))

    @expose("/online/", methods=("POST",))
    def online_view(self) -> Response:
        """An institution opens or closes its own online admission; it is voluntary."""
        institution = self._institution()
        form = OnlineForm()
        if institution is None:
            abort(403)
        if not form.validate_on_submit():
            abort(400)
        institution.accepts_online_applications = form.accepting.data == "1"
        try:
            db.session.commit()
        except RuleViolation as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return self._back()
        flash(_("Online applications are now open for your institution.")
              if institution.accepts_online_applications else
              _("Online applications are now closed for your institution."), "success")
        return self._back()

    def _pending(self, id: int) -> Application | None:
        """The application if it still waits for a decision; outside the subtree is a 404."""
        if not may_write(current_user, Application):
            abort(403)
        application = self.get_one(id)
        if application.status != ApplicationStatus.SUBMITTED:
            flash(_("This application has already been decided."), "error")
            return None
        return application

    @expose("/accept/<int:id>", methods=("POST",))
    def accept_view(self, id: int) -> Response:
        """Enrol the child; a child studying elsewhere this year is refused with who has them."""
        if not AcceptForm().validate_on_submit():
            abort(400)
        application = self._pending(id)
        if application is None:
            return self._back()
        try:
            enrolment = accept(db.session, application, current_user.login)
            commit_enrolment(db.session, application.national_id, application.academic_year)
        except RuleViolation as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return self._back(application)
        flash(_("%(name)s is enrolled in %(grade)s for academic year %(year)d.",
                name=application.child_name, grade=GRADE_LABELS[enrolment.grade],
                year=enrolment.academic_year), "success")
        return self._back(application)

    @expose("/reject/<int:id>", methods=("POST",))
    def reject_view(self, id: int) -> Response:
        """Refuse with a reason the parent reads on the status page."""
        form = RejectForm()
        application = self._pending(id)
        if application is None:
            return self._back()
        if not form.validate_on_submit():
            if "csrf_token" in form.errors:
                abort(400)
            flash(_("Give the reason the application is not accepted, in at most 500 "
                    "characters; the parent sees it."), "error")
            return self._back(application)
        application.status = ApplicationStatus.REJECTED
        application.reject_reason = form.reason.data.strip()
        application.decided_at = clock.now()
        application.decided_by = current_user.login
        try:
            db.session.commit()
        except RuleViolation as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return self._back(application)
        flash(_("The application is marked as not accepted; the parent sees your reason."),
              "success")
        return self._back(application)
