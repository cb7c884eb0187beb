"""Costs of the account-security paths: a password hash, a page of cards, a throttled sign-in.

- one Argon2id hash (m=19456 KiB, t=2, p=1): the floor of every sign-in and password change;
- issuing a page of credential cards for an LAO group of N accounts (hashes run on 4 threads);
- the throttle's check before a sign-in when the failure table holds many rows (database store)
  and on Redis, if one answers at 127.0.0.1:6379.

Run: PYTHONPATH=. .venv/bin/python benchmarks/security_benchmark.py [N] [--url DATABASE_URL]
(default N=50 on a temp SQLite file)
"""

import sys
import tempfile
import time

from sqlalchemy import insert

from admin_views.cards import issue
from app import create_app
from models import Institution, Lao, Level, ThrottleHit, User, db
from models.accounts import password_hasher
from rules.throttle import DatabaseStore, RedisStore, Throttle
from seed.geography import load_geography


def timed(fn, repeat: int = 1) -> float:  # noqa: ANN001
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    args = sys.argv[1:]
    url = args[args.index("--url") + 1] if "--url" in args else None
    numbers = [a for a in args if a.isdigit()]
    count = int(numbers[0]) if numbers else 50
    url = url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        load_geography()
        print(f"database: {db.engine.dialect.name}")
        print(f"argon2id hash: {timed(lambda: password_hasher.hash('x' * 16), 10) * 1000:.0f} ms")

        lao = Lao(code="05330199", name="เทศบาลทดสอบ", lao_type=5, province_code="33",
                  district_code="3301")
        db.session.add(lao)
        db.session.flush()
        users = [User(login=lao.code, level=Level.LAO, lao_id=lao.id, province_code="33")]
        for i in range(count - 1):
            school = Institution(code=f"30332{i:05d}", name=f"โรงเรียน {i}",
                                 kind="school", lao_id=lao.id)
            db.session.add(school)
            db.session.flush()
            users.append(User(login=school.code, level=Level.INSTITUTION,
                              institution_id=school.id, lao_id=lao.id, province_code="33"))
        db.session.add_all(users)
        db.session.commit()
        seconds = timed(lambda: issue(None, users))
        print(f"issue {count} cards (hash, audit, commit): {seconds:.2f} s "
              f"({seconds / count * 1000:.0f} ms a card)")

        rows = 200_000
        db.session.execute(insert(ThrottleHit), [
            {"key": f"signin:user{i % 20000}|10.0.{i % 250}.1", "at": 1.9e9 + i}
            for i in range(rows)])
        db.session.commit()
        for name, store in (("database", DatabaseStore()), ("redis", None)):
            if store is None:
                try:
                    store = RedisStore("redis://127.0.0.1:6379/14")
                    store.redis.ping()
                except Exception:  # noqa: BLE001
                    print("redis: not available")
                    continue
            throttle = Throttle(store)
            key = "signin:user42|10.0.42.1"
            check = timed(lambda t=throttle, k=key: t.wait(k, 5), 200)
            fail = timed(lambda t=throttle, k=key: t.failed(k), 50)
            db.session.rollback()
            print(f"throttle on {name} ({rows:,} failure rows in the table): check "
                  f"{check * 1000:.2f} ms, record a failure {fail * 1000:.2f} ms")
            if name == "redis":
                store.redis.flushdb()


if __name__ == "__main__":
    main()
