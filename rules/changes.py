"""What changed under an institution after its confirmation was cancelled: learners added,
removed, moved and edited against the roster the confirmation froze, the counts per grade
before and after, and who changed what and when (from the audit log). A fixed number of
queries per institution, whatever its size.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from models import Confirmation, Enrolment, Institution, Learner, SnapshotCount
from models.audit import AuditEntry
from models.people import GRADE_LABELS, STATUS_LABELS, EnrolmentStatus
from models.roster import RosterEntry
from models.rounds import ConfirmLevel

#: The key fields the roster freezes and the change list compares, with their labels.
FIELDS = {"grade": _l("Grade"), "classroom": _l("Classroom"), "title": _l("Title"),
          "first_name": _l("First name"), "last_name": _l("Last name"), "gender": _l("Gender"),
          "birth_date": _l("Birth date")}


@dataclass(frozen=True)
class Change:
    """One learner added, removed, moved or edited since the confirmation."""

    kind: str  # added, removed, moved, changed
    learner_id: int
    name: str
    detail: str


@dataclass
class ChangeList:
    """Everything the level that must re-confirm needs to see."""

    confirmation: Confirmation
    changes: list[Change] = field(default_factory=list)
    counts: list[tuple[str, int, int]] = field(default_factory=list)  # grade, before, after
    edits: list[AuditEntry] = field(default_factory=list)


def last_cancelled(session: Session, round_id: int, institution_id: int) -> Confirmation | None:
    """The institution's most recently cancelled confirmation in the round, if any."""
    return session.scalars(
        select(Confirmation).where(Confirmation.round_id == round_id,
                                   Confirmation.level == ConfirmLevel.INSTITUTION,
                                   Confirmation.institution_id == institution_id,
                                   Confirmation.cancelled_at.is_not(None))
        .order_by(Confirmation.cancelled_at.desc()).limit(1)).first()


def cancelled_institutions(session: Session, round_id: int, lao_id: int) -> set[int]:
    """The LAO's institutions with a cancelled confirmation in the round: only they have a
    change list to read."""
    return set(session.scalars(
        select(Confirmation.institution_id).where(
            Confirmation.round_id == round_id, Confirmation.level == ConfirmLevel.INSTITUTION,
            Confirmation.lao_id == lao_id, Confirmation.cancelled_at.is_not(None))))


def _name(row: Any) -> str:
    return " ".join(p for p in (row.title, row.first_name, row.last_name) if p)


def _shown(value: Any) -> str:
    from i18n import be_date

    if isinstance(value, date | datetime):
        return be_date(value)
    if value in GRADE_LABELS:
        return str(GRADE_LABELS[value])
    return "–" if value in (None, "") else str(value)


def changes_since(session: Session, confirmation: Confirmation) -> ChangeList:
    """The change list of an institution against the roster `confirmation` froze."""
    result = ChangeList(confirmation)
    year = confirmation.round.academic_year
    frozen = {r.learner_id: r for r in session.scalars(
        select(RosterEntry).where(RosterEntry.confirmation_id == confirmation.id))}
    current = {}
    for enrolment, learner in session.execute(
            select(Enrolment, Learner).join(Learner, Learner.id == Enrolment.learner_id)
            .where(Enrolment.institution_id == confirmation.institution_id,
                   Enrolment.academic_year == year,
                   Enrolment.status == EnrolmentStatus.ACTIVE)):
        current[learner.id] = {"enrolment": enrolment, "learner": learner,
                               **{f: getattr(enrolment if f in ("grade", "classroom")
                                             else learner, f) for f in FIELDS}}
    gone = sorted(frozen.keys() - current.keys())
    where_now = {r.learner_id: r for r in session.execute(
        select(Enrolment.learner_id, Enrolment.status, Institution.code, Institution.name)
        .join(Institution, Institution.id == Enrolment.institution_id)
        .where(Enrolment.learner_id.in_(gone), Enrolment.academic_year == year,
               or_(Enrolment.institution_id != confirmation.institution_id,
                   Enrolment.status != EnrolmentStatus.ACTIVE))
        .order_by(Enrolment.id))} if gone else {}
    for learner_id in sorted(current.keys() - frozen.keys()):
        row = current[learner_id]["learner"]
        result.changes.append(Change("added", learner_id, _name(row), _(
            "Added in grade %(grade)s.", grade=GRADE_LABELS.get(current[learner_id]["grade"], ""))))
    for learner_id in gone:
        row, now = frozen[learner_id], where_now.get(learner_id)
        if now is not None and now.status == EnrolmentStatus.ACTIVE:
            result.changes.append(Change("moved", learner_id, _name(row), _(
                "Moved to %(code)s %(name)s.", code=now.code, name=now.name)))
        else:
            status = STATUS_LABELS.get(now.status, now.status) if now else _("deleted")
            result.changes.append(Change("removed", learner_id, _name(row), _(
                "No longer studying here: %(status)s.", status=status)))
    for learner_id in sorted(frozen.keys() & current.keys()):
        before, after = frozen[learner_id], current[learner_id]
        for name in FIELDS:
            if getattr(before, name) != after[name]:
                result.changes.append(Change("changed", learner_id, _name(after["learner"]), _(
                    "%(field)s changed from %(old)s to %(new)s.", field=FIELDS[name],
                    old=_shown(getattr(before, name)), new=_shown(after[name]))))
    before_counts = dict(session.execute(
        select(SnapshotCount.grade, func.sum(SnapshotCount.count))
        .where(SnapshotCount.confirmation_id == confirmation.id)
        .group_by(SnapshotCount.grade)).all())
    after_counts: dict[str, int] = {}
    for row in current.values():
        after_counts[row["grade"]] = after_counts.get(row["grade"], 0) + 1
    result.counts = [(g, int(before_counts.get(g, 0)), after_counts.get(g, 0))
                     for g in sorted(before_counts.keys() | after_counts.keys())]
    touched = {c.learner_id for c in result.changes}
    enrolments = [str(current[i]["enrolment"].id) for i in touched if i in current] + [
        str(frozen[i].enrolment_id) for i in touched if i in frozen]
    if touched:
        result.edits = list(session.scalars(
            select(AuditEntry).where(
                AuditEntry.at >= confirmation.cancelled_at,
                or_(and_(AuditEntry.model == "Learner",
                         AuditEntry.object_id.in_([str(i) for i in touched])),
                    and_(AuditEntry.model == "Enrolment",
                         AuditEntry.object_id.in_(enrolments))))
            .order_by(AuditEntry.at, AuditEntry.id).limit(500)))
    return result
