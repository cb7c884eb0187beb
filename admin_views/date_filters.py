"""List filters on dates and times that read what the Thai picker writes (16/05/2569, a range
joined by "ถึง"), and still the ISO dates joined by " to " of links made before. Times typed
are Bangkok's; stored times are UTC. An academic year typed in the Common Era is said so."""

import re
from datetime import UTC, datetime
from typing import Any

from flask_admin.contrib.sqla import filters
from flask_babel import gettext as _

import clock

_BE_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")


def _iso(match: re.Match[str]) -> str:
    day, month, year = (int(part) for part in match.groups())
    if year in clock.BE_YEARS:
        year = clock.ce_year(year)
    return f"{year:04d}-{month:02d}-{day:02d}"


def iso(value: str) -> str:
    """A filter value as Flask-Admin's date filters read it: ISO dates, a range joined by " to "."""
    return _BE_DATE.sub(_iso, value.replace(" ถึง ", " to "))


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def with_times(value: str) -> str:
    """An ISO date-time filter value in which a date typed without a time means that whole
    day: a single date or a range's start from 00:00:00, a range's end to 23:59:59."""
    parts = [part.strip() for part in value.split(" to ")]
    if len(parts) > 2:
        return value
    ends = (" 00:00:00", " 23:59:59")
    return " to ".join(part + end if _ISO_DATE.fullmatch(part) else part
                       for part, end in zip(parts, ends, strict=False))


class _ReadsBE:
    """A date filter that first turns the BE dates of its value into ISO ones."""

    def read(self, value: str) -> str:
        return iso(value)

    def validate(self, value: str) -> bool:
        return super().validate(self.read(value))  # type: ignore[misc]

    def clean(self, value: str) -> Any:
        return super().clean(self.read(value))  # type: ignore[misc]


class _ReadsBangkokTimes(_ReadsBE):
    """A date-time filter: what "today 00:00 to 23:59" means in Bangkok, which UTC's day is
    not from midnight to seven in the morning; a date typed alone is that whole day."""

    def read(self, value: str) -> str:
        # "Equals" a date alone would silently match only its midnight: left to be refused.
        if isinstance(self, filters.FilterEqual | filters.FilterNotEqual):
            return iso(value)
        return with_times(iso(value))

    def clean(self, value: str) -> Any:
        cleaned = super().clean(value)
        return [_utc(v) for v in cleaned] if isinstance(cleaned, list) else _utc(cleaned)


def _utc(typed: datetime) -> datetime:
    """A time typed in Bangkok as the UTC moment it names. Before seven on 1 January of the
    year 1 names none: refused as any unreadable value is, not an error page."""
    try:
        return typed.replace(tzinfo=clock.BANGKOK).astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(typed) from exc


def _reads_be(kind: type, reader: type = _ReadsBE) -> type:
    if kind is filters.FilterEmpty:
        return kind
    return type(kind.__name__, (reader, kind), {})


class FilterConverter(filters.FilterConverter):
    """Flask-Admin's filters, with date and date-time ones that read BE dates."""

    date_filters = tuple(map(_reads_be, filters.FilterConverter.date_filters))
    datetime_filters = tuple(_reads_be(kind, _ReadsBangkokTimes)
                             for kind in filters.FilterConverter.datetime_filters)


def be_year_problem(flt: Any, value: str) -> str | None:
    """Why a filter on an academic year cannot take `value`: 2026 typed for 2569 matched
    nothing, and the list said only that it was empty."""
    if getattr(getattr(flt, "column", None), "key", None) != "academic_year":
        return None
    cleaned = flt.clean(value)
    typed = next((y for y in (cleaned if isinstance(cleaned, list) else [cleaned])
                  if isinstance(y, int) and y not in clock.BE_YEARS), None)
    if typed is None:
        return None
    if typed + clock.BE_OFFSET in clock.BE_YEARS:
        return _("The academic year is a Buddhist Era year: %(typed)d is %(year)d. The list "
                 "is not filtered by it.", typed=typed, year=typed + clock.BE_OFFSET)
    return _("The academic year is a Buddhist Era year such as %(year)d. The list is not "
             "filtered by %(typed)d.", year=clock.academic_year(), typed=typed)
