"""Phone numbers and e-mail addresses as people type them, checked when they are set, so the
unit or guardian a page points to can be reached (a value stored before is not judged again)."""

import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from models import Application, CentreBasicData, Institution, Lao, Profile

from . import validates

#: Digits with the separators people type, one or more numbers, and an extension
#: ("045 123 456 ต่อ 12"); \d takes Thai digits too.
PHONE = re.compile(r"[\d+()\-\s./,]+(?:(?:ต่อ|ext\.?|x)\s*\d+)?", re.IGNORECASE)
#: The fewest digits of a Thai number: 9 for a fixed line (02 123 4567), 10 for a mobile.
PHONE_DIGITS = 9
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
#: The contact fields of each model other than the learner (whose guardian's phone is checked
#: with its other fields, rules.identity, so an import names its column).
CONTACTS: dict[type, tuple[tuple[str, str], ...]] = {
    Institution: (("phone", "phone"), ("email", "email")),
    Lao: (("phone", "phone"), ("email", "email")),
    CentreBasicData: (("head_phone", "phone"), ("email", "email")),
    Profile: (("phone", "phone"),),
    Application: (("contact_phone", "phone"), ("contact_email", "email")),
}


def phone_problem(value: str | None) -> str | None:
    """Why `value` is no phone number anyone could call, or None (an empty one is allowed)."""
    text = (value or "").strip()
    if not text or (PHONE.fullmatch(text) and sum(map(str.isdigit, text)) >= PHONE_DIGITS):
        return None
    return _("%(value)s is not a phone number: give its digits, for example 081 234 5678 or "
             "045 123 456 ต่อ 12.", value=text)


def email_problem(value: str | None) -> str | None:
    """Why `value` is no e-mail address, or None (an empty one is allowed)."""
    text = (value or "").strip()
    if not text or EMAIL.fullmatch(text):
        return None
    return _("%(value)s is not an e-mail address such as name@example.go.th.", value=text)


@validates(*CONTACTS)
def check_contacts(session: Session, obj: Any) -> list[str]:
    """The phone numbers and e-mail addresses this write sets."""
    state = inspect(obj)
    problems = []
    for key, kind in CONTACTS[type(obj)]:
        if state.persistent and not state.attrs[key].history.has_changes():
            continue
        check = phone_problem if kind == "phone" else email_problem
        if (problem := check(getattr(obj, key))) is not None:
            problems.append(problem)
    return problems
