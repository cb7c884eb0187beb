"""Learner identity (SPEC §2): the national ID or G-code, and who may change a learner."""

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from operator import mul
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

import clock
from models import Enrolment, Learner, Province, Subdistrict
from models.people import TITLES, Gender

from . import current_actor, validates
from .contacts import phone_problem
from .scope import Unit, covers
from .tree import holding_rank

#: Thai digits to Arabic ones: IDs, phone numbers and dates are often typed with a Thai keyboard.
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
GENDERS = tuple(Gender)
NATIONAL_ID = re.compile(r"[0-9]{13}")
G_CODE = re.compile(r"[Gg][0-9]{12}")
ID_SEPARATORS = re.compile(r"[\s-]")


def check_digit(first12: str) -> int:
    """The 13th digit of a national ID: (11 - sum(d[i] * (13 - i)) mod 11) mod 10."""
    total = sum(map(mul, map(int, first12), range(13, 1, -1)))
    return (11 - total % 11) % 10


def national_id_problems(value: str | None) -> list[str]:
    """What is wrong with a national ID or G-code, naming the rule it breaks."""
    value = (value or "").strip()
    if value[:1] in ("G", "g"):
        if not G_CODE.fullmatch(value):
            return [_("A G-code is the letter G followed by exactly 12 digits "
                      "(year 2, province 2, sequence 8).")]
        return []
    if not NATIONAL_ID.fullmatch(value):
        return [_("The national ID must be exactly 13 digits, or a G-code (G and 12 digits).")]
    if int(value[12]) != check_digit(value[:12]):
        # Naming the digit that would pass invites "fixing" the last digit of a number whose
        # mistake is elsewhere: a valid but wrong ID. The number is read again instead.
        return [_("The national ID %(value)s is not a valid national ID number (it fails the "
                  "checksum). Read the whole number again from the ID card or the house "
                  "registration and type it again.", value=value)]
    return []


def normalise_national_id(value: str | None) -> str:
    """IDs are typed with dashes and spaces, and in Thai digits; store 13 characters, Arabic
    digits, G upper-case, so one child never gets a second record under the same number."""
    cleaned = ID_SEPARATORS.sub("", value or "").translate(THAI_DIGITS)
    return cleaned[:1].upper() + cleaned[1:]


def mask_national_id(value: str | None, reveal: bool = False) -> str:
    """How a national ID shows in lists: whole for its own institution, masked above it."""
    if not value:
        return ""
    if reveal:
        return value
    if len(value) != 13:
        return "x" * len(value)
    # x-xxxx-xxxxx-12-3: the last three digits are enough to tell siblings apart.
    return f"x-xxxx-xxxxx-{value[10:12]}-{value[12]}"


#: How a learner's family is reached: the guardian's name and phone and the two address lines
#: (the subdistricts stay whole: they say where, not who).
CONTACT_FIELDS = ("guardian_name", "guardian_phone", "registered_address", "current_address")
#: The same, as a parent gives them on an online application: the institution deciding it
#: calls the family back; the LAO and above only oversee.
APPLICATION_CONTACTS = ("contact_name", "contact_phone", "contact_email")
#: The contact fields that hold a phone number, masked to their last two characters.
PHONES = frozenset({"guardian_phone", "contact_phone"})
PHONE_MASK = "xxx-xxx-xx"
CUT = "…"


def mask_contact(key: str, value: str | None, reveal: bool = False) -> str:
    """A contact field as it shows above the institution: a phone keeps its last two characters
    (xxx-xxx-xx78), a name or an address its first letter (ส…); enough to tell one was recorded
    and to match a paper record, not to reach the family."""
    text = (value or "").strip()
    if reveal or not text:
        return value or ""
    return PHONE_MASK + text[-2:] if key in PHONES else text[0] + CUT


#: A national ID or G-code inside free text (an address searched by ID, a form's value), as
#: typed: 13 characters, with or without the dashes, spaces or "+" of a query string between.
ID_IN_TEXT = re.compile(r"(?<!\d)(?:[Gg]\d(?:[-\s+]?\d){11}|\d(?:[-\s+]?\d){12})(?!\d)")


def mask_ids_in(text: str) -> str:
    """`text` with every national ID or G-code in it masked, as lists above the institution
    show them: what is kept for others to read (the audit log) never holds a whole ID."""
    return ID_IN_TEXT.sub(
        lambda found: mask_national_id(normalise_national_id(found.group().replace("+", ""))),
        text)


