"""LEC at national scale, side by side: LEC over HTTP, the raw SQL of the same page, and a plain
Flask-Admin ModelView over the same tables; then export rows/s with peak memory and the national
reports.

Build the national set first (flask --app app lec demo --national), then:

    LEC_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/lec_national \\
        PYTHONPATH=. .venv/bin/python benchmarks/national.py [--repeat 30] [--no-xlsx]

Both apps are served by werkzeug on loopback in this process (threaded); the client is urllib.
"Raw SQL" replays, on a plain psycopg connection with the session settings LEC's connections get
(app.POSTGRESQL_SESSION), every statement LEC ran for that page. "Bare Flask" is the floor under
any Flask page: a bare app, served and fetched the same way, that replays those statements and
answers with the page's own bytes. "Its SQL" replays the plain Flask-Admin view's own statements
the same way, so each view's own work (its p50 less its SQL) can be compared.
The script adds two benchmark accounts (bench.department, bench.province) with a profile, and,
if no institution has confirmed yet, confirms every institution of the open round (one INSERT …
SELECT per table, as rules.confirmation would) so the reports have national snapshots.
Figures are medians (p50) and p95 of --repeat runs; print them beside their goals.
"""

import argparse
import gc
import http.cookiejar
import logging
import os
import re
import statistics
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import psycopg
from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_babel import Babel
from sqlalchemy import case, event, func, insert, literal, select, text
from werkzeug.serving import make_server

from app import POSTGRESQL_SESSION, create_app
from models import Confirmation, Enrolment, Institution, Lao, Learner, Level, Profile, User, db
from models.accounts import password_hasher
from models.rounds import SnapshotCount
from rules import totals
from rules.enrolment import current_academic_year

PASSWORD = "bench-Pass-2569-national"
GOALS = {"id": "p95 < 50 ms over HTTP", "list": "<= 1.5x raw SQL, < plain Flask-Admin",
         "csv": ">= 50,000 rows/s, flat memory", "xlsx": ">= 15,000 rows/s",
         "report": "< 200 ms"}


# -- setup ---------------------------------------------------------------------------------

def bench_province() -> str:
    """The province whose learners are nearest the 21,000 of the issue's measurement."""
    count = func.count(Enrolment.id)
    return db.session.execute(
        select(Lao.province_code, count).join(Institution, Institution.lao_id == Lao.id)
        .join(Enrolment, Enrolment.institution_id == Institution.id)
        .where(Institution.kind == "school")
        .group_by(Lao.province_code).order_by(func.abs(count - 21_000)).limit(1)).one()[0]


def smallest_province() -> str:
    """The province with the fewest students: a search there is the scope's own few rows."""
    return db.session.execute(
        select(Lao.province_code).join(Institution, Institution.lao_id == Lao.id)
        .join(Enrolment, Enrolment.institution_id == Institution.id)
        .where(Institution.kind == "school")
        .group_by(Lao.province_code).order_by(func.count(Enrolment.id)).limit(1)).one()[0]


def ensure_accounts(province: str, smallest: str) -> None:
    hashed = password_hasher.hash(PASSWORD)
    for login, level, unit in (("bench.department", Level.DEPARTMENT, {}),
                               ("bench.province", Level.PROVINCE, {"province_code": province}),
                               ("bench.small", Level.PROVINCE, {"province_code": smallest})):
        user = db.session.scalar(select(User).where(User.login == login))
        if user is None:
            user = User(login=login, level=str(level), name="benchmark", **unit)
            db.session.add(user)
            db.session.add(Profile(user=user, first_name="ทดสอบ", surname="ความเร็ว",
                                   position="benchmark", phone="020000000"))
        for key, value in unit.items():
            setattr(user, key, value)
        user.password_hash, user.must_change_password, user.active = hashed, False, True
    db.session.commit()


