"""How long `lec demo` takes with its learners, and how the learner list answers at that size.

Run: PYTHONPATH=. .venv/bin/python benchmarks/demo_learners.py [DATABASE_URL]
(default: a temp SQLite file)
"""

import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, func, select

import seed.demo
from app import create_app
from models import Enrolment, Institution, Learner, OtherSchoolCount, User, db
from seed.demo import build_demo
from seed.geography import load_geography


def main() -> None:
    """Build the demo province on an empty database and time the screens that matter."""
    folder = Path(tempfile.mkdtemp())
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{folder}/bench.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                      "WTF_CSRF_ENABLED": False})
    app.instance_path = str(folder)
    with app.app_context():
        db.create_all()
        load_geography()
        timings: list[float] = []
        build_learners = seed.demo.build_learners

        def timed(province_code: str) -> int:
            began, cpu = time.perf_counter(), time.process_time()
            try:
                return build_learners(province_code)
            finally:
                timings.extend([time.perf_counter() - began, time.process_time() - cpu])

        seed.demo.build_learners = timed
        start = time.perf_counter()
        build_demo("33", folder)
        built = time.perf_counter() - start
        learners = db.session.scalar(select(func.count()).select_from(Learner))
        counts = db.session.scalar(select(func.count()).select_from(OtherSchoolCount))
        print(f"lec demo (province 33): {built:.1f} s in all, {timings[0]:.1f} s of it "
              f"({timings[1]:.1f} s CPU) in build_learners: {learners} learners, "
              f"{counts} other-affiliation count rows")
        biggest = db.session.execute(
            select(Enrolment.institution_id, func.count()).group_by(Enrolment.institution_id)
            .order_by(func.count().desc()).limit(1)).one()
        institution = db.session.get(Institution, biggest[0])
        user = db.session.scalar(select(User).where(User.institution_id == institution.id))
        user.must_change_password = False
        province = db.session.scalar(select(User).where(User.login == "33"))
        province.must_change_password = False
        db.session.commit()
        for who, path in ((user, "/admin/student/" if institution.kind == "school"
                           else "/admin/child/"), (province, "/admin/student/?page_size=100")):
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = who.get_id()
                session["_fresh"] = True
                session["ready"] = True  # past the first-login profile step
                session["signed_in_at"] = session["seen_at"] = int(time.time())
            queries: list[str] = []

            def count(*args: object, seen: list[str] = queries) -> None:
                seen.append(str(args[2]))

            event.listen(db.engine, "before_cursor_execute", count)
            start = time.perf_counter()
            response = client.get(path)
            status = f"{response.status_code} {response.location or ''}".strip()
            took = time.perf_counter() - start
            event.remove(db.engine, "before_cursor_execute", count)
            print(f"GET {path} as {who.login}: HTTP {status}, {took * 1000:.0f} ms, "
                  f"{len(queries)} SQL statements")


if __name__ == "__main__":
    main()
