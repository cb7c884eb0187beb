"""Confirm, cancel and follow progress (SPEC §5): one page per level, drilling down province →
LAO → institution, and the province's spot checks. Views ask; rules/confirmation.py decides."""

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

import clock
from models import (
    Confirmation,
    Institution,
    Lao,
    Learner,
    Level,
    Province,
    Round,
    SpotCheck,
    SpotCheckItem,
    User,
    db,
)
from models.profiles import confirmers, held_during, unit_terms
from models.rounds import DATABASE_LABELS, SPOT_OUTCOME_LABELS, ConfirmLevel, Database
from rules import RuleViolation, changes, permissions, progress, risk, spotchecks, windows
from rules import confirmation as rules
from rules.scope import Unit, subtree, unit_of
from web.fields import BEDateField
from web.forms import Form

from . import second_look
from .base import DrillDownView, PageView
from .risk import score_context


class ConfirmForm(Form):
    database = HiddenField()


#: The longest cancel reason a refused cancel carries back to the page in its link.
KEPT_REASON = 300


class CancelForm(Form):
    reason = TextAreaField(_l("Reason for cancelling"), validators=[DataRequired(),
                                                                    Length(max=1000)])


class DrawForm(Form):
    unit_code = StringField(_l("LAO or institution code"), validators=[
        DataRequired(_l("Enter the code of the LAO or institution to sample.")), Length(max=10)])
    size = IntegerField(_l("Number of learners"), default=10, validators=[
        InputRequired(), NumberRange(min=1, max=200, message=_l(
            "The number of learners to sample must be a whole number from %(min)d to %(max)d."))])
    seed = IntegerField(_l("Seed"), default=1, validators=[
        InputRequired(), NumberRange(min=0, max=10**9, message=_l(
            "The seed must be a whole number from %(min)d to %(max)d."))])


#: What a sampler is told of a code it may not sample: a province sees only its own units.
UNKNOWN_UNIT = {
    Level.DEPARTMENT: _l("No LAO or institution with this code."),
    Level.PROVINCE: _l("No LAO or institution with this code in your province."),
}


class OutcomeForm(Form):
    # A learner not checked yet shows no outcome: the list starts on a choice to make, not on
    # the first outcome, which read as already found.
    outcome = SelectField(_l("Outcome"), choices=[("", _l("Choose the outcome"))] + [
        (str(k), v) for k, v in SPOT_OUTCOME_LABELS.items()],
        validators=[DataRequired(message=_l("Choose the outcome of the check."))])
    note = StringField(_l("Note"), validators=[Length(max=500)])


