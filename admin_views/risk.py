"""Risk flags of a round, listed by rule and unit with their reasons, and the thresholds the
department sets per year. Rules/risk.py finds the rows; these pages only read and ask."""

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectField
from wtforms.validators import Optional

import jobs
from i18n import be_date
from models import Enrolment, Institution, Lao, Learner, OtherSchool, Round, db
from models.jobs import Job
from models.people import GRADE_LABELS
from models.risk import ObecCount, QualityScore, RiskFlag
from rules import RuleViolation, quality, risk
from rules.permissions import may_see, may_see_contacts, may_write
from rules.progress import current_round
from rules.scope import Unit, spans_many_laos, subtree, whole_country
from spreadsheets.obec_counts import read_obec_counts
from spreadsheets.uploads import Expected, check_csv
from web.auth import is_local_path
from web.fields import BEDateField
from web.forms import Form

from .audit import id_with_reveal
from .background import queued
from .base import PageView, ScopedModelView

PAGE = 100


class RiskThresholdView(ScopedModelView):
    """The department's thresholds per year; a year without a row uses the default."""

    column_list = ("academic_year", "setting", "value")
    column_default_sort = [("academic_year", True), ("setting", False)]
    column_labels = {"academic_year": _l("Academic year"), "setting": _l("Setting"),
                     "value": _l("Value")}
    column_formatters = {"setting": lambda v, c, m, n: risk.SETTING_LABELS.get(m.setting,
                                                                               m.setting)}
    form_columns = ("academic_year", "setting", "value")
    form_overrides = {"setting": SelectField}
    form_args = {"setting": {"choices": [(k, v) for k, v in risk.SETTING_LABELS.items()],
                             "label": _l("Setting")}}
    editable_columns = ("value",)


class ComputeForm(Form):
    """The recompute button: CSRF only."""


class ObecForm(Form):
    """OBEC's published per-school, per-grade counts (CSV) and, if the file lacks it, the date."""

    file = FileField(_l("OBEC counts file (CSV)"), validators=[FileRequired()])
    count_date = BEDateField(_l("Count date (if the file does not say)"), validators=[Optional()])


def flag_rows(round_: Round, *where: Any, page: int = 0) -> list[dict[str, Any]]:
    """One page of the round's flags inside the user's subtree, with their reasons: one query."""
    query = (select(RiskFlag, Learner.title, Learner.first_name, Learner.last_name,
                    Learner.national_id, Enrolment.grade, Institution.code, Institution.name,
                    OtherSchool.code.label("other_code"), OtherSchool.name.label("other_name"))
             .outerjoin(Learner, Learner.id == RiskFlag.learner_id)
             .outerjoin(Enrolment, Enrolment.id == RiskFlag.enrolment_id)
             .outerjoin(Institution, Institution.id == RiskFlag.institution_id)
             .outerjoin(OtherSchool, OtherSchool.id == RiskFlag.other_school_id)
             .where(RiskFlag.round_id == round_.id, subtree(RiskFlag, current_user), *where)
             .order_by(RiskFlag.id).limit(PAGE + 1).offset(page * PAGE))
    rows, contacts = [], may_see_contacts(current_user)
    for r in db.session.execute(query):
        flag = r[0]
        rule = risk.RULES[flag.rule]
        name = " ".join(p for p in (r.title, r.first_name, r.last_name) if p)
        rows.append({
            "flag": flag, "rule": rule.label,
            "reason": rule.reason_for(flag, round_, reveal_contacts=contacts),
            "learner": name,
            "national_id": id_with_reveal(Learner, flag.learner_id, r.national_id),
            "grade": GRADE_LABELS.get(r.grade, "") if r.grade else "",
            "unit": f"{r.code} {r.name}" if r.code else f"{r.other_code} {r.other_name}"})
    return rows


def filters(args: Any) -> tuple[list[Any], dict[str, Any]]:
    """The list's filters from the query string, each checked against the user's subtree."""
    where, kept = [], {}
    rule = args.get("rule")
    if rule in risk.RULES:
        where.append(RiskFlag.rule == rule)
        kept["rule"] = rule
    part = next((p for p in quality.PARTS if p.key == args.get("part") and p.rules), None)
    if part is not None:
        where.append(RiskFlag.rule.in_(part.rules))
        kept["part"] = part.key
    institution_id = args.get("institution", type=int)
    if institution_id:
        institution = db.session.get(Institution, institution_id) or abort(404)
        if not may_see(current_user, Unit(institution.lao.province_code, institution.lao_id,
                                         institution.id)):
            abort(404)
        where.append(RiskFlag.institution_id == institution_id)
        kept["institution"] = institution_id
    lao_id = args.get("lao", type=int)
    if lao_id:
        lao = db.session.get(Lao, lao_id) or abort(404)
        if not may_see(current_user, Unit(lao.province_code, lao.id)):
            abort(404)
        where.append(RiskFlag.lao_id == lao_id)
        kept["lao"] = lao_id
    province = args.get("province")
    if province:
        if not may_see(current_user, Unit(province)):
            abort(404)
        where.append(RiskFlag.province_code == province)
        kept["province"] = province
    return where, kept


