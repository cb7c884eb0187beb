"""Bottom-up confirmation (SPEC §5): institution, then LAO per database, then province; cancels
come from above with a reason. The lock that freezes what is under a live confirmation is in
rules/locks.py; the progress queries in rules/progress.py.

Concurrency on PostgreSQL: every confirm and cancel first locks the row of the unit that
decides (FOR UPDATE on the LAO when an LAO confirms or cancels an institution, on the province
when a province confirms or cancels an LAO, on the institution when it confirms); writes under
the unit wait on it through the FOR SHARE lock of rules/locks.py. So a confirm and a cancel or
edit of the same unit run one after the other, and each sees what the other committed.
"""

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import clock
from models import (
    Confirmation,
    Enrolment,
    Institution,
    InstitutionKind,
    Lao,
    Learner,
    OtherSchool,
    OtherSchoolCount,
    Province,
    RosterEntry,
    Round,
    SnapshotCount,
)
from models.people import EnrolmentStatus, Gender
from models.rounds import ConfirmLevel, Database

from . import RuleViolation, current_actor, totals, validates
from .audit import record
from .permissions import may_cancel, may_confirm
from .progress import (
    DATABASE_OF_KIND,
    LAO_DATABASES,
    NAMED_AT_MOST,
    Missing,
    lao_status,
    live_confirmation,
    province_missing,
)


def _audit(action: str, confirmation: Confirmation, **details: Any) -> None:
    """Leave the confirm or cancel in the audit log."""
    record(action, target=f"confirmation:{confirmation.id}", round_id=confirmation.round_id,
           level=confirmation.level, database=confirmation.database,
           province_code=confirmation.province_code, lao_id=confirmation.lao_id,
           institution_id=confirmation.institution_id, **details)


def _login(actor: Any) -> str:
    return actor.login if actor is not None else "system"


def already_confirmed(level: str) -> str:
    """What a unit is told when it confirms twice, by a second click or at the same moment."""
    return {
        ConfirmLevel.INSTITUTION: _("This institution has already confirmed its data for this "
                                    "round."),
        ConfirmLevel.LAO: _("This LAO has already confirmed this database for this round."),
        ConfirmLevel.PROVINCE: _("This province has already confirmed this round."),
    }[level]


def _new_confirmation(session: Session, round_: Round, level: str, database: str,
                      **unit: Any) -> Confirmation:
    round_id = round_.id
    confirmation = Confirmation(round=round_, level=level, database=database,
                                confirmed_at=clock.now(),
                                confirmed_by=_login(current_actor()), **unit)
    confirmation.made_by_rules = True
    session.add(confirmation)
    try:
        session.flush()
    except IntegrityError:
        # Another request confirmed the unit between our check and this insert (SQLite takes
        # no row lock); the live-confirmation index let only one in. This one is refused in
        # the words a later click gets, once the failed transaction is undone.
        session.rollback()
        if live_confirmation(session, round_id, level, database, **unit) is None:
            raise
        raise RuleViolation(already_confirmed(level)) from None
    return confirmation


@validates(Confirmation)
def made_by_the_rules(session: Session, confirmation: Confirmation) -> list[str]:
    """A confirmation is written only by the functions below, which check SPEC §5 first."""
    if confirmation.__dict__.pop("made_by_rules", False):
        return []
    return [_("Confirmations are made and cancelled only with the confirm and cancel buttons.")]


# --- institution -----------------------------------------------------------------------------

def confirm_institution(session: Session, round_: Round, institution: Institution
                        ) -> Confirmation:
    """The institution confirms its database for the round and freezes its counts."""
    actor = current_actor()
    if not may_confirm(actor, ConfirmLevel.INSTITUTION):
        raise RuleViolation(_("The institution itself confirms its data (ยืนยันข้อมูล). "
                              "Ask the institution to sign in and confirm."))
    # FOR UPDATE waits for edits in flight (they hold FOR SHARE) and keeps new ones out.
    session.execute(select(Institution.id).where(Institution.id == institution.id)
                    .with_for_update())
    if not institution.active:
        raise RuleViolation(_("This institution is marked inactive, so it has nothing to "
                              "confirm. Ask your LAO if it should be active."))
    database = DATABASE_OF_KIND[InstitutionKind(institution.kind)]
    if live_confirmation(session, round_.id, ConfirmLevel.INSTITUTION, database,
                         institution_id=institution.id):
        raise RuleViolation(already_confirmed(ConfirmLevel.INSTITUTION))
    lao = session.get(Lao, institution.lao_id)
    confirmation = _new_confirmation(
        session, round_, ConfirmLevel.INSTITUTION, database, institution_id=institution.id,
        lao_id=institution.lao_id, province_code=lao.province_code)
    active = (Enrolment.institution_id == institution.id,
              Enrolment.academic_year == round_.academic_year,
              Enrolment.status == EnrolmentStatus.ACTIVE)
    counts = (select(literal(confirmation.id), Enrolment.grade, Learner.gender,
                     func.count(Enrolment.id))
              .join(Learner, Learner.id == Enrolment.learner_id)
              .where(*active)
              .group_by(Enrolment.grade, Learner.gender))
    _store_snapshot(session, counts)
    totals.add(session, confirmation)
    # The learner list as confirmed, so a later cancel can show what changed: one statement.
    session.execute(RosterEntry.__table__.insert().from_select(
        ["confirmation_id", "enrolment_id", "learner_id", "grade", "classroom", "title",
         "first_name", "last_name", "gender", "birth_date"],
        select(literal(confirmation.id), Enrolment.id, Enrolment.learner_id, Enrolment.grade,
               Enrolment.classroom, Learner.title, Learner.first_name, Learner.last_name,
               Learner.gender, Learner.birth_date)
        .join(Learner, Learner.id == Enrolment.learner_id).where(*active)))
    _audit("confirm", confirmation)
    return confirmation


