"""Other-affiliation head counts: one grid per funded school and round, boys and girls K1-P6."""

from typing import Any

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from models import OtherSchool, OtherSchoolCount, Round, db
from models.organisations import AFFILIATION_LABELS
from models.people import COUNT_GRADES, GRADE_LABELS
from rules import RuleViolation, progress
from rules.counts import as_of_warning, count_problem
from rules.scope import subtree
from spreadsheets import readers
from spreadsheets.obec_counts import ObecCounts, limited_to, read_obec_table
from spreadsheets.pending import discard, keep, load
from spreadsheets.uploads import MAX_BYTES, Expected, UploadRefused, check_upload
from web.fields import whole_number
from web.forms import Form

from .base import PageView

PAGE_SIZE = 100


class OtherSchoolCountView(PageView):
    """The LAO's screen for the counts of the other-affiliation schools it funds (SPEC §3)."""


    def _round(self) -> Round | None:
        wanted = request.args.get("round", type=int)
        if wanted:
            return db.session.get(Round, wanted)
        return progress.current_round(db.session)

    @expose("/")
    def index(self) -> str:
        """Funded schools with their totals for the round, filterable by affiliation."""
        round_ = self._round()
        affiliation = request.args.get("affiliation", "")
        page = max(request.args.get("page", 0, type=int), 0)
        totals = (select(OtherSchoolCount.other_school_id,
                         func.sum(OtherSchoolCount.boys).label("boys"),
                         func.sum(OtherSchoolCount.girls).label("girls"))
                  .where(OtherSchoolCount.round_id == (round_.id if round_ else None))
                  .group_by(OtherSchoolCount.other_school_id).subquery())
        query = (select(OtherSchool, totals.c.boys, totals.c.girls)
                 .outerjoin(totals, totals.c.other_school_id == OtherSchool.id)
                 .where(subtree(OtherSchool, current_user)).order_by(OtherSchool.code))
        if affiliation in AFFILIATION_LABELS:
            query = query.where(OtherSchool.affiliation == affiliation)
        rows = db.session.execute(query.limit(PAGE_SIZE + 1).offset(page * PAGE_SIZE)).all()
        rounds = db.session.scalars(select(Round).order_by(Round.academic_year.desc(),
                                                           Round.number.desc()).limit(20)).all()
        return self.render("admin/learners/counts_list.html", rows=rows[:PAGE_SIZE],
                           more=len(rows) > PAGE_SIZE, page=page, round=round_, rounds=rounds,
                           affiliation=affiliation, affiliations=AFFILIATION_LABELS)

    @expose("/<int:school_id>/", methods=("GET", "POST"))
    def grid(self, school_id: int) -> Any:
        """One form per school: every grade's boys and girls, saved together or not at all."""
        school = db.session.scalar(select(OtherSchool).where(
            OtherSchool.id == school_id, subtree(OtherSchool, current_user)))
        round_ = self._round()
        if school is None or round_ is None:
            abort(404)
        existing = {c.grade: c for c in db.session.scalars(select(OtherSchoolCount).where(
            OtherSchoolCount.round_id == round_.id, OtherSchoolCount.other_school_id == school.id))}
        values = {g: (existing[g].boys, existing[g].girls) if g in existing else (0, 0)
                  for g in COUNT_GRADES}
        problems: list[str] = []
        errors: dict[str, str] = {}
        form = Form(request.form if request.method == "POST" else None)
        if request.method == "POST":
            values = {g: (request.form.get(f"{g}_boys", ""), request.form.get(f"{g}_girls", ""))
                      for g in COUNT_GRADES}
            parsed, errors = _read_grid(school, values)
            if not form.validate():
                problems.append(_("The form expired. Please try again."))
            if errors:
                problems.append(_("Nothing is saved yet: correct the numbers marked below."))
            if not problems:
                school_rows = {(school.id, grade): row for grade, row in existing.items()}
                _set_counts(school_rows, round_.id, school, parsed)
                try:
                    db.session.commit()
                except RuleViolation as exc:
                    db.session.rollback()
                    problems += exc.messages
                else:
                    flash(_("The counts of %(school)s are saved.", school=school.name), "success")
                    return redirect(self.get_url(".index", round=round_.id))
        return self.render("admin/learners/counts_grid.html", school=school, round=round_,
                           values=values, problems=problems, errors=errors, form=form,
                           grades=COUNT_GRADES,
                           grade_labels=GRADE_LABELS, affiliations=AFFILIATION_LABELS)

    def _matched(self, found: ObecCounts) -> tuple[dict[str, OtherSchool], list[str]]:
        """The file's schools among the user's other-affiliation schools, and those not."""
        schools = {s.code: s for s in db.session.scalars(select(OtherSchool).where(
            OtherSchool.code.in_(list(found.schools)), subtree(OtherSchool, current_user)))}
        unknown = [_("School %(code)s is not one of the other-affiliation schools of your "
                     "area; add it first or remove it from the file.", code=code)
                   for code in found.schools if code not in schools]
        return schools, unknown

    @expose("/upload/", methods=("GET", "POST"))
    def upload(self) -> Any:
        """OBEC's per-grade counts of the schools the LAO funds: a preview, then a confirm."""
        round_ = self._round()
        form = Form(request.form if request.method == "POST" else None)
        context: dict[str, Any] = {"round": round_, "form": form, "found": None,
                                   "grade_labels": GRADE_LABELS, "grades": COUNT_GRADES}
        upload = request.files.get("file")
        if request.method == "GET" or round_ is None:
            return self.render("admin/learners/counts_upload.html", **context)
        if not form.validate() or upload is None or not upload.filename:
            flash(_("Choose OBEC's counts file to upload."), "error")
            return self.render("admin/learners/counts_upload.html", **context), 422
        data = upload.read(MAX_BYTES + 1)
        try:
            check_upload(data, expected=Expected.OBEC_COUNTS)  # bounded before any parser reads it
            found = limited_to(read_obec_table(data), COUNT_GRADES)
        except (readers.Unreadable, UploadRefused) as exc:
            flash(str(exc), "error")
            return self.render("admin/learners/counts_upload.html", **context), 422
        schools, unknown = self._matched(found)
        pending = keep(data, "counts", owner=current_user.id, target_id=round_.id,
                       year=round_.academic_year, filename=upload.filename)
        context.update(found=found, schools=schools, unknown=unknown, pending=pending,
                       problems=[r for _line, r in found.problems] + unknown,
                       year_warning=as_of_warning(found.count_date(), round_))
        status = 422 if context["problems"] else 200
        return self.render("admin/learners/counts_upload.html", **context), status

    @expose("/upload/<token>/", methods=("POST",))
    def upload_commit(self, token: str) -> Any:
        """Fill the grids from the kept file, every school or none."""
        pending = load(token, "counts", owner=current_user.id)
        round_ = db.session.get(Round, pending.target_id) if pending else None
        if pending is None or round_ is None or not Form(request.form).validate():
            flash(_("The uploaded file is no longer kept (after an hour, or once imported). "
                    "Upload it again."), "error")
            return redirect(self.get_url(".upload"))
        found = limited_to(read_obec_table(pending.data()), COUNT_GRADES)
        schools, unknown = self._matched(found)
        problems = [r for _line, r in found.problems] + unknown
        if not problems:
            existing = {(c.other_school_id, c.grade): c for c in db.session.scalars(
                select(OtherSchoolCount).where(
                    OtherSchoolCount.round_id == round_.id,
                    OtherSchoolCount.other_school_id.in_([s.id for s in schools.values()])))}
            for code, grades in found.schools.items():
                _set_counts(existing, round_.id, schools[code], grades)
            try:
                db.session.commit()
            except RuleViolation as exc:
                db.session.rollback()
                problems += exc.messages
        if problems:
            for problem in problems[:20]:
                flash(problem, "error")
            return redirect(self.get_url(".upload"))
        discard(token)
        flash(_("The counts of %(count)d schools are saved from the file.",
                count=len(found.schools)), "success")
        return redirect(self.get_url(".index", round=round_.id))


