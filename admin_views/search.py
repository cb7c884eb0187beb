"""Learner search that the indexes answer: an exact ID, or the start of a first or last name.

`ILIKE '%word%'` reads every learner in the country; these conditions read a range of one index
each, whatever the table's statistics say. Thai has no letter case; Latin names match in any case.
"""

import re

from sqlalchemy import (
    ColumnElement,
    Integer,
    Text,
    any_,
    bindparam,
    cast,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from models import Enrolment, Learner, db
from rules.identity import normalise_national_id

#: Up to this many matching learners are looked up first and passed to the list by their keys,
#: so the list's plan is the same whether or not the tables were analysed since the last load,
#: and a common surname (thousands nationally) is a few thousand index probes, not a scan of
#: every enrolment. PostgreSQL takes them as one array; SQLite's IN list has a bound-value limit.
KEYS_FIRST = {"postgresql": 5000, "sqlite": 1000}
WHOLE_ID = re.compile(r"\d{13}|G\d{12}")
LIKE_SPECIALS = re.compile(r"([\\%_])")


def _starts_with(column: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    """`lower(column)` starts with `prefix`, as a range of the lower(...) index."""
    key = func.lower(column)
    if db.session.get_bind().dialect.name == "postgresql":
        # text_pattern_ops turns LIKE 'x%' into an index range under any collation.
        return key.like(LIKE_SPECIALS.sub(r"\\\1", prefix) + "%", escape="\\")
    return (key >= prefix) & (key < prefix + "\U0010ffff")


def learner_condition(term: str) -> ColumnElement[bool]:
    """One search word: a whole national ID or G-code exactly, else a name prefix."""
    identity = normalise_national_id(term)
    if WHOLE_ID.fullmatch(identity):
        return Learner.national_id == identity
    if identity[:1].isdigit() or identity[:1] == "G" and identity[1:].isdigit():
        return false()  # part of an ID: no guessing IDs digit by digit above the institution
    prefix = term.strip().lower()
    return or_(_starts_with(Learner.first_name, prefix), _starts_with(Learner.last_name, prefix))


def enrolment_condition(term: str, wide: bool) -> ColumnElement[bool]:
    """Enrolments of the learners one search word finds. In a `wide` subtree (a province, the
    country) they are looked up by key when they are few; a school's or an LAO's own
    enrolments, found by their index, are fewer than any name's learners, and lead the plan."""
    condition = learner_condition(term)
    by_keys = _by_keys(condition) if wide else None
    if by_keys is not None:
        return by_keys
    return Enrolment.learner_id.in_(select(Learner.id).where(condition))


def _by_keys(condition: ColumnElement[bool]) -> ColumnElement[bool] | None:
    """The enrolments of the learners `condition` finds, by their keys; None above KEYS_FIRST.
    PostgreSQL gathers the keys into one array text itself: no Python object per key."""
    if db.session.get_bind().dialect.name != "postgresql":
        most = KEYS_FIRST["sqlite"]
        keys = db.session.scalars(select(Learner.id).where(condition).limit(most + 1)).all()
        return Enrolment.learner_id.in_(keys) if len(keys) <= most else None
    most = KEYS_FIRST["postgresql"]
    found = select(Learner.id).where(condition).limit(most + 1).subquery()
    count, keys = db.session.execute(select(
        func.count(), cast(func.array_agg(found.c.id), Text))).one()
    if count > most:
        return None
    return Enrolment.learner_id == any_(cast(
        bindparam("learner_keys", keys or "{}", Text, unique=True), ARRAY(Integer)))
