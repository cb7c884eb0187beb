"""One row of a learner file turned into field values, with every problem in the user's words."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from models.people import (
    GENDER_LABELS,
    GRADE_LABELS,
    GRADES_BY_KIND,
    STATUS_LABELS,
    EnrolmentStatus,
)
from rules.identity import (
    CONTACT_FIELDS,
    TITLE_GENDERS,
    mask_contact,
    mask_ids_in,
    measure_problem,
    national_id_problems,
    normalise_national_id,
    normalise_title,
    title_problems,
)
from spreadsheets import cells, formats
from spreadsheets.columns import ADDRESS_PARTS, BY_KEY, COLUMNS
from spreadsheets.writers import FORMULA_STARTS

REQUIRED = tuple(c.key for c in COLUMNS if c.required)
#: A phone number in international form (+66 81 234 5678): digits only, so no formula can hide
#: in it, and the form takes it as typed.
INTERNATIONAL_PHONE = re.compile(r"\+[\d\s().-]{6,}")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: the line (1 = header; None = the whole file) and why."""

    line: int | None
    column: str
    reason: str
    #: The field the column holds, and the family's contact the reason quotes, if it quotes
    #: one (rules.identity.CONTACT_FIELDS): kept apart, so a page masks it when it shows it.
    key: str = ""
    value: str = ""

    @classmethod
    def of(cls, line: int | None, column: str, key: str, reason: str, value: Any) -> "Problem":
        """A problem with a field's value: a contact the reason quotes is kept beside it."""
        text = str(value or "").strip()
        quoted = text if key in CONTACT_FIELDS and text and text in reason else ""
        return cls(line, column, reason, key, quoted)

    def shown(self, reveal_ids: bool, reveal_contacts: bool) -> "Problem":
        """The problem as a user may read it: above the institution a quoted contact and any
        national ID are masked, as the learner pages mask them; the institution that must
        correct its file reads them whole."""
        reason = self.reason
        if self.value and not reveal_contacts:
            reason = reason.replace(self.value, mask_contact(self.key, self.value))
        if not reveal_ids:
            reason = mask_ids_in(reason)
        return replace(self, reason=reason, value=self.value if reveal_contacts else "")


def _choices(labels: dict[Any, Any], extra: dict[str, str] | None = None) -> dict[str, str]:
    found = {formats.fold(k): str(k) for k in labels}
    for locale in ("th", "en"):
        with force_locale(locale):
            found.update({formats.fold(str(v)): str(k) for k, v in labels.items()})
    found.update({formats.fold(k): v for k, v in (extra or {}).items()})
    return found


def column_titles(layout: formats.Layout | None = None) -> dict[str, str]:
    """Problems name a column as the file does, else by our own header."""
    titles = {c.key: str(c.label) for c in COLUMNS}
    if layout is not None:
        titles.update({k: t for k, t in layout.titles.items() if k in BY_KEY})
    return titles