def _store_snapshot(session: Session, counts: Any) -> None:
    """One INSERT … SELECT, so a snapshot costs one statement whatever its size."""
    session.execute(SnapshotCount.__table__.insert().from_select(
        ["confirmation_id", "grade", "gender", "count"], counts))


# --- LAO -------------------------------------------------------------------------------------

#: What a confirm refused for the units below says, by what it waits for: the refusal naming
#: every unit, the refusal counting them and naming the first few, and the link to the full list.
WAITING_WORDS = {
    "institutions": (
        _l("Every institution must confirm its data (ยืนยันข้อมูล) before the LAO confirms the "
           "overall data. Not yet confirmed: %(names)s."),
        _l("Every institution must confirm its data (ยืนยันข้อมูล) before the LAO confirms the "
           "overall data. %(count)d institutions have not confirmed yet, among them %(names)s."),
        _l("See every institution not yet confirmed (%(count)d)")),
    "schools": (
        _l("Record the head counts of every funded other-affiliation school first; the LAO "
           "must enter them for: %(names)s."),
        _l("Record the head counts of every funded other-affiliation school first; %(count)d "
           "schools have none yet, among them %(names)s."),
        _l("See every school without head counts (%(count)d)")),
    "laos": (
        _l("Every LAO must confirm the overall data (ยืนยันภาพรวมของข้อมูล) before the province "
           "confirms. Not yet confirmed: %(names)s."),
        _l("Every LAO must confirm the overall data (ยืนยันภาพรวมของข้อมูล) before the province "
           "confirms. %(count)d LAOs have not confirmed yet, among them %(names)s."),
        _l("See every LAO not yet confirmed (%(count)d)")),
}


class UnitsWaiting(RuleViolation):
    """A unit confirmed before the units below it: the message counts them and names the first
    few (an LAO may wait for some 200 institutions, a province for as many LAOs), and the page
    links to the full list with `see_all`."""

    def __init__(self, missing: list[Missing], waiting_for: str) -> None:
        every_one, some_of, see_all = WAITING_WORDS[waiting_for]
        values = {"count": len(missing),
                  "names": ", ".join(str(m) for m in missing[:NAMED_AT_MOST])}
        super().__init__((every_one if len(missing) <= NAMED_AT_MOST else some_of) % values)
        self.missing = missing
        self.see_all = see_all % values


def confirm_lao(session: Session, round_: Round, lao: Lao, database: str) -> Confirmation:
    """The LAO confirms one database once every unit of it below has (SPEC §5 rule 2)."""
    actor = current_actor()
    if not may_confirm(actor, ConfirmLevel.LAO):
        raise RuleViolation(_("The LAO itself confirms the overall data (ยืนยันภาพรวมของข้อมูล). "
                              "Ask the LAO to sign in and confirm."))
    if database not in LAO_DATABASES:
        raise RuleViolation(_("Unknown database."))
    session.execute(select(Lao.id).where(Lao.id == lao.id).with_for_update())
    if live_confirmation(session, round_.id, ConfirmLevel.LAO, database, lao_id=lao.id):
        raise RuleViolation(already_confirmed(ConfirmLevel.LAO))
    total, missing = lao_status(session, round_.id, lao.id, database)
    if total == 0:
        raise RuleViolation(_("This LAO has no unit in this database, so there is nothing to "
                              "confirm for it."))
    if missing:
        raise UnitsWaiting(missing, "schools" if database == Database.OTHER else "institutions")
    confirmation = _new_confirmation(session, round_, ConfirmLevel.LAO, database,
                                     lao_id=lao.id, province_code=lao.province_code)
    if database == Database.OTHER:
        schools = (select(OtherSchoolCount.grade, OtherSchoolCount.boys, OtherSchoolCount.girls)
                   .join(OtherSchool, OtherSchool.id == OtherSchoolCount.other_school_id)
                   .where(OtherSchoolCount.round_id == round_.id,
                          OtherSchool.lao_id == lao.id, OtherSchool.closed.is_(False))
                   .subquery())
        for gender, column in ((Gender.MALE, schools.c.boys), (Gender.FEMALE, schools.c.girls)):
            _store_snapshot(session, select(literal(confirmation.id), schools.c.grade,
                                            literal(str(gender)), func.sum(column))
                            .group_by(schools.c.grade))
        totals.add(session, confirmation)
    else:
        _sum_snapshots(session, confirmation, Confirmation.lao_id == lao.id,
                       Confirmation.level == ConfirmLevel.INSTITUTION,
                       Confirmation.database == database)
    _audit("confirm", confirmation)
    return confirmation


