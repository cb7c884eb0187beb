"""Ghost removal: a learner who does not exist is marked removed with a reason, never deleted,
and stays in the institution's printable register of removed learners."""

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, TextAreaField
from wtforms.validators import Length, Optional

from models import Enrolment, Learner, db
from models.people import (
    GRADE_LABELS,
    REMOVAL_REASON_LABELS,
    STATUS_LABELS,
    EnrolmentStatus,
)
from rules import RuleViolation
from rules.enrolment import carried_forward
from web.forms import Form

from .audit import id_with_reveal

REMOVE_TITLE = _l("Remove from the system")


class RemovalForm(Form):
    reason = SelectField(_l("Reason"), choices=[(str(k), v) for k, v in
                                                REMOVAL_REASON_LABELS.items()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)],
                         render_kw={"maxlength": 1000})


class RemovalMixin:
    """The enrolment view's removal page, its register, and the remove icon on each row."""

    def more_row_links(self) -> Callable[[Enrolment], str] | None:
        """An active learner's remove icon: removal asks for a reason and keeps the record."""
        if not self.can_edit:
            return None
        before, after = self.row_icon(".remove_view", REMOVE_TITLE, "fa fa-user-times")
        return lambda row: (f"{before}{row.id}{after}" if row.status == EnrolmentStatus.ACTIVE
                            else "")

    @expose("/remove/<int:id>/", methods=("GET", "POST"))
    def remove_view(self, id: int) -> Any:
        """Mark a non-existent learner removed, with one of the guideline's reasons."""
        enrolment = self.get_one(id)
        if enrolment.status != EnrolmentStatus.ACTIVE:
            # The list offers removal only on active rows; a removed row keeps its first reason.
            flash(_("Only a learner who is studying can be removed from the system: %(name)s "
                    "is recorded as %(status)s in academic year %(year)d.",
                    name=enrolment.learner.full_name, year=enrolment.academic_year,
                    status=STATUS_LABELS.get(enrolment.status, enrolment.status)), "error")
            return redirect(self.get_url(".index_view"))
        form = RemovalForm(request.form if request.method == "POST" else None)
        later = carried_forward(db.session, enrolment)
        if request.method == "POST" and form.validate():
            for row in (enrolment, *later):
                row.status = EnrolmentStatus.REMOVED
                row.removal_reason = form.reason.data
                row.removal_note = form.note.data or None
            try:
                db.session.commit()
            except RuleViolation as exc:
                db.session.rollback()
                for message in exc.messages:
                    flash(message, "error")
            else:
                flash(_("The learner has been removed from the system."), "success")
                if later:
                    flash(_("The learner was also removed from academic year %(years)s, into "
                            "which they had been carried over.",
                            years=", ".join(str(row.academic_year) for row in later)), "info")
                return redirect(self.get_url(".index_view"))
        return self.render("admin/learners/remove.html", form=form, enrolment=enrolment,
                           later=later, grade_labels=GRADE_LABELS)

    @expose("/removed/")
    def removed_view(self) -> Any:
        """The printable register of removed learners an institution keeps (SPEC §3)."""
        rows = (self.get_query().filter(Enrolment.status == EnrolmentStatus.REMOVED)
                .order_by(None).order_by(Enrolment.institution_id, Enrolment.academic_year.desc(),
                                         Enrolment.status_changed_at)
                .limit(5000).all())
        return self.render("admin/learners/removed.html", rows=rows, grade_labels=GRADE_LABELS,
                           reason_labels=REMOVAL_REASON_LABELS, shown_id=lambda learner:
                           id_with_reveal(Learner, learner.id, learner.national_id))
