"""Degraded paths (issue 12 items 6 and 8): the database down, an export cut short, NUL bytes;
and a long read (an export job) beside sign-ins and writes."""

import threading
import time

import pytest
from flask import Response
from sqlalchemy import select, text

from app import create_app
from models import Subdistrict, db
from spreadsheets import writers


@pytest.fixture
def database_down(app, monkeypatch):
    """Every new connection is refused, as when the server is stopped or the link is cut."""
    error = db.engine.dialect.dbapi.OperationalError

    def refuse(*args, **kwargs):
        raise error("connection refused (test)")

    db.session.remove()
    db.engine.dispose()
    monkeypatch.setattr(db.engine.pool, "_creator", refuse)
    yield
    monkeypatch.undo()
    db.engine.dispose()


def test_a_signed_in_user_gets_a_thai_page_when_the_database_is_down(app, tree, browser,
                                                                     request):
    b = browser(tree.a.school_user)
    request.getfixturevalue("database_down")
    for path in ("/admin/", "/admin/student/", "/login", "/apply"):
        response = b.get(path)
        text = response.get_data(as_text=True)
        assert response.status_code == 503, path
        assert "ระบบไม่พร้อมใช้งานชั่วคราว" in text, path
        assert "Internal Server Error" not in text and "Traceback" not in text


def _failing_rows():
    for n in range(1200):
        if n == 1100:
            raise RuntimeError("database link cut (test)")
        yield [n, f"row {n}"]


def test_a_csv_export_cut_short_says_so_and_breaks_the_stream(app):
    with app.test_request_context():
        response: Response = writers.csv_response("x.csv", ["n", "text"], _failing_rows())
        chunks = []
        with pytest.raises(RuntimeError):
            for chunk in response.response:
                chunks.append(chunk)
    body = b"".join(chunks).decode("utf-8-sig")
    last = body.strip().splitlines()[-1]
    assert last.startswith(writers.FAILED_MARK)
    assert "ไม่ครบ" in last  # the Thai words "incomplete"
    assert "row 999" in body and "row 1100" not in body


def test_the_embedded_database_runs_in_wal_mode(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/lec.sqlite",
                      "SECRET_KEY": "x"})
    with app.app_context():
        ask = lambda pragma: db.session.scalar(text(f"PRAGMA {pragma}"))  # noqa: E731
        assert ask("journal_mode") == "wal"
        assert (ask("foreign_keys"), ask("synchronous"), ask("busy_timeout")) == (1, 1, 30000)
        db.session.remove()
        db.engine.dispose()


def test_a_long_read_holds_up_neither_sign_in_nor_a_write(app, tree, browser):
    """An export job reads one query for minutes; meanwhile people sign in and save."""
    reading, finished = threading.Event(), threading.Event()
    failures = []

    def long_read() -> None:
        try:
            with app.app_context(), db.engine.connect() as connection:
                rows = connection.execute(select(Subdistrict.code))  # thousands: still open
                rows.fetchone()
                reading.set()
                finished.wait(60)
                rows.close()
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
            reading.set()

    reader = threading.Thread(target=long_read)
    reader.start()
    try:
        assert reading.wait(30)
        started = time.monotonic()
        browser(tree.a.school_user)  # POST /login writes the sign-in and its audit entry
        tree.a.school.phone = "045 111 222"
        db.session.commit()
        assert time.monotonic() - started < 5
    finally:
        finished.set()
        reader.join()
    assert failures == []
    db.session.expire_all()
    assert tree.a.school.phone == "045 111 222"


@pytest.mark.parametrize("path", ["/apply/province/3%003", "/track?code=A%00B",
                                  "/login?next=/admin/%00", "/apply?x=%00"])
def test_nul_bytes_in_public_parameters_are_a_400(client, path):
    assert client.get(path).status_code == 400


def test_nul_bytes_in_a_form_are_a_400(client, tree):
    from conftest import csrf_token
    token = csrf_token(client.get("/track").get_data(as_text=True))
    response = client.post("/track", data={"code": "AB\x00CD", "csrf_token": token})
    assert response.status_code == 400


def test_a_return_url_with_a_newline_is_a_400_not_a_500(tree, browser):
    b = browser(tree.department)
    response = b.get("/admin/institution/details/?id=99999&url=/admin/%0d%0aSet-Cookie:x=1")
    assert response.status_code == 400


def test_nul_bytes_in_a_signed_in_search_are_a_400(tree, browser):
    b = browser(tree.a.school_user)
    assert b.get("/admin/student/?search=%00abc").status_code == 400
