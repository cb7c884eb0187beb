"""The deadline crush: simulated users sign in, open lists, edit learners and look at the home
page against gunicorn with gunicorn.conf.py, on loopback only, bounded in users and time.

Run (PostgreSQL holding `lec demo` or `lec demo --national`; it resets the passwords of the
accounts it signs in with, so never point it at production):

    PYTHONPATH=. .venv/bin/python benchmarks/load_deadline.py \\
        postgresql+psycopg://postgres@127.0.0.1:5432/lec_load --users 200 --seconds 120

It prints requests per second, p50/p95/p99 latency per kind of request and the errors, beside
the goal (200 users, p95 < 500 ms, 0 errors on a 2-core machine).
"""

import argparse
import html.parser
import http.client
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "deadline crush 2569"
HOST = "127.0.0.1"


class Form(html.parser.HTMLParser):
    """The inputs, selects and textareas of a page's first POST form with a csrf_token."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "checkbox"):
            self.fields.setdefault(name, a.get("value") or "")
        elif tag == "input" and name and a.get("type") == "checkbox" and "checked" in a:
            self.fields.setdefault(name, a.get("value") or "y")
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and (
                "selected" in a or not self.fields[self._select]):
            self.fields[self._select] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


class Client:
    """One browser: a keep-alive connection and its cookies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data, doseq=True) if data is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A worker recycled by max_requests closes its keep-alive connections.
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
                if attempt:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.getheader("Location") or "", text


def csrf(text: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', text)
    return match.group(1) if match else ""


def user_loop(login: str, port: int, until: float, think: tuple[float, float], ramp: float,
              seed: int, out: list) -> None:
    """Sign in, then until time is up: lists, a search, an edit, the home page."""
    rng = random.Random(seed)
    client = Client(port)

    def timed(kind: str, method: str, path: str, data: dict | None = None) -> tuple[int, str, str]:
        start = time.perf_counter()
        try:
            status, location, text = client.request(method, path, data)
        except Exception as exc:  # noqa: BLE001 - a failed request is an error in the figures
            out.append((kind, time.perf_counter() - start, 599, type(exc).__name__))
            return 599, "", ""
        bad = status >= 400 or (status == 302 and "/login" in location and kind != "sign in")
        out.append((kind, time.perf_counter() - start, status, "bad" if bad else ""))
        return status, location, text

    time.sleep(rng.uniform(0, ramp))  # users arrive spread out, not all in one instant
    status, _, page = timed("sign-in page", "GET", "/login")
    status, _, _ = timed("sign in", "POST", "/login",
                         {"login": login, "password": PASSWORD, "csrf_token": csrf(page)})
    if status != 302:
        return
    ids: list[str] = []
    while time.time() < until:
        time.sleep(rng.uniform(*think))
        if time.time() >= until:
            break
        choice = rng.random()
        if choice < 0.35:
            page_no = rng.choice([0, 0, 0, 1, 2])
            _, _, text = timed("list", "GET", f"/admin/student/?page={page_no}")
            ids = re.findall(r'/admin/student/edit/\?id=(\d+)', text) or ids
        elif choice < 0.50:
            letter = rng.choice("กขคงจฉชซดตทนบปผพมยรลวสหอ")
            timed("search", "GET", f"/admin/student/?search={urllib.parse.quote(letter)}")
        elif choice < 0.75 and ids:
            row = rng.choice(ids)
            status, _, text = timed("edit form", "GET", f"/admin/student/edit/?id={row}")
            if status == 200:
                form = Form()
                form.feed(text)
                fields = form.fields
                fields["classroom"] = f"{rng.randint(1, 3)}/{rng.randint(1, 4)}"
                timed("edit save", "POST", f"/admin/student/edit/?id={row}", fields)
        else:
            timed("home", "GET", "/admin/")


def process_main(logins: list[str], port: int, until: float, think: tuple[float, float],
                 ramp: float, queue: multiprocessing.Queue) -> None:
    """One load process: a thread per user, results sent back at the end."""
    out: list = []
    threads = [threading.Thread(target=user_loop,
                                args=(login, port, until, think, ramp, i, out), daemon=True)
               for i, login in enumerate(logins)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, until - time.time()) + 70)
    queue.put(out)


