"""The person responsible for an account, kept as a history so any past date can be answered."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import db
from .accounts import User


class Profile(db.Model):
    """One person's term as the responsible person of an account; valid_to is None while current."""

    __tablename__ = "profile"
    __table_args__ = (Index("ix_profile_user_valid_from", "user_id", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    first_name: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    position: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 default=lambda: datetime.now(UTC))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    def __str__(self) -> str:
        return f"{self.first_name} {self.surname}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.surname}"
