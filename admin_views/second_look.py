"""The second look before a confirmation: the counts by grade and gender it will freeze, and who
answers for them. Nothing here writes; the POST that follows goes through rules/confirmation.py."""

from collections.abc import Callable
from typing import Any

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from models import Confirmation, Institution, Lao, OtherSchool, Province, Round, SnapshotCount, db
from models.people import OtherSchoolCount
from models.profiles import current_profile
from models.rounds import DATABASE_LABELS, ConfirmLevel, Database
from rules import progress
from rules.permissions import confirms
from rules.scope import Unit, unit_of

from .home import grade_rows, live_counts

Counts = dict[tuple[str, str], int]


def _snapshots(round_id: int, *where: Any) -> Counts:
    """The sum of the live snapshots matching `where`, by grade and gender."""
    rows = db.session.execute(
        select(SnapshotCount.grade, SnapshotCount.gender, func.sum(SnapshotCount.count))
        .join(Confirmation, Confirmation.id == SnapshotCount.confirmation_id)
        .where(Confirmation.round_id == round_id, Confirmation.cancelled_at.is_(None), *where)
        .group_by(SnapshotCount.grade, SnapshotCount.gender))
    return {(grade, gender): int(n or 0) for grade, gender, n in rows}


def _other_counts(round_id: int, lao_id: int) -> Counts:
    """The head counts the LAO entered for its other-affiliation schools, by grade and gender."""
    rows = db.session.execute(
        select(OtherSchoolCount.grade, func.sum(OtherSchoolCount.boys),
               func.sum(OtherSchoolCount.girls))
        .join(OtherSchool, OtherSchool.id == OtherSchoolCount.other_school_id)
        .where(OtherSchoolCount.round_id == round_id, OtherSchool.lao_id == lao_id,
               OtherSchool.closed.is_(False))
        .group_by(OtherSchoolCount.grade))
    counts: Counts = {}
    for grade, boys, girls in rows:
        counts[(grade, "M")], counts[(grade, "F")] = int(boys or 0), int(girls or 0)
    return counts


def _institution(round_: Round, unit: Unit, database: str) -> tuple[str, str, Counts]:
    """An institution freezes its own live counts, in the database of its kind."""
    institution = db.session.get(Institution, unit.institution_id)
    return (progress.DATABASE_OF_KIND[institution.kind], f"{institution.code} {institution.name}",
            live_counts(round_, institution.id))


def _lao(round_: Round, unit: Unit, database: str) -> tuple[str, str, Counts]:
    """An LAO freezes, per database, its institutions' confirmed counts or its own entries."""
    if database not in progress.LAO_DATABASES:
        abort(404)
    lao = db.session.get(Lao, unit.lao_id)
    if database == Database.OTHER:
        counts = _other_counts(round_.id, lao.id)
    else:
        counts = _snapshots(round_.id, Confirmation.lao_id == lao.id,
                            Confirmation.level == ConfirmLevel.INSTITUTION,
                            Confirmation.database == database)
    return database, f"{lao.code} {lao.name}", counts


def _province(round_: Round, unit: Unit, database: str) -> tuple[str, str, Counts]:
    """A province freezes its LAOs' confirmed counts, all databases at once."""
    counts = _snapshots(round_.id, Confirmation.province_code == unit.province_code,
                        Confirmation.level == ConfirmLevel.LAO)
    return Database.ALL, db.session.get(Province, unit.province_code).title, counts


#: What each confirmation freezes, by the confirmation the user's button makes.
FREEZES: dict[str, Callable[[Round, Unit, str], tuple[str, str, Counts]]] = {
    ConfirmLevel.INSTITUTION: _institution,
    ConfirmLevel.LAO: _lao,
    ConfirmLevel.PROVINCE: _province,
}


def waiting_laos(round_: Round, unit: Unit, level: str) -> list[progress.Missing]:
    """The LAOs a province's preview leaves out because they have not confirmed yet: the count
    report already adds their confirmed institutions, so its totals differ until they confirm."""
    if level != ConfirmLevel.PROVINCE:
        return []
    return progress.province_missing(db.session, round_.id, unit.province_code)


def empty_note(level: str, database: str, waiting: list[progress.Missing]) -> str | None:
    """Why nothing would be frozen, in words that fit who confirms: only an institution records
    learners; an LAO's counts come from its institutions' confirmations or its own entries, and
    a province's from its LAOs', so its real blocker is the LAOs the waiting note names."""
    if level == ConfirmLevel.INSTITUTION:
        return _("There is nobody to confirm yet: record the learners first.")
    if level == ConfirmLevel.LAO:
        if database == Database.OTHER:
            return _("No head counts are entered for the other-affiliation schools yet: "
                     "enter them first.")
        return _("There are no learners to confirm yet: these counts come from your "
                 "institutions' confirmations (ยืนยันข้อมูล), and no institution with learners "
                 "has confirmed yet.")
    if waiting:
        return None
    return _("The LAOs of the province confirmed no learners in this round.")


def preview(round_: Round, database: str) -> dict[str, Any]:
    """What the signed-in unit's confirmation of `database` would freeze."""
    level, own = confirms(current_user), unit_of(current_user)
    database, unit, counts = FREEZES[level](round_, own, database)
    boys = sum(n for (_g, s), n in counts.items() if s == "M")
    girls = sum(n for (_g, s), n in counts.items() if s == "F")
    waiting = waiting_laos(round_, own, level)
    return {"round_": round_, "database": str(database),
            "database_label": DATABASE_LABELS[Database(database)], "unit": unit,
            "grades": grade_rows(counts), "boys": boys, "girls": girls, "total": boys + girls,
            "person": current_profile(current_user), "waiting": waiting,
            "named_at_most": progress.NAMED_AT_MOST,
            "waiting_url": waiting_url(round_, own),
            "empty_note": None if boys + girls else empty_note(level, database, waiting)}


def waiting_url(round_: Round, own: Unit) -> str:
    """The LAO's or province's progress page at its list of the units below not yet
    confirmed."""
    where = {"lao": own.lao_id} if own.lao_id is not None else {"province": own.province_code}
    return url_for(".index", round=round_.id, _anchor="lec-not-confirmed", **where)
