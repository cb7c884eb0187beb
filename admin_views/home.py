"""The home page of each level: the open round, days to this level's deadline, where the unit
stands and the next step. A fixed number of queries whatever the number of units below."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_admin import AdminIndexView, expose
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import and_, case, func, select
from werkzeug.wrappers import Response

from models import Confirmation, Enrolment, Institution, Lao, Learner, Level, Province, Round, db
from models.accounts import User
from models.people import CDC_GRADES, GRADE_LABELS, SCHOOL_GRADES, EnrolmentStatus
from models.profiles import Profile
from models.rounds import DATABASE_LABELS, ConfirmLevel, Database
from rules import progress, windows
from rules.permissions import confirms
from rules.scope import Unit, unit_of

from .base import refuse, signed_in_for

GRADES = SCHOOL_GRADES + CDC_GRADES


@dataclass
class Bar:
    """One progress bar: units confirmed out of the units a database covers."""

    label: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        """Rounded down: 205 of 206 is 99%, not a green 100% while one unit still owes."""
        return 100 * self.done // self.total if self.total else 0


@dataclass
class LaoDatabase:
    """Where one of an LAO's databases stands: its bar, its units still missing, and its live
    overall confirmation. The other-affiliation bar counts schools with counts entered, since
    those schools confirm nothing themselves."""

    database: str
    bar: Bar
    missing: int
    confirmation: Confirmation | None

    @property
    def counts_only(self) -> bool:
        return self.database == Database.OTHER

    @property
    def ready(self) -> bool:
        """Every unit is in: the LAO may confirm this database's overall data now."""
        return self.confirmation is None and not self.missing


@dataclass
class Late:
    """A unit below that has not confirmed, with who to call."""

    code: str
    name: str
    detail: str
    phone: str = ""
    person: str = ""
    args: dict[str, Any] = field(default_factory=dict)


def live_counts(round_: Round, institution_id: int) -> dict[tuple[str, str], int]:
    """The institution's active enrolments now, by grade and gender (not yet frozen)."""
    rows = db.session.execute(
        select(Enrolment.grade, Learner.gender, func.count(Enrolment.id))
        .join(Learner, Learner.id == Enrolment.learner_id)
        .where(Enrolment.institution_id == institution_id,
               Enrolment.academic_year == round_.academic_year,
               Enrolment.status == EnrolmentStatus.ACTIVE)
        .group_by(Enrolment.grade, Learner.gender))
    return {(grade, gender): int(n) for grade, gender, n in rows}


def grade_rows(counts: dict[tuple[str, str], int]) -> list[tuple[str, int, int, int]]:
    """(grade label, boys, girls, total) for every grade that has someone."""
    used = {g for g, _s in counts}
    return [(str(GRADE_LABELS[g]), counts.get((g, "M"), 0), counts.get((g, "F"), 0),
             counts.get((g, "M"), 0) + counts.get((g, "F"), 0)) for g in GRADES if g in used]


def _people(key: Any, condition: Any, *join: Any) -> dict[Any, Profile]:
    """The current responsible person of each account matching `condition`, by `key`."""
    query = select(key, Profile).join(User, User.id == Profile.user_id)
    if join:
        query = query.join(*join)
    rows = db.session.execute(query.where(condition, Profile.valid_to.is_(None))
                              .order_by(Profile.valid_from))
    return {k: profile for k, profile in rows}


def institution_home(round_: Round, unit: Unit) -> dict[str, Any]:
    institution = db.session.get(Institution, unit.institution_id)
    counts = live_counts(round_, institution.id)
    database = progress.DATABASE_OF_KIND[institution.kind]
    confirmation = progress.live_confirmation(db.session, round_.id, ConfirmLevel.INSTITUTION,
                                           database, institution_id=institution.id)
    total = sum(counts.values())
    step = ("summary" if confirmation is not None else "record" if total == 0 else "confirm")
    return {"institution": institution, "grades": grade_rows(counts), "total": total,
            "boys": sum(n for (_g, s), n in counts.items() if s == "M"),
            "girls": sum(n for (_g, s), n in counts.items() if s == "F"),
            "confirmation": confirmation, "step": step,
            "cancelled": progress.cancelled_confirmations(
                db.session, round_.id, ConfirmLevel.INSTITUTION, institution_id=institution.id),
            "enrol_endpoint": "child.enrol_view" if institution.kind == "cdc"
            else "student.enrol_view"}


def lao_home(round_: Round, unit: Unit) -> dict[str, Any]:
    lao = db.session.get(Lao, unit.lao_id)
    databases, late = [], []
    for database in progress.LAO_DATABASES:
        total, missing = progress.lao_status(db.session, round_.id, lao.id, database)
        if not total:
            continue
        label = str(DATABASE_LABELS[Database(database)])
        confirmation = progress.live_confirmation(db.session, round_.id, ConfirmLevel.LAO,
                                                  database, lao_id=lao.id)
        databases.append(LaoDatabase(database, Bar(label, total - len(missing), total),
                                     len(missing), confirmation))
        late += [Late(m.code, m.name, label, m.phone or "") for m in missing]
    people = _people(Institution.code, and_(User.level == Level.INSTITUTION,
                                            Institution.lao_id == lao.id),
                     Institution, Institution.id == User.institution_id)
    for row in late:
        if row.code in people:
            profile = people[row.code]
            row.person, row.phone = profile.full_name, profile.phone or row.phone
    return {"lao": lao, "databases": databases, "late": sorted(late, key=lambda r: r.code),
            "cancelled": progress.cancelled_confirmations(db.session, round_.id,
                                                          ConfirmLevel.LAO, lao_id=lao.id)}