def g_code_province_problems(session: Session, value: str | None) -> list[str]:
    """A G-code's digits 3-4 are the code of a province that exists."""
    if not (value or "").upper().startswith("G") or national_id_problems(value):
        return []
    with session.no_autoflush:
        if session.get(Province, value[3:5]) is None:
            return [_("Digits 3-4 of the G-code (%(digits)s) must be the code of a province.",
                      digits=value[3:5])]
    return []


#: The oldest a learner may be, in years. Schools teach K1-M6 (about 3 to 18) and centres take
#: children aged 2 to 5 (SPEC §3); a learner held back many years or returning to school is still
#: far younger than 30, so a birth date before that is a mistyped year (2400 for 2540, a CE year
#: read as BE), not a learner.
OLDEST_LEARNER_YEARS = 30


def earliest_birth_date() -> date:
    """The first day of the year OLDEST_LEARNER_YEARS before this one (Bangkok's today)."""
    return date(clock.today().year - OLDEST_LEARNER_YEARS, 1, 1)


def _be_date(value: date) -> str:
    return f"{value:%d/%m}/{clock.be_year(value.year)}"


def birth_date_problems(birth_date: date | None) -> list[str]:
    """No one is born after today, nor long before any learner could be: either is a
    mistyped year, not a learner (OLDEST_LEARNER_YEARS says how long before)."""
    if birth_date is None:
        return []
    if birth_date > clock.today():
        return [_("The birth date %(date)s is in the future. Check the year: it is a Buddhist "
                  "Era year such as 2562.", date=_be_date(birth_date))]
    earliest = earliest_birth_date()
    if birth_date < earliest:
        return [_("The birth date %(date)s is before %(earliest)s: no learner of a school or "
                  "child development centre is that old. Check the year: it is a Buddhist Era "
                  "year such as 2562.", date=_be_date(birth_date), earliest=_be_date(earliest))]
    return []


#: How files and registers write the titles LEC keeps (folded: no spaces, lower case).
TITLE_SPELLINGS = {
    "เด็กชาย": "เด็กชาย", "ด.ช.": "เด็กชาย", "ดช.": "เด็กชาย", "ด.ช": "เด็กชาย", "ดช": "เด็กชาย",
    "master": "เด็กชาย",
    "เด็กหญิง": "เด็กหญิง", "ด.ญ.": "เด็กหญิง", "ดญ.": "เด็กหญิง", "ด.ญ": "เด็กหญิง",
    "ดญ": "เด็กหญิง",
    "นาย": "นาย", "mr.": "นาย", "mr": "นาย",
    "นางสาว": "นางสาว", "น.ส.": "นางสาว", "นส.": "นางสาว", "น.ส": "นางสาว", "นส": "นางสาว",
    "miss": "นางสาว", "ms.": "นางสาว", "ms": "นางสาว",
}
#: The gender each kept title says.
TITLE_GENDERS = {"เด็กชาย": Gender.MALE, "นาย": Gender.MALE,
                 "เด็กหญิง": Gender.FEMALE, "นางสาว": Gender.FEMALE}


def normalise_title(value: str | None) -> str | None:
    """Files write ด.ช., น.ส. and the like; the learner form offers only the full titles,
    so a title stored any other way would be blanked by the next save of the form."""
    text = (value or "").strip()
    if not text:
        return None
    return TITLE_SPELLINGS.get(re.sub(r"\s+", "", text).lower(), text)


def title_problems(title: str | None) -> list[str]:
    """A title is one the learner form can show again, or none."""
    if title and title not in TITLES:
        return [_("The title %(title)s is not one LEC keeps: write เด็กชาย, เด็กหญิง, นาย or "
                  "นางสาว (ด.ช., ด.ญ. and น.ส. are read too), or leave the title empty.",
                  title=title)]
    return []


def title_gender_warning(title: str | None, gender: str | None) -> str | None:
    """A title that says the other gender is worth a look, not a refusal: either may be the
    one typed wrong, and the person who knows the child decides."""
    said = TITLE_GENDERS.get(title or "")
    if said is None or gender not in GENDERS or said == gender:
        return None
    return _("The title %(title)s does not match the gender given; check which one is right.",
             title=title)


#: What a name holds besides letters and their marks (of any script): the space between words
#: and the dot, hyphen and apostrophe of names such as ณ อยุธยา, Jean-Luc or O'Brien.
NAME_SIGNS = frozenset(" .-'\u2019")
#: The Thai and Latin letters and marks with NAME_SIGNS: nearly every name is made of these
#: alone, which one set test tells without asking each character's category.
_COMMON_IN_NAMES = NAME_SIGNS | frozenset(
    c for c in map(chr, [*range(0x41, 0x7B), *range(0xE01, 0xE4F)])
    if unicodedata.category(c)[0] in "LM")


