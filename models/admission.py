"""Online applications from parents (SPEC §8) and the attempt log that rate-limits them."""

import enum
import secrets
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import db
from .organisations import Institution
from .people import Enrolment

# No 0/O, 1/I/L: parents copy the code by hand from a phone screen.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 10


def new_tracking_code() -> str:
    """An unguessable code (31^10, about 8·10^14): the parent's only key to the application."""
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


class ApplicationStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


APPLICATION_STATUS_LABELS = {
    ApplicationStatus.SUBMITTED: _l("Submitted, waiting for the institution"),
    ApplicationStatus.ACCEPTED: _l("Accepted"),
    ApplicationStatus.REJECTED: _l("Not accepted"),
}


#: An application still waiting for, or given, a yes; a refused one may be sent again.
LIVE = "status != 'rejected'"


class Application(db.Model):
    """One child's application to one institution for one academic year."""

    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint("status IN ('submitted', 'accepted', 'rejected')", name="status"),
        CheckConstraint("gender IN ('M', 'F')", name="gender"),
        Index("ix_application_institution_status", "institution_id", "status", "created_at"),
        # One live application per child, institution and year (rules.admission), held by the
        # database too, so two sends at the same moment cannot both be saved.
        Index("uq_application_one_live", "national_id", "institution_id", "academic_year",
              unique=True, postgresql_where=text(LIVE), sqlite_where=text(LIVE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(TRACKING_LENGTH), unique=True,
                                               default=new_tracking_code)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    national_id: Mapped[str] = mapped_column(String(13), index=True)
    title: Mapped[str] = mapped_column(String(20))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(1))
    grade: Mapped[str] = mapped_column(String(3))
    academic_year: Mapped[int] = mapped_column(Integer)
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_phone: Mapped[str] = mapped_column(String(50))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=ApplicationStatus.SUBMITTED)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now(), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment.id"))

    institution: Mapped[Institution] = relationship()
    enrolment: Mapped[Enrolment | None] = relationship()

    @property
    def child_name(self) -> str:
        return f"{self.title}{self.first_name} {self.last_name}"

    def __str__(self) -> str:
        # The audit log keeps this text, and the LAO and province read it: the tracking code,
        # the parent's only key to the status page, stays out; the entry's record number
        # says which application it is.
        return self.child_name
