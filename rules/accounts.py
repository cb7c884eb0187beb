"""Account rules: a unit's account carries the unit's place in the tree (SPEC §6)."""

import secrets
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session

from models import Institution, Lao, Level, Province, User

from . import RuleViolation, validates

#: Bangkok's DOPA code: 76 provinces have a Provincial Office of Local Administration (SPEC §1);
#: Bangkok has none and no LAOs under the department, so it has no province account.
BANGKOK_PROVINCE = "10"

# No 0/O or 1/l/I: a one-time password is read off a printed card.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def one_time_password(length: int = 12) -> str:
    """A random password easy to type from a card (demo accounts, the CLI, credential cards)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def by_login(session: Session, typed: str) -> User | None:
    """The account a typed login names: the same letters in any case, an exact match first."""
    name = typed.strip()
    return session.scalar(select(User).where(func.lower(User.login) == name.lower())
                          .order_by(User.login != name, User.id).limit(1))


@validates(User)
def login_problems(session: Session, user: User) -> list[str]:
    """A login is one word that no other account has in any case, or it could never sign in."""
    state = inspect(user)
    if not (state.pending or state.attrs.login.history.has_changes()):
        return []
    user.login = (user.login or "").strip()
    if not user.login or any(ch.isspace() for ch in user.login):
        return [_("A login is one word without spaces, for example dla.somchai.")]
    with session.no_autoflush:
        clash = session.scalar(select(User.login).where(
            func.lower(User.login) == user.login.lower(),
            User.id != user.id if user.id is not None else True).limit(1))
    if clash is not None:
        return [_("The login %(login)s is already used by the account %(other)s: logins that "
                  "differ only in capital letters count as the same.",
                  login=user.login, other=clash)]
    return []


def _placed_anew(user: User) -> bool:
    """Whether the account is new or moves to another level or province (an account saved
    as it was, say to deactivate it, is not judged again)."""
    state = inspect(user)
    return state.pending or any(state.attrs[name].history.has_changes()
                                for name in ("level", "province_code"))


@validates(User)
def place_account(session: Session, user: User) -> list[str]:
    """Fill the account's province and LAO from its unit, and refuse an account with no unit
    or with a province that does not exist."""
    with session.no_autoflush:
        if user.level == Level.INSTITUTION:
            institution = user.institution or (
                session.get(Institution, user.institution_id) if user.institution_id else None)
            if institution is None:
                return [_("An institution account needs its institution.")]
            user.lao = institution.lao
        if user.level in (Level.LAO, Level.INSTITUTION):
            lao = user.lao or (session.get(Lao, user.lao_id) if user.lao_id else None)
            if lao is None:
                return [_("An LAO account needs its LAO.")]
            user.province_code = lao.province_code
        if user.level == Level.PROVINCE:
            user.province_code = (user.province_code or "").strip() or None
            if not user.province_code:
                return [_("A province account needs its province.")]
            # Else the database refuses it as a broken reference, which reads as a clash.
            if session.get(Province, user.province_code) is None:
                return [_("There is no province with code %(code)s.", code=user.province_code)]
            if user.province_code == BANGKOK_PROVINCE and _placed_anew(user):
                return [_("Bangkok has no province account: it has no Provincial Office of "
                          "Local Administration and no LAOs under the department.")]
        if user.level == Level.DEPARTMENT:
            user.province_code = user.lao_id = user.institution_id = None
        if user.level not in Level.__members__.values():
            return [_("Unknown account level.")]
    return []


@validates(User)
def department_password(session: Session, user: User) -> list[str]:
    """No credential card is ever issued for a department account, so one made without a
    password could never sign in."""
    if user.level != Level.DEPARTMENT or user.password_hash or not _placed_anew(user):
        return []
    return [_("A department account needs a password: no credential card is issued for it. "
              "Type one in New one-time password and give it to its holder.")]


def never_deleted() -> str:
    """Why an account cannot be deleted, and what to do instead, in the user's words."""
    return _("An account is never deleted: the audit log, the confirmations and the history of "
             "who was responsible refer to it. To stop it signing in, untick Active and save.")


def keep_accounts(session: Session, flush_context: Any, instances: Any) -> None:
    """An account is deactivated, never deleted, by anyone and by any path: deleting it would
    take with it the responsible-person history SPEC §6 keeps for every date."""
    if any(isinstance(obj, User) for obj in session.deleted):
        raise RuleViolation(never_deleted())


def keep_accounts_in_bulk(state: ORMExecuteState) -> None:
    """Nor by an ORM DELETE statement, as a script might run."""
    if state.is_delete and state.bind_mapper is inspect(User):
        raise RuleViolation(never_deleted())
