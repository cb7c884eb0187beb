"""A demo province with real place names: its LAOs, schools, centres and an account per unit."""

import csv
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geothai
from sqlalchemy import select

from models import Institution, InstitutionKind, Lao, LaoType, Level, OtherSchool, User, db
from models.accounts import password_hasher
from rules.accounts import one_time_password
from rules.codes import institution_kind_digit

from .learners import build_learners
from .rounds import ensure_current_round

DEPARTMENT_LOGIN = "dla.admin"
def _plan_laos(province_code: str) -> list[tuple[str, int, str, str, str]]:
    """(code, type, name, district, subdistrict) for a PAO, municipalities and SAOs."""
    province = geothai.province(province_code)
    plans = [(f"02{province_code}0101", LaoType.PAO,
              f"องค์การบริหารส่วนจังหวัด{province.name_th}", f"{province_code}01", "")]
    for district in geothai.districts(province_code):
        subdistricts = geothai.subdistricts(district.code)
        for seq, sub in enumerate(subdistricts, start=1):
            dd = district.code[2:4]
            if seq == 1 and dd == "01":
                lao_type, name = LaoType.TOWN, f"เทศบาลเมือง{province.name_th}"
            elif seq == 1:
                lao_type, name = LaoType.SUBDISTRICT_MUNICIPALITY, f"เทศบาลตำบล{sub.name_th}"
            else:
                lao_type, name = LaoType.SAO, f"องค์การบริหารส่วนตำบล{sub.name_th}"
            plans.append((f"0{int(lao_type)}{province_code}{dd}{seq:02d}", lao_type, name,
                          district.code, sub.code))
    return plans


def _place(lao: Lao) -> str:
    """The subdistrict an SAO or subdistrict municipality is named after: village schools and
    centres take that name, not a slice of the LAO's."""
    return lao.name.removeprefix("องค์การบริหารส่วนตำบล").removeprefix("เทศบาลตำบล")


def _plan_institutions(lao: Lao, subdistrict: str) -> list[tuple[str, str, str]]:
    """(kind, name, subdistrict) for the institutions an LAO of this type typically runs."""
    place = _place(lao)
    if lao.lao_type == LaoType.PAO:
        return [(InstitutionKind.SCHOOL, f"โรงเรียนองค์การบริหารส่วนจังหวัด {n}", "")
                for n in ("๑", "๒", "๓")]
    if lao.lao_type in (LaoType.TOWN, LaoType.CITY):
        return [(InstitutionKind.SCHOOL, f"โรงเรียนเทศบาล {n} ({place})", subdistrict)
                for n in ("๑", "๒")] + [
            (InstitutionKind.CDC, f"ศูนย์พัฒนาเด็กเล็ก{lao.name}", subdistrict)]
    if lao.lao_type == LaoType.SUBDISTRICT_MUNICIPALITY:
        return [(InstitutionKind.SCHOOL, f"โรงเรียนเทศบาลตำบล{place}", subdistrict),
                (InstitutionKind.CDC, f"ศูนย์พัฒนาเด็กเล็กเทศบาลตำบล{place}", subdistrict)]
    plans = [(InstitutionKind.CDC, f"ศูนย์พัฒนาเด็กเล็กบ้าน{place}", subdistrict)]
    if int(lao.code[-2:]) % 5 == 0:
        plans.append((InstitutionKind.SCHOOL, f"โรงเรียนบ้าน{place}", subdistrict))
    return plans


def build_demo(province_code: str, instance_path: Path) -> Path:
    """Create (or top up) the demo province and (re)issue every demo account's password."""
    laos = {lao.code: lao for lao in db.session.scalars(
        select(Lao).where(Lao.province_code == province_code))}
    subdistrict_of = {}
    # A province already loaded from DLA's registry keeps its real LAOs.
    for code, lao_type, name, district, sub in [] if laos else _plan_laos(province_code):
        subdistrict_of[code] = sub
        if code not in laos:
            laos[code] = Lao(code=code, lao_type=int(lao_type), name=name,
                             province_code=province_code, district_code=district)
            db.session.add(laos[code])
    db.session.flush()

    institutions = {i.code: i for i in db.session.scalars(
        select(Institution).join(Lao).where(Lao.province_code == province_code))}
    sequence: dict[str, int] = defaultdict(int)
    for lao in sorted(laos.values(), key=lambda lao: lao.code):
        for kind, name, sub in _plan_institutions(lao, subdistrict_of.get(lao.code, "")):
            digit = institution_kind_digit(kind, lao.lao_type)
            sequence[digit] += 1
            code = f"30{province_code}{digit}{sequence[digit]:05d}"
            if code not in institutions:
                institutions[code] = Institution(
                    code=code, name=name, kind=str(kind), lao=lao, subdistrict_code=sub or None,
                    phone=f"0 4561 {sequence[digit]:04d}",
                )
                db.session.add(institutions[code])
        if lao.lao_type == LaoType.SAO and int(lao.code[-2:]) % 3 == 0:
            affiliation, prefix = ("bpp", "80") if int(lao.code[-2:]) % 9 == 0 else ("obec", "10")
            code = f"{prefix}{lao.code[2:8]}01"
            if db.session.scalar(select(OtherSchool).where(OtherSchool.code == code)) is None:
                db.session.add(OtherSchool(code=code, affiliation=affiliation, lao=lao,
                                           name=f"โรงเรียนบ้าน{_place(lao)}"))
    db.session.flush()

    # One school and one centre take online applications, so /apply shows the whole path.
    for kind in (InstitutionKind.SCHOOL, InstitutionKind.CDC):
        first = min((i for i in institutions.values() if i.kind == kind),
                    key=lambda i: i.code, default=None)
        if first is not None:
            first.accepts_online_applications = True

    wanted = [(DEPARTMENT_LOGIN, Level.DEPARTMENT, {}, "กรมส่งเสริมการปกครองท้องถิ่น"),
              (province_code, Level.PROVINCE, {"province_code": province_code}, province_code)]
    wanted += [(lao.code, Level.LAO, {"lao": lao}, lao.name) for lao in laos.values()]
    wanted += [(i.code, Level.INSTITUTION, {"institution": i}, i.name)
               for i in institutions.values()]
    users = {u.login: u for u in db.session.scalars(
        select(User).where(User.login.in_([login for login, *_ in wanted])))}
    passwords = [one_time_password() for _ in wanted]
    # Argon2 releases the GIL: hash on every core, since each hash is deliberately slow.
    with ThreadPoolExecutor() as pool:
        hashes = list(pool.map(password_hasher.hash, passwords))
    rows = []
    for (login, level, unit, label), password, hashed in zip(wanted, passwords, hashes,
                                                             strict=True):
        user = users.get(login) or User(login=login, level=str(level), **unit)
        if login == DEPARTMENT_LOGIN:
            user.name = "ผู้ดูแลระบบ สถ."
        user.password_hash = hashed
        user.must_change_password = True
        user.session_version = (user.session_version or 0) + 1
        db.session.add(user)
        rows.append((login, password, str(level), label))
    ensure_current_round()
    build_learners(province_code)
    db.session.commit()

    out = instance_path / "demo-accounts.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["login", "password", "level", "unit"])
        writer.writerows(rows)
    out.chmod(0o600)
    return out
