"""Learner identity (SPEC §2): the national ID or G-code, and who may change a learner."""

import re

from flask_babel import gettext as _
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

import clock
from models import Enrolment, Learner, Province
from models.people import Gender

from . import current_actor, validates
from .scope import Unit, covers
from .tree import holding_rank


def check_digit(first12: str) -> int:
    """The 13th digit of a national ID: (11 - sum(d[i] * (13 - i)) mod 11) mod 10."""
    total = sum(int(d) * (13 - i) for i, d in enumerate(first12))
    return (11 - total % 11) % 10


def national_id_problems(value: str | None) -> list[str]:
    """What is wrong with a national ID or G-code, naming the rule it breaks."""
    value = (value or "").strip()
    if value[:1] in ("G", "g"):
        if not re.fullmatch(r"[Gg]\d{12}", value):
            return [_("A G-code is the letter G followed by exactly 12 digits "
                      "(year 2, province 2, sequence 8).")]
        return []
    if not re.fullmatch(r"\d{13}", value):
        return [_("The national ID must be exactly 13 digits, or a G-code (G and 12 digits).")]
    if int(value[12]) != check_digit(value[:12]):
        return [_("The national ID %(value)s fails its checksum: the last digit should be "
                  "%(digit)d. Check the number on the ID card.",
                  value=value, digit=check_digit(value[:12]))]
    return []


def normalise_national_id(value: str | None) -> str:
    """IDs are typed with dashes and spaces; store 13 characters, G upper-case."""
    cleaned = re.sub(r"[\s-]", "", value or "")
    return cleaned[:1].upper() + cleaned[1:]


def mask_national_id(value: str | None, reveal: bool = False) -> str:
    """How a national ID shows in lists: whole for its own institution, masked above it."""
    if not value:
        return ""
    if reveal:
        return value
    if len(value) != 13:
        return "x" * len(value)
    # x-xxxx-xxxxx-12-3: the last three digits are enough to tell siblings apart.
    return f"x-xxxx-xxxxx-{value[10:12]}-{value[12]}"


def g_code_province_problems(session: Session, value: str | None) -> list[str]:
    """A G-code's digits 3-4 are the code of a province that exists."""
    if not (value or "").upper().startswith("G") or national_id_problems(value):
        return []
    with session.no_autoflush:
        if session.get(Province, value[3:5]) is None:
            return [_("Digits 3-4 of the G-code (%(digits)s) must be the code of a province.",
                      digits=value[3:5])]
    return []


@validates(Learner)
def check_learner(session: Session, learner: Learner) -> list[str]:
    """A learner needs a valid identity, a name, a gender and no birth date in the future
    (the ID is normalised first, so this rule also writes it back in its stored form)."""
    learner.national_id = normalise_national_id(learner.national_id)
    problems = national_id_problems(learner.national_id)
    problems += g_code_province_problems(session, learner.national_id)
    if not (learner.first_name or "").strip() or not (learner.last_name or "").strip():
        problems.append(_("Enter the learner's first name and last name."))
    if learner.gender not in tuple(Gender):
        problems.append(_("Choose the learner's gender."))
    if learner.birth_date and learner.birth_date > clock.today():
        problems.append(_("The birth date cannot be in the future."))
    return problems


def owning_enrolment(session: Session, learner_id: int) -> Enrolment | None:
    """Where the learner is active now (the latest year), else where they last were, ranked as
    the learner's scope ranks them (rules/tree.py): saved rows only, so an enrolment added in
    the same flush cannot claim the learner."""
    with session.no_autoflush:
        return session.scalar(
            select(Enrolment).where(Enrolment.learner_id == learner_id, Enrolment.id.is_not(None))
            .order_by(*(part.desc() for part in holding_rank())).limit(1))


def _changed_identity(learner: Learner) -> bool:
    state = inspect(learner)
    return state.persistent and any(state.attrs[attr.key].history.has_changes()
                                    for attr in state.mapper.column_attrs)


@validates(Learner)
def check_identity_owner(session: Session, learner: Learner) -> list[str]:
    """Only the institution holding the learner (or a level above it) changes who they are:
    name, birth date, guardian and phone stay as the owner recorded them, whatever the path."""
    actor = current_actor()
    if actor is None or not _changed_identity(learner):
        return []
    owner = owning_enrolment(session, learner.id)
    if owner is None:
        return []
    institution = owner.institution
    unit = Unit(institution.lao.province_code, institution.lao_id, institution.id)
    if covers(actor, unit):
        return []
    return [_("The learner with ID %(id)s is registered at %(code)s %(name)s (%(lao)s, contact "
              "%(contact)s). Only that institution may change the learner's name, birth date, "
              "guardian or phone; ask it to correct them or to record the transfer.",
              id=mask_national_id(learner.national_id), code=institution.code,
              name=institution.name, lao=institution.lao.name,
              contact=institution.phone or institution.email or institution.lao.phone or "-")]
