"""A national-size data set: DLA's real LAO registry, ~20,000 institutions, 1.5 million learners.

Rows are bulk-loaded (COPY on PostgreSQL, large executemany batches on SQLite) instead of going
through the session's rules one object at a time: every value is valid by construction (codes
from `rules.codes`, IDs with `rules.identity.check_digit`, ages that fit the grade), and
tests/test_national.py runs the rule functions over a sample to prove it.

Accounts: one per unit (~28,000). Hashing 28,000 Argon2 passwords takes minutes, so every unit
account shares ONE hash of one generated one-time password, written with the department's own
to `instance/national-accounts.txt`; each account must change it at first sign-in.
"""

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, text

import clock
from models import (
    District,
    Enrolment,
    Institution,
    InstitutionKind,
    Lao,
    LaoType,
    Learner,
    Level,
    Province,
    Subdistrict,
    User,
    db,
)
from models.accounts import password_hasher
from models.people import CDC_GRADES, GRADE_AGE, SCHOOL_GRADES
from rules import RuleViolation
from rules.codes import institution_kind_digit
from rules.enrolment import current_academic_year
from rules.identity import check_digit

from .demo import DEPARTMENT_LOGIN, one_time_password
from .geography import load_geography
from .laos import import_laos
from .learners import BOYS, GIRLS, RELIGIONS, SURNAMES
from .rounds import ensure_current_round

SCHOOLS = 2_000
CENTRES = 18_000
BATCH = 10_000
# Surnames are built from two parts, so a surname search finds tens, not tens of thousands.
SURNAME_ENDINGS = ("", "วงศ์", "สกุล", "ชัย", "ทอง", "ศรี", "สุข", "แก้ว", "บุญ", "พันธ์", "เจริญ",
                   "รักษ์", "กุล", "พงษ์", "สิทธิ์", "ดี", "งาม", "เดช", "วัฒน์", "ธรรม")
LATIN = (("Aung", "Min"), ("Mya", "Win"), ("Somphone", "Keo"), ("Sok", "Dara"), ("Anna", "Smith"))


@dataclass
class NationalReport:
    """What the generator made, and where the accounts' passwords are."""

    laos: int
    institutions: int
    learners: int
    accounts: int
    passwords: Path


def registry_path(root: Path) -> Path:
    """DLA's registry as shipped beside the repository (`../shared/data`)."""
    return root.parent / "shared" / "data" / "dla_lao_registry.csv"


def holds_learners() -> bool:
    """Whether the database already has learners (the generator then needs --force)."""
    return db.session.scalar(select(Learner.id).limit(1)) is not None


def empty_everything() -> None:
    """--force: every table but the DOPA geography is emptied before the national set is built."""
    keep = {Province.__table__, District.__table__, Subdistrict.__table__}
    tables = [t for t in db.metadata.sorted_tables if t not in keep]
    if db.session.get_bind().dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


