"""Count reports, the printable confirmation summary and the budget estimate (SPEC §7).

Everything here reads confirmation snapshots, never live rows (SPEC §5.5). Counts are summed
from the lowest live snapshots: each confirmed institution's, and each LAO's other-affiliation
counts. That equals the LAO and province snapshots where those have confirmed, and still shows
what is confirmed so far where they have not; every unit that has not confirmed is marked.
The department's report and every budget read the sums rules/totals.py keeps at each confirm.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import abort, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import case, func, select, true
from werkzeug.wrappers import Response

from models import (
    BudgetRate,
    Confirmation,
    Institution,
    Lao,
    Level,
    Province,
    ProvinceTotal,
    Round,
    SnapshotCount,
    db,
)
from models.people import CDC_GRADES, GENDER_LABELS, GRADE_LABELS, SCHOOL_GRADES
from models.profiles import confirmers
from models.rounds import DATABASE_LABELS, ConfirmLevel, Database
from rules import budget, progress, totals
from spreadsheets import writers
from web.fields import BahtField

from .base import DrillDownView, Scope, ScopedModelView
from .exports import audit
from .home import live_counts

GRADES = SCHOOL_GRADES + CDC_GRADES
GENDERS = ("M", "F")
Counts = dict[tuple[str, str], int]


@dataclass
class Row:
    """One unit of a report: its counts by grade and gender, and whether it has confirmed."""

    code: str
    name: str
    confirmed: bool
    status: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    counts: Counts = field(default_factory=dict)

    def sum(self, gender: str | None = None, grades: Any = GRADES) -> int:
        return sum(n for (g, s), n in self.counts.items()
                   if g in grades and (gender is None or s == gender))


def _within(scope: Scope) -> Any:
    if scope.institution is not None:
        return Confirmation.institution_id == scope.institution.id
    if scope.lao is not None:
        return Confirmation.lao_id == scope.lao.id
    if scope.province:
        return Confirmation.province_code == scope.province
    return true()


def province_counts(round_id: int) -> dict[Any, Counts]:
    """Every province's counts by grade and gender, from the totals the confirms keep."""
    query = (select(ProvinceTotal.province_code, ProvinceTotal.grade, ProvinceTotal.gender,
                    func.sum(ProvinceTotal.count))
             .where(ProvinceTotal.round_id == round_id)
             .group_by(ProvinceTotal.province_code, ProvinceTotal.grade, ProvinceTotal.gender))
    found: dict[Any, Counts] = defaultdict(dict)
    for province, grade, gender, number in db.session.execute(query):
        if number:  # a cancel leaves its rows at 0: no snapshot of that province is left there
            found[province][(grade, gender)] = int(number)
    return found


def counts_by(round_id: int, scope: Scope, key: Any = None) -> dict[Any, Counts]:
    """Snapshot counts in the scope by grade and gender, per `key` (a Confirmation column)."""
    keys = [key] if key is not None else []
    query = (select(*keys, SnapshotCount.grade, SnapshotCount.gender,
                    func.sum(SnapshotCount.count))
             .join(Confirmation, Confirmation.id == SnapshotCount.confirmation_id)
             .where(totals.lowest(round_id), _within(scope))
             .group_by(*keys, SnapshotCount.grade, SnapshotCount.gender))
    found: dict[Any, Counts] = defaultdict(dict)
    for row in db.session.execute(query):
        *group, grade, gender, number = row
        found[group[0] if group else None][(grade, gender)] = int(number or 0)
    return found


def _when(confirmation: Confirmation | None, names: dict[int, str]) -> str:
    """When and by whom (the responsible person's name, from `confirmers`) it was confirmed."""
    from i18n import be_date

    if confirmation is None:
        return _("Not confirmed")
    return _("Confirmed %(when)s by %(who)s", when=be_date(confirmation.confirmed_at),
             who=names.get(confirmation.id, confirmation.confirmed_by))


