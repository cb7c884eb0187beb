"""Check by ID (SPEC §3): what typing a national ID may show, how often, and its audit trail.

A learner held outside the user's subtree (where they are active, or last were: the enrolment
that places the learner in the lists, rules/identity.owning_enrolment) shows only what the
duplicate refusal would say anyway: the name, that institution and its contact; never the
birth date, the guardian or the phone. Every look-up is audited with the ID masked, and each
account has an hourly allowance counted by the one throttle.
"""

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Enrolment, Learner

from . import RuleViolation
from .audit import record
from .enrolment import last_enrolment
from .identity import mask_national_id, owning_enrolment
from .scope import Unit, covers
from .throttle import Throttle

#: Look-ups per account per hour: a class enrolled at the start of term, not a census.
LOOKUPS_PER_HOUR = 120
#: Whole IDs one account above the institution may reveal per hour: the few a day's follow-up
#: asks for, not a province's list read one click at a time by a script.
REVEALS_PER_HOUR = 120


@dataclass
class Found:
    """The outcome of one look-up: `last` is carried into the new year, `owner` holds the
    identity, and `whole` says whether the record may be shown in full."""

    learner: Learner | None
    last: Enrolment | None
    owner: Enrolment | None
    whole: bool

    @property
    def elsewhere(self) -> str:
        """For a learner held outside the user's subtree: the name, where and whom to call."""
        if self.learner is None or self.owner is None:
            return ""
        institution = self.owner.institution
        return _("%(name)s was last enrolled in academic year %(year)d at %(code)s %(name_of)s "
                 "(%(lao)s, contact %(contact)s). Other details are kept by that institution.",
                 name=self.learner.full_name, year=self.owner.academic_year,
                 code=institution.code, name_of=institution.name, lao=institution.lao.name,
                 contact=institution.phone or institution.email or institution.lao.phone or "-")


def holds(actor: Any, enrolment: Enrolment | None) -> bool:
    """Whether the enrolment's institution lies inside the actor's subtree (or there is none)."""
    if actor is None or enrolment is None:
        return True
    institution = enrolment.institution
    return covers(actor, Unit(institution.lao.province_code, institution.lao_id, institution.id))


def check_by_id(session: Session, actor: Any, national_id: str, throttle: Throttle) -> Found:
    """Look a learner up for `actor`: counted, audited (ID masked), and cut to what they may see.

    The audit row is written in the session's transaction: the caller commits.
    """
    if actor is not None and not throttle.allow(f"lookup:{actor.id}", LOOKUPS_PER_HOUR, 3600):
        record("check_by_id_refused", mask_national_id(national_id))
        raise RuleViolation(_("This account has checked %(n)d IDs in the last hour, the most "
                              "allowed. Please wait and try again later.", n=LOOKUPS_PER_HOUR))
    learner = session.scalar(select(Learner).where(Learner.national_id == national_id))
    last = last_enrolment(session, learner) if learner is not None else None
    owner = owning_enrolment(session, learner.id) if learner is not None else None
    found = Found(learner, last, owner, holds(actor, owner))
    record("check_by_id", mask_national_id(national_id), found=learner is not None,
           elsewhere=not found.whole)
    return found


def allow_reveal(actor: Any, throttle: Throttle, target: str) -> None:
    """Count one reveal of a whole ID (`target` names the record) against the account's hourly
    allowance; past it the reveal is refused, and the refusal audited (the caller commits)."""
    if throttle.allow(f"reveal:{actor.id}", REVEALS_PER_HOUR, 3600):
        return
    record("reveal_refused", target)
    raise RuleViolation(_("This account has shown %(n)d whole IDs in the last hour, the most "
                          "allowed. Please wait and try again later.", n=REVEALS_PER_HOUR))
