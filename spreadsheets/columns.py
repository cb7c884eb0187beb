"""The learner-record columns, shared by the learner export and the import, in LEC's order.

The order is the legacy LEC per-student report's where we keep the field (names apart, birth
date, ethnicity, nationality, religion, national ID, enrolment date, height, weight, status,
grade, classroom, then guardian and the two addresses), so an export lines up with the report
users already have. `aliases` are the other header texts the import reads for the same field:
the legacy report's, OBEC DMC's and our own earlier template's.
"""

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_pgettext


@dataclass(frozen=True)
class Column:
    """One field of the learner record as a spreadsheet column."""

    key: str  # attribute of Learner or Enrolment
    label: Any  # lazy header text; Thai on Thai pages (GLOSSARY terms)
    # How cells are read: text, id, date, number, gender, grade, flag, status, title.
    kind: str = "text"
    required: bool = False
    max_length: int = 200
    aliases: tuple[str, ...] = ()
    on_enrolment: bool = False


def _c(key: str, label: Any, **options: Any) -> Column:
    return Column(key, label, **options)


COLUMNS: tuple[Column, ...] = (
    _c("title", lazy_pgettext("import column", "Title"), kind="title", max_length=30,
       aliases=("คำนำหน้า", "คำนำหน้าชื่อ", "คำนำหน้าชื่อนักเรียน", "title")),
    _c("first_name", lazy_pgettext("import column", "First name"), required=True,
       max_length=100, aliases=("ชื่อ", "ชื่อนักเรียน", "first name")),
    _c("last_name", lazy_pgettext("import column", "Last name"), required=True,
       max_length=100, aliases=("นามสกุล", "นามสกุลนักเรียน", "last name", "surname")),
    _c("birth_date", lazy_pgettext("import column", "Birth date"), kind="date",
       aliases=("วันเดือนปีเกิด", "วันเกิด", "วัน/เดือน/ปีเกิด", "birth date")),
    _c("ethnicity", lazy_pgettext("import column", "Ethnicity"), max_length=50,
       aliases=("เชื้อชาติ", "ethnicity")),
    _c("nationality", lazy_pgettext("import column", "Nationality"), max_length=50,
       aliases=("สัญชาติ", "nationality")),
    _c("religion", lazy_pgettext("import column", "Religion"), max_length=50,
       aliases=("ศาสนา", "religion")),
    _c("national_id", lazy_pgettext("import column", "National ID or G-code"), kind="id",
       required=True, max_length=13,
       aliases=("เลขประจำตัวประชาชน", "เลขประจำตัวประชาชน 13 หลัก", "เลขบัตรประชาชน",
                "รหัส g", "national id")),
    _c("enrolled_on", lazy_pgettext("import column", "Enrolment date"), kind="date",
       on_enrolment=True,
       aliases=("วันเดือนปีเข้าศึกษา", "วันเข้าศึกษา", "วันที่เข้าเรียน", "วันที่เข้าศึกษา",
                "enrolment date")),
    _c("height_cm", lazy_pgettext("import column", "Height (cm)"), kind="number",
       aliases=("ส่วนสูง", "ส่วนสูง (ซม.)", "ส่วนสูง(ซม.)", "height")),
    _c("weight_kg", lazy_pgettext("import column", "Weight (kg)"), kind="number",
       aliases=("น้ำหนัก", "น้ำหนัก (กก.)", "น้ำหนัก(กก.)", "weight")),
    _c("status", lazy_pgettext("import column", "Status"), kind="status", on_enrolment=True,
       aliases=("สภาพนักเรียน", "สถานะ", "สถานะนักเรียน", "status")),
    _c("grade", lazy_pgettext("import column", "Grade"), kind="grade", required=True,
       max_length=2, on_enrolment=True, aliases=("ระดับชั้น", "ชั้น", "ชั้นเรียน", "grade")),
    _c("classroom", lazy_pgettext("import column", "Classroom"), max_length=20,
       on_enrolment=True, aliases=("ห้องเรียน", "ห้อง", "classroom", "room")),
    _c("gender", lazy_pgettext("import column", "Gender"), kind="gender",
       aliases=("เพศ", "gender", "sex")),
    _c("disadvantaged", lazy_pgettext("import column", "Disadvantaged"), kind="flag",
       aliases=("ด้อยโอกาส", "ความด้อยโอกาส", "disadvantaged")),
    _c("guardian_name", lazy_pgettext("import column", "Guardian"),
       aliases=("ผู้ปกครอง", "ชื่อผู้ปกครอง", "ชื่อ-นามสกุลผู้ปกครอง", "guardian")),
    _c("guardian_phone", lazy_pgettext("import column", "Guardian's phone"), max_length=50,
       aliases=("โทรศัพท์ผู้ปกครอง", "เบอร์โทรผู้ปกครอง", "ผู้ปกครอง|เบอร์โทร",
                "ผู้ปกครอง|เบอร์โทรศัพท์", "ผู้ปกครอง|โทรศัพท์", "guardian's phone")),
    _c("registered_address", lazy_pgettext("import column", "Registered address"),
       max_length=300, aliases=("ที่อยู่ตามทะเบียนบ้าน", "registered address")),
    _c("registered_subdistrict_code",
       lazy_pgettext("import column", "Registered address subdistrict code"), max_length=6,
       aliases=("รหัสตำบลตามทะเบียนบ้าน", "registered address subdistrict code")),
    _c("current_address", lazy_pgettext("import column", "Current address"), max_length=300,
       aliases=("ที่อยู่ปัจจุบัน", "current address")),
    _c("current_subdistrict_code",
       lazy_pgettext("import column", "Current address subdistrict code"), max_length=6,
       aliases=("รหัสตำบลที่อยู่ปัจจุบัน", "current address subdistrict code")),
)
BY_KEY = {c.key: c for c in COLUMNS}
ENROLMENT_FIELDS = tuple(c.key for c in COLUMNS if c.on_enrolment)
LEARNER_FIELDS = tuple(c.key for c in COLUMNS if not c.on_enrolment and c.key != "national_id")
# What an institution keeps of a learner who has left it: who was there, not how to reach them.
WHO_WAS_THERE = frozenset({"national_id", "title", "first_name", "last_name", "gender",
                           "birth_date"})