def ensure_snapshots() -> None:
    """Every institution confirmed in the open round, in bulk (benchmark data only)."""
    if db.session.scalar(select(Confirmation.id).limit(1)):
        return
    from rules.progress import current_round

    round_ = current_round(db.session)
    now = func.now()
    db.session.execute(insert(Confirmation).from_select(
        ["round_id", "level", "database", "province_code", "lao_id", "institution_id",
         "confirmed_at", "confirmed_by"],
        select(literal(round_.id), literal("institution"),
               case((Institution.kind == "school", literal("students")),
                    else_=literal("children")),
               Lao.province_code, Lao.id, Institution.id, now,
               literal("benchmark")).join(Lao, Lao.id == Institution.lao_id)))
    db.session.execute(insert(SnapshotCount).from_select(
        ["confirmation_id", "grade", "gender", "count"],
        select(Confirmation.id, Enrolment.grade, Learner.gender, func.count())
        .join(Enrolment, Enrolment.institution_id == Confirmation.institution_id)
        .join(Learner, Learner.id == Enrolment.learner_id)
        .where(Enrolment.academic_year == round_.academic_year, Enrolment.status == "active")
        .group_by(Confirmation.id, Enrolment.grade, Learner.gender)))
    totals.rebuild(db.session, round_.id)  # what each confirm would have kept
    db.session.commit()
    db.session.execute(text("ANALYZE confirmation"))
    db.session.execute(text("ANALYZE snapshot_count"))
    db.session.commit()


def plain_app(url: str, province: str) -> Flask:
    """Flask-Admin as it comes: a ModelView over enrolments, with LEC's scope and columns."""
    plain = Flask("plain")
    plain.config.update(SQLALCHEMY_DATABASE_URI=url, SECRET_KEY="bench")
    db.init_app(plain)
    Babel(plain)

    class Enrolments(ModelView):
        column_list = ("learner.national_id", "learner", "learner.gender", "grade",
                       "classroom", "academic_year", "institution", "status")
        column_searchable_list = ("learner.national_id", "learner.first_name",
                                  "learner.last_name")
        column_default_sort = [("academic_year", True), ("institution_id", False),
                               ("grade", False), ("classroom", False)]
        page_size = 50

        def _scoped(self, query: Any) -> Any:
            ids = (select(Institution.id).join(Lao).where(Lao.province_code == province,
                                                          Institution.kind == "school"))
            return query.filter(Enrolment.institution_id.in_(ids))

        def get_query(self) -> Any:
            return self._scoped(super().get_query())

        def get_count_query(self) -> Any:
            return self._scoped(super().get_count_query())

    admin = Admin(plain, name="plain")
    admin.add_view(Enrolments(Enrolment, db, endpoint="plain"))
    return plain


def bare_app(dsn: str) -> tuple[Flask, dict[str, Any]]:
    """The floor under any Flask page: a bare app that runs the statements a LEC page ran and
    answers with that page's own bytes, served and fetched as LEC is. Fill the dict with
    `statements` and `body`."""
    bare, page = Flask("bare"), {}
    connection = psycopg.connect(dsn, autocommit=True, options=POSTGRESQL_SESSION)

    @bare.get("/")
    def replay() -> bytes:
        for statement, parameters in page["statements"]:
            connection.execute(statement, parameters).fetchall()
        return page["body"]

    return bare, page


def serve(app: Flask) -> str:
    # A line per request on stderr would bury the figures (thousands of requests).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


class Client:
    """A signed-in browser: cookies and the CSRF token, over real loopback HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> bytes:
        with self.opener.open(self.base + path, timeout=600) as response:
            return response.read()

    def login(self, login: str) -> "Client":
        page = self.get("/login").decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page)
        data = urllib.parse.urlencode({"login": login, "password": PASSWORD,
                                       "csrf_token": token.group(1)}).encode()
        self.opener.open(self.base + "/login", data=data, timeout=60).read()
        return self


# -- measuring -----------------------------------------------------------------------------

def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds of `repeat` calls (after one warm-up)."""
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