class ConfirmationView(DrillDownView):
    """Progress, confirm and cancel for every level."""

    @expose("/")
    def index(self) -> Any:
        round_ = progress.current_round(db.session, request.args.get("round"))
        if round_ is None:
            return self.render("admin/confirmation/index.html", round_=None)
        scope = self.scope()
        context: dict[str, Any] = {
            "round_": round_, "rounds": db.session.scalars(
                select(Round).order_by(Round.academic_year.desc(), Round.number.desc())).all(),
            "labels": DATABASE_LABELS, "days_to": windows.days_to, "today": clock.today(),
            "is_late": windows.is_late, "is_open": windows.is_open(round_),
            "is_closed": windows.is_closed(round_),
            "cancel_form": CancelForm(), "confirm_form": ConfirmForm(),
            "confirms_here": lambda level: permissions.confirms(current_user) == level,
            "may_confirm_now": lambda level, confirmation, waiting: permissions.may_confirm_now(
                current_user, level, confirmation, waiting, windows.is_open(round_)),
        }
        if permissions.confirms(current_user) == scope.level:  # the unit's own page
            context["cancelled"] = progress.cancelled_confirmations(
                db.session, round_.id, scope.level, province_code=scope.province,
                lao_id=scope.lao and scope.lao.id,
                institution_id=scope.institution and scope.institution.id)
        if scope.institution is not None:
            context["institution"] = scope.institution
            context["own"] = [r for r in progress.institution_rows(db.session, round_,
                                                                   scope.lao.id)
                              if r["institution"].id == scope.institution.id]
        elif scope.lao is not None:
            lao = scope.lao
            context["lao"] = lao
            context["institutions"] = progress.institution_rows(db.session, round_, lao.id)
            context["lao_status"] = {
                d: (progress.lao_status(db.session, round_.id, lao.id, d),
                    progress.live_confirmation(db.session, round_.id, ConfirmLevel.LAO, d,
                                               lao_id=lao.id))
                for d in progress.LAO_DATABASES}
            context["province_confirmation"] = progress.live_confirmation(
                db.session, round_.id, ConfirmLevel.PROVINCE, Database.ALL,
                province_code=lao.province_code)
            context["reconfirming"] = changes.cancelled_institutions(db.session, round_.id,
                                                                     lao.id)
        elif scope.province:
            province_code = scope.province
            context["province_code"] = province_code
            context["province"] = db.session.get(Province, province_code)  # read by scope()
            context["laos"] = progress.lao_rows(db.session, round_, province_code)
            context["province_confirmation"] = progress.live_confirmation(
                db.session, round_.id, ConfirmLevel.PROVINCE, Database.ALL,
                province_code=province_code)
            context["province_missing"] = progress.province_missing(db.session, round_.id,
                                                                    province_code)
        else:
            context["provinces"] = progress.province_rows(db.session, round_)
        context.update(score_context(round_, context))
        context.update(arrange(round_, context))
        context["people"] = confirmers(_shown_confirmations(context))
        context["may_cancel"] = lambda c: permissions.may_cancel_now(current_user, c,
                                                                     _above(context, c))
        context["may_cancel_any"] = any(context["may_cancel"](c)
                                        for c in _table_confirmations(context))
        return self.render("admin/confirmation/index.html", **context)

    @expose("/responsible/")
    def responsible(self) -> Any:
        """Who answered for a unit, term by term, and who it was on the day asked about."""
        scope = self.scope()
        unit = scope.institution or scope.lao or scope.province
        terms = unit_terms(unit) if unit is not None else []
        form = ResponsibleForm(request.args, meta={"csrf": False})
        on = form.on.data if request.args.get("on") and form.validate() else None
        then = None
        if on is not None:
            start = datetime.combine(on, time.min, tzinfo=clock.BANGKOK)
            then = [t for t in terms if held_during(t, start, start + timedelta(days=1))]
        return self.render("admin/confirmation/responsible.html", scope=scope, terms=terms,
                           form=form, on=on, then=then)

    @expose("/confirm/<int:round_id>", methods=("GET",))
    def preview(self, round_id: int) -> str:
        """The second look: the counts the confirmation will freeze, then one more button."""
        round_ = db.session.get(Round, round_id) or abort(404)
        if permissions.confirms(current_user) is None:
            abort(403)
        return self.render("admin/confirmation/preview.html", confirm_form=ConfirmForm(),
                           **second_look.preview(round_, request.args.get("database", "")))

    @expose("/confirm/<int:round_id>", methods=("POST",))
    def confirm(self, round_id: int) -> Response:
        round_ = db.session.get(Round, round_id) or abort(404)
        form = ConfirmForm()
        if not form.validate_on_submit():
            abort(400)
        level = permissions.confirms(current_user)
        if level is None:
            abort(403)
        try:
            if level == ConfirmLevel.INSTITUTION:
                institution = db.session.get(Institution, current_user.institution_id)
                rules.confirm_institution(db.session, round_, institution)
            elif level == ConfirmLevel.LAO:
                rules.confirm_lao(db.session, round_, db.session.get(Lao, current_user.lao_id),
                                  form.database.data or "")
            else:
                rules.confirm_province(db.session, round_, current_user.province_code)
            db.session.commit()
            flash(_("The data is confirmed."), "success")
        except RuleViolation as exc:
            db.session.rollback()
            flash(_refusal(exc, round_), "error")
        return redirect(url_for(".index", round=round_.id))

    @expose("/cancel/", methods=("POST",))
    def cancel_selected(self) -> Response:
        """Cancel every ticked confirmation with one reason, all or none."""
        ids = request.form.getlist("confirmation", type=int)[:1000]  # drops what is not an id
        form = CancelForm()
        kept: dict[str, Any] = {}
        chosen = db.session.scalars(select(Confirmation).where(Confirmation.id.in_(ids))).all()
        if any(not permissions.may_see(current_user, Unit(c.province_code, c.lao_id,
                                                          c.institution_id)) for c in chosen):
            abort(404)
        try:
            if not form.validate_on_submit():
                raise RuleViolation(_("Give the reason for cancelling the confirmation."))
            if not chosen:
                raise RuleViolation(_("Tick the confirmations to cancel."))
            for confirmation in chosen:
                rules.cancel(db.session, confirmation, form.reason.data)
            db.session.commit()
            flash(_("%(count)d confirmations cancelled.", count=len(chosen)), "success")
        except RuleViolation as exc:
            db.session.rollback()
            flash(str(exc), "error")
            # Refused: the page comes back with the boxes ticked and the reason typed (one
            # longer than a link carries is not cut short: it is left out).
            reason = form.reason.data or ""
            kept = {"reason": reason if len(reason) <= KEPT_REASON else None,
                    "confirmation": [c.id for c in chosen]}
        back = request.form
        return redirect(url_for(".index", round=back.get("round", type=int),
                                lao=back.get("lao", type=int), province=back.get("province"),
                                **kept))

    @expose("/cancel/<int:confirmation_id>", methods=("POST",))
    def cancel(self, confirmation_id: int) -> Response:
        confirmation = db.session.get(Confirmation, confirmation_id) or abort(404)
        if not permissions.may_see(current_user, Unit(
                confirmation.province_code, confirmation.lao_id, confirmation.institution_id)):
            abort(404)
        form = CancelForm()
        try:
            if not form.validate_on_submit():
                raise RuleViolation(_("Give the reason for cancelling the confirmation."))
            rules.cancel(db.session, confirmation, form.reason.data)
            db.session.commit()
            flash(_("The confirmation is cancelled."), "success")
        except RuleViolation as exc:
            db.session.rollback()
            flash(str(exc), "error")
        # Back to the page above the confirmation, where its cancel button is; a unit refused
        # the cancel of its own confirmation may not open that page: back to its own.
        above = (Unit(confirmation.province_code, confirmation.lao_id)
                 if confirmation.level == ConfirmLevel.INSTITUTION
                 else Unit(confirmation.province_code))
        if not permissions.may_see(current_user, above):
            return redirect(url_for(".index", round=confirmation.round_id))
        return redirect(url_for(".index", round=confirmation.round_id, lao=above.lao_id,
                                province=confirmation.province_code))


