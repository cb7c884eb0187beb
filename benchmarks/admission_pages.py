"""How the public admission pages and the institution's list answer at national size.

Builds 7,600 SAOs with 20,900 institutions (about 5% taking online applications) and 5,000
applications, then times each page once warm and counts its SQL statements.

Run: PYTHONPATH=. .venv/bin/python benchmarks/admission_pages.py [DATABASE_URL]
     (default: a temp SQLite file)
"""

import re
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from flask import Flask
from sqlalchemy import event, select

import clock
from app import create_app
from models import Application, District, Institution, Lao, Level, User, db
from rules.identity import check_digit
from seed.geography import load_geography
from seed.learners import letters
from web.admission import academic_years

SAOS_PER_DISTRICT = 9


def build() -> None:
    """SAOs in every district, each with a school and one or two centres; some open."""
    n = 0
    for district in db.session.scalars(select(District).order_by(District.code)):
        pp, dd = district.code[:2], district.code[2:4]
        for seq in range(1, SAOS_PER_DISTRICT + 1):
            lao = Lao(code=f"06{pp}{dd}{seq:02d}", name=f"อบต.ทดสอบ {pp}{dd}{seq:02d}",
                      lao_type=6, province_code=pp, district_code=district.code)
            db.session.add(lao)
            for kind, digit in (("school", "3"), ("cdc", "6"), ("cdc", "6"))[:2 + seq % 2]:
                n += 1
                db.session.add(Institution(
                    code=f"30{pp}{digit}{n % 100000:05d}", name=f"สถานศึกษา {n}", kind=kind,
                    lao=lao, accepts_online_applications=n % 20 == 0))
        db.session.flush()
    db.session.commit()


def applications(count: int) -> Institution:
    """`count` applications, a fifth of them to one institution; returns that institution."""
    open_ones = db.session.scalars(select(Institution).where(
        Institution.accepts_online_applications.is_(True), Institution.kind == "school")
        .order_by(Institution.id)).all()
    busy, year = open_ones[0], academic_years()[0]
    for i in range(count):
        first12 = f"1{i:011d}"
        target = busy if i % 5 == 0 else open_ones[i % len(open_ones)]
        db.session.add(Application(
            institution_id=target.id, national_id=first12 + str(check_digit(first12)),
            title="เด็กชาย", first_name=f"ทดสอบ{letters(i)}", last_name="นามสกุล",
            birth_date=date(clock.ce_year(year) - 6, 1, 10), gender="M", grade="P1",
            academic_year=year, contact_name="ผู้ปกครอง", contact_phone="0812345678"))
        if i % 1000 == 999:
            db.session.flush()
    db.session.commit()
    return busy


def timed(app: Flask, client: object, method: str, path: str, **kwargs: object) -> str:
    queries: list[str] = []

    def count(*args: object) -> None:
        queries.append(str(args[2]))

    getattr(client, method)(path, **kwargs)  # warm
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    start = time.perf_counter()
    response = getattr(client, method)(path, **kwargs)
    took = time.perf_counter() - start
    event.remove(engine, "before_cursor_execute", count)
    print(f"{method.upper()} {path}: HTTP {response.status_code}, {took * 1000:.0f} ms, "
          f"{len(queries)} SQL statements")
    return response.get_data(as_text=True)


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{folder}/bench.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                      "WTF_CSRF_ENABLED": False})
    app.instance_path = str(folder)
    with app.app_context():
        db.create_all()
        load_geography()
        start = time.perf_counter()
        build()
        busy = applications(5000)
        institutions = db.session.query(Institution).count()
        opened = db.session.query(Institution).filter(
            Institution.accepts_online_applications.is_(True)).count()
        print(f"built {institutions} institutions ({opened} open) and 5000 applications in "
              f"{time.perf_counter() - start:.0f} s")
        staff = User(login=busy.code, level=Level.INSTITUTION, institution=busy,
                     password_hash="x", must_change_password=False)
        department = User(login="dla.bench", level=Level.DEPARTMENT, password_hash="x",
                          must_change_password=False)
        db.session.add_all([staff, department])
        db.session.commit()
        busy_code, lao_id, pp = busy.code, busy.lao_id, busy.code[2:4]
        staff_id, department_id = staff.get_id(), department.get_id()

    parent = app.test_client()
    timed(app, parent, "get", "/apply")
    timed(app, parent, "get", f"/apply/province/{pp}")
    timed(app, parent, "get", f"/apply/lao/{lao_id}")
    timed(app, parent, "get", f"/apply/{busy_code}")
    with app.app_context():
        code = db.session.scalar(select(Application.tracking_code).limit(1))
    timed(app, parent, "post", "/track", data={"code": code})
    for who in (staff_id, department_id):
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = who
            session["_fresh"] = True
            session["signed_in_at"] = session["seen_at"] = int(time.time())
            session["ready"] = True  # past the first-login profile gate
        html = timed(app, client, "get", "/admin/application/")
        shown = len(re.findall(r"ทดสอบ\d+", html))
        print(f"  ({shown} applications on the page)")


if __name__ == "__main__":
    main()