# Parts of a split address (the legacy report and DMC) joined into one address line; the
# group header ("ที่อยู่ตามทะเบียนบ้าน", "ที่อยู่ปัจจุบัน") says which address they belong to.
ADDRESS_GROUPS = {"ที่อยู่ตามทะเบียนบ้าน": "registered_address",
                  "ที่อยู่ปัจจุบัน": "current_address", "ที่อยู่": "registered_address"}
ADDRESS_PARTS = (
    ("house", ("เลขที่", "บ้านเลขที่"), ""),
    ("moo", ("หมู่ที่", "หมู่"), "หมู่ "),
    ("road", ("ถนน", "ถนน/ซอย", "ซอย"), ""),
    ("subdistrict", ("ตำบล", "ตำบล/แขวง", "แขวง"), "ต."),
    ("district", ("อำเภอ", "อำเภอ/เขต", "เขต"), "อ."),
    ("province", ("จังหวัด",), "จ."),
    ("postcode", ("รหัสไปรษณีย์",), ""),
)
# A guardian's name in parts (the legacy report's ผู้ปกครอง group; DMC's two columns).
GUARDIAN_PARTS = (
    ("title", ("ผู้ปกครอง|คำนำหน้า", "ผู้ปกครอง|คำนำหน้าชื่อ")),
    ("first", ("ผู้ปกครอง|ชื่อ",)),
    ("last", ("ผู้ปกครอง|นามสกุล", "นามสกุลผู้ปกครอง")),
)
# Columns that name the institution a file belongs to (checked against the importing unit).
INSTITUTION_CODE_HEADERS = ("รหัสสถานศึกษา", "รหัสโรงเรียน", "รหัสศูนย์", "รหัสสถานศึกษา 10 หลัก")
INSTITUTION_NAME_HEADERS = ("สถานศึกษา", "ชื่อสถานศึกษา", "ชื่อโรงเรียน", "โรงเรียน")