def _refusal(exc: RuleViolation, round_: Round) -> str:
    """A refused confirm as flashed: an LAO or province waiting for the units below it, named
    only in part, gets a link to the whole list on its progress page."""
    if not isinstance(exc, rules.UnitsWaiting):
        return str(exc)
    return Markup('{} <a href="{}">{}</a>').format(
        str(exc), second_look.waiting_url(round_, unit_of(current_user)), exc.see_all)


#: How each progress table sorts, by the `sort` argument ("score" is risk.score_context's).
SORT_KEYS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "laos": {"code": lambda r: r["lao"].code, "name": lambda r: r["lao"].name,
             "learners": lambda r: r["learners"],
             "done": lambda r: r["done"] / r["total"] if r["total"] else 1,
             "status": lambda r: -len(r["pending"])},
    "provinces": {"code": lambda r: r["province"].code, "name": lambda r: r["province"].name_th,
                  "done": lambda r: r["done"] / r["laos"] if r["laos"] else 1,
                  "status": lambda r: r["confirmation"] is not None},
    "institutions": {"code": lambda r: r["institution"].code,
                     "name": lambda r: r["institution"].name,
                     "learners": lambda r: r["learners"],
                     "status": lambda r: r["confirmation"] is not None},
    "province_missing": {"code": lambda m: m.code, "name": lambda m: m.name,
                         "status": lambda m: m.detail},
}
#: Whether a row still owes its confirmation, per table, and the level whose deadline counts.
OWING: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "laos": (ConfirmLevel.LAO, lambda r: bool(r["pending"])),
    "provinces": (ConfirmLevel.PROVINCE, lambda r: r["confirmation"] is None),
    "institutions": (ConfirmLevel.INSTITUTION, lambda r: r["confirmation"] is None),
    "province_missing": (ConfirmLevel.LAO, lambda m: True),
}


