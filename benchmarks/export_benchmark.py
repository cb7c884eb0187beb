"""Time and peak memory of exporting the student list as CSV and XLSX at 50,000 and 200,000 rows.

Peak memory is the process's resident peak during the download (Linux VmHWM, reset before
each download), shown as growth over the resident size before it. It should not grow with
the row count: rows are streamed from the database with yield_per and written one by one.

Run: PYTHONPATH=. .venv/bin/python benchmarks/export_benchmark.py [ROWS ...] [--url DATABASE_URL]
(default: 50000 200000 on a temp SQLite file)
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import delete, func, insert, select

from app import create_app
from models import Enrolment, Institution, Lao, Learner, Level, User, db
from rules.identity import check_digit
from seed.geography import load_geography
from seed.learners import letters

SCHOOLS = 100
YEAR = 2568


def national_id(n: int) -> str:
    body = f"1{n:011d}"
    return body + str(check_digit(body))


def fill(rows: int) -> None:
    """`rows` learners, each with one active enrolment, spread over 100 schools (Core inserts)."""
    db.session.execute(delete(Enrolment))
    db.session.execute(delete(Learner))
    schools = db.session.scalars(select(Institution.id)).all()
    for start in range(0, rows, 10_000):
        chunk = range(start, min(start + 10_000, rows))
        db.session.execute(insert(Learner), [
            {"id": n + 1, "national_id": national_id(n), "title": "เด็กชาย",
             "first_name": f"ทดสอบ{letters(n)}",
             "last_name": "=ส่งออก" if n % 1000 == 0 else "ส่งออก",  # formula-safe export
             "gender": "MF"[n % 2], "birth_date": date(2015, 1 + n % 12, 1 + n % 28)}
            for n in chunk])
        db.session.execute(insert(Enrolment), [
            {"learner_id": n + 1, "institution_id": schools[n % len(schools)],
             "academic_year": YEAR, "grade": "P3", "classroom": f"3/{n % 4}",
             "status": "active"} for n in chunk])
    db.session.commit()


def setup() -> User:
    """One LAO with 100 schools and a department account."""
    lao = Lao(code="05330101", name="เทศบาลตำบลทดสอบ", lao_type=5, province_code="33",
              district_code="3301")
    db.session.add(lao)
    db.session.add_all(Institution(code=f"30332{n:05d}", name=f"โรงเรียน {n}", kind="school",
                                   lao=lao) for n in range(SCHOOLS))
    user = User(login="bench.department", level=Level.DEPARTMENT, password_hash="x",
                must_change_password=False)
    db.session.add(user)
    db.session.commit()
    return user


def download(app, user: User, path: str) -> None:
    """Run in a fresh process: one streamed download; print seconds, bytes and peak RSS."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["ready"] = True
        session["signed_in_at"] = session["seen_at"] = int(time.time())
    client.get("/admin/")  # warm up: templates, translations
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    response = client.get(path, buffered=False)
    size = sum(len(chunk) for chunk in response.iter_encoded())
    response.close()
    took = time.perf_counter() - start
    assert response.status_code == 200, response.status_code
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"{took:.1f} {size} {before} {peak}")


def main() -> None:
    args = sys.argv[1:]
    url = None
    if "--url" in args:
        url = args.pop(args.index("--url") + 1)
        args.remove("--url")
    if args and args[0] == "--download":  # the child process of one measurement
        # The export itself, not the page that offers a job above LEC_EXPORT_JOB_ROWS.
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "TESTING": True, "LEC_EXPORT_JOB_ROWS": 10**9})
        with app.app_context():
            user = db.session.scalar(select(User).where(User.login == "bench.department"))
            download(app, user, args[1])
        return
    sizes = [int(a) for a in args] or [50_000, 200_000]
    folder = Path(tempfile.mkdtemp())
    url = url or f"sqlite:///{folder}/bench.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    app.instance_path = str(folder)
    with app.app_context():
        db.create_all()
        load_geography()
        setup()
    for rows in sizes:
        with app.app_context():
            fill(rows)
            count = db.session.scalar(select(func.count()).select_from(Enrolment))
            db.session.remove()
        for kind in ("csv", "xlsx"):
            child = subprocess.run(
                [sys.executable, __file__, "--url", url, "--download",
                 f"/admin/student/export/{kind}/"],
                capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": "."})
            took, size, before, peak = child.stdout.split()[-4:]
            print(f"{kind.upper():4} {count:>7} rows: {float(took):6.1f} s, "
                  f"{int(size) / 1e6:6.1f} MB file, peak RSS {int(peak) / 1e6:4.0f} MB "
                  f"(+{(int(peak) - int(before)) / 1e6:.0f} MB during the download)", flush=True)


if __name__ == "__main__":
    main()
