"""Why a flag was raised, in the user's words, from the figures its row carries."""

from datetime import date
from typing import Any

from flask_babel import gettext as _

import clock
from i18n import be_date
from models import Round
from models.people import GRADE_LABELS

from .learner_checks import MISSING_FIELDS
from .rows import count_date


def _percent(value: float | None) -> str:
    return f"{(value or 0) * 100:.0f}%"


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def incomplete(flag: Any, round_: Round) -> str:
    fields = ", ".join(str(MISSING_FIELDS[k]) for k in (flag.detail or "").split())
    return _("The record lacks: %(fields)s.", fields=fields)


def shared_phone(flag: Any, round_: Round) -> str:
    return _("The guardian phone %(phone)s is given for %(n)d learners at %(k)d institutions.",
             phone=flag.detail, n=int(flag.measure), k=int(flag.expected))


def same_person(flag: Any, round_: Round) -> str:
    if int(flag.expected) == 1:
        return _("%(name)s, with the same birth date, is enrolled %(n)d times at this "
                 "institution under different national IDs.", name=flag.detail,
                 n=int(flag.measure))
    return _("%(name)s, with the same birth date, is enrolled %(n)d times at %(k)d institutions "
             "under different national IDs.", name=flag.detail, n=int(flag.measure),
             k=int(flag.expected))


def g_code_share(flag: Any, round_: Round) -> str:
    return _("%(share)s of the learners have a G-code, against %(peers)s in the province.",
             share=_percent(flag.measure), peers=_percent(flag.expected))


def age_grade(flag: Any, round_: Round) -> str:
    age = _age_on(date.fromisoformat(flag.detail), clock.term_start(round_.academic_year))
    return _("Aged %(age)d on 16 May, but the usual age of this grade is %(usual)d.",
             age=age, usual=int(flag.expected))


def late_enrolment(flag: Any, round_: Round) -> str:
    return _("Enrolled on %(date)s, after the count date %(count_date)s.",
             date=be_date(date.fromisoformat(flag.detail)), count_date=be_date(count_date(round_)))


def count_jump(flag: Any, round_: Round) -> str:
    return _("%(now)d learners are recorded now, against %(before)d in the last confirmed "
             "count.", now=int(flag.measure), before=int(flag.expected))


def centre_no_staff(flag: Any, round_: Round) -> str:
    return {
        "no_data": _("The centre has %(n)d children but no basic data (staff, classrooms).",
                     n=int(flag.measure)),
        "no_staff": _("The centre has %(n)d children but no staff in its basic data.",
                      n=int(flag.measure)),
        "no_rooms": _("The centre has %(n)d children but no classrooms in its basic data.",
                      n=int(flag.measure)),
    }[flag.detail]


def other_school_jump(flag: Any, round_: Round) -> str:
    return _("%(now)d pupils are counted this round, against %(past)d on average in past "
             "rounds.", now=int(flag.measure), past=round(flag.expected))


def obec_mismatch(flag: Any, round_: Round) -> str:
    grade, lec_boys, lec_girls, obec_boys, obec_girls = flag.detail.split(":")
    return _("Grade %(grade)s: the LAO entered %(lec_boys)s boys and %(lec_girls)s girls; OBEC "
             "published %(obec_boys)s boys and %(obec_girls)s girls at %(date)s.",
             grade=GRADE_LABELS.get(grade, grade), lec_boys=lec_boys, lec_girls=lec_girls,
             obec_boys=obec_boys, obec_girls=obec_girls, date=be_date(count_date(round_)))