def _read_grid(school: OtherSchool, typed: dict[str, tuple[str, str]]
               ) -> tuple[dict[str, tuple[int, int]], dict[str, str]]:
    """The numbers typed per grade, and what is wrong with each box by its input's name: the
    rule's own words beside the box, so the user sees which of eighteen to correct."""
    labels = {"boys": _("boys"), "girls": _("girls")}
    parsed: dict[str, tuple[int, int]] = {}
    errors: dict[str, str] = {}
    for grade, pair in typed.items():
        numbers = []
        for gender, raw in zip(("boys", "girls"), pair, strict=True):
            raw = raw.strip() or "0"
            number = whole_number(raw)
            if number is None:
                errors[f"{grade}_{gender}"] = _(
                    "%(grade)s, %(field)s: enter a whole number, 0 or more, in the digits 0-9 "
                    "or ๐-๙ (you typed \"%(value)s\").", grade=GRADE_LABELS[grade],
                    field=labels[gender], value=raw)
            elif problem := count_problem(number, school.name, str(GRADE_LABELS[grade]),
                                          gender):
                errors[f"{grade}_{gender}"] = problem
            numbers.append(number or 0)
        parsed[grade] = (numbers[0], numbers[1])
    return parsed, errors


def _set_counts(existing: dict[tuple[int, str], OtherSchoolCount], round_id: int, school: Any,
                grades: dict[str, Any]) -> None:
    """Write a school's boys and girls per grade onto its rows, adding the missing ones."""
    for grade, (boys, girls) in grades.items():
        row = existing.get((school.id, grade)) or OtherSchoolCount(
            round_id=round_id, other_school_id=school.id, grade=grade)
        row.other_school = school
        row.boys, row.girls = boys, girls
        db.session.add(row)
