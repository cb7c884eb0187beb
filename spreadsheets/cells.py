"""Cell values as Thai files write them: Thai digits, "-" for empty, grades, BE/CE dates."""

import re
from datetime import date, datetime
from typing import Any

import clock
from models.people import CDC_GRADES, SCHOOL_GRADES
from rules.identity import THAI_DIGITS

ALL_GRADES = frozenset(SCHOOL_GRADES + CDC_GRADES)
# Control characters (NUL, bell, escape …) and zero-width spaces are invisible in a sheet and
# no database or form takes them back; tab and line breaks stay.
_CLEAN = THAI_DIGITS | dict.fromkeys([*range(9), 11, 12, *range(14, 32), 127, 0x200B])
_UNCLEAN = re.compile(f"[{re.escape(''.join(map(chr, _CLEAN)))}]")
EMPTY = {"", "-", "--", "—", "–", "n/a", "null", "none"}

THAI_MONTHS = {
    "มกราคม": 1, "กุมภาพันธ์": 2, "มีนาคม": 3, "เมษายน": 4, "พฤษภาคม": 5, "มิถุนายน": 6,
    "กรกฎาคม": 7, "สิงหาคม": 8, "กันยายน": 9, "ตุลาคม": 10, "พฤศจิกายน": 11, "ธันวาคม": 12,
    "ม.ค.": 1, "ก.พ.": 2, "มี.ค.": 3, "เม.ย.": 4, "พ.ค.": 5, "มิ.ย.": 6,
    "ก.ค.": 7, "ส.ค.": 8, "ก.ย.": 9, "ต.ค.": 10, "พ.ย.": 11, "ธ.ค.": 12,
}
_MONTH_KEYS = {k.replace(".", "").replace(" ", ""): v for k, v in THAI_MONTHS.items()}

_GRADE_WORDS = (
    (r"(?:อนุบาล|อ\.?|k|kg|อบ\.?)", "K"),
    (r"(?:ประถมศึกษาปีที่|ประถมศึกษา|ประถม|ป\.?|p)", "P"),
    (r"(?:มัธยมศึกษาปีที่|มัธยมศึกษา|มัธยม|ม\.?|m)", "M"),
)
_GRADE_RE = [(re.compile(rf"^{word}\s*([1-6])$", re.IGNORECASE), prefix)
             for word, prefix in _GRADE_WORDS]
_AGE_RE = re.compile(r"^(?:เด็กเล็ก|เด็ก)?\s*(?:อายุ)?\s*([2-5])\s*(?:ขวบ|ปี)?$")


def text(value: Any) -> str:
    """A cell as text with Arabic digits; whole-number floats lose their `.0`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    shown = str(value)
    # Most cells hold nothing to clean; looking is cheaper than translating every character.
    return (shown.translate(_CLEAN) if _UNCLEAN.search(shown) else shown).strip()


def is_empty(value: Any) -> bool:
    """Empty, or one of the placeholders files write for nothing ("-")."""
    return text(value).lower() in EMPTY


def grade_code(value: str) -> str | None:
    """K1-K3, P1-P6, M1-M6 or A2-A5 from any usual spelling (ป.1, ป.๑, ป1, P1, อนุบาล 1 …)."""
    folded = re.sub(r"\s+", " ", text(value)).strip()
    if folded.upper() in ALL_GRADES:
        return folded.upper()
    for pattern, prefix in _GRADE_RE:
        match = pattern.match(folded)
        if match:
            found = f"{prefix}{match.group(1)}"
            return found if found in ALL_GRADES else None
    match = _AGE_RE.match(folded)
    if match and ("ขวบ" in folded or "อายุ" in folded or "เด็ก" in folded):
        return f"A{match.group(1)}"
    return None


def parse_date(value: Any) -> date | None:
    """A date from a date cell or from dd/mm/yyyy, d MMM yyyy (Thai months) or ISO, BE or CE.

    Returns None when the text is not a date in any of those forms; raises ValueError when it
    has the form but is not a day in the calendar.
    """
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        # A date cell typed with a BE year stays BE (2561-02-01): bring it back to CE.
        return value.replace(year=clock.ce_year_of(value.year))
    raw = text(value)
    match = re.fullmatch(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})", raw)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(clock.ce_year_of(year), month, day)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?", raw)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return date(clock.ce_year_of(year), month, day)
    match = re.fullmatch(r"(\d{1,2})\s*([^\d\s]+(?:\s*[^\d\s]+)?)\s*(?:พ\.ศ\.|ค\.ศ\.)?\s*(\d{4})",
                         raw)
    if match:
        month = _MONTH_KEYS.get(match.group(2).replace(".", "").replace(" ", ""))
        if month:
            return date(clock.ce_year_of(int(match.group(3))), month, int(match.group(1)))
    return None
