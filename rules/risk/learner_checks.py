"""The risk rules on learners' records: missing fields, a guardian phone behind many learners,
one person under two IDs, an age far from the grade, an enrolment after the count date."""

from collections.abc import Collection
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, and_, case, cast, distinct, func, literal, null, or_, select

import clock
from models import Enrolment, Learner, Round
from models.people import GRADE_AGE, normalised_phone

from .rows import active, blank, count_date, learner_rows, within

MISSING_FIELDS = {
    "birth_date": _l("birth date"), "guardian_name": _l("guardian's name"),
    "guardian_phone": _l("guardian's phone"), "address": _l("address"),
}


def incomplete(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """Learners whose record lacks a field the counts and the checks depend on."""
    checks = {"birth_date": Learner.birth_date.is_(None),
              "guardian_name": blank(Learner.guardian_name),
              "guardian_phone": blank(Learner.guardian_phone),
              # A subdistrict code is an address (SPEC §3); the house line is often left empty.
              "address": and_(blank(Learner.current_address),
                              blank(Learner.registered_address),
                              Learner.current_subdistrict_code.is_(None),
                              Learner.registered_subdistrict_code.is_(None))}
    listed = None
    for key, missing in checks.items():
        part = case((missing, literal(key + " ")), else_=literal(""))
        listed = part if listed is None else listed + part
    count = sum((case((missing, 1), else_=0) for missing in checks.values()), literal(0))
    query = learner_rows(round_, "incomplete", count, None, listed).where(or_(*checks.values()))
    return within(query, Enrolment.institution_id, ids)


def _groups(round_: Round, ids: Collection[int] | None, keys: dict[str, Any],
            *where: Any) -> Select:
    """The round's active learners grouped by `keys` (name: expression), with how many there
    are and at how many institutions. For some institutions only, only the keys their own
    learners have are grouped, each still counted against the whole country: the keys are looked
    up on the learner table's indexes instead of grouping every learner of the country."""
    counts = (func.count().label("n"), func.count(distinct(Enrolment.institution_id)).label("k"))
    if ids is None:
        return (select(*(value.label(name) for name, value in keys.items()), *counts)
                .select_from(Enrolment).join(Learner, Learner.id == Enrolment.learner_id)
                .where(*active(round_), *where).group_by(*keys.values()))
    own = _own_keys(round_, ids, keys, *where)
    return (select(*own.c, *counts).select_from(own)
            .join(Learner, and_(*(own.c[name] == value for name, value in keys.items())))
            .join(Enrolment, Enrolment.learner_id == Learner.id)
            .where(*active(round_), *where).group_by(*own.c))


def _own_keys(round_: Round, ids: Collection[int], keys: dict[str, Any], *where: Any) -> Any:
    """The distinct `keys` the round's active learners of the institutions `ids` have."""
    return (select(*(value.label(name) for name, value in keys.items()))
            .select_from(Enrolment).join(Learner, Learner.id == Enrolment.learner_id)
            .where(*active(round_), *where, Enrolment.institution_id.in_(list(ids)))
            .distinct().subquery())


def _sharing(round_: Round, ids: Collection[int], keys: dict[str, Any], *where: Any) -> Select:
    """The institutions whose active learners share a key with those of the institutions
    `ids`: their flags of the rule change with the learners of `ids`."""
    own = _own_keys(round_, ids, keys, *where)
    return (select(Enrolment.institution_id).select_from(own)
            .join(Learner, and_(*(own.c[name] == value for name, value in keys.items())))
            .join(Enrolment, Enrolment.learner_id == Learner.id)
            .where(*active(round_), *where).distinct())


def _phone_keys() -> tuple[dict[str, Any], Any]:
    return {"phone": normalised_phone(Learner.guardian_phone)}, ~blank(Learner.guardian_phone)


def _person_keys() -> tuple[dict[str, Any], Any]:
    return ({"first_name": Learner.first_name, "last_name": Learner.last_name,
             "birth_date": Learner.birth_date}, Learner.birth_date.is_not(None))


def sharing_phone(round_: Round, ids: Collection[int]) -> Select:
    """The institutions with a learner whose guardian phone a learner of `ids` has too."""
    keys, where = _phone_keys()
    return _sharing(round_, ids, keys, where)


def sharing_person(round_: Round, ids: Collection[int]) -> Select:
    """The institutions with a learner of the name and birth date a learner of `ids` has."""
    keys, where = _person_keys()
    return _sharing(round_, ids, keys, where)


def shared_phone(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """One guardian phone behind many learners, across institutions too."""
    keys, where = _phone_keys()
    phone = keys["phone"]
    groups = (_groups(round_, ids, keys, where)
              .having(func.count() >= t["shared_phone.learners"]).subquery())
    query = learner_rows(round_, "shared_phone", groups.c.n, groups.c.k, groups.c.phone).join(
        groups, groups.c.phone == phone)
    return within(query, Enrolment.institution_id, ids)


def same_person(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """The same name and birth date under different national IDs, at one institution or more:
    a child paid for twice (a G-code, then the national ID issued later, is the usual case)."""
    key, where = _person_keys()
    # A learner has one active enrolment a year, so two rows in a group are two learner IDs.
    groups = (_groups(round_, ids, key, where).having(func.count() > 1).subquery())
    query = learner_rows(round_, "same_person", groups.c.n, groups.c.k,
                          Learner.first_name + literal(" ") + Learner.last_name).join(
        groups, and_(*(groups.c[name] == value for name, value in key.items())))
    return within(query, Enrolment.institution_id, ids)


def _years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)


def age_grade(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """A learner whose age on 16 May is far from the usual age of their grade."""
    start, years = clock.term_start(round_.academic_year), int(t["age_grade.years"])
    # Completed years on `start` below usual-years: born after start minus (usual-years) years.
    too_young = case({g: _years_before(start, a - years) for g, a in GRADE_AGE.items()},
                     value=Enrolment.grade)
    too_old = case({g: _years_before(start, a + years + 1) for g, a in GRADE_AGE.items()},
                   value=Enrolment.grade)
    usual = case(GRADE_AGE, value=Enrolment.grade)
    query = learner_rows(round_, "age_grade", null(), usual,
                          cast(Learner.birth_date, String)).where(
        Learner.birth_date.is_not(None),
        or_(Learner.birth_date > too_young, Learner.birth_date <= too_old))
    return within(query, Enrolment.institution_id, ids)


def late_enrolment(round_: Round, t: dict[str, float], ids: Collection[int] | None) -> Select:
    """A learner enrolled after the round's count date."""
    last = count_date(round_) + timedelta(days=int(t["late_enrolment.days"]))
    query = learner_rows(round_, "late_enrolment", None, None,
                          cast(Enrolment.enrolled_on, String)).where(Enrolment.enrolled_on > last)
    return within(query, Enrolment.institution_id, ids)
