"""Every "may this user …" question, answered in one place from the user and the unit or object.

Views, pages and templates only ask these functions; the tables below are the whole policy.
A new page is one entry in `PAGES` (and `BULK_EDITORS` if it edits in place, `USES` if not
every level that may open it works there day to day); a new level is one entry in `RANK` and in
the tables that name it. The tree itself is rules/scope.py.
`None` as the user means trusted code (CLI, seeds), which may do anything.
"""

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import inspect
from sqlalchemy.orm import MANYTOONE, InstanceState, Session

from models import Institution, Level, User
from models.rounds import ConfirmLevel

from .scope import Unit, covers, meets, unit_of, whole_country
from .tree import ALL, PATHS

#: How high each level stands: a level acts on the levels below it.
RANK = {Level.INSTITUTION: 0, Level.LAO: 1, Level.PROVINCE: 2, Level.DEPARTMENT: 3}

ABOVE_INSTITUTION = frozenset({Level.DEPARTMENT, Level.PROVINCE, Level.LAO})
OFFICES = frozenset({Level.DEPARTMENT, Level.PROVINCE})
DEPARTMENT = frozenset({Level.DEPARTMENT})

#: The levels that may open each admin page or view, by endpoint (SPEC §1, §7).
PAGES: dict[str, frozenset[str]] = {
    "admin": ALL,
    "lao": ABOVE_INSTITUTION,
    "institution": ALL,
    "other_school": ABOVE_INSTITUTION,
    "application": ALL,
    "student": ALL,
    "child": ALL,
    "learner": ALL,
    "other_count": ABOVE_INSTITUTION,
    "centre_basic_data": ALL,
    "building": ALL,
    "learner_import": ALL,
    "reports": ALL,
    "budget": ALL,
    "budget_rate": ALL,
    "confirmation": ALL,
    "spot_checks": OFFICES,
    "round": ALL,
    "user": OFFICES,
    "cards": OFFICES,
    "audit": ABOVE_INSTITUTION,
    "profile": ALL,
    "reveal": ALL,
    "province": DEPARTMENT,
    "district": DEPARTMENT,
    "subdistrict": DEPARTMENT,
    "code_exception": DEPARTMENT,
    "risk": ALL,
    "risk_threshold": DEPARTMENT,
    "jobs": ALL,
    "changes": ALL,
    "agency_token": DEPARTMENT,
}

#: Who works on each page day to day, so it belongs in their menu: levels above the institutions,
#: and institutions by kind (a school keeps no young children, a centre no students). A page
#: with no entry is in the menu of everyone who may open it. The menu is a guide, not a gate.
SCHOOL, CENTRE = "school", "cdc"
EVERY_INSTITUTION = frozenset({SCHOOL, CENTRE})
NOBODY: frozenset[str] = frozenset()
USES: dict[str, frozenset[str]] = {
    "lao": ABOVE_INSTITUTION,
    "application": frozenset({Level.LAO}) | EVERY_INSTITUTION,
    "other_school": ABOVE_INSTITUTION,
    "student": ABOVE_INSTITUTION | {SCHOOL},
    "child": ABOVE_INSTITUTION | {CENTRE},
    "other_count": ABOVE_INSTITUTION,
    "centre_basic_data": ABOVE_INSTITUTION | {CENTRE},
    "building": ABOVE_INSTITUTION | EVERY_INSTITUTION,  # every institution's (SPEC §3)
    "budget": ABOVE_INSTITUTION,
    "budget_rate": DEPARTMENT,
    "spot_checks": OFFICES,
    "round": DEPARTMENT,
    "user": OFFICES,
    "cards": OFFICES,
    "audit": ABOVE_INSTITUTION,
    "province": DEPARTMENT,
    "district": DEPARTMENT,
    "subdistrict": DEPARTMENT,
    "code_exception": DEPARTMENT,
    # Reached from other pages (the navbar's own link, a list's button, the progress page).
    "profile": NOBODY,
    "reveal": NOBODY,
    "changes": NOBODY,
}

#: The levels that may edit in place and run bulk actions on a list; the department elsewhere.
BULK_EDITORS: dict[str, frozenset[str]] = {
    "student": ALL,
    "child": ALL,
    "other_school": ABOVE_INSTITUTION,
}

#: Models a level may change but not add or delete: an institution edits its own record only.
CREATORS: dict[type, frozenset[str]] = {
    Institution: ABOVE_INSTITUTION,
}