class Recorder:
    """The SQL statements LEC runs for one page, to replay them raw."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.on = False

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                 context: Any, executemany: bool) -> None:
        if self.on:
            self.statements.append((statement, parameters))


def recorded(recorder: Recorder, call: Callable[[], Any]) -> tuple[Any, list[tuple[str, Any]]]:
    """What `call` returns, and the statements it ran."""
    recorder.statements, recorder.on = [], True
    try:
        return call(), recorder.statements
    finally:
        recorder.on = False


def raw_sql(dsn: str, statements: list[tuple[str, Any]], repeat: int) -> tuple[float, float]:
    with psycopg.connect(dsn, autocommit=True, options=POSTGRESQL_SESSION) as conn:
        def run() -> None:
            for statement, parameters in statements:
                conn.execute(statement, parameters).fetchall()
        return timed(run, repeat)


def reset_peak() -> float:
    """Reset the kernel's resident peak (VmHWM) and return the resident size now, in MB."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    return current_rss_mb()


def current_rss_mb() -> float:
    with open("/proc/self/status") as handle:
        fields = dict(line.split(":", 1) for line in handle)
    return int(fields["VmRSS"].split()[0]) / 1024


def vm_hwm_mb() -> float:
    with open("/proc/self/status") as handle:
        fields = dict(line.split(":", 1) for line in handle)
    return int(fields["VmHWM"].split()[0]) / 1024


