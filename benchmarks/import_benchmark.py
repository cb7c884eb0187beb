"""Time and peak memory of importing 10,000 learners from CSV and XLSX (target: under 15 s).

Each file is imported into an empty school, then imported again (nothing may change).

Run: PYTHONPATH=. .venv/bin/python benchmarks/import_benchmark.py [ROWS] [--url DATABASE_URL]
(default: 10000 rows on a temp SQLite file)
"""

import csv
import io
import resource
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter
from sqlalchemy import delete

from app import create_app
from models import Enrolment, Institution, Lao, Learner, Level, User, db
from rules import acting_as
from rules.identity import check_digit
from seed.geography import load_geography
from spreadsheets import learner_import as importer

YEAR = 2568
HEADER = ["เลขประจำตัวประชาชน", "คำนำหน้าชื่อ", "ชื่อ", "นามสกุล", "เพศ", "วันเกิด", "ระดับชั้น",
          "ห้องเรียน", "ศาสนา", "ชื่อผู้ปกครอง", "โทรศัพท์ผู้ปกครอง"]


def rows(count: int) -> list[list[str]]:
    out = []
    for n in range(count):
        body = f"1{n:011d}"
        out.append([body + str(check_digit(body)), "เด็กหญิง" if n % 2 else "เด็กชาย",
                    f"ทดสอบ{n}", "นำเข้า", "หญิง" if n % 2 else "ชาย",
                    f"{1 + n % 28:02d}/{1 + n % 12:02d}/2560", "P2", f"2/{n % 5}", "พุทธ",
                    "นางทดสอบ นำเข้า", "'+66 81 000 0000"])
    return out


def as_csv(data: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(data)
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(data: list[list[str]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False,
                                     "strings_to_formulas": False})
    sheet = book.add_worksheet()
    for r, row in enumerate([HEADER, *data]):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()


def timed_import(school: Institution, user: User, data: bytes) -> tuple[float, int, object]:
    """Seconds, growth of the process's peak resident memory, and the import's result."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    with acting_as(user):
        result = importer.import_learners(db.session, data, school, YEAR)
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert result.ok, result.problems[:5]
    return took, peak - before, result


def main() -> None:
    args = sys.argv[1:]
    url = None
    if "--url" in args:
        url = args.pop(args.index("--url") + 1)
        args.remove("--url")
    count = int(args[0]) if args else 10_000
    folder = Path(tempfile.mkdtemp())
    app = create_app({"SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{folder}/bench.sqlite",
                      "SECRET_KEY": "bench", "TESTING": True})
    app.instance_path = str(folder)
    data = rows(count)
    files = {"CSV": as_csv(data), "XLSX": as_xlsx(data)}
    with app.app_context():
        db.create_all()
        load_geography()
        lao = Lao(code="05330101", name="เทศบาลตำบลทดสอบ", lao_type=5, province_code="33",
                  district_code="3301")
        school = Institution(code="3033200001", name="โรงเรียนทดสอบ", kind="school", lao=lao)
        user = User(login="3033200001", level=Level.INSTITUTION, password_hash="x",
                    institution=school, must_change_password=False)
        db.session.add_all([lao, school, user])
        db.session.commit()
        for kind, payload in files.items():
            if kind != "CSV":  # start again from an empty school
                db.session.execute(delete(Enrolment))
                db.session.execute(delete(Learner))
                db.session.commit()
                db.session.expunge_all()
                school, user = db.session.merge(school), db.session.merge(user)
            took, peak, result = timed_import(school, user, payload)
            print(f"{kind:4} import of {result.rows} learners into an empty school: {took:5.1f} s, "
                  f"{len(payload) / 1e6:.1f} MB file, peak RSS grew {peak / 1e6:.0f} MB",
                  flush=True)
            took, peak, result = timed_import(school, user, payload)
            print(f"{kind:4} same file again: {took:5.1f} s, {result.unchanged} unchanged, "
                  f"{result.learners_created + result.enrolled} added", flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS: {rss:.0f} MB")


if __name__ == "__main__":
    main()
