"""How long a recompute of the risk flags takes for a few institutions (the button an institution
or LAO presses after its import) against the whole country, on an existing national set, and
whether the few institutions get exactly the flags the national run gives them.

Nothing is kept: every compute is rolled back.

Run: LEC_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/lec_national \\
     PYTHONPATH=. .venv/bin/python benchmarks/risk_recompute.py [--institutions 5] [--national]
     [--province 30]
"""

import argparse
import time

from sqlalchemy import Select, func, select

from app import create_app
from models import Enrolment, Institution, Lao, Learner, Round, db
from models.risk import RiskFlag
from rules import risk
from rules.risk.rows import active


def duplicated_institutions(round_: Round, limit: int) -> list[int]:
    """Institutions holding one side of a same-name-and-birth-date pair (the rule's hard case)."""
    key = (Learner.first_name, Learner.last_name, Learner.birth_date)
    pairs = (select(*key).select_from(Enrolment).join(Learner)
             .where(*active(round_), Learner.birth_date.is_not(None))
             .group_by(*key).having(func.count(func.distinct(Enrolment.institution_id)) > 1)
             .limit(limit).subquery())
    query: Select = (select(Enrolment.institution_id).join(Learner)
                     .join(pairs, (pairs.c.first_name == Learner.first_name)
                           & (pairs.c.last_name == Learner.last_name)
                           & (pairs.c.birth_date == Learner.birth_date))
                     .where(*active(round_)).distinct().limit(limit))
    return list(db.session.scalars(query))


def flags_of(round_: Round, ids: list[int]) -> set[tuple]:
    """The stored flags of some institutions, as comparable tuples."""
    return set(db.session.execute(
        select(RiskFlag.rule, RiskFlag.enrolment_id, RiskFlag.measure, RiskFlag.expected,
               RiskFlag.detail).where(RiskFlag.round_id == round_.id,
                                      RiskFlag.institution_id.in_(ids))).all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--institutions", type=int, default=5)
    parser.add_argument("--province", help="Time a province's recompute too (its code).")
    parser.add_argument("--national", action="store_true",
                        help="Time the whole-country run too and compare the flags.")
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        round_ = db.session.scalars(select(Round).order_by(Round.academic_year.desc(),
                                                           Round.number.desc())).first()
        ids = duplicated_institutions(round_, args.institutions)
        found: dict[int, set[tuple]] = {}
        for institution in ids:
            started = time.perf_counter()
            touched = risk.compute(db.session, round_, [institution]) or set()
            took = time.perf_counter() - started
            found[institution] = flags_of(round_, [institution])
            db.session.rollback()
            # With the institutions sharing a duplicate or a guardian phone with it.
            print(f"institution {institution}: {len(found[institution])} flags, "
                  f"{len(touched)} institutions stored again, in {took:.2f} s")
        if args.province:
            province = list(db.session.scalars(select(Institution.id).join(Lao).where(
                Lao.province_code == args.province)))
            started = time.perf_counter()
            touched = risk.compute(db.session, round_, province) or set()
            took = time.perf_counter() - started
            db.session.rollback()
            print(f"province {args.province}: {len(province)} institutions "
                  f"({len(touched)} with those sharing a key) in {took:.2f} s")
        if args.national:
            started = time.perf_counter()
            risk.compute(db.session, round_)
            took = time.perf_counter() - started
            total = db.session.scalar(select(func.count()).select_from(RiskFlag)
                                      .where(RiskFlag.round_id == round_.id))
            same = all(flags_of(round_, [i]) == found[i] for i in ids)
            db.session.rollback()
            print(f"national: {total:,} flags in {took:.1f} s; "
                  f"institutions' flags identical: {same}")


if __name__ == "__main__":
    main()
