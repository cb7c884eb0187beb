"""Each level works only inside its own subtree (SPEC §1): `subtree()` is the SQL filter every
admin query gets and `covers()` the same test on one unit; `unit_of()` is where a user works,
and `meets()` whether a unit is inside that subtree or on the way down to it.
How each model hangs in the tree is rules/tree.py; the questions "may this user …" are answered
from these in rules/permissions.py.
"""

from dataclasses import astuple
from typing import Any

from sqlalchemy import ColumnElement, and_, true

from models import Enrolment, Level

from .tree import PATHS, Unit, holds_learner

__all__ = ["PATHS", "Unit", "covers", "holding_enrolments", "meets", "spans_many_laos",
           "subtree", "unit_of", "whole_country"]


def whole_country(user: Any) -> bool:
    """Whether `user`'s subtree is the whole country: the department's, and trusted code's."""
    return user is None or user.level == Level.DEPARTMENT


def spans_many_laos(user: Any) -> bool:
    """Whether `user`'s subtree holds many LAOs (a province, the country): lists of tens of
    thousands of rows, which a search must narrow by its own index, not by the subtree's."""
    return whole_country(user) or user.level == Level.PROVINCE


def unit_of(user: Any) -> Unit:
    """The unit `user` works for; the department's hangs under no province."""
    if whole_country(user):
        return Unit()
    return Unit(user.province_code, user.lao_id, user.institution_id)


def subtree(model: type, user: Any) -> ColumnElement[bool]:
    """The SQL condition that keeps `model`'s rows inside `user`'s subtree."""
    if whole_country(user):
        return true()
    path = PATHS[model]
    if user.level == Level.PROVINCE:
        return path.province(user.province_code)
    if user.level == Level.LAO:
        return path.lao(user.lao_id)
    return path.institution(user.institution_id)


def holding_enrolments(user: Any) -> ColumnElement[bool] | None:
    """The enrolments holding the learners `subtree(Learner, user)` keeps: the learner's path
    (rules/tree.py) asks for just that one enrolment, so there is one per learner and counting
    them counts the learners, and can stop early. None for the whole country, whose learners
    need no enrolment."""
    if whole_country(user):
        return None
    return and_(subtree(Enrolment, user), holds_learner())


def covers(user: Any, unit: Unit) -> bool:
    """Whether `unit` lies inside `user`'s subtree."""
    if whole_country(user):
        return True
    if user.level == Level.PROVINCE:
        return unit.province_code is not None and unit.province_code == user.province_code
    if user.level == Level.LAO:
        return unit.lao_id is not None and unit.lao_id == user.lao_id
    return unit.institution_id is not None and unit.institution_id == user.institution_id


def meets(user: Any, unit: Unit) -> bool:
    """Whether `unit`'s subtree and `user`'s overlap: `unit` lies inside the user's, or above
    the user's own unit (an LAO's province, an institution's LAO), so what hangs under it holds
    some of what `covers` lets the user see."""
    own = unit_of(user)
    return covers(user, unit) or all(
        theirs is None or theirs == mine for theirs, mine in zip(astuple(unit), astuple(own),
                                                                 strict=True))
