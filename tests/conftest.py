"""Fixtures: the app on SQLite and on PostgreSQL, a small hierarchy, and signed-in clients.

Every test that takes `app` runs twice, once per database. With CI=true a missing PostgreSQL
fails the run instead of skipping it.
"""

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, delete, text

from app import create_app
from models import District, Institution, Lao, Level, OtherSchool, Province, Subdistrict, User, db
from models.accounts import password_hasher
from models.profiles import Profile
from seed.geography import load_geography

PG_DSN = os.environ.get("LEC_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
PASSWORD = "correct horse battery"
REFERENCE = {Province.__table__, District.__table__, Subdistrict.__table__}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgresql_only: concurrency tests; their SQLite variant is deselected")
    config.addinivalue_line(
        "markers", "sqlite_only: browser checks of the templates alone (the English crawl), "
                   "and plan checks a handful of rows tells nothing of on PostgreSQL; their "
                   "PostgreSQL variant is deselected")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Concurrency claims are about PostgreSQL: run them there, and do not list a SQLite skip."""
    dropped = [item for item in items if getattr(item, "callspec", None) and (
        (item.get_closest_marker("postgresql_only")
         and item.callspec.params.get("database_url") == "sqlite")
        or (item.get_closest_marker("sqlite_only")
            and item.callspec.params.get("database_url") == "postgresql"))]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


class IsolatedClient(FlaskClient):
    """Each request in its own app context, as in production: its own `g` and DB session."""

    def open(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _pg_admin() -> psycopg.Connection:
    return psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    """A fresh, empty database of each kind for this test session."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db')}/lec.sqlite"
        return
    try:
        admin = _pg_admin()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")
    name = f"lec_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    params = dict(p.split("=") for p in PG_DSN.split())
    yield (f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host')}:"
           f"{params.get('port', '5432')}/{name}")
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def _app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    })
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
        load_geography()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(_app: Flask) -> Iterator[Flask]:
    """The app with an empty database but for geography; emptied again after the test."""
    with _app.app_context():
        yield _app
        db.session.rollback()
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            if table not in REFERENCE:
                db.session.execute(delete(table))
        db.session.commit()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    # The commands set LANGUAGE for click's own words; the next test gets it back as it was.
    monkeypatch.delenv("LANGUAGE", raising=False)
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One real Argon2 hash shared by every fixture account, to keep the suite fast."""
    return password_hasher.hash(PASSWORD)


def make_user(login: str, level: str, password_hash: str, **unit: object) -> User:
    user = User(login=login, level=level, password_hash=password_hash,
                must_change_password=False, **unit)
    db.session.add(user)
    # Past first login: a responsible person is on record (issue 5's first-login gate).
    db.session.add(Profile(user=user, first_name="สมชาย", surname=f"ทดสอบ {login}",
                           position="เจ้าหน้าที่", phone="045000000"))
    return user


@pytest.fixture
def tree(app: Flask, password_hash: str) -> SimpleNamespace:
    """Two provinces; in each a subdistrict municipality and an SAO with a school and a CDC."""
    t = SimpleNamespace()
    t.department = make_user("dla.staff", Level.DEPARTMENT, password_hash, name="DLA staff")
    for key, pp, dd in (("a", "33", "01"), ("b", "34", "01")):
        muni = Lao(code=f"05{pp}{dd}01", name=f"เทศบาลตำบลทดสอบ {key}", lao_type=5,
                   province_code=pp, district_code=f"{pp}{dd}")
        sao = Lao(code=f"06{pp}{dd}02", name=f"อบต.ทดสอบ {key}", lao_type=6,
                  province_code=pp, district_code=f"{pp}{dd}")
        school = Institution(code=f"30{pp}200001", name=f"โรงเรียนเทศบาล {key}", kind="school",
                             lao=muni, phone="045 000 001")
        cdc = Institution(code=f"30{pp}600001", name=f"ศพด. {key}", kind="cdc", lao=sao)
        other = OtherSchool(code=f"10{pp}000001", name=f"โรงเรียนบ้าน {key}", affiliation="obec",
                            lao=sao)
        db.session.add_all([muni, sao, school, cdc, other])
        db.session.flush()
        unit = SimpleNamespace(
            muni=muni, sao=sao, school=school, cdc=cdc, other=other,
            province_user=make_user(pp, Level.PROVINCE, password_hash, province_code=pp),
            muni_user=make_user(muni.code, Level.LAO, password_hash, lao=muni),
            sao_user=make_user(sao.code, Level.LAO, password_hash, lao=sao),
            school_user=make_user(school.code, Level.INSTITUTION, password_hash,
                                  institution=school),
            cdc_user=make_user(cdc.code, Level.INSTITUTION, password_hash, institution=cdc),
        )
        setattr(t, key, unit)
    db.session.commit()
    return t


@dataclass
class Browser:
    """A test client signed in as one user, carrying the session's CSRF token."""

    client: FlaskClient
    csrf: str = ""

    def login(self, login: str, password: str = PASSWORD) -> "Browser":
        page = self.client.get("/login").get_data(as_text=True)
        self.csrf = csrf_token(page)
        response = self.client.post("/login", data={"login": login, "password": password,
                                                      "csrf_token": self.csrf})
        assert response.status_code == 302, response.get_data(as_text=True)
        # The session was renewed at sign-in: take the new token from any form.
        landing = self.client.get("/admin/", follow_redirects=True)
        self.csrf = csrf_token(landing.get_data(as_text=True))
        return self

    def get(self, url: str, **kwargs: object):  # noqa: ANN201
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs: object):  # noqa: ANN201
        payload = {"csrf_token": self.csrf, **(data or {})}
        return self.client.post(url, data=payload, **kwargs)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def browser(app: Flask):  # noqa: ANN201
    """`browser(user)` gives a client signed in as `user`."""

    def sign_in(user: User) -> Browser:
        return Browser(app.test_client()).login(user.login)

    return sign_in


def migrated_app(database_url: str, schema: str) -> Flask:
    """An app on a database built by the migrations alone: on PostgreSQL in an empty schema of
    its own (`schema`), so the session's database is left alone."""
    if not database_url.startswith("sqlite"):
        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        database_url += f"?options=-csearch_path%3D{schema}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                      "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    return app
