"""The business rules of SPEC §2–§5, enforced on every write whatever path it takes.

Each family lives in its own module as functions that return what is wrong in the user's words;
`rules.hooks` runs them on every flush. A few first normalise the object they check (an ID's
dashes, a default status, the time a status changed) and say so in their docstring; the rest
only read. Views never re-implement a rule: they catch
`RuleViolation` and show its message.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.orm import Session


class RuleViolation(Exception):
    """A write refused by a rule; the messages are for the user, in their language."""

    def __init__(self, messages: list[str] | str) -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__(" ".join(str(m) for m in self.messages))


Validator = Callable[[Session, Any], list[str]]
VALIDATORS: dict[type, list[Validator]] = {}


def validates(*models: type) -> Callable[[Validator], Validator]:
    """Register a function that lists what is wrong with a new or changed object."""

    def register(fn: Validator) -> Validator:
        for model in models:
            VALIDATORS.setdefault(model, []).append(fn)
        return fn

    return register


_actor: ContextVar[Any] = ContextVar("lec_actor", default=None)
_actor_provider: list[Callable[[], Any]] = [lambda: None]


def set_actor_provider(provider: Callable[[], Any]) -> None:
    """Tell the rules how to find the signed-in user (the web app sets this)."""
    _actor_provider[0] = provider


def current_actor() -> Any:
    """The user a write is made for, or None for trusted code (CLI, seeds)."""
    return _actor.get() or _actor_provider[0]()


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    """Run writes on behalf of `user` outside a request, e.g. in tests and imports."""
    token = _actor.set(user)
    try:
        yield
    finally:
        _actor.reset(token)