def arrange(round_: Round, context: dict[str, Any]) -> dict[str, Any]:
    """Totals of the progress tables, then the late-only filter and the sort the URL asks for,
    all on the rows already read: the page's query count stays the same."""
    totals: dict[str, Any] = {
        name: (sum(not owes(r) for r in context[name]), len(context[name]))
        for name, (_level, owes) in OWING.items() if name in context and name != "laos"}
    if "laos" in context:
        totals["laos"] = progress.lao_tally(context["laos"])
    if "provinces" in context:
        rows = context["provinces"]
        totals["province_laos"] = progress.LaoTally(
            *(sum(r[key] for r in rows) for key in ("done", "laos", "idle")))
    late_only = request.args.get("late") == "1"
    sort = request.args.get("sort", "")
    descending = request.args.get("desc") == "1"
    for name, (level, owes) in OWING.items():
        if name not in context:
            continue
        rows = context[name]
        if late_only:
            rows = [r for r in rows if owes(r)] if windows.is_late(round_, level) else []
        if sort in SORT_KEYS[name]:
            rows = sorted(rows, key=SORT_KEYS[name][sort], reverse=descending)
        context[name] = rows
    return {"totals": totals, "late_only": late_only, "sort": sort, "descending": descending}


def _above(context: dict[str, Any], confirmation: Confirmation) -> Confirmation | None:
    """The live confirmation one level up that freezes `confirmation`, from what the page read."""
    if confirmation.level == ConfirmLevel.INSTITUTION:
        return context["lao_status"][confirmation.database][1]
    if confirmation.level == ConfirmLevel.LAO:
        return context.get("province_confirmation")
    return None


def _table_confirmations(context: dict[str, Any]) -> list[Confirmation]:
    """The confirmations in the rows of the page's main table, which the tick boxes cancel."""
    found = [row["confirmation"] for row in [*context.get("institutions", []),
                                             *context.get("provinces", [])]]
    found += [c for row in context.get("laos", []) for c in row["confirmed"].values()]
    return [c for c in found if c is not None]


def _shown_confirmations(context: dict[str, Any]) -> list[Confirmation]:
    """Every confirmation the progress page names, to look up who made each in one query."""
    found = [row["confirmation"] for row in context.get("own", [])]
    found += [live for _status, live in context.get("lao_status", {}).values()]
    found.append(context.get("province_confirmation"))
    return [c for c in found if c is not None] + _table_confirmations(context)


class ResponsibleForm(Form):
    # InputRequired keeps the date field's own reason for a date it cannot read.
    on = BEDateField(_l("On the day"), validators=[InputRequired()])


def _sampled_units(checks: list[SpotCheck]) -> dict[int, Lao | Institution]:
    """The LAO or institution each check sampled, two queries for the whole list."""
    laos = {lao.id: lao for lao in db.session.scalars(
        select(Lao).where(Lao.id.in_({c.lao_id for c in checks})))} if checks else {}
    institutions = {i.id: i for i in db.session.scalars(select(Institution).where(
        Institution.id.in_({c.institution_id for c in checks if c.institution_id})))
    } if checks else {}
    return {c.id: institutions.get(c.institution_id) or laos[c.lao_id] for c in checks}