def bulk_insert(table: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Load rows in the session's transaction: COPY on PostgreSQL, batched executemany else."""
    connection = db.session.connection()
    count = 0
    if connection.dialect.name == "postgresql":
        raw = connection.connection.dbapi_connection
        names = ", ".join(columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' for _ in columns)})")
    raw = connection.connection.dbapi_connection
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            raw.executemany(sql, batch)
            count += len(batch)
            batch = []
    if batch:
        raw.executemany(sql, batch)
        count += len(batch)
    return count


def _next_id(model: type) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _reset_sequences(*models: type) -> None:
    """After loading explicit ids, PostgreSQL's sequences must continue past them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        name = model.__tablename__
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {name}))"))


def _school_weights(lao_type: int) -> float:
    return {LaoType.PAO: 6.0, LaoType.CITY: 12.0, LaoType.TOWN: 4.0,
            LaoType.SUBDISTRICT_MUNICIPALITY: 1.2, LaoType.SAO: 0.06}[LaoType(lao_type)]


def plan_institutions(rng: random.Random, laos: list[tuple[int, str, int, str, str | None]],
                      subdistricts: dict[str, list[str]], schools: int, centres: int
                      ) -> list[tuple[int, str, str, str, int, str | None, str]]:
    """(id, code, name, kind, lao id, subdistrict, phone) with codes the code rules accept."""
    laos = sorted(laos, key=lambda lao: lao[1])
    school_laos = rng.choices(laos, weights=[_school_weights(lao[2]) for lao in laos], k=schools)
    # Every LAO runs at least one centre; the rest go where the LAOs are.
    centre_laos = laos + rng.choices(laos, k=max(centres - len(laos), 0))
    sequence: dict[tuple[str, str], int] = {}
    plans = []
    next_id = _next_id(Institution)
    for kind, chosen in ((InstitutionKind.SCHOOL, school_laos), (InstitutionKind.CDC, centre_laos)):
        for lao_id, _code, lao_type, province, district in sorted(chosen, key=lambda x: x[1]):
            digit = institution_kind_digit(kind, lao_type)
            key = (province, digit)
            sequence[key] = sequence.get(key, 0) + 1
            code = f"30{province}{digit}{sequence[key]:05d}"
            place = rng.choice(subdistricts.get(district or "", [None]))
            name = (f"โรงเรียนท้องถิ่น {sequence[key]}" if kind == InstitutionKind.SCHOOL
                    else f"ศูนย์พัฒนาเด็กเล็ก {sequence[key]}")
            plans.append((next_id, code, name, str(kind), lao_id, place,
                          f"0 {rng.randint(2000, 9999)} {rng.randint(1000, 9999)}"))
            next_id += 1
    return plans


def national_id(rng: random.Random, province: str, seq: int) -> str:
    """A unique valid identity: 1% G-codes, a few resident (0…) IDs, the rest Thai-born (1…)."""
    roll = rng.random()
    if roll < 0.01:
        return f"G{rng.randint(60, 68)}{province}{seq:08d}"
    first12 = f"{'0' if roll < 0.03 else '1'}{province}{seq:09d}"
    return first12 + str(check_digit(first12))


def _grades(kind: str, lao_type: int) -> tuple[str, ...]:
    if kind == InstitutionKind.CDC:
        return CDC_GRADES[:3]
    return SCHOOL_GRADES[9:] if lao_type == LaoType.PAO else SCHOOL_GRADES[:9]


def learner_rows(rng: random.Random, institutions: list[tuple[int, str, str, int, str | None]],
                 total: int, year: int, first_id: int
                 ) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """(learner row, enrolment row) pairs, `total` of them spread over the institutions."""
    weights = [25.0 if kind == InstitutionKind.SCHOOL else 1.0 for _i, _c, kind, _t, _s
               in institutions]
    per = [0] * len(institutions)
    scale = total / sum(weights)
    for n, weight in enumerate(weights):
        per[n] = int(weight * scale)
    for n in range(total - sum(per)):
        per[n % len(per)] += 1
    term = clock.term_start(year)
    surnames = [a + b for a in SURNAMES for b in SURNAME_ENDINGS]
    learner_id = first_id
    seq = 0
    for (institution_id, code, kind, lao_type, place), size in zip(institutions, per,
                                                                   strict=True):
        grades = _grades(kind, lao_type)
        province = code[2:4]
        for n in range(size):
            grade = grades[n % len(grades)]
            classroom = str(1 + (n // len(grades)) // 30)
            seq += 1
            boy = rng.random() < 0.51
            age = GRADE_AGE[grade]
            identity = national_id(rng, province, seq)
            if identity[0] == "G" and rng.random() < 0.5:
                first, last = rng.choice(LATIN)
            else:
                first, last = rng.choice(BOYS if boy else GIRLS), rng.choice(surnames)
            title = ("นาย" if boy else "นางสาว") if age >= 15 else (
                "เด็กชาย" if boy else "เด็กหญิง")
            born = term.replace(year=term.year - age) - timedelta(days=rng.randint(0, 364))
            house = f"{rng.randint(1, 299)} หมู่ {rng.randint(1, 15)}"
            yield ((learner_id, identity, title, first, last, "M" if boy else "F", born,
                    "ไทย" if identity[0] != "G" else "ไม่ระบุ", rng.choice(RELIGIONS),
                    rng.random() < 0.2,
                    f"{rng.choice(('นาย', 'นาง'))}{rng.choice(BOYS + GIRLS)} {last}",
                    f"08{rng.randint(10000000, 99999999)}", house, place, house, place),
                   (learner_id, institution_id, year, grade, classroom, term, "active"))
            learner_id += 1


LEARNER_COLUMNS = ("id", "national_id", "title", "first_name", "last_name", "gender",
                   "birth_date", "nationality", "religion", "disadvantaged", "guardian_name",
                   "guardian_phone", "registered_address", "registered_subdistrict_code",
                   "current_address", "current_subdistrict_code")
ENROLMENT_COLUMNS = ("learner_id", "institution_id", "academic_year", "grade", "classroom",
                     "enrolled_on", "status")


def _load_learners(rng: random.Random, institutions: list[Any], total: int, year: int) -> int:
    """Learners first, then their enrolments, each in one bulk load of its own."""
    first_id = _next_id(Learner)
    enrolments: list[tuple[Any, ...]] = []

    def learners() -> Iterator[tuple[Any, ...]]:
        for learner, enrolment in learner_rows(rng, institutions, total, year, first_id):
            enrolments.append(enrolment)
            yield learner

    count = bulk_insert(Learner.__table__, LEARNER_COLUMNS, learners())
    bulk_insert(Enrolment.__table__, ENROLMENT_COLUMNS, enrolments)
    _reset_sequences(Learner)
    return count


def _accounts(instance_path: Path) -> tuple[int, Path]:
    """One account per unit sharing one hash; the department's own; both passwords in a file."""
    shared, own = one_time_password(), one_time_password()
    shared_hash, own_hash = password_hasher.hash(shared), password_hasher.hash(own)
    known = set(db.session.scalars(select(User.login)))
    rows: list[tuple[Any, ...]] = []
    if DEPARTMENT_LOGIN not in known:
        rows.append((DEPARTMENT_LOGIN, "ผู้ดูแลระบบ สถ.", Level.DEPARTMENT.value, None, None,
                     None, own_hash))
    for code in db.session.scalars(select(Province.code).where(Province.code.in_(
            select(Lao.province_code)))):
        rows.append((code, None, Level.PROVINCE.value, code, None, None, shared_hash))
    for lao_id, code, province in db.session.execute(select(Lao.id, Lao.code, Lao.province_code)):
        rows.append((code, None, Level.LAO.value, province, lao_id, None, shared_hash))
    for inst_id, code, lao_id, province in db.session.execute(
            select(Institution.id, Institution.code, Institution.lao_id, Lao.province_code)
            .join(Lao)):
        rows.append((code, None, Level.INSTITUTION.value, province, lao_id, inst_id, shared_hash))
    rows = [row for row in rows if row[0] not in known]
    columns = ("login", "name", "level", "province_code", "lao_id", "institution_id",
               "password_hash", "must_change_password", "active", "session_version")
    added = bulk_insert(User.__table__, columns, (row + (True, True, 1) for row in rows))
    out = instance_path / "national-accounts.txt"
    instance_path.mkdir(parents=True, exist_ok=True)
    out.write_text(f"{DEPARTMENT_LOGIN}: {own}\nevery province, LAO and institution account "
                   f"(login = its code): {shared}\n", encoding="utf-8")
    out.chmod(0o600)
    return added, out


def build_national(instance_path: Path, registry: Path, learners: int, force: bool,
                   seed: str = "lec-national") -> NationalReport:
    """Build the national set on the configured database; refuse a database holding learners."""
    if holds_learners():
        if not force:
            raise RuleViolation(_("This database already holds learners; use --force to empty "
                                  "it and build the national set anyway."))
        empty_everything()
    load_geography()
    report = import_laos(registry)
    if report.errors:
        raise RuleViolation(report.errors[:20])
    rng = random.Random(seed)
    laos = db.session.execute(select(Lao.id, Lao.code, Lao.lao_type, Lao.province_code,
                                     Lao.district_code)).all()
    subdistricts: dict[str, list[str]] = {}
    for code, district in db.session.execute(select(Subdistrict.code, Subdistrict.district_code)):
        subdistricts.setdefault(district, []).append(code)
    plans = plan_institutions(rng, [tuple(lao) for lao in laos], subdistricts, SCHOOLS, CENTRES)
    bulk_insert(Institution.__table__, ("id", "code", "name", "kind", "lao_id",
                                        "subdistrict_code", "phone", "active",
                                        "accepts_online_applications"),
                (plan + (True, False) for plan in plans))
    _reset_sequences(Institution)
    ensure_current_round()
    db.session.flush()
    year = current_academic_year(db.session)
    lao_type = {lao.id: lao.lao_type for lao in laos}
    institutions = [(i, code, kind, lao_type[lao_id], place)
                    for i, code, _name, kind, lao_id, place, _phone in plans]
    count = _load_learners(rng, institutions, learners, year)
    accounts, out = _accounts(instance_path)
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        # Statistics for the planner, and the visibility map that lets lists page on the
        # indexes alone (index-only scans) before autovacuum would get round to it.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return NationalReport(len(laos), len(plans), count, accounts, out)