def download(client: Client, path: str) -> tuple[int, int, float, float]:
    """(bytes, lines, seconds, peak growth MB) of one streamed download."""
    before = reset_peak()
    started = time.perf_counter()
    size = lines = 0
    with client.opener.open(client.base + path, timeout=3600) as response:
        while chunk := response.read(1 << 20):
            size += len(chunk)
            lines += chunk.count(b"\n")
    return size, lines, time.perf_counter() - started, vm_hwm_mb() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-xlsx", action="store_true")
    parser.add_argument("--no-export", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("LEC_SECURE_COOKIES", "0")  # plain http on loopback
    app = create_app()
    gc.freeze()  # as gunicorn.conf.py does before it forks the workers
    # Measure the export itself: above LEC_EXPORT_JOB_ROWS the same code runs in a job.
    app.config["LEC_EXPORT_JOB_ROWS"] = 10**9
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        assert db.engine.dialect.name == "postgresql", "measure on PostgreSQL"
        dsn = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        province, smallest = bench_province(), smallest_province()
        ensure_accounts(province, smallest)
        ensure_snapshots()
        year = current_academic_year(db.session)
        learners = db.session.scalar(select(func.count()).select_from(Learner))
        sample = db.session.execute(text(
            "SELECT l.national_id, l.last_name FROM learner l JOIN enrolment e "
            "ON e.learner_id = l.id JOIN institution i ON i.id = e.institution_id "
            "WHERE i.kind = 'school' ORDER BY l.id LIMIT 1 OFFSET :n"),
            {"n": learners // 3}).one()
        recorder = Recorder()
        event.listen(db.engine, "before_cursor_execute", recorder)
    lec = serve(app)
    plain_flask = plain_app(url, province)
    plain_recorder = Recorder()
    with plain_flask.app_context():
        event.listen(db.engine, "before_cursor_execute", plain_recorder)
    plain = serve(plain_flask)
    department = Client(lec).login("bench.department")
    provincial = Client(lec).login("bench.province")
    small = Client(lec).login("bench.small")
    plain_client = Client(plain)
    bare, replayed = bare_app(dsn)
    bare_client = Client(serve(bare))
    print(f"National set: {learners:,} learners; province {province}; year {year}; "
          f"repeat {args.repeat}; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start.")

    def page(client: Client, path: str) -> tuple[float, float, float, float]:
        lec_p50, lec_p95 = timed(lambda: client.get(path), args.repeat)
        replayed["body"], replayed["statements"] = recorded(recorder, lambda: client.get(path))
        raw_p50 = raw_sql(dsn, replayed["statements"], args.repeat)[0]
        bare_p50 = timed(lambda: bare_client.get("/"), args.repeat)[0]
        return lec_p50, lec_p95, raw_p50, bare_p50

    rows = [
        ("ID search, department", department, f"/admin/student/?search={sample[0]}",
         f"/admin/plain/?search={sample[0]}", "id"),
        ("surname search, department", department,
         "/admin/student/?search=" + urllib.parse.quote(sample[1]),
         "/admin/plain/?search=" + urllib.parse.quote(sample[1]), "list"),
        (f"surname search, province {smallest}", small,
         "/admin/student/?search=" + urllib.parse.quote(sample[1]), None, "list"),
        ("province list, page 1", provincial, "/admin/student/", "/admin/plain/", "list"),
        ("province list, page 200 (deepest)", provincial, "/admin/student/?page=199",
         "/admin/plain/?page=199", "list"),
        ("national list, page 1", department, "/admin/student/", None, "list"),
        # Young children: their centres come after every school in the national sort index.
        ("province children, page 1", provincial, "/admin/child/", None, "list"),
        ("national children, page 1", department, "/admin/child/", None, "list"),
        # Learners found through the enrolment holding them (rules.tree.holds_learner).
        ("province learner identities, page 1", provincial, "/admin/learner/", None, "list"),
    ]
    print(f"\n{'page':38} {'LEC p50/p95 ms':>17} {'raw SQL p50':>12} {'LEC/raw':>8} "
          f"{'bare Flask':>11} {'plain FA p50':>13} {'its SQL':>8}  goal")
    for label, client, path, plain_path, goal in rows:
        lec_p50, lec_p95, raw_p50, bare_p50 = page(client, path)
        plain_text = f"{'(n/a)':>13} {'':>8}"
        if plain_path:
            def plain_page(p: str = plain_path) -> bytes:
                return plain_client.get(p)
            plain_p50 = timed(plain_page, args.repeat)[0]
            plain_sql = raw_sql(dsn, recorded(plain_recorder, plain_page)[1], args.repeat)[0]
            plain_text = f"{plain_p50:13.1f} {plain_sql:8.1f}"
        print(f"{label:38} {lec_p50:8.1f}/{lec_p95:<8.1f} {raw_p50:12.1f} "
              f"{lec_p50 / raw_p50:8.2f} {bare_p50:11.1f} {plain_text}  {GOALS[goal]}")

    print(f"\n{'report, department':38} {'p50 ms':>8} {'p95 ms':>8}  goal")
    for label, path in (("national count report", "/admin/reports/"),
                        ("national budget estimate", "/admin/budget/")):
        p50, p95 = timed(lambda p=path: department.get(p), args.repeat)
        print(f"{label:38} {p50:8.1f} {p95:8.1f}  {GOALS['report']}")

    if args.no_export:
        return
    print(f"\n{'export, department':38} {'rows':>10} {'s':>7} {'rows/s':>9} {'peak +MB':>9}  goal")
    total_rows = total_s = 0.0
    for endpoint in ("student", "child"):
        size, lines, seconds, peak = download(department, f"/admin/{endpoint}/export/csv/")
        total_rows += lines - 1
        total_s += seconds
        print(f"{'CSV ' + endpoint:38} {lines - 1:10,} {seconds:7.1f} "
              f"{(lines - 1) / seconds:9,.0f} {peak:9.1f}  {GOALS['csv']}")
    print(f"{'CSV every learner':38} {int(total_rows):10,} {total_s:7.1f} "
          f"{total_rows / total_s:9,.0f}")
    size, lines, seconds, peak = download(provincial, "/admin/student/export/csv/")
    print(f"{'CSV student, province ' + province:38} {lines - 1:10,} {seconds:7.1f} "
          f"{(lines - 1) / seconds:9,.0f} {peak:9.1f}  {GOALS['csv']}")
    if args.no_xlsx:
        return
    import tempfile

    for endpoint in ("child", "student"):
        before = reset_peak()
        started = time.perf_counter()
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
            with department.opener.open(f"{lec}/admin/{endpoint}/export/xlsx/",
                                        timeout=3600) as response:
                while chunk := response.read(1 << 20):
                    handle.write(chunk)
            seconds = time.perf_counter() - started
            peak = vm_hwm_mb() - before
            count = db_count(app, endpoint)
        print(f"{'XLSX ' + endpoint:38} {count:10,} {seconds:7.1f} {count / seconds:9,.0f} "
              f"{peak:9.1f}  {GOALS['xlsx']}")


def db_count(app: Flask, endpoint: str) -> int:
    kind = "school" if endpoint == "student" else "cdc"
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Enrolment).join(
            Institution, Institution.id == Enrolment.institution_id).where(
            Institution.kind == kind))


if __name__ == "__main__":
    main()
