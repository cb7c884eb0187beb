"""Students and young children: lists, enrolment by ID check, rollover and ghost removal."""

from collections.abc import Callable
from typing import Any

from flask import current_app, flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

import clock
import jobs
from models import Enrolment, Institution, Learner, Subdistrict, db
from models.jobs import Job
from models.people import (
    CDC_GRADES,
    GENDER_LABELS,
    GRADE_LABELS,
    GRADES_BY_KIND,
    REMOVAL_REASON_LABELS,
    SCHOOL_GRADES,
    STATUS_LABELS,
    TITLES,
    EnrolmentStatus,
    next_grade,
)
from rules import RuleViolation
from rules.enrolment import (
    ROLLOVER_ACTIONS,
    age_warning,
    commit_enrolment,
    current_academic_year,
    enrol,
    roll_over,
)
from rules.identity import mask_national_id, national_id_problems, normalise_national_id
from rules.lookups import check_by_id
from rules.permissions import may_reveal_id, own_institution_id
from rules.scope import subtree
from spreadsheets import learner_export
from web import security
from web.fields import BEDateField
from web.forms import Form

from .audit import id_with_reveal, ids_with_reveal
from .background import list_args, queued, rows_above, screen_request
from .base import ScopedModelView, labelled
from .list_rows import PageFormatter
from .search import enrolment_condition, learner_condition

#: Rows a rollover job writes between two progress reports.
ROLLOVER_BATCH = 500
#: Help under the fields people most often get wrong.
ID_HELP = _l("13 digits without dashes; the last digit is a check digit, so one mistyped digit "
             "is caught. A learner without civil registration gets a G-code: the letter G "
             "followed by 12 digits.")
GRADE_HELP = _l("The grade in this academic year: K1–K3, P1–P6 or M1–M6; a child development "
                "centre records the child's age group.")
REMOVE_TITLE = _l("Remove from the system")
ROLLOVER_LABELS = {"promote": _l("Promote"), "repeat": _l("Repeat the grade"),
                   "graduate": _l("Graduate"), "withdraw": _l("Withdraw")}


def _ids_on_page(view: Any, name: str) -> Callable[[Enrolment], Markup]:
    """Only the learner's own institution needs the whole ID in a list; above it, one click
    reveals (and logs) one ID."""
    shown = ids_with_reveal(Learner)
    return lambda row: shown(row.learner_id, row.learner.national_id)


_masked = PageFormatter(_ids_on_page)


def _shown_id(national_id: str | None) -> str:
    """The ID as this user may read it in a heading: whole for the institution, else masked."""
    return mask_national_id(national_id, reveal=may_reveal_id(current_user))


class RemovalForm(Form):
    reason = SelectField(_l("Reason"), choices=[(str(k), v) for k, v in
                                                REMOVAL_REASON_LABELS.items()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])


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