#: Whose credential cards each level issues: the level just below, in its subtree (SPEC §1).
CARD_ISSUERS: dict[str, frozenset[str]] = {
    Level.DEPARTMENT: frozenset({Level.PROVINCE}),
    Level.PROVINCE: frozenset({Level.LAO, Level.INSTITUTION}),
}

#: The confirmation each level makes with its own button (SPEC §5); the department has none.
CONFIRMS = {Level.INSTITUTION: ConfirmLevel.INSTITUTION, Level.LAO: ConfirmLevel.LAO,
            Level.PROVINCE: ConfirmLevel.PROVINCE}

#: The levels that draw spot-check samples in their subtree (SPEC §5).
SAMPLERS = OFFICES

# Fields a level may not change even on an object it may edit.
LOCKED_FIELDS: dict[tuple[type, str], frozenset[str]] = {
    (Institution, Level.INSTITUTION): frozenset({"code", "lao_id", "kind", "active"}),
}
# Fields every user may change on their own account (password, profile, sign-out).
OWN_ACCOUNT_FIELDS = frozenset({"password_hash", "must_change_password", "session_version", "name"})


def may_open(user: Any, endpoint: str) -> bool:
    """Whether a signed-in `user` may open the page; a page with no entry is closed to all."""
    return user.level in PAGES.get(endpoint, frozenset())


def desk(user: Any) -> str:
    """Whom a page is for: the user's level, or below it the kind of their institution."""
    return user.institution.kind if user.level == Level.INSTITUTION else user.level


def may_use(user: Any, endpoint: str) -> bool:
    """Whether the page belongs in a signed-in `user`'s menu: they may open it and work on it."""
    return may_open(user, endpoint) and (endpoint not in USES or desk(user) in USES[endpoint])


def may_write_outside_window(user: Any) -> bool:
    """The department and trusted code (CLI, seeds) may write outside a round's window."""
    return user is None or user.level == Level.DEPARTMENT


def may_see(user: Any, unit: Unit) -> bool:
    """Whether `unit` (and what hangs under it) lies inside the user's subtree."""
    return user is None or covers(user, unit)


def may_look_under(user: Any, unit: Unit) -> bool:
    """Whether `user` may ask what hangs under `unit` (a province's LAOs, an LAO's
    institutions): `unit` lies inside or above the user's own; each unit then listed is one
    `may_see` answers for, so an LAO finds itself among its province's LAOs and no other."""
    return user is None or meets(user, unit)


def may_write(user: Any, model: type) -> bool:
    """Whether `user`'s level may create, change or delete `model` at all."""
    return user is None or user.level in PATHS[model].writers


def may_create(user: Any, model: type) -> bool:
    """Whether `user`'s level may add and delete rows of `model` (not only change them)."""
    return may_write(user, model) and (user is None or user.level in CREATORS.get(model, ALL))


def locked_fields(user: Any, model: type) -> frozenset[str]:
    """The columns `user`'s level may not change even on a row it may edit."""
    return LOCKED_FIELDS.get((model, user.level), frozenset()) if user else frozenset()


def own_institution_id(user: Any) -> int | None:
    """The one institution an institution-level user always works on; None above it, where
    the user chooses the institution inside their subtree."""
    return user.institution_id if user is not None and user.level == Level.INSTITUTION else None


def may_bulk_edit(user: Any, endpoint: str) -> bool:
    """Whether `user` may edit the list at `endpoint` in place and run its bulk actions."""
    return user.level in BULK_EDITORS.get(endpoint, DEPARTMENT)


def may_reveal_id(user: Any) -> bool:
    """Whether lists and exports show `user` whole national IDs: only the institution's own
    staff; above it they are masked (PDPA), and a reveal is asked for and logged one by one."""
    return user is not None and user.level == Level.INSTITUTION


def may_see_contacts(user: Any) -> bool:
    """Whether pages, forms, exports and the log show `user` how to reach a learner's family
    (rules.identity.CONTACT_FIELDS, and APPLICATION_CONTACTS on a parent's online application)
    whole: as with IDs, only the institution's own staff, who call the family; above it they
    are masked (PDPA) and the forms leave them out."""
    return user is not None and user.level == Level.INSTITUTION


def confirms(user: Any) -> str | None:
    """The confirmation level the user's own button makes, or None (the department)."""
    return CONFIRMS.get(user.level) if user is not None else None


def may_confirm(user: Any, level: str) -> bool:
    """Each unit confirms its own data; the department and trusted code may act for any unit."""
    return user is None or user.level == Level.DEPARTMENT or confirms(user) == level


