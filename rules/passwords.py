"""The password policy (ASVS 5.0 §6.2): what makes a chosen password too easy to guess.

Every path that sets a password a person chose (first-login form, profile, account form, CLI)
calls `set_password`, which refuses with the reasons in the user's words. Generated one-time
passwords pass by construction. The list of common passwords is the 20,000 most common ones
compiled by Royce Williams and shipped (lower-cased, de-duplicated) by Django under the BSD
licence: rules/data/common-passwords.txt.gz.
"""

import gzip
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from . import RuleViolation

MIN_LENGTH = 10
MAX_LENGTH = 200
COMMON_FILE = Path(__file__).with_name("data") / "common-passwords.txt.gz"
#: Rows of the keyboards in use (Latin QWERTY and the digits); walking along one is a sequence.
KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
#: Look-alike characters people put in place of letters ("P@ssw0rd").
LEET = str.maketrans({"@": "a", "4": "a", "8": "b", "(": "c", "3": "e", "6": "g", "#": "h",
                      "1": "i", "!": "i", "|": "l", "0": "o", "$": "s", "5": "s", "7": "t",
                      "+": "t", "2": "z"})
#: Words that start most unit names and say nothing about the unit itself.
GENERIC_WORDS = frozenset({
    "โรงเรียน", "โรงเรียนเทศบาล", "เทศบาล", "เทศบาลตำบล", "เทศบาลเมือง", "เทศบาลนคร",
    "องค์การบริหารส่วนตำบล", "องค์การบริหารส่วนจังหวัด", "อบต.", "อบจ.", "ศพด.",
    "ศูนย์พัฒนาเด็กเล็ก", "บ้าน", "school", "municipality", "centre", "center",
})
PHONE = re.compile(r"(?:\+?66|0)\d{8,9}")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-case."""
    with gzip.open(COMMON_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def _letters(text: str) -> str:
    """Lower-case letters only (Thai included): how a name or a password is compared."""
    return "".join(c for c in text.lower() if c.isalpha())


def _predictable_step(a: str, b: str) -> bool:
    """b repeats a, follows or precedes it in the alphabet, or is its keyboard neighbour."""
    if a == b or abs(ord(a) - ord(b)) == 1:
        return True
    a, b = a.lower(), b.lower()
    return any(a + b in row or b + a in row or (a + b) in (row[-1] + row[0], row[0] + row[-1])
               for row in KEYBOARD_ROWS)


def is_repetitive(password: str) -> bool:
    """Repeated or sequential characters: 0000000000, กกกกกกกกกก, 1234567890, abcabcabca."""
    n = len(password)
    if n < 2:
        return True
    steps = zip(password, password[1:], strict=False)
    surprises = sum(not _predictable_step(a, b) for a, b in steps)
    if surprises < 3:
        return True
    return any(all(password[i] == password[i % k] for i in range(n))
               for k in range(1, n // 2 + 1))


def is_phone_number(password: str) -> bool:
    """A Thai phone number, with or without spaces and dashes: 0812345678, +66 81 234 5678."""
    return PHONE.fullmatch(re.sub(r"[\s().-]", "", password)) is not None


def is_common(password: str) -> bool:
    """On the common list as typed, with look-alikes undone, or with a short tail added."""
    lowered = password.lower()
    candidates = {lowered, lowered.translate(LEET)}
    for word in list(candidates):
        core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", word)
        # "password2024!" is "password" with a tail; "abc" plus 12 random digits is not.
        if core and len(word) - len(core) <= 6:
            candidates.add(core)
    return any(word in common_passwords() for word in candidates)


def _compact(text: str) -> str:
    """Lower-case without spaces, dots and dashes: how a login or a name is typed run together."""
    return re.sub(r"[\s.\-_]", "", text.lower())


def _unit_words(names: Iterable[str | None]) -> set[str]:
    """The distinctive words of a login and unit names: 'sisaket' of 'Si Sa Ket', 'ศรีสะเกษ'."""
    words = set()
    for name in filter(None, names):
        words |= {_compact(name), _letters(name)}
        words |= {form for token in name.split() if token.lower() not in GENERIC_WORDS
                  for form in (_compact(token), _letters(token))}
    return {word for word in words if len(word) >= 4}


def names_of(user: Any) -> list[str]:
    """The login and the names of the account's unit, its LAO and its province (Thai, English)."""
    institution = getattr(user, "institution", None)
    lao = getattr(user, "lao", None) or (institution.lao if institution else None)
    province = getattr(lao, "province", None) if lao else None
    if province is None and getattr(user, "province_code", None):
        from models import Province, db  # noqa: PLC0415 (only when the unit is a province)

        province = db.session.get(Province, user.province_code)
    names = [getattr(user, "login", None), getattr(user, "name", None)]
    names += [institution.name if institution else None, lao.name if lao else None]
    if province is not None:
        names += [province.name_th, province.name_en]
    return [n for n in names if n]


def password_problems(password: str, names: Iterable[str] = ()) -> list[str]:
    """What makes `password` too weak for an account with these `names`, in the user's words."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("The new password must be at least %(n)d characters long.",
                          n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_("The new password must be at most %(n)d characters long.",
                          n=MAX_LENGTH))
    if is_common(password):
        problems.append(_("This password is among the most commonly used ones; choose another."))
    if is_repetitive(password):
        problems.append(_("The new password is made of repeated or sequential characters "
                          "(such as 0000000000 or 1234567890); choose another."))
    if is_phone_number(password):
        problems.append(_("The new password looks like a phone number; choose another."))
    forms = (_compact(password), _compact(password).translate(LEET), _letters(password),
             _letters(password.lower().translate(LEET)))
    if any(word in form for word in _unit_words(names) for form in forms):
        problems.append(_("The new password must not contain the login or the name of your unit, "
                          "your LAO or your province."))
    return problems


def set_password(user: Any, password: str) -> None:
    """Set a password a person chose, or refuse it with every reason."""
    problems = password_problems(password, names_of(user))
    if problems:
        raise RuleViolation(problems)
    user.set_password(password)