class EnrolmentView(ScopedModelView):
    """Enrolments of one institution kind; students and young children are separate views."""

    kind = "school"
    can_delete = False  # ghosts are removed with a reason, never deleted
    column_list = ("learner.national_id", "learner", "learner.gender", "grade", "classroom",
                   "academic_year", "institution", "status")
    column_labels = {
        "learner.national_id": _l("National ID"), "learner": _l("Name"),
        "learner.gender": _l("Gender"), "grade": _l("Grade"), "classroom": _l("Classroom"),
        "academic_year": _l("Academic year"), "institution": _l("Institution"),
        "institution.code": _l("Institution code"), "status": _l("Status"),
        "enrolled_on": _l("Enrolment date"), "removal_reason": _l("Reason for removal"),
        "removal_note": _l("Note"), "learner.last_name": _l("Last name"),
        "learner.first_name": _l("First name"),
    }
    column_formatters = {
        "learner.national_id": _masked,
        "learner.gender": labelled(GENDER_LABELS),
        "grade": labelled(GRADE_LABELS), "status": labelled(STATUS_LABELS),
        "removal_reason": labelled(REMOVAL_REASON_LABELS),
    }
    column_formatters_detail = column_formatters
    column_filters = ("academic_year", "grade", "status", "classroom", "institution.code")
    column_searchable_list = ("learner.national_id", "learner.first_name", "learner.last_name")
    column_sortable_list = ("grade", "classroom", "academic_year", "status")
    # The order of ix_enrolment_list_order; the base view ends it with the id.
    column_default_sort = [("academic_year", True), ("institution_id", False), ("grade", False),
                           ("classroom", False)]
    form_columns = ("grade", "classroom", "enrolled_on", "status")
    form_args = {"grade": {"description": GRADE_HELP}}
    editable_columns = ("grade", "classroom")
    list_template = "admin/learners/list.html"

    def search_condition(self, term: str) -> Any:
        return enrolment_condition(term)

    def record_subject(self, obj: Enrolment) -> str:
        return _("%(name)s (%(id)s), %(grade)s in academic year %(year)d at %(institution)s",
                 name=obj.learner.full_name, id=_shown_id(obj.learner.national_id),
                 grade=GRADE_LABELS.get(obj.grade, obj.grade), year=obj.academic_year,
                 institution=obj.institution)

    def export_select(self) -> tuple[list[str], Any]:
        """Every field of the learner record, formatted by the database (see learner_export)."""
        dialect = db.session.get_bind().dialect.name
        return learner_export.headers(), learner_export.select_cells(
            self.export_query(), reveal_ids=may_reveal_id(current_user),
            dialect=dialect)

    def more_row_links(self) -> Callable[[Enrolment], str] | None:
        """An active learner's remove icon: removal asks for a reason and keeps the record."""
        if not self.can_edit:
            return None
        before, after = self.row_icon(".remove_view", REMOVE_TITLE, "fa fa-user-times")
        return lambda row: (f"{before}{row.id}{after}" if row.status == EnrolmentStatus.ACTIVE
                            else "")

    def get_query(self) -> Any:
        # One query per page: learner and institution are eager-loaded in the same SELECT.
        return (super().get_query().filter(Enrolment.institution.has(Institution.kind == self.kind))
                .options(joinedload(Enrolment.learner), joinedload(Enrolment.institution)))

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(
            Enrolment.institution.has(Institution.kind == self.kind))

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self) -> Any:
        """Learners arrive through the ID check, which also carries them over from last year."""
        return redirect(self.get_url(".enrol_view", **request.args))

    # -- enrol by ID check -------------------------------------------------------------------

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
        problems = national_id_problems(typed) if typed else []
        found = None
        if typed and not problems:
            try:
                found = check_by_id(db.session, current_user, typed,
                                    security.throttle(current_app))
                learner, last, whole = found.learner, found.last, found.whole
            except RuleViolation as exc:
                problems += exc.messages
            db.session.commit()  # the look-up's audit row
        if request.method == "GET":
            form.national_id.data = typed
            if learner is not None:
                shown = IDENTITY_FIELDS if whole else NAME_FIELDS
                for name in shown:
                    form[name].data = getattr(learner, name)
                if last is not None and last.grade in GRADES_BY_KIND[self.kind]:
                    carry = last.academic_year < year and last.status == EnrolmentStatus.ACTIVE
                    form.grade.data = (next_grade(last.grade) or last.grade) if carry \
                        else last.grade
                    form.classroom.data = last.classroom
        elif not problems and form.validate():
            institution = self._institution_for(form)
            warning = age_warning(form.birth_date.data, form.grade.data, year)
            if institution is None:
                problems.append(_("Enter the code of an institution of this kind in your area."))
            elif warning and not form.confirm_age.data:
                pass
            else:
                try:
                    self._enrol(typed, learner, institution, form, year, whole)
                    flash(_("The learner is enrolled for academic year %(year)d.", year=year),
                          "success")
                    return redirect(self.get_url(".index_view"))
                except RuleViolation as exc:
                    db.session.rollback()
                    problems += exc.messages
        return self.render("admin/learners/enrol.html", form=form, learner=learner, last=last,
                           own_institution=own_institution_id(current_user),
                           problems=problems, warning=warning, year=year, typed=typed,
                           elsewhere=found.elsewhere if found and not whole else "",
                           grade_labels=GRADE_LABELS, status_labels=STATUS_LABELS)

    def _enrol(self, national_id: str, learner: Learner | None, institution: Institution,
               form: EnrolForm, year: int, whole: bool = True) -> Enrolment:
        """Save learner and enrolment together; a lost race reads as the rule's message.
        A learner held elsewhere keeps the identity that institution recorded."""
        if learner is None:
            learner = Learner(national_id=national_id)
            db.session.add(learner)
        for name in IDENTITY_FIELDS if whole else ():
            setattr(learner, name, form[name].data or None)
        enrolment = enrol(learner, institution, year, form.grade.data,
                          classroom=form.classroom.data or None, enrolled_on=clock.today())
        db.session.add(enrolment)
        commit_enrolment(db.session, national_id, year)
        return enrolment

    # -- ghost removal -------------------------------------------------------------------------

    @expose("/remove/<int:id>/", methods=("GET", "POST"))
    def remove_view(self, id: int) -> Any:
        """Mark a non-existent learner removed, with one of the guideline's reasons."""
        enrolment = self.get_one(id)
        form = RemovalForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            enrolment.status = EnrolmentStatus.REMOVED
            enrolment.removal_reason = form.reason.data
            enrolment.removal_note = form.note.data or None
            try:
                db.session.commit()
            except RuleViolation as exc:
                db.session.rollback()
                for message in exc.messages:
                    flash(message, "error")
            else:
                flash(_("The learner has been removed from the system."), "success")
                return redirect(self.get_url(".index_view"))
        return self.render("admin/learners/remove.html", form=form, enrolment=enrolment,
                           grade_labels=GRADE_LABELS)

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

    # -- rollover ------------------------------------------------------------------------------

    @action("promote", _l("Promote to the next grade"))
    def action_promote(self, ids: list[str]) -> Response:
        return self._to_rollover("promote", ids)

    @action("repeat", _l("Repeat the grade next year"))
    def action_repeat(self, ids: list[str]) -> Response:
        return self._to_rollover("repeat", ids)

    @action("graduate", _l("Graduate"))
    def action_graduate(self, ids: list[str]) -> Response:
        return self._to_rollover("graduate", ids)

    @action("withdraw", _l("Withdraw"))
    def action_withdraw(self, ids: list[str]) -> Response:
        return self._to_rollover("withdraw", ids)

    def _to_rollover(self, name: str, ids: list[str]) -> Response:
        return redirect(self.get_url(".rollover_view", action=name, rowid=ids))

    def _rollover_query(self) -> Any:
        """Rows chosen by id, or every row matching the list's current filter and search."""
        ids = request.values.getlist("rowid")
        if ids:
            query = self.get_query().filter(Enrolment.id.in_([int(i) for i in ids if
                                                              i.isdigit()]))
        else:
            view_args = self._get_list_extra_args()
            _count, query = self.get_list(None, None, False, view_args.search,
                                          view_args.filters, execute=False)
        query = query.limit(None).offset(None).order_by(None)  # every matching row, not a page
        return query.filter(Enrolment.status == EnrolmentStatus.ACTIVE)

    @expose("/rollover/", methods=("GET", "POST"))
    def rollover_view(self) -> Any:
        """Say how many rows will change; change them only when the user confirms."""
        name = request.values.get("action", "")
        if name not in ROLLOVER_ACTIONS or not self.is_action_allowed(name):
            return redirect(self.get_url(".index_view"))
        query = self._rollover_query()
        if request.method == "GET":
            count = query.order_by(None).count()
            return self.render("admin/learners/rollover.html", action=name, count=count,
                               label=ROLLOVER_LABELS[name], form=Form(),
                               args=list(request.args.items(multi=True)),
                               moves=rollover_moves(query, name))
        if not Form(request.form).validate():
            flash(_("The form expired. Please try again."), "error")
            return redirect(self.get_url(".index_view"))
        if not request.values.getlist("rowid") and rows_above(
                query, current_app.config["LEC_ROLLOVER_JOB_ROWS"]):
            return queued(jobs.submit("rollover", current_user, title=str(ROLLOVER_LABELS[name]),
                                      endpoint=self.endpoint, action=name, args=list_args()))
        try:
            changed = self.roll_over_rows(query, name)
            db.session.commit()
        except (RuleViolation, IntegrityError) as exc:
            db.session.rollback()
            flash(str(exc) if isinstance(exc, RuleViolation) else
                  _("Some learners were changed by someone else at the same time. Try again."),
                  "error")
            return redirect(self.get_url(".index_view"))
        flash(_("%(count)d enrolments changed.", count=changed), "success")
        return redirect(self.get_url(".index_view"))

    def roll_over_rows(self, query: Any, name: str, done: Callable[[int], None] | None = None
                       ) -> int:
        """Apply `name` to every row of `query` through the ORM (the rules run on flush);
        return how many enrolments changed. The caller commits."""
        changed = 0
        rows = query.all()
        carried = set(db.session.scalars(select(Enrolment.learner_id).where(
            Enrolment.learner_id.in_([r.learner_id for r in rows]),
            Enrolment.academic_year.in_({r.academic_year + 1 for r in rows}),
            Enrolment.status == EnrolmentStatus.ACTIVE))) if rows else set()
        for n, enrolment in enumerate(rows, start=1):
            before = enrolment.status
            if roll_over(db.session, enrolment, name, carried) is not None or (
                    enrolment.status != before):
                changed += 1
            if done is not None and n % ROLLOVER_BATCH == 0:
                db.session.flush()  # the rules refuse a bad row now, not only at the end
                done(n)
        db.session.flush()
        return changed


