"""Institution basic data (SPEC §4): a centre's staff and rooms, every institution's buildings."""

from flask_babel import gettext as _
from sqlalchemy.orm import Session

import clock
from models import Building, CentreBasicData, Institution, InstitutionKind

from . import validates

#: The counts of a centre's basic data; each is a whole number, 0 or more.
CENTRE_COUNTS = ("teachers", "assistant_teachers", "caretakers", "other_staff", "classrooms",
                 "capacity")


def _institution(session: Session, row: CentreBasicData | Building) -> Institution | None:
    with session.no_autoflush:
        return row.institution or session.get(Institution, row.institution_id)


@validates(CentreBasicData)
def check_centre_data(session: Session, data: CentreBasicData) -> list[str]:
    """Basic data of this form is kept for child development centres only, whoever writes it,
    and its staff, rooms and capacity are whole numbers from zero."""
    problems = []
    institution = _institution(session, data)
    if institution is not None and institution.kind != InstitutionKind.CDC:
        problems.append(_("%(name)s is not a child development centre: centre basic data is "
                          "kept for child development centres only.", name=institution.name))
    if any(getattr(data, key) is not None and getattr(data, key) < 0 for key in CENTRE_COUNTS):
        problems.append(_("Staff, classrooms and capacity are whole numbers, 0 or more."))
    return problems


@validates(Building)
def check_building(session: Session, building: Building) -> list[str]:
    """The year built is a Buddhist Era year not after this one; rooms are 0 or more."""
    problems = []
    year = building.built_year
    if year is not None and (year not in clock.BE_YEARS
                             or year > clock.be_year(clock.today().year)):
        problems.append(_("The year built is a Buddhist Era year such as 2540, not after this "
                          "year (%(year)d).", year=clock.be_year(clock.today().year)))
    if building.rooms is not None and building.rooms < 0:
        problems.append(_("The number of rooms is a whole number, 0 or more."))
    return problems
