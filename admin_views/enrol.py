"""Enrolment by ID check: type an ID, see what is known of the learner, enrol them this year."""

from typing import Any

from flask import current_app, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

import clock
from models import Enrolment, Institution, Learner, db
from models.people import (
    GENDER_LABELS,
    GRADE_LABELS,
    GRADES_BY_KIND,
    STATUS_LABELS,
    TITLES,
    EnrolmentStatus,
    next_grade,
)
from rules import RuleViolation
from rules.enrolment import age_warning, commit_enrolment, current_academic_year, enrol
from rules.identity import (
    CONTACT_FIELDS,
    birth_date_problems,
    g_code_province_problems,
    national_id_problems,
    normalise_national_id,
)
from rules.lookups import check_by_id
from rules.permissions import may_see_contacts, own_institution_id
from rules.scope import subtree
from web import security
from web.fields import BEDateField
from web.forms import Form

#: Help under the fields people most often get wrong.
ID_HELP = _l("13 digits without dashes; the last digit is a check digit, so one mistyped digit "
             "is caught. A learner without civil registration gets a G-code: the letter G "
             "followed by 12 digits.")
GRADE_HELP = _l("The grade in this academic year: K1–K3, P1–P6 or M1–M6; a child development "
                "centre records the child's age group.")


class EnrolForm(Form):
    """Identity and this year's enrolment in one form: typing an ID pulls in what is known."""

    national_id = StringField(_l("National ID or G-code"), description=ID_HELP,
                              validators=[DataRequired(), Length(max=20)])
    institution_code = StringField(_l("Institution code"), validators=[Optional()])
    title = SelectField(_l("Title"), choices=[(t, t) for t in TITLES])
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    gender = SelectField(_l("Gender"), choices=[(str(k), v) for k, v in GENDER_LABELS.items()])
    birth_date = BEDateField(_l("Birth date"), validators=[Optional()])
    nationality = StringField(_l("Nationality"), validators=[Optional(), Length(max=50)])
    religion = StringField(_l("Religion"), validators=[Optional(), Length(max=50)])
    guardian_name = StringField(_l("Guardian"), validators=[Optional(), Length(max=200)])
    guardian_phone = StringField(_l("Guardian's phone"), validators=[Optional(), Length(max=50)])
    grade = SelectField(_l("Grade"), choices=[], description=GRADE_HELP)
    classroom = StringField(_l("Classroom"), validators=[Optional(), Length(max=20)])
    confirm_age = BooleanField(_l("I have checked the birth date: it is correct for this grade"))


IDENTITY_FIELDS = ("title", "first_name", "last_name", "gender", "birth_date", "nationality",
                   "religion", "guardian_name", "guardian_phone")
#: What a look-up shows of a learner held elsewhere (as the duplicate refusal does).
NAME_FIELDS = ("title", "first_name", "last_name")


class EnrolByIdMixin:
    """The enrolment view's ID check: the only way a learner enters a list."""

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self) -> Any:
        """Learners arrive through the ID check, which also carries them over from last year."""
        return redirect(self.get_url(".enrol_view", **request.args))

    def _institution_for(self, form: EnrolForm) -> Institution | None:
        if (own := own_institution_id(current_user)) is not None:
            return db.session.get(Institution, own)
        code = (form.institution_code.data or "").strip()
        return db.session.scalar(select(Institution).where(
            Institution.code == code, Institution.kind == self.kind,
            subtree(Institution, current_user)))

    @expose("/enrol/", methods=("GET", "POST"))
    def enrol_view(self) -> Any:
        """Type an ID, check it, and enrol the learner into this academic year."""
        year = current_academic_year(db.session)
        form = EnrolForm(request.form if request.method == "POST" else None)
        form.grade.choices = [(g, GRADE_LABELS[g]) for g in GRADES_BY_KIND[self.kind]]
        learner, last, warning, whole = None, None, None, True
        typed = normalise_national_id(request.values.get("national_id"))
        # The ID's own rules, the G-code's province too, before anything else is typed.
        problems = (national_id_problems(typed) + g_code_province_problems(db.session, typed)
                    if typed else [])
        found = None
        if typed and not problems:
            try:
                found = check_by_id(db.session, current_user, typed,
                                    security.throttle(current_app))
                learner, last, whole = found.learner, found.last, found.whole
            except RuleViolation as exc:
                problems += exc.messages
            db.session.commit()  # the look-up's audit row
        # Above the institution a learner already recorded is shown without the family's
        # contacts, which keep their values; a new learner's are typed in here.
        if learner is not None and not may_see_contacts(current_user):
            for name in [n for n in CONTACT_FIELDS if n in form]:
                delattr(form, name)
        if request.method == "GET":
            form.national_id.data = typed
            if learner is not None:
                shown = IDENTITY_FIELDS if whole else NAME_FIELDS
                for name in (n for n in shown if n in form):
                    form[name].data = getattr(learner, name)
                if last is not None and last.grade in GRADES_BY_KIND[self.kind]:
                    carry = last.academic_year < year and last.status == EnrolmentStatus.ACTIVE
                    form.grade.data = (next_grade(last.grade) or last.grade) if carry \
                        else last.grade
                    form.classroom.data = last.classroom
        elif not problems and form.validate():
            institution = self._institution_for(form)
            # Judged when typed, as the flush judges it: one kept from the register is not.
            if learner is None or (whole and form.birth_date.data != learner.birth_date):
                problems += birth_date_problems(form.birth_date.data)
            if institution is None:
                problems.append(_("Enter the code of an institution of this kind in your area."))
            warning = None if problems else age_warning(form.birth_date.data, form.grade.data,
                                                        year)
            if not problems and not (warning and not form.confirm_age.data):
                try:
                    self._enrol(typed, learner, institution, form, year, whole)
                    flash(_("The learner is enrolled for academic year %(year)d.", year=year),
                          "success")
                    return redirect(self.get_url(".index_view"))
                except RuleViolation as exc:
                    db.session.rollback()
                    problems += exc.messages
        own = own_institution_id(current_user)
        # Already active here this year: the user is led to the enrolment, not to a transfer.
        here = (last if last is not None and last.institution_id == own
                and last.academic_year == year and last.status == EnrolmentStatus.ACTIVE
                else None)
        return self.render("admin/learners/enrol.html", form=form, learner=learner, last=last,
                           here=here, own_institution=own,
                           problems=problems, warning=warning, year=year, typed=typed,
                           elsewhere=found.elsewhere if found and not whole else "",
                           grade_labels=GRADE_LABELS, status_labels=STATUS_LABELS)

    def _enrol(self, national_id: str, learner: Learner | None, institution: Institution,
               form: EnrolForm, year: int, whole: bool = True) -> Enrolment:
        """Save learner and enrolment together; a lost race reads as the rule's message.
        A learner held elsewhere keeps the identity that institution recorded; one enrolled
        from above the institution keeps the family's contacts, which the form leaves out."""
        if learner is None:
            learner = Learner(national_id=national_id)
            db.session.add(learner)
        for name in (n for n in IDENTITY_FIELDS if whole and n in form):
            setattr(learner, name, form[name].data or None)
        enrolment = enrol(learner, institution, year, form.grade.data,
                          classroom=form.classroom.data or None, enrolled_on=clock.today())
        db.session.add(enrolment)
        commit_enrolment(db.session, national_id, year)
        return enrolment
