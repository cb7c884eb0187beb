"""Learner search that the indexes answer: an exact ID, or the start of a first or last name.

`ILIKE '%word%'` reads every learner in the country; these conditions read a range of one index
each, whatever the table's statistics say. Thai has no letter case; Latin names match in any case.
"""

import re

from flask import g, has_request_context
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    any_,
    bindparam,
    cast,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Query

from models import Enrolment, Learner, db
from rules.identity import normalise_national_id

#: Up to this many matching learners are looked up first and passed to the list by their keys,
#: so the list's plan is the same whether or not the tables were analysed since the last load,
#: and a common surname (thousands nationally) is a few thousand index probes, not a scan of
#: every enrolment. PostgreSQL takes them as one array; SQLite's IN list has a bound-value limit.
KEYS_FIRST = {"postgresql": 5000, "sqlite": 1000}
#: Put first in the list's sort when the rows wanted are a small part of the country: the
#: learners a search found by their keys, or a province's or an LAO's own. The same for every
#: row, it keeps PostgreSQL from walking the national order index in the hope of meeting them
#: early. It read most of the country when they sat at its end: 160 ms, not 39 ms, for a search;
#: 1.3 s, not 18 ms, for a province's young children, whose centres follow every school; 34 ms,
#: not 13, for the students of the largest province. The subtree's rows are fetched by their
#: index and sorted: bounded by the subtree, not the country.
SORT_BY_SUBSET = Enrolment.id * 0
#: The same for the learners' own list, when the reader sorts it by a column (learners.py).
LEARNERS_BY_SUBSET = Learner.id * 0
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


def counted_from_learners(search: str, enrolments: Query, most: int) -> Select | None:
    """The statement counting up to `most` of `enrolments` whose learners `search` finds,
    led by those learners, when its words found too many to pass by key; else None.

    Led by the enrolments, PostgreSQL read the country's in the hope of meeting the learners
    soon and looked each one's learner up (224,000 look-ups to count 10,000 for 'สม': 770 ms
    under load). From the learners the name indexes find, each one's enrolments are read by
    their index until `most` are met (150 ms), whatever the statistics say: a LATERAL subquery
    with OFFSET 0 can only be a loop over the learners. The subtree and filters stay in
    `enrolments`, so nothing outside them is counted."""
    words = search.split()
    if not words or found_by_keys() or db.session.get_bind().dialect.name != "postgresql":
        return None
    found = select(Learner.id).where(*map(learner_condition, words)).subquery("found")
    theirs = (enrolments.enable_eagerloads(False).with_entities(Enrolment.id)
              .filter(Enrolment.learner_id == found.c.id).order_by(None).offset(0)
              .subquery("theirs").lateral())
    counted = select(theirs.c.id).select_from(found).join(theirs, true()).limit(most)
    return select(func.count()).select_from(counted.subquery())


def found_by_keys() -> bool:
    """Whether this request's search found its learners by their keys (see `_by_keys`)."""
    return has_request_context() and g.get("lec_found_by_keys", False)


def _by_keys(condition: ColumnElement[bool]) -> ColumnElement[bool] | None:
    """The enrolments of the learners `condition` finds, by their keys; None above KEYS_FIRST.
    PostgreSQL gathers the keys into one text itself: no Python object per key."""
    if db.session.get_bind().dialect.name != "postgresql":
        most = KEYS_FIRST["sqlite"]
        keys = db.session.scalars(select(Learner.id).where(condition).limit(most + 1)).all()
        return _found(Enrolment.learner_id.in_(keys)) if len(keys) <= most else None
    most = KEYS_FIRST["postgresql"]
    found = select(Learner.id).where(condition).limit(most + 1).subquery()
    count, keys = db.session.execute(select(
        func.count(), func.array_to_string(func.array_agg(found.c.id), ","))).one()
    if count > most:
        return None
    # string_to_array is immutable, so the planner makes the keys one constant array, which
    # the executor hashes; a text cast to INTEGER[] is not, and was parsed again and searched
    # key by key for every enrolment of the scope (0.7 s for a small province).
    keys = func.string_to_array(bindparam("learner_keys", keys or "", Text, unique=True), ",")
    return _found(Enrolment.learner_id == any_(cast(keys, ARRAY(Integer))))


def _found(by_keys: ColumnElement[bool]) -> ColumnElement[bool]:
    """`by_keys`, noted for the list's sort (`found_by_keys`)."""
    if has_request_context():
        g.lec_found_by_keys = True
    return by_keys
