"""Code formats of SPEC §2: LAO and institution codes, with department-granted exceptions."""

import re

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CodeException, Institution, InstitutionKind, Lao, LaoType

from . import validates

# The exception rules a department user may grant; the province digits are never waived.
WAIVABLE = ("type", "district", "kind")


def lao_code_problems(
    code: str,
    lao_type: int,
    province_code: str,
    district_code: str | None = None,
    waived: frozenset[str] = frozenset(),
) -> list[str]:
    """What is wrong with an LAO code: `0` + type digit + province + district + sequence."""
    if not re.fullmatch(r"\d{8}", code or ""):
        return [_("The LAO code must be exactly 8 digits (0 followed by the 7-digit DLA code).")]
    if code[0] != "0":
        return [_("The LAO code must start with 0 (0 followed by the 7-digit DLA code).")]
    if code[1] not in "23456":
        return [_("The 2nd digit of the LAO code is the LAO type and must be 2 to 6.")]
    problems = []
    if int(code[1]) != lao_type and "type" not in waived:
        problems.append(
            _(
                "The 2nd digit of the LAO code (%(digit)s) does not match the LAO type "
                "(%(expected)s).",
                digit=code[1],
                expected=lao_type,
            )
        )
    if code[2:4] != province_code:
        problems.append(
            _(
                "Digits 3-4 of the LAO code (%(digits)s) must be the LAO's province code "
                "(%(expected)s).",
                digits=code[2:4],
                expected=province_code,
            )
        )
    if district_code and code[4:6] != district_code[2:4] and "district" not in waived:
        problems.append(
            _(
                "Digits 5-6 of the LAO code (%(digits)s) must be the district number of the "
                "LAO's district (%(expected)s).",
                digits=code[4:6],
                expected=district_code[2:4],
            )
        )
    return problems


def institution_kind_digit(kind: str, lao_type: int) -> str:
    """The 5th digit an institution code must carry for its kind and its LAO's type."""
    if lao_type == LaoType.PAO:
        level = 0
    elif LaoType(lao_type).is_municipality:
        level = 1
    else:
        level = 2
    return str(level + (1 if kind == InstitutionKind.SCHOOL else 4))


def institution_code_problems(
    code: str,
    kind: str,
    lao_type: int,
    lao_province_code: str,
    waived: frozenset[str] = frozenset(),
) -> list[str]:
    """What is wrong with an institution code: `30` + province + kind digit + 5-digit sequence."""
    if not re.fullmatch(r"\d{10}", code or ""):
        return [_("The institution code must be exactly 10 digits.")]
    problems = []
    if code[:2] != "30":
        problems.append(
            _("The institution code must start with 30, the DLA affiliation prefix.")
        )
    if code[2:4] != lao_province_code:
        problems.append(
            _(
                "Digits 3-4 of the institution code (%(digits)s) must be the province code of "
                "its LAO (%(expected)s).",
                digits=code[2:4],
                expected=lao_province_code,
            )
        )
    expected = institution_kind_digit(kind, lao_type)
    if code[4] != expected and "kind" not in waived:
        problems.append(
            _(
                "The 5th digit of the institution code (%(digit)s) must be %(expected)s for "
                "this kind of institution under this type of LAO.",
                digit=code[4],
                expected=expected,
            )
        )
    return problems


def waivers(session: Session, code: str) -> frozenset[str]:
    """The rules waived for `code`, counting exceptions added in this same flush."""
    # Exceptions are a handful of rows: read them once per flush, not once per code.
    known = session.info.get("lec_waivers")
    if known is None:
        known = {}
        with session.no_autoflush:
            rows = session.execute(select(CodeException.code, CodeException.rule)).all()
        pending = [(e.code, e.rule) for e in session.new if isinstance(e, CodeException)]
        for exception_code, rule in [*rows, *pending]:
            known.setdefault(exception_code, set()).add(rule)
        session.info["lec_waivers"] = known
    return frozenset(known.get(code, ()))


@validates(Lao)
def check_lao(session: Session, lao: Lao) -> list[str]:
    """An LAO's code must agree with its type, province and district."""
    # A form sets the province and district as related rows; their codes come at the flush.
    province_code = lao.province.code if lao.province is not None else lao.province_code
    district_code = lao.district.code if lao.district is not None else lao.district_code
    if not province_code:
        return [_("Choose the LAO's province.")]
    return lao_code_problems(
        lao.code, lao.lao_type, province_code, district_code, waivers(session, lao.code)
    )


@validates(Institution)
def check_institution(session: Session, institution: Institution) -> list[str]:
    """An institution's code must agree with its kind and LAO, also after a move."""
    with session.no_autoflush:
        lao = institution.lao or session.get(Lao, institution.lao_id)
    if lao is None:
        return [_("Choose the LAO the institution belongs to.")]
    return institution_code_problems(
        institution.code,
        institution.kind,
        lao.lao_type,
        lao.province_code,
        waivers(session, institution.code),
    )


@validates(CodeException)
def check_exception(session: Session, exception: CodeException) -> list[str]:
    """An exception needs a known rule and a reason someone can audit."""
    problems = []
    if exception.rule not in WAIVABLE:
        problems.append(_("Only the type, district or kind digit can be excepted."))
    if not (exception.reason or "").strip():
        problems.append(_("Give the reason for the exception."))
    return problems
