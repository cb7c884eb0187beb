"""The learner export as one SELECT whose cells are final text: masked, formula-safe, in Thai.

Every field we keep, in `spreadsheets.columns` order (the legacy LEC report's), after the
institution it belongs to, so the file re-imports as it is. The database formats the cells
(labels, BE dates, masked IDs and contacts, a leading apostrophe before formula characters), so
a million rows stream out of PostgreSQL's COPY, or out of a plain cursor on SQLite, with no
Python per cell.
"""

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, and_, case, cast, func, literal, or_
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

import clock
from models import Enrolment, Institution, Learner
from models.people import GENDER_LABELS, GRADE_LABELS, STATUS_LABELS
from rules.identity import CONTACT_FIELDS, CUT, PHONE_MASK, PHONES
from rules.tree import holds_learner
from spreadsheets.columns import COLUMNS, WHO_WAS_THERE
from spreadsheets.writers import FORMULA_STARTS

INSTITUTION_HEADERS = ((_l("Institution code"), "code"), (_l("Institution"), "name"))
YEAR_HEADER = _l("Academic year")


def _safe(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (as writers.cell)."""
    return case((func.substr(value, 1, 1).in_(FORMULA_STARTS), literal("'") + value),
                else_=value)


def _labels(column: ColumnElement[Any], labels: dict[Any, Any]) -> ColumnElement[Any]:
    return case({str(key): str(label) for key, label in labels.items()}, value=column,
                else_=column)


def _be_date(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """dd/mm/yyyy in the Buddhist Era, as the legacy report writes dates."""
    if dialect == "postgresql":
        day_month = func.to_char(column, "DD/MM/")
        year = cast(func.extract("year", column), Integer)
    else:
        day_month = func.strftime("%d/%m/", column)
        year = cast(func.strftime("%Y", column), Integer)
    return day_month + cast(year + clock.BE_OFFSET, String)


def _masked(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """x-xxxx-xxxxx-12-3 as rules.identity.mask_national_id, in SQL."""
    return case((func.length(column) == 13,
                 literal("x-xxxx-xxxxx-") + func.substr(column, 11, 2) + "-"
                 + func.substr(column, 13, 1)),
                else_=func.substr(literal("x" * 13), 1, func.length(column)))


def _masked_contact(key: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A guardian's name or phone, or an address line, as rules.identity.mask_contact, in SQL."""
    text = func.trim(column)
    masked = (literal(PHONE_MASK).concat(func.substr(text, func.length(text) - 1, 2))
              if key in PHONES else func.substr(text, 1, 1).concat(CUT))
    return case((func.length(text) > 0, masked), else_=column)


def headers() -> list[str]:
    """The header row in the user's language."""
    return ([str(label) for label, _key in INSTITUTION_HEADERS] + [str(YEAR_HEADER)]
            + [str(column.label) for column in COLUMNS])


def select_cells(query: Any, reveal_ids: bool, dialect: str, whole_country: bool,
                 reveal_contacts: bool) -> Any:
    """The list's query (scope, search, filters, order) turned into rows of final text cells;
    IDs and the family's contacts (rules.identity.CONTACT_FIELDS) masked unless revealed.

    A school the learner left keeps who was there (ID, name, gender, birth date) but not the
    learner's guardian, phone, addresses or health: those come from an outer join that finds
    the learner only on the enrolment holding them (rules.tree), except for the department.
    """
    learner, institution = aliased(Learner), aliased(Institution)
    personal = learner if whole_country else aliased(Learner)
    yes, no = _("Yes"), _("No")
    cells: list[ColumnElement[Any]] = [institution.code, _safe(institution.name),
                                       cast(Enrolment.academic_year, String)]
    for column in COLUMNS:
        owner = learner if column.key in WHO_WAS_THERE else personal
        source = getattr(Enrolment if column.on_enrolment else owner, column.key)
        if column.kind == "id":
            cells.append(source if reveal_ids else _masked(source))
        elif column.key in CONTACT_FIELDS and not reveal_contacts:
            cells.append(_safe(_masked_contact(column.key, source)))
        elif column.kind == "date":
            cells.append(_be_date(source, dialect))
        elif column.kind == "number":
            cells.append(cast(source, String))
        elif column.kind == "gender":
            cells.append(_labels(source, GENDER_LABELS))
        elif column.kind == "grade":
            cells.append(_labels(source, GRADE_LABELS))
        elif column.kind == "status":
            cells.append(_labels(source, STATUS_LABELS))
        elif column.kind == "flag":
            cells.append(case((or_(source.is_(None), ~source), literal(no)), else_=literal(yes)))
        else:
            cells.append(_safe(source))
    query = (query.enable_eagerloads(False)
             .join(learner, learner.id == Enrolment.learner_id)
             .join(institution, institution.id == Enrolment.institution_id))
    if personal is not learner:
        query = query.outerjoin(personal, and_(personal.id == Enrolment.learner_id,
                                               holds_learner()))
    return query.with_entities(*[cell.label(f"c{n}") for n, cell in enumerate(cells)]).statement
