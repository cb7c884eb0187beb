"""Risk flags and quality scores for a national round: 1.5 million learners in 20,000
institutions of 7,850 LAOs, computed set-wise on PostgreSQL. Anchor: within 5 minutes.

The synthetic nation is written once by INSERT … SELECT generate_series (about a minute) into
its own database, then reused; about 1 learner in 1,000 shares one guardian phone, 1 in 50 is
far from their grade's age, 1 in 200 lacks a birth date, 5% carry a G-code; the rest are
plausible (age fits the grade, own phone).

Run: PYTHONPATH=. .venv/bin/python benchmarks/risk_benchmark.py [--learners 1500000] [--rebuild]
     [--url postgresql+psycopg://postgres@127.0.0.1:5432/lec_risk_bench]
"""

import argparse
import time
from datetime import date

import psycopg
from sqlalchemy import func, select, text

from app import create_app
from models import Enrolment, Round, db
from models.risk import QualityScore, RiskFlag
from rules import quality, risk
from seed.geography import load_geography

YEAR = 2569
LAOS, INSTITUTIONS = 7_850, 20_000
ANCHOR_SECONDS = 300


def ensure_database(url: str) -> None:
    """Create the benchmark's own database if it does not exist yet."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            c.execute(f'CREATE DATABASE "{name}"')


NATION = """
INSERT INTO lao (id, code, name, lao_type, province_code)
SELECT n, lpad(n::text, 8, '0'), 'อปท. ' || n, 6,
       (SELECT code FROM province ORDER BY code OFFSET (n % 77) LIMIT 1)
FROM generate_series(1, :laos) AS n;
INSERT INTO institution (id, code, name, kind, lao_id, active, accepts_online_applications)
SELECT n, lpad(n::text, 10, '0'), 'สถานศึกษา ' || n,
       CASE WHEN n % 5 < 3 THEN 'school' ELSE 'cdc' END, 1 + n % :laos, true, false
FROM generate_series(1, :institutions) AS n;
INSERT INTO learner (id, national_id, first_name, last_name, gender, birth_date, guardian_name,
                     guardian_phone, current_address, disadvantaged)
SELECT n, CASE WHEN n % 20 = 0 THEN 'G' ELSE '9' END || lpad(n::text, 12, '0'),
       'ชื่อ' || n, 'สกุล' || (n % 5000), CASE WHEN n % 2 = 0 THEN 'M' ELSE 'F' END,
       CASE WHEN n % 200 = 0 THEN NULL WHEN n % 50 = 0 THEN DATE '2010-01-01'
            ELSE (DATE '2026-05-15' - make_interval(years => CASE
                    WHEN (1 + n % :institutions) % 5 < 3
                    THEN (ARRAY[6, 7, 8, 9, 10, 11, 3, 4, 5])[1 + n % 9]
                    ELSE (ARRAY[2, 3, 4, 5])[1 + n % 4] END))::date - (n % 300) END,
       'ผู้ปกครอง ' || n,
       CASE WHEN n % 1000 = 0 THEN '0800000000' ELSE '08' || lpad(n::text, 8, '0') END,
       'หมู่ ' || (n % 20), false
FROM generate_series(1, :learners) AS n;
INSERT INTO enrolment (learner_id, institution_id, academic_year, grade, enrolled_on, status)
SELECT n, 1 + n % :institutions, :year,
       CASE WHEN (1 + n % :institutions) % 5 < 3
            THEN (ARRAY['P1','P2','P3','P4','P5','P6','K1','K2','K3'])[1 + n % 9]
            ELSE (ARRAY['A2','A3','A4','A5'])[1 + n % 4] END,
       DATE '2026-05-16', 'active'
FROM generate_series(1, :learners) AS n;
"""


def build(learners: int, again: bool) -> None:
    """The synthetic nation and its round, unless it is already there at this size."""
    have = db.session.scalar(select(func.count()).select_from(Enrolment)) or 0
    if have == learners and not again:
        return
    for table in ("quality_score", "risk_flag", "enrolment", "learner", "institution", "lao",
                  "collection_round"):
        db.session.execute(text(f"TRUNCATE {table} CASCADE"))
    started = time.perf_counter()
    for statement in NATION.split(";"):
        if statement.strip():
            db.session.execute(text(statement), {"laos": LAOS, "institutions": INSTITUTIONS,
                                                 "learners": learners, "year": YEAR})
    db.session.add(Round(academic_year=YEAR, number=1, opens_on=date(2026, 5, 1),
                         closes_on=date(2026, 6, 11), institution_deadline=date(2026, 6, 10),
                         lao_deadline=date(2026, 6, 10), province_deadline=date(2026, 6, 11)))
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    print(f"built {learners:,} learners in {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=1_500_000)
    parser.add_argument("--rebuild", action="store_true", help="Write the nation again.")
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/"
                                         "lec_risk_bench")
    args = parser.parse_args()
    ensure_database(args.url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        load_geography()
        build(args.learners, args.rebuild)
        round_ = db.session.scalars(select(Round)).one()
        started = time.perf_counter()
        risk.compute(db.session, round_)
        flagged = time.perf_counter()
        quality.compute(db.session, round_)
        db.session.commit()
        done = time.perf_counter()
        flags = db.session.scalar(select(func.count()).select_from(RiskFlag))
        scores = db.session.scalar(select(func.count()).select_from(QualityScore))
        started_read = time.perf_counter()
        provinces = quality.totals(db.session, round_, "province_code")
        read = time.perf_counter() - started_read
        print(f"learners {args.learners:,}: flags {flags:,} in {flagged - started:.1f} s, "
              f"scores of {scores:,} institutions in {done - flagged:.1f} s, "
              f"total {done - started:.1f} s (anchor: within {ANCHOR_SECONDS} s)")
        print(f"national page: scores of {len(provinces)} provinces read in {read * 1000:.0f} ms")


if __name__ == "__main__":
    main()
