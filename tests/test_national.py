"""The national generator: valid by construction, proven by running the rules over a sample."""

import csv
import itertools
import random
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm.attributes import flag_modified

from models import Enrolment, Institution, Lao, Learner, User, db
from rules.codes import institution_code_problems
from rules.enrolment import age_warning, grade_problems
from rules.identity import national_id_problems
from seed.national import registry_path

ROOT = Path(__file__).resolve().parent.parent


def small_registry(tmp_path: Path) -> Path:
    """The real registry's first LAOs of a few provinces, so the test stays quick."""
    with registry_path(ROOT).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(itertools.islice(csv.reader(handle), 1, None))
        header = ["dla_code", "lao_type", "name_th", "province_code", "province_name_th",
                  "district_code", "district_name_th", "lat", "lon", "area_km2"]
    chosen = [r for r in rows if r[3] in ("33", "34", "10")][:150]
    path = tmp_path / "registry.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *chosen])
    return path


def test_national_sample_passes_the_rules(app, runner, tmp_path) -> None:  # noqa: ANN001
    result = runner.invoke(args=["lec", "demo", "--national", "--learners", "3000",
                                 "--registry", str(small_registry(tmp_path))])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Learner)) == 3000
    assert db.session.scalar(select(func.count()).select_from(Enrolment).where(
        Enrolment.status == "active")) == 3000
    assert db.session.scalar(select(func.count(func.distinct(Enrolment.learner_id)))) == 3000
    units = (db.session.scalar(select(func.count()).select_from(Lao))
             + db.session.scalar(select(func.count()).select_from(Institution)))
    assert db.session.scalar(select(func.count()).select_from(User)) >= units

    rng = random.Random(1)
    enrolments = db.session.scalars(select(Enrolment)).all()
    sample = rng.sample(enrolments, 200)
    for enrolment in sample:
        learner, institution = enrolment.learner, enrolment.institution
        assert national_id_problems(learner.national_id) == []
        assert grade_problems(enrolment.grade, institution.kind) == []
        assert age_warning(learner.birth_date, enrolment.grade, enrolment.academic_year) is None
        lao = institution.lao
        assert institution_code_problems(institution.code, institution.kind, lao.lao_type,
                                         lao.province_code) == []
        # The same rows through the session's own checks: any broken rule fails the flush.
        for obj in (learner, enrolment, institution, lao):
            flag_modified(obj, "id")
    db.session.flush()
    db.session.rollback()

    # A second run refuses a database that holds learners, unless told to empty it.
    again = runner.invoke(args=["lec", "demo", "--national", "--learners", "10",
                                "--registry", str(small_registry(tmp_path))])
    assert again.exit_code != 0 and "--force" in again.output
    forced = runner.invoke(args=["lec", "demo", "--national", "--learners", "10", "--force",
                                 "--registry", str(small_registry(tmp_path))])
    assert forced.exit_code == 0, forced.output
    assert db.session.scalar(select(func.count()).select_from(Learner)) == 10
