"""The append-only audit log: who did what, when, from where, with the old and new values."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

import clock

from . import db


def utcnow() -> datetime:
    return clock.now()


class AuditEntry(db.Model):
    """One event; the actor's place in the tree is copied so the levels above can read it."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_province_at", "province_code", "at"),
        Index("ix_audit_entry_lao_at", "lao_id", "at"),
        Index("ix_audit_entry_model_object", "model", "object_id"),
        Index("ix_audit_entry_subject_at", "subject_institution_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    # No foreign keys: the log outlives the accounts and units it names.
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_login: Mapped[str | None] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    province_code: Mapped[str | None] = mapped_column(String(2))
    lao_id: Mapped[int | None] = mapped_column(Integer)
    institution_id: Mapped[int | None] = mapped_column(Integer)
    # The institution holding the learner or enrolment changed, so its units see the change
    # even when someone elsewhere (a level above) made it.
    subject_institution_id: Mapped[int | None] = mapped_column(Integer)
    model: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    changes: Mapped[dict | None] = mapped_column(JSON)
    details: Mapped[dict | None] = mapped_column(JSON)

    def __str__(self) -> str:
        return f"{self.action} {self.target or ''}".strip()