class RowReader:
    """Turns the cells of one row into field values, or problems in the user's words."""

    def __init__(self, layout: formats.Layout, kind: str) -> None:
        self.layout = layout
        self.kind = kind
        self.titles = column_titles(layout)
        self.genders = _choices(GENDER_LABELS, {"m": "M", "f": "F", "ชาย": "M", "หญิง": "F",
                                                "ช": "M", "ญ": "F", "ช.": "M", "ญ.": "F"})
        self.statuses = _choices(STATUS_LABELS, {"ปกติ": EnrolmentStatus.ACTIVE,
                                                 "กำลังเรียน": EnrolmentStatus.ACTIVE,
                                                 "จำหน่าย": EnrolmentStatus.WITHDRAWN,
                                                 "ย้าย": EnrolmentStatus.TRANSFERRED,
                                                 "จบ": EnrolmentStatus.GRADUATED})
        self.flags = {"1": True, "0": False, "true": True, "false": False,
                      "ใช่": True, "ไม่ใช่": False, "มี": True, "ไม่มี": False}
        for locale in ("th", "en"):
            with force_locale(locale):
                self.flags.update({formats.fold(_("Yes")): True, formats.fold(_("No")): False})

    def read(self, line: int, row: Sequence[Any]) -> tuple[dict[str, Any], list[Problem]]:
        values: dict[str, Any] = {}
        parts: dict[str, Any] = {}
        problems: list[Problem] = []

        def refuse(key: str, reason: str, value: Any = None) -> None:
            problems.append(Problem.of(line, self.titles.get(key, key), key, reason, value))

        for index, key in self.layout.fields.items():
            raw = row[index] if index < len(row) else None
            shown = cells.text(raw)
            if shown.lower() in cells.EMPTY and not isinstance(raw, date):
                continue
            if key not in BY_KEY:
                parts[key] = shown
                continue
            if self._formula(key, raw):
                refuse(key, _("The cell starts with %(char)r, so a spreadsheet could run it as "
                              "a formula. Remove the character, or put an apostrophe (') in "
                              "front of it.", char=raw.lstrip(" ")[0]))
                continue
            try:
                values[key] = self._value(key, raw, _unquote(shown))
            except ValueError as exc:
                refuse(key, str(exc), shown)
        _join_parts(values, parts)
        if not values.get("gender") and values.get("title"):
            values["gender"] = TITLE_GENDERS.get(values["title"])
        if "disadvantaged" in self.layout.fields.values():
            values.setdefault("disadvantaged", False)
        for key in (*REQUIRED, "gender"):
            if not values.get(key) and all(p.column != self.titles[key] for p in problems):
                refuse(key, _("This column must not be empty.") if key != "gender" else _(
                    "Give the learner's gender, or a title that says it (เด็กชาย, เด็กหญิง)."))
        return values, problems

    @staticmethod
    def _formula(key: str, raw: Any) -> bool:
        """Text kept as typed could run as a formula in a later export, and a flag column
        takes any text as a kind of disadvantage, so a formula there would count as one;
        values read as a number, date or choice are not kept as typed, and an international
        phone is digits."""
        if BY_KEY[key].kind not in ("text", "flag") or not isinstance(raw, str):
            return False
        typed = raw.lstrip(" ")
        if key == "guardian_phone" and INTERNATIONAL_PHONE.fullmatch(typed.rstrip()):
            return False
        return typed.startswith(FORMULA_STARTS)

    def _value(self, key: str, raw: Any, text: str) -> Any:
        column = BY_KEY[key]
        if column.kind == "id":
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                text = text.zfill(13)  # typed as a number, Excel dropped the leading zero
            value = normalise_national_id(text)
            for problem in national_id_problems(value):
                raise ValueError(problem)
            return value
        if column.kind == "date":
            try:
                found = cells.parse_date(raw)
            except ValueError:
                raise ValueError(_("%(value)s is not a date in the calendar.",
                                   value=text)) from None
            if found is None:
                raise ValueError(_("Write dates as day/month/year, e.g. 16/05/2568 or "
                                   "16 พฤษภาคม 2568."))
            return found
        if column.kind == "number":
            try:
                number = Decimal(text)
            except InvalidOperation:
                number = Decimal("NaN")
            if not number.is_finite():
                raise ValueError(_("%(value)s is not a number.", value=text))
            if abs(number) >= 1000:  # beyond the column (999.9); the rest is check_learner's
                raise ValueError(measure_problem(key, number))
            return number.quantize(Decimal("0.1"))
        if column.kind == "title":
            title = normalise_title(text)
            for problem in title_problems(title):
                raise ValueError(problem)
            return title
        if column.kind == "gender":
            if formats.fold(text) not in self.genders:
                raise ValueError(_("Gender must be %(male)s or %(female)s.",
                                   male=GENDER_LABELS["M"], female=GENDER_LABELS["F"]))
            return self.genders[formats.fold(text)]
        if column.kind == "grade":
            grades = GRADES_BY_KIND[self.kind]
            grade = cells.grade_code(text)
            if grade not in grades:
                for code in grades:
                    for locale in ("th", "en"):
                        with force_locale(locale):
                            if formats.fold(GRADE_LABELS[code]) == formats.fold(text):
                                return code
                raise ValueError(_("%(grade)s is not a grade of this institution.", grade=text))
            return grade
        if column.kind == "status":
            if formats.fold(text) not in self.statuses:
                raise ValueError(_("%(value)s is not a learner status.", value=text))
            return self.statuses[formats.fold(text)]
        if column.kind == "flag":
            folded = formats.fold(text)
            if folded not in self.flags:
                return True  # DMC names the kind of disadvantage: any kind is one
            return self.flags[folded]
        if len(text) > column.max_length:
            raise ValueError(_("The text is longer than %(max)d characters.",
                               max=column.max_length))
        return text


def _unquote(text: str) -> str:
    """Our own neutralised cells ('=...) lose their apostrophe again."""
    if text.startswith("'") and text[1:2] and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def _join_parts(values: dict[str, Any], parts: dict[str, Any]) -> None:
    """Split addresses and guardian names (LEC, DMC) joined into our one-line fields."""
    if not parts:
        return
    for group in ("registered_address", "current_address"):
        pieces = []
        for part, _names, prefix in ADDRESS_PARTS:
            value = parts.get(f"{group}.{part}")
            if value:
                pieces.append(value if value.startswith(prefix) else prefix + value)
        if pieces and not values.get(group):
            values[group] = " ".join(pieces)[:300]
    names = [parts.get(f"guardian.{p}") for p in ("title", "first", "last")]
    if not values.get("guardian_name") and any(names):
        values["guardian_name"] = " ".join(n for n in names if n)[:200]
    elif values.get("guardian_name") and parts.get("guardian.last"):
        values["guardian_name"] = f"{values['guardian_name']} {parts['guardian.last']}"[:200]
