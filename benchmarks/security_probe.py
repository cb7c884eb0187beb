"""The security probe of issue 12, repeated: counts, not timings of one machine's mood.

- malformed requests: every GET route of app.url_map, at every level and anonymously, with each
  hostile value (ids and numbers beyond 32 bits, page=-1, '²', NUL, newlines, a school code in
  every filter) in every parameter the views read; prints how many answered 5xx;
- out-of-scope reads: each institution account opens the edit and details pages of the other
  province's learners' enrolments by id; prints how many were not refused;
- the XLSX bomb (one row of a million cells): seconds and peak Python memory of the refusal;
- sign-in: 200 wrong passwords from one address, then the owner from another address.

Run: PYTHONPATH=. .venv/bin/python benchmarks/security_probe.py (a temp SQLite file)
"""

import io
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import date

sys.path.insert(0, "tests")

from conftest import IsolatedClient, csrf_token  # noqa: E402
from test_fuzz import HOSTILE, KEYS, _url  # noqa: E402
from test_uploads import bomb  # noqa: E402

from app import create_app  # noqa: E402
from models import Enrolment, Institution, Lao, Learner, Level, Profile, User, db  # noqa: E402
from models.accounts import password_hasher  # noqa: E402
from rules.identity import check_digit  # noqa: E402
from seed.geography import load_geography  # noqa: E402
from seed.learners import letters
from spreadsheets.uploads import UploadRefused, check_upload  # noqa: E402

PASSWORD = "probe password 2569 blue"


def build() -> dict[str, list[User]]:
    """Two provinces, each with an LAO, a school, its account and ten learners."""
    hashed = password_hasher.hash(PASSWORD)
    users: dict[str, list[User]] = {"department": [User(login="dla.probe",
                                                        level=Level.DEPARTMENT)]}
    for n, pp in enumerate(("33", "34")):
        lao = Lao(code=f"05{pp}0101", name=f"เทศบาลตำบลโพรบ {pp}", lao_type=5,
                  province_code=pp, district_code=f"{pp}01")
        school = Institution(code=f"30{pp}200001", name=f"โรงเรียนโพรบ {pp}", kind="school",
                             lao=lao)
        db.session.add_all([lao, school])
        users.setdefault("province", []).append(User(login=pp, level=Level.PROVINCE,
                                                     province_code=pp))
        users.setdefault("lao", []).append(User(login=lao.code, level=Level.LAO, lao=lao))
        users.setdefault("institution", []).append(User(login=school.code,
                                                        level=Level.INSTITUTION,
                                                        institution=school))
        for i in range(10):
            body = f"1{n}{i:010d}"
            child = Learner(national_id=body + str(check_digit(body)), first_name="ด.ญ.",
                            last_name=f"โพรบ{letters(i)}", gender="F", birth_date=date(2018, 1, 1))
            db.session.add_all([child, Enrolment(learner=child, institution=school,
                                                 academic_year=2569, grade="P1")])
    for user in (u for group in users.values() for u in group):
        user.password_hash, user.must_change_password = hashed, False
        db.session.add_all([user, Profile(user=user, first_name="โพรบ", surname="ทดสอบ",
                                          position="ผู้ทดสอบ", phone="045000000")])
    db.session.commit()
    return users


def sign_in(app, login: str, address: str = "127.0.0.1"):  # noqa: ANN001, ANN201
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client.get("/login", environ_base=environ).get_data(as_text=True))
    response = client.post("/login", environ_base=environ, data={
        "login": login, "password": PASSWORD, "csrf_token": token})
    return client, response.status_code


def main() -> None:
    url = f"sqlite:///{tempfile.mkdtemp()}/probe.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "probe", "TESTING": True})
    app.test_client_class = IsolatedClient  # each request its own app context, as in production
    with app.app_context():
        db.create_all()
        load_geography()
        users = build()
        rules = [r for r in app.url_map.iter_rules()
                 if "GET" in r.methods and r.endpoint not in ("static", "admin.static")
                 and "/export/" not in r.rule and "xlsx" not in r.rule]
        statuses: Counter[int] = Counter()
        clients = [("anonymous", app.test_client())] + [
            (level, sign_in(app, group[0].login)[0]) for level, group in users.items()]
        for level, client in clients:
            for rule in rules:
                for value in HOSTILE:
                    response = client.get(_url(rule, value), query_string={
                        key: value for key in KEYS})
                    statuses[response.status_code // 100 * 100] += 1
                    if response.status_code >= 500:
                        print(f"  5xx: {level} {rule.rule} {value!r}")
        print(f"malformed requests: {sum(statuses.values()):,}; by class: "
              f"{dict(sorted(statuses.items()))}; 5xx: {statuses[500]}")

        outside = 0
        attempts = 0
        for mine, other in ((0, 1), (1, 0)):
            client, _status = sign_in(app, users["institution"][mine].login)
            ids = [e.id for e in db.session.scalars(db.select(Enrolment).where(
                Enrolment.institution_id == users["institution"][other].institution_id))]
            for enrolment_id in ids:
                for page in ("edit", "details"):
                    attempts += 1
                    response = client.get(f"/admin/student/{page}/?id={enrolment_id}")
                    outside += response.status_code == 200
        print(f"out-of-scope reads: {attempts} attempts, {outside} answered with the record")

        upload = io.BytesIO(bomb())  # built before the measurement starts
        tracemalloc.start()
        started = time.perf_counter()
        try:
            check_upload(upload, "bomb.xlsx")
            refused = False
        except UploadRefused:
            refused = True
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"XLSX bomb ({len(bomb()):,} bytes, 1,000,000 cells in a row): refused={refused} "
              f"in {seconds * 1000:.0f} ms, peak Python memory {peak / 2**20:.1f} MB")

        victim = users["institution"][0].login
        attacker = app.test_client()
        refused_attempts = 0
        for i in range(200):
            environ = {"REMOTE_ADDR": "203.0.113.5"}
            token = csrf_token(attacker.get("/login", environ_base=environ)
                               .get_data(as_text=True))
            response = attacker.post("/login", environ_base=environ, data={
                "login": victim, "password": f"guess {i}", "csrf_token": token})
            refused_attempts += response.status_code == 429
        _client, owner = sign_in(app, victim, "198.51.100.7")
        print(f"sign-in: 200 wrong passwords from one address ({refused_attempts} slowed down "
              f"with 429); the owner from another address then got {owner} (302 = signed in)")


if __name__ == "__main__":
    main()