def own_institution_ids(user: Any) -> list[int] | None:
    """The institutions a recompute by `user` covers; None for the whole round."""
    if whole_country(user):
        return None
    return list(db.session.scalars(select(Institution.id).join(Lao).where(
        subtree(Institution, user))))


class RiskView(PageView):
    """The round's risk flags in the user's subtree, filtered by rule and unit."""

    @expose("/")
    def index(self) -> Any:
        round_ = current_round(db.session, request.args.get("round"))
        if round_ is None:
            return self.render("admin/risk/index.html", round_=None)
        where, kept = filters(request.args)
        page = max(request.args.get("page", 0, type=int), 0)
        rows = flag_rows(round_, *where, page=page)
        checked = quality.checked_at(db.session, round_, subtree(QualityScore, current_user))
        return self.render("admin/risk/index.html", round_=round_, rows=rows[:PAGE],
                           checked_at=checked,
                           more=len(rows) > PAGE, page=page, kept=kept, rules=risk.RULES,
                           form=ComputeForm(), may_load_obec=may_write(current_user, ObecCount))

    @expose("/obec", methods=("GET", "POST"))
    def obec(self) -> Any:
        """The department loads OBEC's table; the next check compares the LAOs' counts to it."""
        if not may_write(current_user, ObecCount):
            abort(403)
        form = ObecForm()
        if form.validate_on_submit():
            data = form.file.data.read()
            try:
                check_csv(data, Expected.OBEC_COUNTS)
                table = read_obec_counts(data)
                day = table.as_of or form.count_date.data
                if day is None:
                    raise RuleViolation(_("The file does not say its count date: enter it."))
                rows = risk.load_obec_counts(db.session, table.counts, day)
                db.session.commit()
                flash(_("%(rows)d OBEC grade counts loaded for %(date)s.", rows=rows,
                        date=be_date(day)), "success")
                return redirect(url_for(".index"))
            except RuleViolation as exc:
                db.session.rollback()
                flash(str(exc), "error")
        return self.render("admin/risk/obec.html", form=form)

    @expose("/compute/<int:round_id>", methods=("POST",))
    def compute(self, round_id: int) -> Response:
        """Recompute the flags and scores of the user's own units now."""
        round_ = db.session.get(Round, round_id) or abort(404)
        if not ComputeForm().validate_on_submit():
            abort(400)
        if spans_many_laos(current_user):  # a province (seconds) or the nation (minutes)
            title = jobs.Title("Risk flags and quality scores")
            return queued(jobs.submit("risk", current_user, title=title, round_id=round_.id))
        ids = own_institution_ids(current_user)
        quality.compute(db.session, round_, risk.compute(db.session, round_, ids))
        db.session.commit()
        flash(_("The risk flags and quality scores are recomputed."), "success")
        back = request.form.get("next")
        return redirect(back if is_local_path(back) else url_for(".index", round=round_.id))


@jobs.task("risk")
def risk_job(job: Job, round_id: int) -> None:
    """A round's flags and scores for its owner's province or the nation, set-wise, in the
    worker."""
    round_ = db.session.get(Round, round_id)
    if round_ is None or job.owner is None:
        return None
    ids = own_institution_ids(job.owner)
    if ids is None:  # the department's run writes down the year's thresholds it used
        risk.seed_thresholds(db.session, round_.academic_year)
    quality.compute(db.session, round_, risk.compute(db.session, round_, ids))
    return None


def score_context(round_: Round, context: dict[str, Any]) -> dict[str, Any]:
    """Quality scores for the progress page's rows (one grouped query), sorted by score when
    the page asks `sort=score`; the institution's own score with every deduction explained."""
    if "institution" in context:
        unit = context["institution"]
        key, where, rows, of = "institution_id", [QualityScore.institution_id == unit.id], [], None
    elif "institutions" in context:
        key, where = "institution_id", [QualityScore.lao_id == context["lao"].id]
        rows, of = context["institutions"], (lambda row: row["institution"].id)
    elif "laos" in context:
        key, where = "lao_id", [QualityScore.province_code == context["province_code"]]
        rows, of = context["laos"], (lambda row: row["lao"].id)
    elif "provinces" in context:
        key, where, rows, of = "province_code", [], context["provinces"], (
            lambda row: row["province"].code)
    else:
        return {}
    scores = quality.totals(db.session, round_, key, *where)
    for counts in scores.values():
        counts["deductions"] = quality.deductions(counts)
    if of is not None and request.args.get("sort") == "score":
        rows.sort(key=lambda row: scores.get(of(row), {}).get("score", 101))
    return {"scores": scores, "score_key": key.removesuffix("_id").replace("_code", ""),
            "compute_form": ComputeForm()}
