"""The person responsible for an account, kept as a history so any past date can be answered."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

import clock

from . import db
from .accounts import Level, User
from .organisations import Institution, Lao


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
                                                 default=lambda: clock.now())
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    def __str__(self) -> str:
        return f"{self.first_name} {self.surname}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.surname}"


def record_responsible(user: User, first_name: str, surname: str, position: str, phone: str,
                       now: datetime | None = None) -> Profile:
    """Save who answers for `user`: a new person opens a new term and closes the old one."""
    now = now or clock.now()
    current = current_profile(user)
    if current is not None and (current.first_name, current.surname) == (first_name, surname):
        current.position, current.phone = position, phone
        return current
    if current is not None:
        current.valid_to = now
    profile = Profile(user=user, user_id=user.id, first_name=first_name, surname=surname,
                      position=position, phone=phone, valid_from=now)
    db.session.add(profile)
    return profile


def current_profile(user: User) -> Profile | None:
    return db.session.scalar(select(Profile).where(
        Profile.user_id == user.id, Profile.valid_to.is_(None)).order_by(Profile.valid_from.desc()))


def responsible_on(user: User, when: datetime) -> Profile | None:
    """The person who answered for `user`'s unit at `when`, if anyone had signed in by then."""
    return db.session.scalar(select(Profile).where(
        Profile.user_id == user.id, Profile.valid_from <= when,
        or_(Profile.valid_to.is_(None), Profile.valid_to > when),
    ).order_by(Profile.valid_from.desc()).limit(1))


def unit_account(unit: Institution | Lao | str) -> User | None:
    """The account of an institution, an LAO or (by its code) a province."""
    if isinstance(unit, Institution):
        condition = (User.level == Level.INSTITUTION) & (User.institution_id == unit.id)
    elif isinstance(unit, Lao):
        condition = (User.level == Level.LAO) & (User.lao_id == unit.id)
    else:
        condition = (User.level == Level.PROVINCE) & (User.province_code == unit)
    return db.session.scalar(select(User).where(condition).order_by(User.id).limit(1))


def responsible_for_unit(unit: Institution | Lao | str, when: datetime) -> Profile | None:
    """Who was responsible for this unit on this date (SPEC §6)."""
    user = unit_account(unit)
    return responsible_on(user, when) if user is not None else None


def _aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def held_at(profile: Profile, moment: datetime) -> bool:
    """Whether `profile`'s term covers `moment`."""
    return _aware(profile.valid_from) <= _aware(moment) and (
        profile.valid_to is None or _aware(profile.valid_to) > _aware(moment))


def held_during(profile: Profile, start: datetime, end: datetime) -> bool:
    """Whether `profile`'s term overlaps [start, end): a change that day names both people."""
    return _aware(profile.valid_from) < _aware(end) and (
        profile.valid_to is None or _aware(profile.valid_to) > _aware(start))


def terms_by_login(logins: Iterable[str]) -> dict[str, list[Profile]]:
    """Every term of the accounts with these logins, newest first, in one query."""
    wanted = {login for login in logins if login}
    terms: dict[str, list[Profile]] = {login: [] for login in wanted}
    if wanted:
        for login, profile in db.session.execute(
                select(User.login, Profile).join(Profile, Profile.user_id == User.id)
                .where(User.login.in_(wanted)).order_by(Profile.valid_from.desc())):
            terms[login].append(profile)
    return terms


def confirmers(confirmations: Iterable[Any]) -> dict[int, str]:
    """The name of the person responsible for the confirming account when each confirmation
    was made, by confirmation id; an account nobody had answered for yet keeps its login."""
    confirmations = [c for c in confirmations if c is not None]
    terms = terms_by_login(c.confirmed_by for c in confirmations)
    names = {}
    for confirmation in confirmations:
        person = next((p for p in terms.get(confirmation.confirmed_by, [])
                       if held_at(p, confirmation.confirmed_at)), None)
        names[confirmation.id] = person.full_name if person else confirmation.confirmed_by
    return names


def person_at(login: str | None, moment: datetime | None) -> str:
    """The name of whoever answered for the account `login` at `moment`, else the login."""
    if not login or moment is None:
        return login or ""
    person = next((p for p in terms_by_login([login])[login] if held_at(p, moment)), None)
    return person.full_name if person else login


def unit_terms(unit: Institution | Lao | str) -> list[Profile]:
    """Every person who has answered for the unit's account, newest first."""
    user = unit_account(unit)
    if user is None:
        return []
    return list(db.session.scalars(select(Profile).where(Profile.user_id == user.id)
                                   .order_by(Profile.valid_from.desc())))