def report_rows(round_: Round, scope: Scope) -> tuple[Row, list[Row]]:
    """The unit's own row and one row per unit directly below it."""
    if scope.level == Level.DEPARTMENT:
        counts = province_counts(round_.id)
        provinces = progress.province_rows(db.session, round_)
        names = confirmers(r["confirmation"] for r in provinces)
        rows = [Row(r["province"].code, r["province"].name_th, r["confirmation"] is not None,
                    _("Not confirmed (%(done)d of %(laos)d LAOs confirmed)", done=r["done"],
                      laos=r["laos"])
                    if r["confirmation"] is None else _when(r["confirmation"], names),
                    {"province": r["province"].code}, counts.get(r["province"].code, {}))
                for r in provinces]
        own_confirmed = bool(rows) and all(r.confirmed for r in rows)
    elif scope.level == Level.PROVINCE:
        counts = counts_by(round_.id, scope, Confirmation.lao_id)
        rows = []
        for r in progress.lao_rows(db.session, round_, scope.province):
            lao = r["lao"]
            pending = ", ".join(str(DATABASE_LABELS[Database(d)]) for d in r["pending"])
            status = (_("Not confirmed: %(databases)s", databases=pending) if r["pending"]
                      else _("Confirmed") if r["applies"] else _("Nothing to confirm"))
            rows.append(Row(lao.code, lao.name, not r["pending"], status, {"lao": lao.id},
                            counts.get(lao.id, {})))
        own_confirmed = progress.live_confirmation(db.session, round_.id, ConfirmLevel.PROVINCE,
                                                   Database.ALL,
                                                   province_code=scope.province) is not None
    elif scope.level == Level.LAO:
        counts = counts_by(round_.id, scope, Confirmation.institution_id)
        institutions = progress.institution_rows(db.session, round_, scope.lao.id)
        total, _missing = progress.lao_status(db.session, round_.id, scope.lao.id, Database.OTHER)
        other = progress.live_confirmation(db.session, round_.id, ConfirmLevel.LAO,
                                           Database.OTHER, lao_id=scope.lao.id) if total else None
        names = confirmers([*(r["confirmation"] for r in institutions), other])
        rows = [Row(r["institution"].code, r["institution"].name, r["confirmation"] is not None,
                    _when(r["confirmation"], names), {"institution": r["institution"].id},
                    counts.get(r["institution"].id, {}))
                for r in institutions]
        if total:
            rows.append(Row("", str(DATABASE_LABELS[Database.OTHER]), other is not None,
                            _when(other, names), {}, counts.get(None, {})))
        own_confirmed = progress.lao_confirmed_all(db.session, round_.id, scope.lao.id)
    else:
        counts = counts_by(round_.id, scope)
        rows = []
        own = progress.live_confirmation(
            db.session, round_.id, ConfirmLevel.INSTITUTION,
            progress.DATABASE_OF_KIND[scope.institution.kind], institution_id=scope.institution.id)
        own_confirmed = own is not None
    # The unit's own counts are the sum of the units below: one pass over the snapshots.
    own_counts: Counts = defaultdict(int)
    for below in counts.values():
        for key, number in below.items():
            own_counts[key] += number
    return Row(scope.code, scope.name, own_confirmed, "", scope.args, dict(own_counts)), rows


def shown_report(round_: Round, scope: Scope) -> tuple[Row, list[Row], bool]:
    """`report_rows` as the screen and its workbook show them, and whether the counts are
    live: before confirming, an institution checks what it has recorded, not zeros."""
    own, rows = report_rows(round_, scope)
    live = scope.institution is not None and not own.confirmed
    if live:
        own.counts = live_counts(round_, scope.institution.id)
    return own, rows, live


def _rounds() -> list[Round]:
    return db.session.scalars(select(Round).order_by(Round.academic_year.desc(),
                                                     Round.number.desc())).all()


def _grades_in(*rows: Row) -> list[str]:
    used = {g for row in rows for (g, _s) in row.counts}
    return [g for g in GRADES if g in used] or list(SCHOOL_GRADES[:9])


