"""One calendar for every date a user types or reads: Buddhist Era, day first (dd/mm/BBBB).

The field reads what people actually type: `16/5/2569`, Thai digits `๑๖/๕/๒๕๖๙`, a Thai month
name or abbreviation `16 พฤษภาคม 2569` / `16 พ.ค. 69`, and the ISO date a browser or an old form
posts (`2026-05-16`, Gregorian by definition, but `2569-05-16` is a Buddhist-Era year typed in
that order: no one here means the year 2569 of the Common Era). It always shows the date back as
dd/mm/BBBB.
Whole numbers typed or read from a file go through `whole_number`, in Arabic or Thai digits.
"""

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, StringField
from wtforms.widgets import TextInput

from clock import BE_YEARS, be_year, ce_year, ce_year_of
from rules.identity import THAI_DIGITS

MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
          "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
SHORT_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.",
                "ต.ค.", "พ.ย.", "ธ.ค.")
#: Month names and abbreviations without dots or spaces, to their number.
MONTH_NUMBERS = {name.replace(".", ""): n for names in (MONTHS, SHORT_MONTHS)
                 for n, name in enumerate(names, start=1)}
ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
NUMERIC = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})$")
WORDS = re.compile(r"^(\d{1,2})\s*([^\d\s]+?)\s*(\d{2}|\d{4})$")
#: Arabic digits only (Thai ones are turned into them first), no longer than a 64-bit integer:
#: anything longer is no count or id, and int() would refuse a long enough one.
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


def whole_number(text: str | None) -> int | None:
    """The whole number typed in Arabic or Thai digits, None for anything else: str.isdigit()
    also passes "²" (which int() then refuses) and other scripts' digits nobody here types."""
    digits = (text or "").translate(THAI_DIGITS).strip()
    return int(digits) if WHOLE_NUMBER.fullmatch(digits) else None


class DateProblem(ValueError):
    """Why a typed date cannot be read, as a message for the user."""


def _year(text: str) -> int:
    """A typed year in the Buddhist Era: 2569, or 69 for 2569."""
    year = int(text)
    if len(text) == 2:
        return 2500 + year
    if year < BE_YEARS.start:
        raise DateProblem(_l("Write the year in the Buddhist Era (พ.ศ.), for example 2569."))
    return year


def parse_be_date(text: str) -> date | None:
    """The date typed in `text`, or None if empty; DateProblem says why it cannot be read."""
    text = " ".join((text or "").translate(THAI_DIGITS).split())
    if not text:
        return None
    if match := ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
        year = ce_year_of(year)
    elif match := NUMERIC.match(text):
        day, month, year = int(match[1]), int(match[2]), ce_year(_year(match[3]))
    elif match := WORDS.match(text.replace(".", "").replace(" ", "")) or WORDS.match(text):
        month = MONTH_NUMBERS.get(match[2].replace(".", "").replace(" ", ""), 0)
        if not month:
            raise DateProblem(_l("Unknown month name. Write the date as day/month/year, for "
                                 "example 16/05/2569."))
        day, year = int(match[1]), ce_year(_year(match[3]))
    else:
        raise DateProblem(_l("Write the date as day/month/year in the Buddhist Era, for example "
                             "16/05/2569."))
    try:
        return date(year, month, day)
    except ValueError:
        raise DateProblem(_l("There is no such day in the calendar. Check the day and the "
                             "month.")) from None


def format_be_date(value: date | None) -> str:
    """A date as it is typed: dd/mm/BBBB."""
    return f"{value.day:02d}/{value.month:02d}/{be_year(value.year)}" if value else ""


class BEDateField(StringField):
    """A date typed and shown as dd/mm/BBBB (plain text: no English picker, works on phones)."""

    widget = TextInput()

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        render_kw = {"placeholder": "วว/ดด/ปปปป",
                     "autocomplete": "off", **(kwargs.pop("render_kw", None) or {})}
        kwargs.setdefault("description", _l("Day/month/year in the Buddhist Era, for example "
                                            "16/05/2569."))
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        # Flask-Admin's inline edit knows fields by class name: edit this one as text, which
        # the parser reads back (it also reads the list's "16 พ.ค. 2569").
        self.type = "StringField"

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return format_be_date(self.data)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        try:
            self.data = parse_be_date(str(valuelist[0]))
        except DateProblem as problem:
            self.data = None
            raise ValueError(str(problem.args[0])) from None


class BahtField(DecimalField):
    """Money typed and shown in baht (36 or 7.37) for a column held in satang, so nobody types
    3600 for 36 baht and sums stay exact integers."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("places", 2)
        kwargs.setdefault("description", _l("In baht, with satang after the point: for example "
                                            "36 or 7.37."))
        super().__init__(label, validators, **kwargs)

    def process_data(self, value: Any) -> None:
        self.data = None if value is None else Decimal(value) / 100

    def process_formdata(self, valuelist: list[Any]) -> None:
        # People copy amounts from budget sheets with thousands separators: 1,234.50.
        super().process_formdata([str(v).replace(",", "").strip() for v in valuelist])

    def populate_obj(self, obj: Any, name: str) -> None:
        satang = None if self.data is None else int(
            (self.data * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        setattr(obj, name, satang)
