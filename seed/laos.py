"""Import DLA's LAO registry (open data set dlads_05_01), all-or-nothing and idempotent."""

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from models import CodeException, District, Lao, LaoType, Province, db
from rules import RuleViolation
from rules.codes import lao_code_problems

COLUMNS = ["dla_code", "lao_type", "name_th", "province_code", "province_name_th",
           "district_code", "district_name_th", "lat", "lon", "area_km2"]
TYPE_BY_LABEL = {
    "อบจ.": LaoType.PAO,
    "เทศบาลนคร": LaoType.CITY,
    "ท้องถิ่นรูปแบบพิเศษ": LaoType.CITY,  # Pattaya City carries the city digit
    "เทศบาลเมือง": LaoType.TOWN,
    "เทศบาลตำบล": LaoType.SUBDISTRICT_MUNICIPALITY,
    "อบต.": LaoType.SAO,
}
#: The registry gives a bare place name ("ศรีสะเกษ" for both the PAO and the town
#: municipality); an LAO is named in full, by its kind, as every screen and card shows it.
NAME_PREFIX = {
    "อบจ.": "องค์การบริหารส่วนจังหวัด",
    "เทศบาลนคร": "เทศบาลนคร",
    "ท้องถิ่นรูปแบบพิเศษ": "",  # named in full already: เมืองพัทยา
    "เทศบาลเมือง": "เทศบาลเมือง",
    "เทศบาลตำบล": "เทศบาลตำบล",
    "อบต.": "องค์การบริหารส่วนตำบล",
}
GRANTOR = "lec import-laos (DLA registry dlads_05_01)"
#: How a spreadsheet saved as a workbook begins: XLSX (a zip) and the older XLS.
WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


@dataclass
class ImportReport:
    """What an import did, or every line that stopped it."""

    added: int = 0
    updated: int = 0
    exceptions: int = 0
    errors: list[str] = field(default_factory=list)


def _row_problems(row: dict[str, str], provinces: set[str], districts: set[str]) -> list[str]:
    problems = []
    if not re.fullmatch(r"\d{7}", row["dla_code"] or ""):
        problems.append(_("dla_code must be 7 digits"))
    if row["lao_type"] not in TYPE_BY_LABEL:
        problems.append(_("unknown lao_type %(value)s", value=row["lao_type"]))
    if not (row["name_th"] or "").strip():
        problems.append(_("name_th is empty"))
    if row["province_code"] not in provinces:
        problems.append(_("unknown province_code %(value)s", value=row["province_code"]))
    if row["district_code"] not in districts:
        problems.append(_("unknown district_code %(value)s", value=row["district_code"]))
    return problems


def read_registry(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The registry's lines by number; a file that is not the registry at all (empty, a
    workbook, not UTF-8, other columns) is refused whole, in one sentence, not as a bad line."""
    data = path.read_bytes()
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise RuleViolation(_("The file is empty: it should be DLA's LAO registry, a CSV file "
                              "whose first line is %(expected)s.", expected=",".join(COLUMNS)))
    if data.startswith(WORKBOOK_SIGNATURES):
        raise RuleViolation(_("The file is an Excel workbook, not a CSV file: open it in Excel, "
                              "save it as \"CSV UTF-8\" and import that file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RuleViolation(_("The file is not UTF-8 text (line %(line)d): save it from Excel "
                              "as \"CSV UTF-8\" and import it again.",
                              line=data[:exc.start].count(b"\n") + 1)) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        if reader.fieldnames != COLUMNS:
            raise RuleViolation(_("The file is not DLA's LAO registry: its first line must be "
                                  "the columns %(expected)s, but it is %(found)s.",
                                  expected=",".join(COLUMNS),
                                  found=",".join(reader.fieldnames or [])))
        return list(enumerate(reader, start=2))
    except csv.Error:
        raise RuleViolation(_("The file cannot be read as CSV (line %(line)d): save it from "
                              "Excel as \"CSV UTF-8\" and import it again.",
                              line=reader.line_num + 1)) from None


def import_laos(path: Path) -> ImportReport:
    """Read the registry; write nothing unless every line is good (a file that is not the
    registry raises RuleViolation before anything is written)."""
    report = ImportReport()
    rows = read_registry(path)
    provinces = set(db.session.scalars(select(Province.code)))
    districts = set(db.session.scalars(select(District.code)))

    existing = {lao.code: lao for lao in db.session.scalars(select(Lao))}
    waived: dict[str, set[str]] = {}
    for exception in db.session.scalars(select(CodeException)):
        waived.setdefault(exception.code, set()).add(exception.rule)
    seen: set[str] = set()
    for number, row in rows:
        if None in row or any(value is None for value in row.values()):
            report.errors.append(_("Line %(line)d: wrong number of fields.", line=number))
            continue
        problems = _row_problems(row, provinces, districts)
        code = "0" + row["dla_code"]
        if code in seen:
            problems.append(_("dla_code %(code)s appears twice", code=row["dla_code"]))
        seen.add(code)
        if problems:
            report.errors.append(_("Line %(line)d: %(problems)s", line=number,
                                   problems="; ".join(problems)))
            continue
        lao_type = TYPE_BY_LABEL[row["lao_type"]]
        # The registry is DLA's own word: where it breaks the type or district digit, that
        # break is recorded as an exception, never accepted silently.
        for rule in ("type", "district"):
            waiver = frozenset({"type", "district"} - {rule})
            if lao_code_problems(code, lao_type, row["province_code"], row["district_code"],
                                 waiver) and rule not in waived.get(code, ()):
                db.session.add(CodeException(
                    code=code, rule=rule, granted_by=GRANTOR,
                    reason=_("DLA registry: %(type)s %(name)s, district %(district)s.",
                             type=row["lao_type"], name=row["name_th"],
                             district=row["district_code"]),
                ))
                waived.setdefault(code, set()).add(rule)
                report.exceptions += 1
        problems = lao_code_problems(code, lao_type, row["province_code"], row["district_code"],
                                     frozenset(waived.get(code, ())))
        if problems:
            report.errors.append(_("Line %(line)d: %(problems)s", line=number,
                                   problems=" ".join(problems)))
            continue
        values = {"name": NAME_PREFIX[row["lao_type"]] + row["name_th"].strip(),
                  "lao_type": int(lao_type),
                  "province_code": row["province_code"], "district_code": row["district_code"]}
        lao = existing.get(code)
        if lao is None:
            db.session.add(Lao(code=code, **values))
            report.added += 1
        elif any(getattr(lao, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(lao, key, value)
            report.updated += 1
    if report.errors:
        db.session.rollback()
        report.added = report.updated = report.exceptions = 0
        return report
    db.session.commit()
    return report
