"""Learner import rows/s for files of 10,000 and 100,000 rows, beside raw COPY of the same rows.

Each file is imported into an empty school (all new), then again (nothing may change). The
import is the command line's (`lec import-learners`: the same checks and report, no upload
bounds). The anchor is PostgreSQL's COPY of the same CSV into a bare table with the same
columns: no checks, no indexes, no audit — the floor of what any import can cost.

Run: PYTHONPATH=. .venv/bin/python benchmarks/import_benchmark.py [ROWS ...] [--url URL] [--xlsx]
(default: 10000 100000 rows; a temporary PostgreSQL database at 127.0.0.1 when --url is not
given and PostgreSQL answers, else a temp SQLite file.)
"""

import csv
import io
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import xlsxwriter
from sqlalchemy import delete

from app import create_app
from models import AuditEntry, Enrolment, Institution, Lao, Learner, Level, User, db
from rules import acting_as
from rules.identity import check_digit
from seed.geography import load_geography
from seed.learners import letters
from spreadsheets import learner_import as importer

YEAR = 2568
HEADER = ["เลขประจำตัวประชาชน", "คำนำหน้าชื่อ", "ชื่อ", "นามสกุล", "วันเกิด", "ระดับชั้น",
          "ห้องเรียน", "ศาสนา", "ชื่อผู้ปกครอง", "โทรศัพท์ผู้ปกครอง"]


def rows(count: int) -> list[list[str]]:
    out = []
    for n in range(count):
        body = f"1{n:011d}"
        out.append([body + str(check_digit(body)), "เด็กหญิง" if n % 2 else "เด็กชาย",
                    f"ทดสอบ{letters(n)}", "นำเข้า", f"{1 + n % 28:02d}/{1 + n % 12:02d}/2560", "ป.2",
                    f"2/{n % 5}", "พุทธ", "นางทดสอบ นำเข้า", "081 000 0000"])
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


def timed_import(school: Institution, user: User, data: bytes) -> tuple[float, object]:
    start = time.perf_counter()
    with acting_as(user):
        result = importer.import_learners(db.session, data, school, YEAR, bounded=False)
        db.session.commit()
    took = time.perf_counter() - start
    assert result.ok, result.problems[:5]
    return took, result


def copy_anchor(payload: bytes) -> float | None:
    """Seconds for PostgreSQL to COPY the same CSV into a bare table (None on SQLite)."""
    if db.engine.dialect.name != "postgresql":
        return None
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("CREATE TEMP TABLE copy_anchor (" + ", ".join(
            f"c{i} text" for i in range(len(HEADER))) + ")")
        start = time.perf_counter()
        with cursor.copy("COPY copy_anchor FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            copy.write(payload.decode("utf-8-sig"))
        connection.commit()
        took = time.perf_counter() - start
        cursor.execute("DROP TABLE copy_anchor")
        connection.commit()
        return took
    finally:
        connection.close()


def empty(school: Institution, user: User) -> tuple[Institution, User]:
    db.session.execute(delete(Enrolment))
    db.session.execute(delete(Learner))
    db.session.commit()
    db.session.expunge_all()
    return db.session.merge(school), db.session.merge(user)


def temp_postgres() -> str | None:
    name = f"lec_import_bench_{uuid.uuid4().hex[:8]}"
    done = subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name],
                          capture_output=True)
    return f"postgresql+psycopg://postgres@127.0.0.1/{name}" if done.returncode == 0 else None


def main() -> None:
    args = sys.argv[1:]
    url = None
    if "--url" in args:
        url = args.pop(args.index("--url") + 1)
        args.remove("--url")
    xlsx = "--xlsx" in args
    if xlsx:
        args.remove("--xlsx")
    counts = [int(a) for a in args] or [10_000, 100_000]
    folder = Path(tempfile.mkdtemp())
    made = None if url else temp_postgres()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url or made
                      or f"sqlite:///{folder}/bench.sqlite",
                      "SECRET_KEY": "bench", "TESTING": True})
    app.instance_path = str(folder)
    try:
        with app.app_context():
            print(f"database: {db.engine.dialect.name}", flush=True)
            db.create_all()
            load_geography()
            lao = Lao(code="05330101", name="เทศบาลตำบลทดสอบ", lao_type=5, province_code="33",
                      district_code="3301")
            school = Institution(code="3033200001", name="โรงเรียนทดสอบ", kind="school",
                                 lao=lao)
            user = User(login="3033200001", level=Level.INSTITUTION, password_hash="x",
                        institution=school, must_change_password=False)
            db.session.add_all([lao, school, user])
            db.session.commit()
            for count in counts:
                data = rows(count)
                files = {"CSV": as_csv(data)}
                if xlsx:
                    files["XLSX"] = as_xlsx(data)
                for kind, payload in files.items():
                    school, user = empty(school, user)
                    took, result = timed_import(school, user, payload)
                    print(f"{count:>7} rows {kind:4} new:       {took:6.2f} s "
                          f"{result.rows / took:8.0f} rows/s  ({result.learners_created} "
                          f"learners, {result.enrolled} enrolments)", flush=True)
                    took, result = timed_import(school, user, payload)
                    print(f"{count:>7} rows {kind:4} same again: {took:6.2f} s "
                          f"{result.rows / took:8.0f} rows/s  ({result.unchanged} unchanged)",
                          flush=True)
                anchor = copy_anchor(files["CSV"])
                if anchor is not None:
                    print(f"{count:>7} rows anchor: COPY of the same CSV into a bare table "
                          f"{anchor:6.2f} s {count / anchor:8.0f} rows/s", flush=True)
            audits = db.session.query(AuditEntry).count()
            print(f"audit entries written: {audits}")
            db.session.remove()
            db.engine.dispose()
    finally:
        if made:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", made.rsplit("/")[-1]],
                           capture_output=True)
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