def name_problem(key: str, value: str | None) -> str | None:
    """A first or last name is letters: a digit, an emoji or another sign is a slip or a
    placeholder ("ชื่อ1", "ทดสอบ!"), not a child's name, and a ghost learner's mark."""
    if _COMMON_IN_NAMES.issuperset(value or ""):
        return None
    wrong = dict.fromkeys(c for c in value or "" if c not in NAME_SIGNS
                          and unicodedata.category(c)[0] not in "LM")
    if not wrong:
        return None
    found = ", ".join(f"\u201c{c}\u201d" if c.isprintable() else f"U+{ord(c):04X}" for c in wrong)
    if key == "first_name":
        return _("A first name is letters only, with spaces, dots, hyphens or apostrophes "
                 "between them: take out %(found)s.", found=found)
    return _("A last name is letters only, with spaces, dots, hyphens or apostrophes between "
             "them: take out %(found)s.", found=found)


#: The heights (cm) and weights (kg) a learner, from a child of two to a young adult, can have:
#: outside them is a slip (1200 for 120.0) or another unit (1.20 metres).
MEASURES = {"height_cm": (30, 250), "weight_kg": (1, 300)}


def measure_problem(key: str, value: Decimal | float | None) -> str | None:
    """Height and weight, when given, are a learner's, in centimetres and kilograms."""
    low, high = MEASURES[key]
    if value is None or low <= value <= high:
        return None
    if key == "height_cm":
        return _("The height is in centimetres, from %(low)d to %(high)d: check %(value)s.",
                 low=low, high=high, value=value)
    return _("The weight is in kilograms, from %(low)d to %(high)d: check %(value)s.",
             low=low, high=high, value=value)


#: The learner's two address subdistricts, as codes of DOPA's list (`geothai`).
ADDRESS_CODES = ("registered_subdistrict_code", "current_subdistrict_code")


def unknown_subdistricts(session: Session, codes: Iterable[str | None]) -> set[str]:
    """Which of `codes` name no subdistrict: one query for a whole file or flush, not one per
    learner (the foreign key would only say so by failing the whole write)."""
    wanted = sorted({code for code in codes if code})
    known: set[str] = {s.code for s in session.new if isinstance(s, Subdistrict)}
    with session.no_autoflush:
        for start in range(0, len(wanted), 5000):
            known.update(session.scalars(select(Subdistrict.code).where(
                Subdistrict.code.in_(wanted[start:start + 5000]))))
    return set(wanted) - known


def subdistrict_problem(key: str, code: str | None, unknown: set[str]) -> str | None:
    """An address's subdistrict code must be on DOPA's list."""
    if code not in unknown:
        return None
    if key == "registered_subdistrict_code":
        return _("The subdistrict code %(code)s of the registered address is not a known "
                 "subdistrict code: give the 6-digit code of the subdistrict (ตำบล) from DOPA's "
                 "list, or leave it empty.", code=code)
    return _("The subdistrict code %(code)s of the current address is not a known subdistrict "
             "code: give the 6-digit code of the subdistrict (ตำบล) from DOPA's list, or leave "
             "it empty.", code=code)


def _setting(learner: Any, key: str, stored: dict[str, Any] | None = None) -> bool:
    """Whether this write sets `key`: a new learner sets all it holds; a saved one only what
    changed (its history, or for a plain record of the bulk import what differs from `stored`,
    the register's values), so a value kept from before is not judged again."""
    if not isinstance(learner, Learner):
        return stored is None or stored.get(key) != getattr(learner, key)
    state = inspect(learner)
    return not state.persistent or state.attrs[key].history.has_changes()


