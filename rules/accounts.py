"""Account rules: a unit's account carries the unit's place in the tree (SPEC §6)."""

import secrets

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from models import Institution, Lao, Level, User

from . import validates

# No 0/O or 1/l/I: a one-time password is read off a printed card.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def one_time_password(length: int = 12) -> str:
    """A random password easy to type from a card (demo accounts, the CLI, credential cards)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


@validates(User)
def place_account(session: Session, user: User) -> list[str]:
    """Fill the account's province and LAO from its unit, and refuse an account with no unit."""
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
        if user.level == Level.PROVINCE and not user.province_code:
            return [_("A province account needs its province.")]
        if user.level == Level.DEPARTMENT:
            user.province_code = user.lao_id = user.institution_id = None
        if user.level not in Level.__members__.values():
            return [_("Unknown account level.")]
    return []
