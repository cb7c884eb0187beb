"""The one clock and calendar of LEC: now and today in Bangkok, Buddhist-Era years, the school year.

Every rule, page and job asks this module, so a UTC server never reads yesterday's date and tests
freeze time by replacing `now`.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")
#: A BE year is the Gregorian year plus this.
BE_OFFSET = 543
#: The Buddhist Era years LEC accepts; a number below is a Gregorian year typed by mistake.
BE_YEARS = range(2400, 2700)
#: The first term of a Thai school year starts on 16 May; the academic year is named by that year.
SCHOOL_YEAR_START = (5, 16)


def now() -> datetime:
    """The current moment, in UTC (timestamps are stored in UTC)."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored moment as aware UTC: SQLite hands timestamps back without their offset."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def today() -> date:
    """Today's date in Bangkok, the calendar every deadline and age is written in."""
    return now().astimezone(BANGKOK).date()


def be_year(year: int) -> int:
    """A Gregorian year in the Buddhist Era, as Thai offices write it."""
    return year + BE_OFFSET


def be_stamp(day: date | None = None) -> str:
    """`day` (today in Bangkok by default) as 25690515, the BE date a downloaded file's name
    carries so that files of different days sort and do not overwrite each other."""
    day = day or today()
    return f"{be_year(day.year)}{day:%m%d}"


def ce_year(year_be: int) -> int:
    """A Buddhist-Era year as a Gregorian one, for building dates."""
    return year_be - BE_OFFSET


def ce_year_of(year: int) -> int:
    """A four-digit year as typed or stored, as a Gregorian one: from the first of BE_YEARS
    on it is a Buddhist-Era year (2569-05-16 means 2026), below it a Gregorian one."""
    return ce_year(year) if year >= BE_YEARS.start else year


def term_start(academic_year: int) -> date:
    """The first day of academic year `academic_year` (BE)."""
    month, day = SCHOOL_YEAR_START
    return date(ce_year(academic_year), month, day)


def academic_year(on: date | None = None) -> int:
    """The academic year (BE) running on `on` (today in Bangkok by default)."""
    on = on or today()
    return be_year(on.year) - (1 if (on.month, on.day) < SCHOOL_YEAR_START else 0)
