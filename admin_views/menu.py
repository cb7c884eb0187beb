"""Which menu entries each user sees: what rules.permissions says their level (or kind of
institution) uses. The menu is a guide, not a gate: every view still checks access itself."""

from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from rules.permissions import desk, may_use


def shown(endpoint: str, user: Any) -> bool:
    """Whether `endpoint` belongs in `user`'s menu; nothing before sign-in."""
    return bool(user.is_authenticated) and may_use(user, endpoint)


def drawn(admin_view: Any, caller: Callable[[], str]) -> Markup:
    """The navbar's menu, drawn once per desk, language and open page: it follows from the
    policy tables alone, and drawing it asked every view about the user on every page."""
    who = (current_user.level, desk(current_user)) if current_user.is_authenticated else None
    key = (who, str(get_locale()), admin_view.endpoint, request.script_root)
    menus = current_app.extensions["lec_menus"]
    if key not in menus:
        menus[key] = Markup(caller())
    return menus[key]