def learner_field_problems(session: Session, learner: Any, stored: dict[str, Any] | None = None
                           ) -> list[tuple[str, str]]:
    """What `check_learner` finds, each with the field it is about, so an import's report
    names the column of every problem; `stored` is what the register holds of a plain
    record's learner (None for a new one)."""
    learner.national_id = normalise_national_id(learner.national_id)
    problems = [("national_id", p) for p in national_id_problems(learner.national_id)
                + g_code_province_problems(session, learner.national_id)]
    if not (learner.first_name or "").strip() or not (learner.last_name or "").strip():
        problems.append(("first_name" if not (learner.first_name or "").strip() else "last_name",
                         _("Enter the learner's first name and last name.")))
    problems += [(key, p) for key in ("first_name", "last_name") if _setting(learner, key, stored)
                 and (p := name_problem(key, getattr(learner, key)))]
    if learner.gender not in GENDERS:
        problems.append(("gender", _("Choose the learner's gender.")))
    if _setting(learner, "birth_date", stored):
        # One stored before the rule must not stop the save of a phone number.
        problems += [("birth_date", p) for p in birth_date_problems(learner.birth_date)]
    if _setting(learner, "title", stored):
        learner.title = normalise_title(learner.title)
        problems += [("title", p) for p in title_problems(learner.title)]
    problems += [(key, p) for key in MEASURES if _setting(learner, key, stored)
                 and (p := measure_problem(key, getattr(learner, key)))]
    if _setting(learner, "guardian_phone", stored) and (
            p := phone_problem(learner.guardian_phone)):
        problems.append(("guardian_phone", p))
    return problems


@validates(Learner)
def check_learner(session: Session, learner: Learner) -> list[str]:
    """A learner needs a valid identity, a name of letters, a gender, a title the form keeps,
    a birth date (when set) neither in the future nor before any learner's and, when set, a
    learner's height and weight (the ID and the title are normalised first, so this rule also
    writes them back in their stored form)."""
    return [problem for _field, problem in learner_field_problems(session, learner)]


#: Why an ID typed over a saved learner's is refused when another learner has it.
ID_TAKEN = _l("This national ID is already another learner's record. If that is this child, "
              "keep this record's ID as it was and enrol the child by that ID (check by ID); "
              "otherwise check the digits.")


@validates(Learner)
def check_new_id(session: Session, learner: Learner) -> list[str]:
    """An ID typed over a saved learner's that another learner already has is a second record
    of that child (or a typing slip), said in words rather than as a clash of unique values."""
    state = inspect(learner)
    if not state.persistent or not state.attrs.national_id.history.has_changes():
        return []
    with session.no_autoflush:
        taken = session.scalar(select(Learner.id).where(
            Learner.national_id == learner.national_id, Learner.id != learner.id).limit(1))
    if taken is None:
        return []
    return [str(ID_TAKEN)]


@validates(Learner)
def check_learner_addresses(session: Session, learner: Learner) -> list[str]:
    """The address codes of every learner in the flush are looked up at once, then each
    learner's are judged."""
    unknown = session.info.get("lec_unknown_subdistricts")
    if unknown is None:
        pending = [o for o in (*session.new, *session.dirty) if isinstance(o, Learner)]
        unknown = unknown_subdistricts(session, (getattr(o, k) for o in pending
                                                 for k in ADDRESS_CODES))
        session.info["lec_unknown_subdistricts"] = unknown
    return [p for k in ADDRESS_CODES if (p := subdistrict_problem(k, getattr(learner, k),
                                                                   unknown))]


def owning_enrolment(session: Session, learner_id: int) -> Enrolment | None:
    """Where the learner is active now (the latest year), else where they last were, ranked as
    the learner's scope ranks them (rules/tree.py): saved rows only, so an enrolment added in
    the same flush cannot claim the learner."""
    with session.no_autoflush:
        return session.scalar(
            select(Enrolment).where(Enrolment.learner_id == learner_id, Enrolment.id.is_not(None))
            .order_by(*(part.desc() for part in holding_rank())).limit(1))


def _changed_identity(learner: Learner) -> bool:
    state = inspect(learner)
    return state.persistent and any(state.attrs[attr.key].history.has_changes()
                                    for attr in state.mapper.column_attrs)


@validates(Learner)
def check_identity_owner(session: Session, learner: Learner) -> list[str]:
    """Only the institution holding the learner (or a level above it) changes who they are:
    name, birth date, guardian and phone stay as the owner recorded them, whatever the path."""
    actor = current_actor()
    if actor is None or not _changed_identity(learner):
        return []
    owner = owning_enrolment(session, learner.id)
    if owner is None:
        return []
    institution = owner.institution
    unit = Unit(institution.lao.province_code, institution.lao_id, institution.id)
    if covers(actor, unit):
        return []
    return [_("The learner with ID %(id)s is registered at %(code)s %(name)s (%(lao)s, contact "
              "%(contact)s). Only that institution may change the learner's name, birth date, "
              "guardian or phone; ask it to correct them or to record the transfer.",
              id=mask_national_id(learner.national_id), code=institution.code,
              name=institution.name, lao=institution.lao.name,
              contact=institution.phone or institution.email or institution.lao.phone or "-")]
