"""Year rollover: promote, repeat, graduate or withdraw the chosen rows or every row the list
shows, after a second look; above a size, as a background job."""

from collections.abc import Callable
from typing import Any

from flask import current_app, flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

import jobs
from models import Enrolment, db
from models.jobs import Job
from models.people import (
    CDC_GRADES,
    GRADE_LABELS,
    SCHOOL_GRADES,
    STATUS_LABELS,
    EnrolmentStatus,
    next_grade,
)
from rules import RuleViolation
from rules.enrolment import ROLLOVER_ACTIONS, roll_over
from rules.windows import intake_year_problem
from web.forms import Form

from .background import list_args, queued, rows_above, screen_request

#: Rows a rollover job writes between two progress reports.
ROLLOVER_BATCH = 500
ROLLOVER_LABELS = {"promote": _l("Promote"), "repeat": _l("Repeat the grade"),
                   "graduate": _l("Graduate"), "withdraw": _l("Withdraw")}


class RolloverMixin:
    """The enrolment view's rollover actions and their confirmation page."""

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
            query = self.get_query().filter(
                Enrolment.id.in_(request.values.getlist("rowid", type=int)))
        else:
            view_args = self._get_list_extra_args()
            if not self.every_filter_read(view_args):
                raise RuleViolation(_("A filter of the list could not be read, so nothing was "
                                      "changed. Correct the filter and try again."))
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
        try:
            query = self._rollover_query()
        except RuleViolation as exc:
            flash(str(exc), "error")
            return redirect(self.get_url(".index_view", **{
                k: v for k, v in request.args.items() if k != "action"}))
        if request.method == "GET":
            groups = rollover_groups(query)
            return self.render("admin/learners/rollover.html", action=name,
                               count=sum(count for _year, _grade, count in groups),
                               label=ROLLOVER_LABELS[name], form=Form(),
                               args=list(request.args.items(multi=True)),
                               moves=rollover_moves(groups, name),
                               refusals=intake_refusals({year for year, _g, _c in groups}, name))
        if not Form(request.form).validate():
            flash(_("The form expired. Please try again."), "error")
            return redirect(self.get_url(".index_view"))
        if not request.values.getlist("rowid") and rows_above(
                query, current_app.config["LEC_ROLLOVER_JOB_ROWS"]):
            title = jobs.Title("Year rollover: %(action)s", action=ROLLOVER_LABELS[name])
            return queued(jobs.submit("rollover", current_user, title=title,
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
        years: dict[int, str | None] = {}
        for n, enrolment in enumerate(rows, start=1):
            before = enrolment.status
            if roll_over(db.session, enrolment, name, carried, years) is not None or (
                    enrolment.status != before):
                changed += 1
            if done is not None and n % ROLLOVER_BATCH == 0:
                db.session.flush()  # the rules refuse a bad row now, not only at the end
                done(n)
        db.session.flush()
        return changed


GRADE_ORDER = {g: i for i, g in enumerate(SCHOOL_GRADES + CDC_GRADES)}
#: The grades a school's learners finish a level in (kindergarten, primary, lower and upper
#: secondary); graduating from any other school grade is most likely a slip for promote.
LEVEL_ENDS = frozenset({"K3", "P6", "M3", "M6"})


def rollover_groups(query: Any) -> list[tuple[int, str, int]]:
    """(year, grade, how many) of the rows a rollover would change. One pass over them gives
    the second look its count, moves and years: the department's took three (0.5 s)."""
    return [tuple(row) for row in query.order_by(None).with_entities(
        Enrolment.academic_year, Enrolment.grade, func.count(Enrolment.id))
        .group_by(Enrolment.academic_year, Enrolment.grade)]


def intake_refusals(years: set[int], action: str) -> list[str]:
    """Why the years a promote or repeat carries learners into may not take them now, said on
    the second look rather than after its Confirm button."""
    if action not in ("promote", "repeat"):
        return []
    return [p for year in sorted(years) if (p := intake_year_problem(db.session, year + 1))]


def rollover_moves(groups: list[tuple[int, str, int]], action: str
                   ) -> list[tuple[str, str, int, str | None]]:
    """(from "year grade", to "year grade" or the closing status, how many, a warning or None)
    for the second look."""
    moves = []
    for year, grade, count in sorted(groups, key=lambda r: (r[0], GRADE_ORDER.get(r[1], 99))):
        source = _("%(grade)s, year %(year)d", grade=GRADE_LABELS.get(grade, grade), year=year)
        warning = None
        if action == "graduate" and grade in SCHOOL_GRADES and grade not in LEVEL_ENDS:
            warning = _("%(grade)s does not end a level: check that these learners really "
                        "graduated; to move them up a grade choose Promote instead.",
                        grade=GRADE_LABELS.get(grade, grade))
        if action in ("graduate", "withdraw"):
            target = str(STATUS_LABELS[EnrolmentStatus.GRADUATED if action == "graduate"
                                       else EnrolmentStatus.WITHDRAWN])
        else:
            after = grade if action == "repeat" else next_grade(grade)
            target = (_("%(grade)s, year %(year)d", grade=GRADE_LABELS[after], year=year + 1)
                      if after else _("cannot be promoted from the last grade: graduate them"))
        moves.append((source, target, count, warning))
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