class ReportView(DrillDownView):
    """Count reports by grade and gender, and the printable confirmation summary."""

    def _round(self) -> Round:
        return progress.current_round(db.session, request.args.get("round")) or abort(404)

    @expose("/")
    def index(self) -> Any:
        round_ = progress.current_round(db.session, request.args.get("round"))
        if round_ is None:
            return self.render("admin/reports/counts.html", round_=None)
        scope = self.scope()
        own, rows, live = shown_report(round_, scope)
        return self.render("admin/reports/counts.html", round_=round_, rounds=_rounds(),
                           scope=scope, own=own, rows=rows, grades=_grades_in(own),
                           grade_labels=GRADE_LABELS, gender_labels=GENDER_LABELS, live=live)

    @expose("/xlsx/")
    def xlsx(self) -> Response:
        """The same report as a workbook: units below with every grade, and the unit's table."""
        round_ = self._round()
        scope = self.scope()
        own, rows, _live = shown_report(round_, scope)
        grades = _grades_in(own)
        audit("export", target="report:counts", round_id=round_.id, **scope.args)
        header = [_("Code"), _("Name"), _("Status")]
        for grade in grades:
            header += [_("%(grade)s boys", grade=GRADE_LABELS[grade]),
                       _("%(grade)s girls", grade=GRADE_LABELS[grade])]
        header += [_("Boys"), _("Girls"), _("Total")]

        def unit_rows() -> Iterator[list[Any]]:
            for row in [*rows, own]:
                status = row.status if row is not own else (
                    _("Confirmed") if row.confirmed else _("Not confirmed"))
                # The unit's own row sums the units above it; alone (an institution) it is
                # the unit itself, by its name.
                name = _("Total") if row is own and rows else row.name
                cells: list[Any] = [row.code, name, status]
                for grade in grades:
                    cells += [row.counts.get((grade, "M"), 0), row.counts.get((grade, "F"), 0)]
                yield cells + [row.sum("M"), row.sum("F"), row.sum()]

        def grade_rows() -> Iterator[list[Any]]:
            for g in grades:
                yield [str(GRADE_LABELS[g]), own.counts.get((g, "M"), 0),
                       own.counts.get((g, "F"), 0), own.sum(grades=(g,))]
            yield [_("Total"), own.sum("M"), own.sum("F"), own.sum()]  # as the screen's table
        name = f"counts_{round_.academic_year}-{round_.number}_{scope.code or 'all'}.xlsx"
        return writers.xlsx_response(
            name, header, unit_rows(), sheet=_("Units"),
            more=[(_("By grade"), [_("Grade"), _("Boys"), _("Girls"), _("Total")], grade_rows())])

    @expose("/summary/")
    def summary(self) -> Any:
        """The confirmation summary an institution (or LAO) prints, signs and sends upward."""
        round_ = self._round()
        scope = self.scope()
        if scope.institution is not None:
            database = progress.DATABASE_OF_KIND[scope.institution.kind]
            confirmation = progress.live_confirmation(db.session, round_.id,
                                                      ConfirmLevel.INSTITUTION, database,
                                                      institution_id=scope.institution.id)
            confirmations = [confirmation] if confirmation else []
        elif scope.lao is not None:
            confirmations = [c for d in progress.LAO_DATABASES if (c := progress.live_confirmation(
                db.session, round_.id, ConfirmLevel.LAO, d, lao_id=scope.lao.id))]
        else:
            abort(404)
        tables = []
        names = confirmers(confirmations)
        for confirmation in confirmations:
            counts: Counts = {(r.grade, r.gender): r.count for r in db.session.scalars(
                select(SnapshotCount).where(SnapshotCount.confirmation_id == confirmation.id))}
            row = Row(scope.code, scope.name, True, _when(confirmation, names), counts=counts)
            tables.append((confirmation, row, _grades_in(row)))
        return self.render("admin/reports/summary.html", round_=round_, scope=scope,
                           tables=tables, grade_labels=GRADE_LABELS,
                           database_labels=DATABASE_LABELS, province=db.session.get(
                               Province, scope.province))


# --- budget ----------------------------------------------------------------------------------

@dataclass
class BudgetRow:
    """One unit of the estimate: what it costs from the data it has confirmed (None while it has
    confirmed nothing, so that it does not read as funding nothing) and how many units
    (`waiting`: LAOs, or institutions on an LAO's page) have not confirmed yet."""

    code: str
    name: str
    args: dict[str, Any]
    estimate: budget.Estimate | None
    waiting: int = 0


Names = dict[Any, tuple[str, str, dict[str, Any]]]


def _waiting_below(round_: Round, scope: Scope, confirmed: Any) -> tuple[dict[Any, int], Names]:
    """Per unit below with something to confirm, how many have not confirmed yet, as the
    progress pages count them (a constant number of statements), and the names known on the
    way. `confirmed` holds the units the estimate has sums for."""
    if scope.level == Level.DEPARTMENT:
        tallies = progress.province_tallies(db.session, round_.id)
        return {code: t.total - t.done for code, t in tallies.items() if t.total}, {}
    if scope.level == Level.PROVINCE:
        laos = [r for r in progress.province_laos(db.session, round_.id, scope.province)
                if any(getattr(r, f"has_{d}") for d in progress.LAO_DATABASES)]
        return ({r[0].id: int(bool(progress.pending_databases(r))) for r in laos},
                {r[0].id: (r[0].code, r[0].name, {"lao": r[0].id}) for r in laos})
    if scope.level == Level.LAO:
        rows = progress.institution_rows(db.session, round_, scope.lao.id)
        return ({r["institution"].id: int(r["confirmation"] is None) for r in rows},
                {r["institution"].id: (r["institution"].code, r["institution"].name,
                                       {"institution": r["institution"].id}) for r in rows})
    institution = scope.institution
    return ({institution.id: int(institution.id not in confirmed)},
            {institution.id: (institution.code, institution.name, {"institution": institution.id})})


