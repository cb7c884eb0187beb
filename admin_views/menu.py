"""Which menu entries each user sees: only what their level (and kind of institution) uses.

The menu is a guide, not a gate: every view still checks access itself. An entry not listed
here is shown to everyone who may open it."""

from collections.abc import Callable
from typing import Any

from models import Level

UPPER = frozenset({Level.DEPARTMENT, Level.PROVINCE})
ABOVE_INSTITUTION = frozenset({Level.DEPARTMENT, Level.PROVINCE, Level.LAO})


def _levels(*levels: str) -> Callable[[Any], bool]:
    return lambda user: user.level in levels


def _kind(user: Any) -> str | None:
    institution = getattr(user, "institution", None)
    return institution.kind if institution is not None else None


def _not_kind(kind: str) -> Callable[[Any], bool]:
    """Everyone above the institutions, and institutions of any other kind."""
    return lambda user: user.level != Level.INSTITUTION or _kind(user) != kind


#: Menu endpoint → who sees it.
SHOWN: dict[str, Callable[[Any], bool]] = {
    "lao": _levels(*ABOVE_INSTITUTION),
    "application": _levels(Level.LAO, Level.INSTITUTION),
    "other_school": _levels(*ABOVE_INSTITUTION),
    "student": _not_kind("cdc"),
    "child": _not_kind("school"),
    "other_count": _levels(*ABOVE_INSTITUTION),
    "centre_basic_data": _not_kind("school"),
    "building": _not_kind("school"),
    "budget": _levels(*ABOVE_INSTITUTION),
    "budget_rate": _levels(Level.DEPARTMENT),
    "spot_checks": _levels(*UPPER),
    "round": _levels(Level.DEPARTMENT),
    "user": _levels(*UPPER),
    "cards": _levels(*UPPER),
    "audit": _levels(*ABOVE_INSTITUTION),
    "province": _levels(Level.DEPARTMENT),
    "district": _levels(Level.DEPARTMENT),
    "subdistrict": _levels(Level.DEPARTMENT),
    "code_exception": _levels(Level.DEPARTMENT),
}


def shown(endpoint: str, user: Any) -> bool:
    """Whether `endpoint` belongs in `user`'s menu."""
    if not getattr(user, "is_authenticated", False):
        return False
    rule = SHOWN.get(endpoint)
    return rule is None or rule(user)
