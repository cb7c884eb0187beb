"""A parent's double tap sends the same application twice at the same moment: one is saved,
the other is told in Thai that it was already sent, every time."""

import threading

import pytest
from conftest import csrf_token
from sqlalchemy import func, select
from test_admission import child, national_id, open_for_applications

from models import Application, db

RUNS = 30


@pytest.mark.postgresql_only
def test_the_same_child_sent_twice_at_once_is_saved_once(app, tree) -> None:  # noqa: ANN001
    open_for_applications(tree.a.school)
    url = f"/apply/{tree.a.school.code}"
    for run in range(RUNS):
        data = child(national_id=national_id(f"1101700{run:05d}"))
        barrier = threading.Barrier(2)
        results: list[tuple[int, str]] = []

        def send(tap: int, data: dict[str, str] = data, barrier: threading.Barrier = barrier,
                 results: list[tuple[int, str]] = results, run: int = run) -> None:
            # Each tap from its own address, so the throttle never answers for the rule.
            client = app.test_client()
            environ = {"REMOTE_ADDR": f"10.{tap}.{run // 250}.{run % 250 + 1}"}
            token = csrf_token(client.get(url, environ_base=environ).get_data(as_text=True))
            barrier.wait()
            response = client.post(url, environ_base=environ,
                                   data={"csrf_token": token, **data})
            results.append((response.status_code, response.get_data(as_text=True)))

        threads = [threading.Thread(target=send, args=(tap,)) for tap in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(status for status, _ in results) == [302, 422], (run, results)
        refused = next(page for status, page in results if status == 422)
        assert "ได้ส่งไว้แล้ว" in refused, (run, refused[-2000:])
        assert db.session.scalar(select(func.count()).select_from(Application).where(
            Application.national_id == data["national_id"])) == 1