def budget_rows(round_: Round, rate: BudgetRate, scope: Scope
                ) -> tuple[budget.Estimate, list[BudgetRow]]:
    """The estimate per unit directly below the scope, from confirmed snapshots only, and per
    unit how many have not confirmed yet: every unit with something to confirm is a row."""
    key = {Level.DEPARTMENT: "province_code", Level.PROVINCE: "lao_id",
           Level.LAO: "institution_id", Level.INSTITUTION: "institution_id"}[scope.level]
    unit = getattr(Confirmation, key)
    # Each lowest snapshot's head counts were summed when it was taken (rules/totals.py); units
    # of one head count cost the same, so the database counts them and each size is priced once.
    heads = case((Confirmation.database == Database.CHILDREN, Confirmation.learners),
                 else_=Confirmation.subsidised)
    query = (select(unit, Confirmation.database, heads, func.count())
             .where(totals.lowest(round_.id), _within(scope))
             .group_by(unit, Confirmation.database, heads))
    sums: dict[Any, budget.Estimate] = defaultdict(budget.Estimate)
    for unit_key, database, pupils, units in db.session.execute(query):
        sums[unit_key] += budget.estimate(database, rate, int(pupils or 0)).times(units)
    waiting, names = _waiting_below(round_, scope, sums)
    unnamed = [k for k in [*sums, *waiting] if k is not None and k not in names]
    if unnamed:
        names.update(_names(key, unnamed))
    rows = []
    for unit_key in sorted({*sums, *waiting}, key=lambda k: names.get(k, ("~", "", {}))[0]):
        code, name, args = names.get(unit_key, ("", str(DATABASE_LABELS[Database.OTHER]), {}))
        rows.append(BudgetRow(code, name, args, sums.get(unit_key), waiting.get(unit_key, 0)))
    total = sum((r.estimate for r in rows if r.estimate is not None), budget.Estimate())
    return total, rows


def waiting_sentence(level: str, waiting: int) -> str:
    """Above the estimate: how many units have not confirmed yet, so that what they have not
    confirmed is not taken for a unit funding nothing. Empty once every unit has confirmed."""
    if not waiting:
        return ""
    if level in (Level.LAO, Level.INSTITUTION):
        return ngettext("%(num)d institution has not confirmed yet; its learners are not in "
                        "this estimate.",
                        "%(num)d institutions have not confirmed yet; their learners are not "
                        "in this estimate.", waiting)
    return ngettext("%(num)d LAO has not confirmed yet; learners it has not confirmed are not "
                    "in this estimate.",
                    "%(num)d LAOs have not confirmed yet; learners they have not confirmed are "
                    "not in this estimate.", waiting)


def waiting_header(level: str) -> str:
    """The column of the units not confirmed yet: LAOs, or institutions on an LAO's page."""
    if level in (Level.LAO, Level.INSTITUTION):
        return _("Institutions not confirmed")
    return _("LAOs not confirmed")


def _names(key: str, ids: list[Any]) -> dict[Any, tuple[str, str, dict[str, Any]]]:
    if key == "province_code":
        return {p.code: (p.code, p.name_th, {"province": p.code}) for p in db.session.scalars(
            select(Province).where(Province.code.in_(ids)))}
    if key == "lao_id":
        return {lao.id: (lao.code, lao.name, {"lao": lao.id}) for lao in db.session.scalars(
            select(Lao).where(Lao.id.in_(ids)))}
    return {i.id: (i.code, i.name, {"institution": i.id}) for i in db.session.scalars(
        select(Institution).where(Institution.id.in_(ids)))}