GRADE_ORDER = {g: i for i, g in enumerate(SCHOOL_GRADES + CDC_GRADES)}


def rollover_moves(query: Any, action: str) -> list[tuple[str, str, int]]:
    """(from "year grade", to "year grade" or the closing status, how many) for the second look."""
    rows = (query.order_by(None)
            .with_entities(Enrolment.academic_year, Enrolment.grade, func.count(Enrolment.id))
            .group_by(Enrolment.academic_year, Enrolment.grade).all())
    moves = []
    for year, grade, count in sorted(rows, key=lambda r: (r[0], GRADE_ORDER.get(r[1], 99))):
        source = _("%(grade)s, year %(year)d", grade=GRADE_LABELS.get(grade, grade), year=year)
        if action in ("graduate", "withdraw"):
            target = str(STATUS_LABELS[EnrolmentStatus.GRADUATED if action == "graduate"
                                       else EnrolmentStatus.WITHDRAWN])
        else:
            after = grade if action == "repeat" else next_grade(grade)
            target = (_("%(grade)s, year %(year)d", grade=GRADE_LABELS[after], year=year + 1)
                      if after else _("cannot be promoted from the last grade: graduate them"))
        moves.append((source, target, count))
    return moves


@jobs.task("rollover")
def rollover_job(job: Job, endpoint: str, action: str, args: list) -> None:
    """Roll over every row the list showed, in the job's one transaction."""
    with screen_request(endpoint, args, job.owner) as view:
        if not view.is_action_allowed(action):
            raise RuleViolation(_("You may not change records outside your own unit."))
        query = view._rollover_query()
        total = db.session.scalar(select(func.count()).select_from(
            query.order_by(None).subquery()))
        jobs.report_progress(job, 0, total)
        view.roll_over_rows(query, action, lambda n: jobs.report_progress(job, n, total))
        jobs.report_progress(job, total, total)