def prepare(url: str, users: int) -> list[str]:
    """Institution accounts (and some LAO ones) signed in as; one password, past first login."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import select, update

    from app import create_app
    from models import Level, User, db
    from models.accounts import password_hasher
    from models.profiles import Profile

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        chosen = db.session.execute(
            select(User.id, User.login).where(User.level.in_([Level.INSTITUTION, Level.LAO]),
                                              User.active.is_(True))
            .order_by(User.level, User.id).limit(users)).all()
        if len(chosen) < users:
            raise SystemExit(f"only {len(chosen)} institution and LAO accounts in the database")
        ids = [row.id for row in chosen]
        db.session.execute(update(User).where(User.id.in_(ids)).values(
            password_hash=password_hasher.hash(PASSWORD), must_change_password=False))
        profiled = set(db.session.scalars(select(Profile.user_id).where(Profile.user_id.in_(ids))))
        db.session.add_all(Profile(user_id=i, first_name="ทดสอบ", surname="ภาระงาน",
                                   position="เจ้าหน้าที่", phone="045000000")
                           for i in ids if i not in profiled)
        db.session.commit()
        db.engine.dispose()
        return [row.login for row in chosen]


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else 0


def report(results: list, seconds: float, users: int, think: tuple[float, float],
           ramp: float) -> None:
    by_kind: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    for kind, elapsed, status, problem in results:
        by_kind[kind].append(elapsed)
        if problem:
            errors[f"{kind} {status} {problem}"] += 1
    every = [r[1] for r in results]
    print(f"\n{users} users arriving over {ramp:g} s, think time {think[0]:g}-{think[1]:g} s, "
          f"{seconds:.0f} s, "
          f"{os.cpu_count()} cores, load generator on the same machine")
    print(f"{'request':<14}{'count':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind in sorted(by_kind):
        v = by_kind[kind]
        print(f"{kind:<14}{len(v):>8}{percentile(v, 50)*1000:>9.0f}{percentile(v, 95)*1000:>9.0f}"
              f"{percentile(v, 99)*1000:>9.0f}{max(v)*1000:>9.0f}")
    print(f"{'all':<14}{len(every):>8}{percentile(every, 50)*1000:>9.0f}"
          f"{percentile(every, 95)*1000:>9.0f}{percentile(every, 99)*1000:>9.0f}"
          f"{(max(every) if every else 0)*1000:>9.0f}")
    working = [r[1] for r in results if not r[0].startswith("sign")]
    print(f"{'all but sign-in':<14}{len(working):>8}{percentile(working, 50)*1000:>9.0f}"
          f"{percentile(working, 95)*1000:>9.0f}{percentile(working, 99)*1000:>9.0f}"
          f"{(max(working) if working else 0)*1000:>9.0f}")
    print(f"throughput: {len(every) / seconds:.1f} req/s; errors: {sum(errors.values())}"
          f"   (goal: p95 < 500 ms, 0 errors)")
    for key, count in sorted(errors.items()):
        print(f"  error {key}: {count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=120, help="length of the run (max 600)")
    parser.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN", "MAX"),
                        help="seconds a user waits between requests (uniform)")
    parser.add_argument("--ramp", type=float, default=30.0,
                        help="seconds over which the users arrive and sign in")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--processes", type=int, default=4, help="load generator processes")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("the load test runs on PostgreSQL")
    seconds = min(args.seconds, 600.0)
    users = min(args.users, 1000)
    logins = prepare(args.database_url, users)
    env = {**os.environ, "LEC_DATABASE_URL": args.database_url, "LEC_SECRET_KEY": "load-bench",
           "LEC_SECURE_COOKIES": "0", "LEC_BIND": f"{HOST}:{args.port}",
           "LEC_WEB_ACCESS_LOG": "/dev/null"}
    server = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py"],
                              cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.time() + 60
        while True:
            try:
                status, _, _ = Client(args.port).request("GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.5)
        until = time.time() + seconds
        queue: multiprocessing.Queue = multiprocessing.Queue()
        parts = [logins[i::args.processes] for i in range(args.processes)]
        procs = [multiprocessing.Process(target=process_main, args=(
            part, args.port, until, tuple(args.think), args.ramp, queue)) for part in parts if part]
        started = time.time()
        for proc in procs:
            proc.start()
        results = []
        for _ in procs:
            results += queue.get(timeout=seconds + 180)
        for proc in procs:
            proc.join(10)
        report(results, time.time() - started, users, tuple(args.think), args.ramp)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(40)


if __name__ == "__main__":
    main()
