"""Which menu entries each user sees: what rules.permissions says their level (or kind of
institution) uses. The menu is a guide, not a gate: every view still checks access itself."""

from typing import Any

from rules.permissions import may_use


def shown(endpoint: str, user: Any) -> bool:
    """Whether `endpoint` belongs in `user`'s menu; nothing before sign-in."""
    return bool(user.is_authenticated) and may_use(user, endpoint)