def _choices(kind: str) -> dict[str, Any]:
    return {"grade": [(g, GRADE_LABELS[g]) for g in GRADES_BY_KIND[kind]],
            "status": [(str(k), v) for k, v in STATUS_LABELS.items()
                       if k != EnrolmentStatus.REMOVED]}


class StudentView(EnrolmentView):
    """Students of schools, K1 to M6."""

    kind = "school"
    form_choices = _choices("school")


class ChildView(EnrolmentView):
    """Young children of child development centres, by age group."""

    kind = "cdc"
    form_choices = _choices("cdc")
    column_labels = EnrolmentView.column_labels | {"grade": _l("Age group")}


class LearnerView(ScopedModelView):
    """A learner's identity, guardian and addresses; enrolment happens in the lists above."""

    can_delete = False
    column_list = ("national_id", "title", "first_name", "last_name", "gender", "birth_date")
    column_labels = {
        "national_id": _l("National ID"), "title": _l("Title"), "first_name": _l("First name"),
        "last_name": _l("Last name"), "gender": _l("Gender"), "birth_date": _l("Birth date"),
        "nationality": _l("Nationality"), "ethnicity": _l("Ethnicity"),
        "religion": _l("Religion"), "height_cm": _l("Height (cm)"),
        "weight_kg": _l("Weight (kg)"), "disadvantaged": _l("Disadvantaged"),
        "guardian_name": _l("Guardian"), "guardian_phone": _l("Guardian's phone"),
        "registered_address": _l("Registered address"),
        "registered_subdistrict": _l("Registered subdistrict"),
        "current_address": _l("Current address"), "current_subdistrict": _l("Current subdistrict"),
    }
    column_formatters = {
        "national_id": lambda v, c, m, n: id_with_reveal(Learner, m.id, m.national_id),
        "gender": labelled(GENDER_LABELS),
    }
    column_formatters_export = column_formatters | {
        "national_id": lambda v, c, m, n: _shown_id(m.national_id)}
    column_searchable_list = ("national_id", "first_name", "last_name")
    form_columns = ("national_id", "title", "first_name", "last_name", "gender", "birth_date",
                    "nationality", "ethnicity", "religion", "height_cm", "weight_kg",
                    "disadvantaged", "guardian_name", "guardian_phone", "registered_address",
                    "registered_subdistrict", "current_address", "current_subdistrict")
    form_choices = {"gender": [(str(k), v) for k, v in GENDER_LABELS.items()],
                    "title": [(t, t) for t in TITLES]}
    form_args = {"national_id": {"description": ID_HELP}}
    form_ajax_refs = {
        "registered_subdistrict": {"fields": ("code", "name_th"), "page_size": 20},
        "current_subdistrict": {"fields": ("code", "name_th"), "page_size": 20},
    }
    can_create = False  # learners are created by enrolling them

    def search_condition(self, term: str) -> Any:
        return learner_condition(term)

    def record_subject(self, obj: Learner) -> str:
        return _("%(name)s (%(id)s)", name=obj.full_name, id=_shown_id(obj.national_id))

    def _create_ajax_loader(self, name: str, options: dict[str, Any]) -> Any:
        """Subdistricts are public reference data: every level may pick any of them."""
        return QueryAjaxModelLoader(name, self.session, Subdistrict, **options)