def _sum_snapshots(session: Session, confirmation: Confirmation, *below: Any) -> None:
    """A level's snapshot is the sum of the live snapshots of the level below."""
    _store_snapshot(session, select(literal(confirmation.id), SnapshotCount.grade,
                                    SnapshotCount.gender, func.sum(SnapshotCount.count))
                    .join(Confirmation, Confirmation.id == SnapshotCount.confirmation_id)
                    .where(Confirmation.round_id == confirmation.round_id,
                           Confirmation.cancelled_at.is_(None), *below)
                    .group_by(SnapshotCount.grade, SnapshotCount.gender))


# --- province --------------------------------------------------------------------------------

def confirm_province(session: Session, round_: Round, province_code: str) -> Confirmation:
    """The province confirms once every LAO in it has confirmed all that applies (rule 3)."""
    actor = current_actor()
    if not may_confirm(actor, ConfirmLevel.PROVINCE):
        raise RuleViolation(_("The provincial office itself confirms the overall data "
                              "(ยืนยันภาพรวมของข้อมูล)."))
    session.execute(select(Province.code).where(Province.code == province_code)
                    .with_for_update())
    if live_confirmation(session, round_.id, ConfirmLevel.PROVINCE, Database.ALL,
                         province_code=province_code):
        raise RuleViolation(already_confirmed(ConfirmLevel.PROVINCE))
    missing = province_missing(session, round_.id, province_code)
    if missing:
        raise UnitsWaiting(missing, "laos")
    confirmation = _new_confirmation(session, round_, ConfirmLevel.PROVINCE, Database.ALL,
                                     province_code=province_code)
    _sum_snapshots(session, confirmation, Confirmation.province_code == province_code,
                   Confirmation.level == ConfirmLevel.LAO)
    _audit("confirm", confirmation)
    return confirmation


# --- cancel ----------------------------------------------------------------------------------

def cancel(session: Session, confirmation: Confirmation, reason: str) -> Confirmation:
    """A higher level cancels a confirmation with a reason, unless its own level is confirmed."""
    actor = current_actor()
    reason = (reason or "").strip()
    if not may_cancel(actor, confirmation.level):
        raise RuleViolation({
            ConfirmLevel.INSTITUTION: _("Only the LAO (or a higher level) can cancel an "
                                        "institution's confirmation (ยกเลิกการยืนยันข้อมูล). "
                                        "Ask your LAO to cancel it."),
            ConfirmLevel.LAO: _("Only the provincial office (or the department) can cancel an "
                                "LAO's confirmation (ยกเลิกการยืนยันข้อมูล). Ask your provincial "
                                "office to cancel it."),
            ConfirmLevel.PROVINCE: _("Only the department can cancel a province's confirmation "
                                     "(ยกเลิกการยืนยันข้อมูล)."),
        }[confirmation.level])
    if not reason:
        raise RuleViolation(_("Give the reason for cancelling the confirmation."))
    # Lock the level above, then the unit itself: the same order confirms use.
    if confirmation.level == ConfirmLevel.INSTITUTION:
        session.execute(select(Lao.id).where(Lao.id == confirmation.lao_id).with_for_update())
        session.execute(select(Institution.id).where(
            Institution.id == confirmation.institution_id).with_for_update())
        above = live_confirmation(session, confirmation.round_id, ConfirmLevel.LAO,
                                  confirmation.database, lao_id=confirmation.lao_id)
        blocked = _("The LAO has already confirmed the overall data (ยืนยันภาพรวมของข้อมูล). "
                    "The LAO must first ask the provincial office to cancel the LAO's "
                    "confirmation; then the LAO can cancel this institution's.")
    elif confirmation.level == ConfirmLevel.LAO:
        session.execute(select(Province.code).where(
            Province.code == confirmation.province_code).with_for_update())
        session.execute(select(Lao.id).where(Lao.id == confirmation.lao_id).with_for_update())
        above = live_confirmation(session, confirmation.round_id, ConfirmLevel.PROVINCE,
                                  Database.ALL, province_code=confirmation.province_code)
        blocked = _("The province has already confirmed this round. The department must "
                    "first cancel the province's confirmation; then the province can cancel "
                    "this LAO's.")
    else:
        session.execute(select(Province.code).where(
            Province.code == confirmation.province_code).with_for_update())
        above, blocked = None, ""
    if above is not None:
        raise RuleViolation(blocked)
    session.refresh(confirmation)  # it may have been cancelled while we waited for the lock
    if not confirmation.live:
        raise RuleViolation(_("This confirmation has already been cancelled."))
    confirmation.made_by_rules = True
    confirmation.cancelled_at = clock.now()
    confirmation.cancelled_by = _login(actor)
    confirmation.cancel_reason = reason
    session.flush()
    totals.remove(session, confirmation)
    _audit("cancel", confirmation, reason=reason)
    return confirmation