class SpotCheckView(PageView):
    """A province samples learners of an LAO or institution and records what it found."""


    def _check(self, check_id: int) -> SpotCheck:
        check = db.session.get(SpotCheck, check_id) or abort(404)
        if not permissions.may_see(current_user, Unit(check.province_code)):
            abort(404)
        return check

    @expose("/", methods=("GET", "POST"))
    def index(self) -> Any:
        round_ = progress.current_round(db.session, request.args.get("round"))
        form = DrawForm()
        if round_ is not None and form.validate_on_submit():
            code = form.unit_code.data.strip()
            institution = db.session.scalars(select(Institution).where(
                Institution.code == code)).first()
            lao = institution.lao if institution else db.session.scalars(
                select(Lao).where(Lao.code == code)).first()
            unit = Unit(lao.province_code, lao.id, institution.id if institution else None
                        ) if lao is not None else None
            if unit is None or not permissions.may_sample(current_user, unit):
                flash(UNKNOWN_UNIT[current_user.level], "error")
            else:
                try:
                    check = spotchecks.draw(db.session, round_, lao, institution, form.seed.data,
                                            form.size.data, current_user.login)
                    db.session.commit()
                    return redirect(url_for(".detail", check_id=check.id))
                except RuleViolation as exc:
                    db.session.rollback()
                    flash(str(exc), "error")
        checks = []
        if round_ is not None:
            query = select(SpotCheck).where(SpotCheck.round_id == round_.id,
                                            subtree(SpotCheck, current_user))
            checks = db.session.scalars(query.order_by(SpotCheck.id.desc()).limit(100)).all()
        return self.render("admin/confirmation/spot_checks.html", round_=round_, form=form,
                           checks=checks, units=_sampled_units(checks),
                           checked=spotchecks.checked_counts(db.session, [c.id for c in checks]))

    @expose("/<int:check_id>", methods=("GET", "POST"))
    def detail(self, check_id: int) -> Any:
        check = self._check(check_id)
        # Each row's form starts from what is recorded, so saving one row again keeps the rest.
        forms = {item.id: OutcomeForm(formdata=None, obj=item) for item in check.items}
        form = OutcomeForm()
        item_id = request.form.get("item_id", type=int)
        if item_id and form.validate_on_submit():
            item = db.session.get(SpotCheckItem, item_id)
            if item is None or item.spot_check_id != check.id:
                abort(404)
            item.outcome, item.note = form.outcome.data, form.note.data or None
            item.checked_at, item.checked_by = clock.now(), current_user.login
            try:
                db.session.commit()
                flash(_("The outcome is recorded."), "success")
                return redirect(url_for(".detail", check_id=check.id))
            except RuleViolation as exc:
                db.session.rollback()
                flash(str(exc), "error")
        else:
            for errors in form.errors.values() if item_id else ():
                for error in errors:
                    flash(str(error), "error")
        if item_id in forms:  # a refused row keeps what was typed in it
            forms[item_id] = form
        learners = {lr.id: lr for lr in db.session.scalars(select(Learner).where(
            Learner.id.in_([i.learner_id for i in check.items])))}
        institutions = {i.id: i for i in db.session.scalars(select(Institution).where(
            Institution.id.in_([i.institution_id for i in check.items])))}
        logins = {check.drawn_by, *(i.checked_by for i in check.items)} - {None}
        people = {login: f"{name} ({login})" if name else login for login, name in
                  db.session.execute(select(User.login, User.name).where(User.login.in_(logins)))}
        return self.render("admin/confirmation/spot_check.html", check=check, forms=forms,
                           unit=_sampled_units([check])[check.id], people=people,
                           learners=learners, institutions=institutions,
                           outcomes=SPOT_OUTCOME_LABELS, rules=risk.RULES)