def province_home(round_: Round, unit: Unit) -> dict[str, Any]:
    province_code = unit.province_code
    rows = progress.lao_rows(db.session, round_, province_code)
    bars = []
    for database in progress.LAO_DATABASES:
        applies = [r for r in rows if database in r["applies"]]
        if applies:
            bars.append(Bar(str(DATABASE_LABELS[Database(database)]),
                            sum(1 for r in applies if database not in r["pending"]),
                            len(applies)))
    pending = [r for r in rows if r["pending"]]
    people = _people(User.lao_id, and_(User.level == Level.LAO, Lao.province_code == province_code),
                     Lao, Lao.id == User.lao_id)
    late = [Late(r["lao"].code, r["lao"].name,
                 ", ".join(str(DATABASE_LABELS[Database(d)]) for d in r["pending"]),
                 (people[r["lao"].id].phone if r["lao"].id in people else r["lao"].phone) or "",
                 people[r["lao"].id].full_name if r["lao"].id in people else "",
                 {"lao": r["lao"].id})
            for r in pending]
    late.sort(key=lambda r: (-r.detail.count(",") - 1, r.code))
    confirmation = progress.live_confirmation(db.session, round_.id, ConfirmLevel.PROVINCE,
                                           Database.ALL, province_code=province_code)
    return {"province": db.session.get(Province, province_code), "bars": bars, "late": late,
            "laos": progress.lao_tally(rows), "confirmation": confirmation,
            "cancelled": progress.cancelled_confirmations(
                db.session, round_.id, ConfirmLevel.PROVINCE, province_code=province_code)}


def department_home(round_: Round, unit: Unit) -> dict[str, Any]:
    """Per database the LAOs confirmed nationally; per province the share of LAOs done, as the
    national progress page counts them."""
    flags = progress.lao_flag_rows(round_.id)
    sums = [func.sum(case((flags.c[f"has_{d}"], 1), else_=0)) for d in progress.LAO_DATABASES]
    sums += [func.sum(case((flags.c[f"has_{d}"] & flags.c[f"done_{d}"], 1), else_=0))
             for d in progress.LAO_DATABASES]
    totals = db.session.execute(select(*sums)).one()
    n = len(progress.LAO_DATABASES)
    bars = [Bar(str(DATABASE_LABELS[Database(d)]), int(totals[n + i] or 0), int(totals[i] or 0))
            for i, d in enumerate(progress.LAO_DATABASES) if totals[i]]
    rows = progress.province_rows(db.session, round_)
    provinces = [Bar(f"{r['province'].code} {r['province'].name_th}", r["done"], r["laos"])
                 for r in rows if r["laos"]]
    provinces.sort(key=lambda b: (b.percent, b.label))
    return {"bars": bars, "provinces": provinces,
            "provinces_confirmed": sum(r["confirmation"] is not None for r in rows),
            "provinces_total": len(rows), "idle": sum(r["idle"] for r in rows),
            "late": _provinces_owing(rows)}


def _provinces_owing(rows: list[dict[str, Any]]) -> list[Late]:
    """Every province not yet confirmed, furthest behind first, with its office's responsible
    person: the list stopped at 20 and left out a province whose LAOs had all confirmed."""
    people = _people(User.province_code, User.level == Level.PROVINCE)
    late = []
    for r in sorted(rows, key=lambda r: (r["done"] / r["laos"], r["province"].code)):
        if r["confirmation"] is not None:
            continue
        code, owed = r["province"].code, r["laos"] - r["done"]
        profile = people.get(code)
        late.append(Late(code, r["province"].name_th,
                         ngettext("%(num)d LAO", "%(num)d LAOs", owed) if owed
                         else _("The province's own confirmation: every LAO has confirmed"),
                         profile.phone if profile else "",
                         profile.full_name if profile else "", {"province": code}))
    return late


#: Each home is built around the confirmation its user makes; the department makes none.
HOMES: dict[str | None, Callable[[Round, Unit], dict[str, Any]]] = {
    ConfirmLevel.INSTITUTION: institution_home,
    ConfirmLevel.LAO: lao_home,
    ConfirmLevel.PROVINCE: province_home,
    None: department_home,
}


def home_context() -> dict[str, Any]:
    """Everything the home page of the signed-in user's level shows."""
    round_ = progress.current_round(db.session)
    if round_ is None:
        return {"round_": None}
    # The department confirms nothing, so it has no deadline of its own: its home counts to
    # the day recording closes, and says so.
    own = confirms(current_user) is not None
    deadline = windows.deadline_of(round_, current_user) if own else None
    context: dict[str, Any] = {"round_": round_, "deadline": deadline,
                               "closes_on": round_.closes_on,
                               "days": windows.days_to(deadline or round_.closes_on),
                               "is_open": windows.is_open(round_),
                               "is_closed": windows.is_closed(round_), "labels": DATABASE_LABELS}
    context.update(HOMES[confirms(current_user)](round_, unit_of(current_user)))
    return context


class DashboardIndexView(AdminIndexView):
    """The admin home: what the signed-in user's level should do now."""

    def is_accessible(self) -> bool:
        return signed_in_for(self.endpoint)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Response:
        return refuse(name)

    @expose("/")
    def index(self) -> str:
        return self.render("admin/lec_index.html", **home_context())
