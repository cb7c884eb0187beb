"""Demo learners: thousands of children with valid IDs, Thai names and ages that fit the grade."""

import random
from datetime import date, timedelta

from sqlalchemy import select

import clock
from models import (
    Building,
    CentreBasicData,
    Enrolment,
    Institution,
    Lao,
    LaoType,
    Learner,
    OtherSchool,
    OtherSchoolCount,
    Round,
    db,
)
from models.people import CDC_GRADES, COUNT_GRADES, GRADE_AGE, SCHOOL_GRADES
from rules.enrolment import current_academic_year
from rules.identity import check_digit

BOYS = ("ธนากร", "ณัฐวุฒิ", "กิตติพัฒน์", "ภูมิพัฒน์", "ปัณณวิชญ์", "ธีรภัทร", "ศุภกร", "อนุชา",
        "วรเมธ", "พีรพัฒน์", "ชยพล", "ภาคิน", "กฤษดา", "สิทธิชัย", "นพดล", "ธนวัฒน์")
GIRLS = ("ณัฐธิดา", "กัญญาณัฐ", "พิมพ์ชนก", "ชนิดา", "ปริยากร", "สุภัสสรา", "อรอุมา", "ธิดารัตน์",
         "กมลชนก", "วรรณิศา", "ศิริพร", "เบญจมาศ", "ปาริชาติ", "นภัสสร", "อภิญญา", "จิราพร")
SURNAMES = ("ศรีสุข", "บุญมา", "แก้วมณี", "สายทอง", "ทองดี", "พรหมมา", "ใจดี", "จันทร์เพ็ญ",
            "สมบูรณ์", "อินทร์แก้ว", "ประเสริฐ", "วงศ์สวัสดิ์", "ดวงจันทร์", "ชัยมงคล", "คำแสน",
            "บุญเรือง", "พิมพ์ทอง", "สุขประเสริฐ", "ศรีวงศ์", "มณีวงศ์")
RELIGIONS = ("พุทธ",) * 18 + ("อิสลาม", "คริสต์")


def letters(n: int) -> str:
    """`n` in Thai letters, one per digit (0 ก … 9 ญ): made-up learners told apart by number
    (benchmarks, tests) keep to the name rule, which refuses digits in names."""
    return "".join("กขคงจฉชซฌญ"[int(d)] for d in str(n))


def _national_id(rng: random.Random, province_code: str, seq: int) -> str:
    """A checksummed ID: mostly Thai-born (1...), a few residents (0...) and G-codes."""
    roll = rng.random()
    if roll < 0.01:
        return f"G{rng.randint(60, 68)}{province_code}{seq:08d}"
    first = "0" if roll < 0.03 else "1"
    first12 = f"{first}{province_code}{rng.randint(1, 22):02d}{seq:07d}"
    return first12 + str(check_digit(first12))


def _birth_date(rng: random.Random, grade: str, year_be: int) -> date:
    """Born within the year that makes the child the usual age for the grade on 16 May."""
    term = clock.term_start(year_be)
    latest = term.replace(year=term.year - GRADE_AGE[grade])
    return latest - timedelta(days=rng.randint(0, 364))


def _grades(institution: Institution, lao_type: int) -> tuple[str, ...]:
    if institution.kind == "cdc":
        return CDC_GRADES[:3]
    if lao_type == LaoType.PAO:
        return SCHOOL_GRADES[9:]  # PAO schools are secondary
    return SCHOOL_GRADES[:9]


def build_learners(province_code: str) -> int:
    """Fill every institution of the province with this year's learners, once; return how many."""
    db.session.flush()
    rows = db.session.execute(select(Institution, Lao.lao_type).join(Lao).where(
        Lao.province_code == province_code).order_by(Institution.code)).all()
    ids = [institution.id for institution, _ in rows]
    if not ids or db.session.scalar(select(Enrolment.id).where(
            Enrolment.institution_id.in_(ids)).limit(1)):
        return 0
    rng = random.Random(f"lec-demo-{province_code}")
    year = current_academic_year(db.session)
    seq, total = 0, 0
    for institution, lao_type in rows:
        for grade in _grades(institution, lao_type):
            size = rng.randint(4, 10) if institution.kind == "cdc" else rng.randint(6, 16)
            for n in range(size):
                seq += 1
                boy = rng.random() < 0.51
                child = Learner(
                    national_id=_national_id(rng, province_code, seq),
                    title="เด็กชาย" if boy else "เด็กหญิง", gender="M" if boy else "F",
                    first_name=rng.choice(BOYS if boy else GIRLS),
                    last_name=rng.choice(SURNAMES), birth_date=_birth_date(rng, grade, year),
                    nationality="ไทย", religion=rng.choice(RELIGIONS),
                    disadvantaged=rng.random() < 0.2,
                    guardian_name=f"{rng.choice(('นาย', 'นาง'))} {rng.choice(SURNAMES)}",
                    guardian_phone=f"08{rng.randint(10000000, 99999999)}",
                    registered_subdistrict_code=institution.subdistrict_code,
                    current_subdistrict_code=institution.subdistrict_code)
                db.session.add(child)
                db.session.add(Enrolment(
                    learner=child, institution=institution, academic_year=year, grade=grade,
                    classroom=str(1 + n // 30), enrolled_on=clock.term_start(year),
                    status="active"))
                total += 1
        _basic_data(rng, institution)
        db.session.flush()  # one institution at a time keeps each flush's rule checks small
    _other_school_counts(rng, province_code)
    return total


def _basic_data(rng: random.Random, institution: Institution) -> None:
    if institution.kind == "cdc":
        db.session.add(CentreBasicData(
            institution=institution, head_name=f"นาง{rng.choice(GIRLS)} {rng.choice(SURNAMES)}",
            head_phone=institution.phone, teachers=rng.randint(1, 4),
            assistant_teachers=rng.randint(0, 3), caretakers=rng.randint(1, 3),
            other_staff=rng.randint(0, 2), classrooms=rng.randint(2, 4),
            capacity=rng.randint(40, 90)))
    db.session.add(Building(institution=institution, name="อาคารเรียน ๑", use="ห้องเรียน",
                            built_year=rng.randint(2530, 2565), rooms=rng.randint(3, 12),
                            condition="good"))


def _other_school_counts(rng: random.Random, province_code: str) -> None:
    round_ = db.session.scalar(select(Round).order_by(Round.academic_year.desc(),
                                                      Round.number.desc()).limit(1))
    if round_ is None:
        return
    schools = db.session.scalars(select(OtherSchool).join(Lao).where(
        Lao.province_code == province_code))
    for school in schools:
        for grade in COUNT_GRADES:
            open_ = not school.closed
            db.session.add(OtherSchoolCount(
                round=round_, other_school=school, grade=grade,
                boys=rng.randint(3, 20) if open_ else 0, girls=rng.randint(3, 20) if open_ else 0))
    db.session.flush()
