"""The risk rules in one table, and the flags they raise: found on demand or stored set-wise."""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, insert, select
from sqlalchemy.orm import Session

from models import Round
from models.risk import RiskFlag

from ..identity import mask_contact
from . import reasons
from .learner_checks import (
    age_grade,
    incomplete,
    late_enrolment,
    same_person,
    shared_phone,
    sharing_person,
    sharing_phone,
)
from .rows import COLUMNS
from .thresholds import SETTING_LABELS, thresholds
from .unit_checks import centre_no_staff, count_jump, g_code_share, obec_mismatch, other_school_jump


@dataclass(frozen=True)
class RiskRule:
    """One risk rule: what it finds (SQL), how it says why, and what part of quality it hits."""

    key: str
    label: Any
    part: str  # completeness, validity, consistency or unit
    rows: Callable[[Round, dict[str, float], Collection[int] | None], Select]
    reason: Callable[[Any, Round], str]
    per_institution: bool = True
    contact: str | None = None  # the family's contact (rules.identity) the detail holds
    # The institutions whose flags of this rule change with the learners of some (a rule
    # comparing learners across institutions); None: each institution's flags are its own.
    sharing: Callable[[Round, Collection[int]], Select] | None = None

    def reason_for(self, flag: Any, round_: Round, reveal_contacts: bool) -> str:
        """The reason as `flag`'s reader may see it: a contact of the family it names is
        masked, as everywhere else, for whoever rules.permissions.may_see_contacts refuses."""
        if self.contact is not None and not reveal_contacts:
            flag = _Row({key: getattr(flag, key) for key in COLUMNS}
                        | {"detail": mask_contact(self.contact, flag.detail)})
        return self.reason(flag, round_)


RULES: dict[str, RiskRule] = {r.key: r for r in (
    RiskRule("incomplete", _l("Key fields missing"), "completeness", incomplete,
             reasons.incomplete),
    RiskRule("age_grade", _l("Age far from the grade"), "validity", age_grade,
             reasons.age_grade),
    RiskRule("late_enrolment", _l("Enrolled after the count date"), "validity", late_enrolment,
             reasons.late_enrolment),
    RiskRule("shared_phone", _l("One guardian phone behind many learners"), "consistency",
             shared_phone, reasons.shared_phone, contact="guardian_phone",
             sharing=sharing_phone),
    RiskRule("same_person", _l("Same name and birth date under another ID"), "consistency",
             same_person, reasons.same_person, sharing=sharing_person),
    RiskRule("g_code_share", _l("G-code share far above the province"), "unit", g_code_share,
             reasons.g_code_share),
    RiskRule("count_jump", _l("Count jumps against the last confirmed count"), "unit",
             count_jump, reasons.count_jump),
    RiskRule("centre_no_staff", _l("Centre with children but no staff or classrooms"), "unit",
             centre_no_staff, reasons.centre_no_staff),
    RiskRule("other_school_jump", _l("Other-affiliation count does not fit its past"), "unit",
             other_school_jump, reasons.other_school_jump, per_institution=False),
    RiskRule("obec_mismatch", _l("Other-affiliation count differs from OBEC's"), "unit",
             obec_mismatch, reasons.obec_mismatch, per_institution=False),
)}


def find(session: Session, round_: Round, key: str,
         institution_ids: Collection[int] | None = None) -> list[tuple[Any, str]]:
    """The rows one rule finds in the round now, each with its reason (nothing is stored)."""
    rule = RULES[key]
    query = rule.rows(round_, thresholds(session, round_.academic_year), institution_ids)
    found = session.execute(query).all()
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in found]
    return [(row, rule.reason(_Row(row), round_)) for row in rows]


class _Row:
    """A found row read by attribute, as stored flags are."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def compute(session: Session, round_: Round,
            institution_ids: Collection[int] | None = None) -> set[int] | None:
    """Store the round's flags: all of them, or again for some institutions only, and for the
    institutions whose learners shared a phone or a person with theirs, before or now; the
    institutions whose flags were stored again (None: all)."""
    t = thresholds(session, round_.academic_year)
    touched = None if institution_ids is None else set(institution_ids)
    for rule in RULES.values():
        if institution_ids is not None and not rule.per_institution:
            continue
        ids = None if institution_ids is None else _and_sharing(session, round_, rule,
                                                                 institution_ids)
        stale = delete(RiskFlag).where(RiskFlag.round_id == round_.id, RiskFlag.rule == rule.key)
        if ids is not None:
            stale = stale.where(RiskFlag.institution_id.in_(list(ids)))
            touched |= ids
        session.execute(stale)
        session.execute(insert(RiskFlag).from_select(COLUMNS, rule.rows(round_, t, ids)))
    return touched


def _and_sharing(session: Session, round_: Round, rule: RiskRule, ids: Collection[int]
                 ) -> set[int]:
    """`ids` and, for a rule across institutions, those sharing a key with them now or sharing
    a flag's detail with theirs before: a duplicate removed at one school clears the flag of
    its twin at another, and a new one flags the twin too."""
    found = set(ids)
    if rule.sharing is None:
        return found
    found |= set(session.scalars(rule.sharing(round_, ids)))
    mine = select(RiskFlag.detail).where(RiskFlag.round_id == round_.id,
                                         RiskFlag.rule == rule.key,
                                         RiskFlag.institution_id.in_(list(ids)))
    found |= set(session.scalars(select(RiskFlag.institution_id).distinct().where(
        RiskFlag.round_id == round_.id, RiskFlag.rule == rule.key,
        RiskFlag.detail.in_(mine))))
    return found


SETTING_LABELS.update({
    f"weight.{key}": _l("Spot-check weight a learner gains from the flag: %(rule)s",
                        rule=rule.label)
    for key, rule in RULES.items() if rule.per_institution})