def may_confirm_now(user: Any, level: str, confirmation: Any, waiting: int, is_open: bool
                    ) -> bool:
    """Whether `user`'s own button confirms the unit today, so the progress page and the API
    offer it alike: the confirmation of the user's level, not made yet, in an open round, with
    no unit below still holding it back (`waiting`), where rules/confirmation would refuse."""
    return confirms(user) == level and confirmation is None and not waiting and is_open


def may_cancel(user: Any, level: str) -> bool:
    """A confirmation is cancelled from above: any level higher than the one that made it."""
    return user is None or RANK[user.level] > RANK[Level(level)]


def may_cancel_now(user: Any, confirmation: Any, above: Any) -> bool:
    """Whether `user` may cancel `confirmation` today: from a higher level, and only while the
    level above has no live confirmation (`above`) over it, as rules/confirmation.cancel asks."""
    return may_cancel(user, confirmation.level) and above is None


def issues_cards_for(user: Any) -> frozenset[str]:
    """The account levels whose credential cards `user` issues."""
    return CARD_ISSUERS.get(user.level, frozenset())


def may_issue_cards_for(user: Any, account: User) -> bool:
    """Whether `user` may issue a new password card for `account`."""
    return account.level in issues_cards_for(user) and covers(user, unit_of(account))


def may_grant(user: Any, level: str) -> bool:
    """Whether `user` may give an account `level`: only a level below their own, so no one makes
    a peer or a superior; the department and trusted code may give any."""
    return whole_country(user) or (level in RANK and RANK[Level(level)] < RANK[user.level])


def levels_granted(user: Any) -> list[str]:
    """The account levels `user` may create or change accounts to, highest first."""
    return [level for level in Level if may_grant(user, level)]


def may_sample(user: Any, unit: Unit) -> bool:
    """Whether `user` may draw a spot-check sample of the learners of `unit`."""
    return user is None or (user.level in SAMPLERS and covers(user, unit))


def _keys_from_relations(state: InstanceState) -> dict[str, Any]:
    """The foreign keys the flush will take from a many-to-one relationship set since the last
    flush (a form or script sets `institution.lao`): SQLAlchemy copies them into the columns
    only after the rules have run, so until then the columns still name the old unit."""
    keys: dict[str, Any] = {}
    for relation in state.mapper.relationships:
        history = state.attrs[relation.key].history
        if relation.direction is not MANYTOONE or not history.has_changes():
            continue
        target = history.added[0] if history.added else None
        for local, remote in relation.local_remote_pairs:
            keys[state.mapper.get_property_by_column(local).key] = None if target is None else (
                getattr(target, inspect(target).mapper.get_property_by_column(remote).key))
    return keys


def outside_unit() -> str:
    """Why a write outside the user's subtree is refused (a record naming no unit lies there
    too, until the rules that ask for its unit are satisfied)."""
    return _("You may not change records outside your own unit.")


def check_write(session: Session, user: Any, obj: Any, deleting: bool = False) -> list[str]:
    """What stops `user` from writing `obj`: its level, an account's level, or the object's
    place in the tree, before and after the change."""
    model = type(obj)
    if model not in PATHS or user is None:
        return []
    state = inspect(obj)
    relations = _keys_from_relations(state)
    # Only an existing row has changed fields; a new one (bulk imports) skips the scan.
    changed = {
        attr.key for attr in state.mapper.column_attrs
        if state.attrs[attr.key].history.has_changes()
    } | set(relations) if state.persistent else set()
    if model is User and obj.id == user.id and not deleting and changed <= OWN_ACCOUNT_FIELDS:
        return []
    refused = [outside_unit()]
    if not may_write(user, model) or ((state.pending or deleting)
                                      and not may_create(user, model)):
        return refused
    path = PATHS[model]

    def now(key: str) -> Any:
        return relations[key] if key in relations else getattr(obj, key)

    def before(key: str) -> Any:
        history = state.attrs[key].history
        return history.deleted[0] if history.deleted else getattr(obj, key)

    # Both sides of a change: nothing may be moved into, nor out of, the user's reach.
    sides = [now] + ([before] if state.persistent or deleting else [])
    if model is User and not all(may_grant(user, side("level")) for side in sides):
        return [_("You may only create or change accounts of a level below your own.")]
    if not all(covers(user, path.unit(session, side)) for side in sides):
        return refused
    locked = locked_fields(user, model)
    if state.persistent and not deleting and changed & locked:
        return [_("Your level may not change these fields: %(fields)s.",
                  fields=", ".join(sorted(changed & locked)))]
    return []
