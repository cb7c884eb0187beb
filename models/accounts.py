"""Sign-in accounts: one per unit (its code is the login) and personal ones for the department."""

import enum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import db
from .geography import Province
from .organisations import Institution, Lao

# OWASP's Password Storage Cheat Sheet: Argon2id, at least 19 MiB, 2 iterations, 1 lane.
password_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


class Level(enum.StrEnum):
    DEPARTMENT = "department"
    PROVINCE = "province"
    LAO = "lao"
    INSTITUTION = "institution"


LEVEL_LABELS = {
    Level.DEPARTMENT: _l("Department"),
    Level.PROVINCE: _l("Province"),
    Level.LAO: _l("LAO"),
    Level.INSTITUTION: _l("Institution"),
}


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "level IN ('department', 'province', 'lao', 'institution')", name="level"
        ),
        CheckConstraint(
            "(level = 'department') OR (province_code IS NOT NULL)", name="unit_province"
        ),
        CheckConstraint("(level NOT IN ('lao', 'institution')) OR (lao_id IS NOT NULL)",
                        name="unit_lao"),
        CheckConstraint("(level != 'institution') OR (institution_id IS NOT NULL)",
                        name="unit_institution"),
        # Sign-in finds a login in any case (rules.accounts.by_login).
        Index("ix_user_account_login_lower", func.lower(text("login"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(12), index=True)
    # The unit's place in the tree, kept by rules/ so scoping is one indexed comparison.
    province_code: Mapped[str | None] = mapped_column(ForeignKey("province.code"), index=True)
    lao_id: Mapped[int | None] = mapped_column(ForeignKey("lao.id"), index=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Bumped on logout, password change and disable, so a copied session cookie dies with it.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    province: Mapped[Province | None] = relationship()
    lao: Mapped[Lao | None] = relationship()
    institution: Mapped[Institution | None] = relationship()

    def __str__(self) -> str:
        return self.login

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        self.password_hash = password_hasher.hash(password)

    def check_password(self, password: str) -> bool:
        try:
            return password_hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @property
    def unit_label(self) -> str:
        """The unit this account speaks for, as shown in the page header."""
        if self.institution is not None:
            return str(self.institution)
        if self.lao is not None:
            return str(self.lao)
        if self.province is not None:
            return self.province.title
        return str(LEVEL_LABELS[Level.DEPARTMENT])


class ThrottleHit(db.Model):
    """One counted use of a throttled key (a failed sign-in, an application, a look-up)."""

    __tablename__ = "throttle_hit"
    __table_args__ = (Index("ix_throttle_hit_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    # Seconds since the epoch: the window arithmetic is the same on every database.
    at: Mapped[float] = mapped_column(Float)
