"""Two institutions enrol the same learner at the same moment: exactly one wins, every time."""

import threading

import pytest
from sqlalchemy import func, select

from models import Enrolment, Learner, db
from rules.identity import check_digit

RUNS = 50


def nid(n: int) -> str:
    first12 = f"2{n:011d}"
    return first12 + str(check_digit(first12))


@pytest.mark.postgresql_only
def test_two_schools_race_for_one_learner(tree, browser) -> None:  # noqa: ANN001
    schools = {"a": browser(tree.a.school_user), "b": browser(tree.b.school_user)}
    codes = {"a": tree.a.school.code, "b": tree.b.school.code}
    for run in range(RUNS):
        national_id = nid(run)
        db.session.add(Learner(national_id=national_id, first_name="แข่ง", last_name="ขัน",
                               gender="F"))
        db.session.commit()
        barrier = threading.Barrier(2)
        results: dict[str, tuple[int, str]] = {}

        def enrol(key: str, national_id: str = national_id,
                  barrier: threading.Barrier = barrier,
                  results: dict[str, tuple[int, str]] = results) -> None:
            barrier.wait()
            response = schools[key].post(
                f"/admin/student/enrol/?national_id={national_id}",
                data={"national_id": national_id, "title": "เด็กหญิง", "first_name": "แข่ง",
                      "last_name": "ขัน", "gender": "F", "grade": "P1", "classroom": "1"})
            results[key] = (response.status_code, response.get_data(as_text=True))

        threads = [threading.Thread(target=enrol, args=(key,)) for key in schools]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [key for key, (status, _) in results.items() if status == 302]
        assert len(winners) == 1, (run, {k: v[0] for k, v in results.items()})
        loser = "b" if winners == ["a"] else "a"
        status, page = results[loser]
        assert status == 200 and codes[winners[0]] in page, (run, page[-2000:])
        active = db.session.scalar(select(func.count()).select_from(Enrolment).join(Learner)
                                   .where(Learner.national_id == national_id,
                                          Enrolment.status == "active"))
        assert active == 1