class BudgetView(DrillDownView):
    """Milk and lunch estimate per LAO, province and the nation."""

    def _estimate(self) -> dict[str, Any]:
        round_ = progress.current_round(db.session, request.args.get("round")) or abort(404)
        scope = self.scope()
        rate = db.session.scalar(select(BudgetRate).where(
            BudgetRate.academic_year == round_.academic_year))
        context: dict[str, Any] = {"round_": round_, "rounds": _rounds(), "scope": scope,
                                   "rate": rate, "baht": budget.baht}
        if rate is not None:
            context["total"], context["rows"] = budget_rows(round_, rate, scope)
            context["waiting"] = waiting_sentence(scope.level,
                                                  sum(r.waiting for r in context["rows"]))
            context["waiting_header"] = waiting_header(scope.level)
        return context

    @expose("/")
    def index(self) -> Any:
        if progress.current_round(db.session, request.args.get("round")) is None:
            return self.render("admin/reports/budget.html", round_=None)
        return self.render("admin/reports/budget.html", **self._estimate())

    @expose("/xlsx/")
    def xlsx(self) -> Response:
        context = self._estimate()
        if context["rate"] is None:
            abort(404)
        round_, scope = context["round_"], context["scope"]
        audit("export", target="report:budget", round_id=round_.id, **scope.args)
        header = [_("Code"), _("Name"), context["waiting_header"], _("Children with lunch"),
                  _("Lunch (baht)"), _("Children with milk"), _("Milk (baht)"),
                  _("Total (baht)")]

        def line(code: str, name: str, waiting: int, e: budget.Estimate | None) -> list[Any]:
            if e is None:  # as on the screen: not a unit funding nothing
                return [code, name, waiting, _("Nothing confirmed yet")]
            return [code, name, waiting, e.lunch_pupils, e.lunch / 100, e.milk_pupils,
                    e.milk / 100, e.total / 100]

        rows = [line(r.code, r.name, r.waiting, r.estimate) for r in context["rows"]]
        rows.append(line("", _("Total"), sum(r.waiting for r in context["rows"]),
                         context["total"]))
        if context["waiting"]:
            rows.append(["", context["waiting"]])
        name = f"budget_{round_.academic_year}-{round_.number}_{scope.code or 'all'}.xlsx"
        return writers.xlsx_response(name, header, rows, sheet=_("Budget estimate"))


#: Rate columns held in satang and typed and shown in baht.
MONEY = ("lunch_rate_1", "lunch_rate_2", "lunch_rate_3", "lunch_rate_4", "milk_unit_price",
         "cdc_lunch_rate")


class BudgetRateView(ScopedModelView):
    """The department sets each year's rates; everyone else may read them. Money is in baht
    on screen and in exports, in satang in the database."""

    column_list = ("academic_year", "lunch_rate_1", "lunch_rate_2", "lunch_rate_3",
                   "lunch_rate_4", "lunch_days", "milk_unit_price", "milk_days",
                   "cdc_lunch_rate", "cdc_lunch_days", "cdc_milk_days")
    column_labels = {
        "academic_year": _l("Academic year"),
        "lunch_max_1": _l("Small school: up to this many pupils"),
        "lunch_max_2": _l("Medium school: up to this many pupils"),
        "lunch_max_3": _l("Large school: up to this many pupils"),
        "lunch_rate_1": _l("Lunch, small school (baht a day)"),
        "lunch_rate_2": _l("Lunch, medium school (baht a day)"),
        "lunch_rate_3": _l("Lunch, large school (baht a day)"),
        "lunch_rate_4": _l("Lunch, larger school (baht a day)"),
        "lunch_days": _l("School lunch days"),
        "milk_unit_price": _l("Milk unit price (baht)"),
        "milk_days": _l("School milk days"),
        "cdc_lunch_rate": _l("CDC lunch (baht a day)"),
        "cdc_lunch_days": _l("CDC lunch days"),
        "cdc_milk_days": _l("CDC milk days"),
    }
    column_formatters = {name: lambda v, c, m, n: budget.baht(getattr(m, n)) for name in MONEY}
    column_formatters_detail = column_formatters
    # Exports carry numbers (the XLSX writer gives them #,##0.00), not text.
    column_formatters_export = {name: lambda v, c, m, n: Decimal(getattr(m, n)) / 100
                                for name in MONEY}
    form_overrides = dict.fromkeys(MONEY, BahtField)
    form_columns = ("academic_year", "lunch_max_1", "lunch_max_2", "lunch_max_3",
                    "lunch_rate_1", "lunch_rate_2", "lunch_rate_3", "lunch_rate_4", "lunch_days",
                    "milk_unit_price", "milk_days", "cdc_lunch_rate", "cdc_lunch_days",
                    "cdc_milk_days")
    column_default_sort = ("academic_year", True)
    editable_columns = ("lunch_days", "milk_days")

    def record_subject(self, obj: BudgetRate) -> str:
        return _("the subsidy rates of academic year %(year)d", year=obj.academic_year)
