"""The one place that hooks the rules onto SQLAlchemy, so no write path can skip them."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from . import VALIDATORS, RuleViolation, accounts, audit, codes, current_actor  # noqa: F401
from .admission import check_application  # noqa: F401
from .basic_data import check_centre_data  # noqa: F401
from .budget import check_rate  # noqa: F401
from .confirmation import made_by_the_rules  # noqa: F401
from .contacts import check_contacts  # noqa: F401
from .counts import check_count  # noqa: F401
from .enrolment import check_enrolment  # noqa: F401
from .identity import check_learner, check_learner_addresses  # noqa: F401
from .locks import check_locks
from .permissions import check_write, outside_unit
from .windows import check_windows


def check_flush(session: Session, flush_context: Any, instances: Any) -> None:
    """Refuse the whole flush if any new, changed or deleted object breaks a rule."""
    actor = current_actor()
    session.info.pop("lec_waivers", None)  # per-flush cache of rules.codes.waivers
    session.info.pop("lec_pending_active", None)  # per-flush cache of rules.enrolment
    session.info.pop("lec_unknown_subdistricts", None)  # per-flush cache of rules.identity
    problems: list[str] = []
    for obj in list(session.new) + [o for o in session.dirty if session.is_modified(o)]:
        # The validators first: some normalise the object (an account's province and LAO
        # follow its unit), and who may write it is judged on what will be saved.
        refused = [p for validator in VALIDATORS.get(type(obj), [])
                   for p in validator(session, obj)]
        write = check_write(session, actor, obj)
        # A record refused for lacking its unit (an LAO account without its LAO) lies outside
        # every unit: the rule's words say what to fix, "outside your unit" only misled.
        if refused and write == [outside_unit()]:
            write = []
        problems += refused + write
    for obj in session.deleted:
        problems += check_write(session, actor, obj, deleting=True)
    if problems:
        raise RuleViolation(list(dict.fromkeys(problems)))


#: Every before-flush listener of the rules, in the order they run: a closed round is reported
#: before a lock, a lock before an account's deletion, that before the per-object rules.
BEFORE_FLUSH = (check_windows, check_locks, accounts.keep_accounts, check_flush)
#: The rules on ORM statements that write without a flush (bulk UPDATE and DELETE).
ON_EXECUTE = (accounts.keep_accounts_in_bulk,)


def install() -> None:
    """Attach the rules to every ORM session (web, CLI, seeds, tests), then the audit log."""
    for name, listeners in (("before_flush", BEFORE_FLUSH), ("do_orm_execute", ON_EXECUTE)):
        for listener in listeners:
            if not event.contains(Session, name, listener):
                event.listen(Session, name, listener)
    audit.install()
