"""LEC, the Local Education Center information system: the app factory and the `lec` CLI."""

import secrets
from pathlib import Path
from typing import Any

from flask import Flask, redirect, url_for
from flask_login import current_user
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event, make_url
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

import admin_views
import i18n
import jobs
import rules
from config import Config
from models import db
from rules import hooks
from seed import cli
from web import admission, api, auth, errors, health, params, security

csrf = CSRFProtect()
migrate = Migrate()

#: Every PostgreSQL statement planned for its own values. psycopg prepares a query it has run
#: five times, and PostgreSQL then may switch to one generic plan, which cannot turn a name
#: prefix into an index range: every later name search would read all 1.5M learners. No JIT:
#: compiling took ~20 of the national count report's 50 ms and saved nothing on any statement
#: LEC runs (the exports and the national risk run measured no slower without it).
POSTGRESQL_SESSION = "-c plan_cache_mode=force_custom_plan -c jit=off"


def _secret_key(app: Flask) -> str:
    """A stable per-install secret for the embedded setup when LEC_SECRET_KEY is not set."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


#: Every SQLite connection, in this order. The busy timeout comes first, so the switch to WAL
#: waits for a connection still busy instead of failing. In WAL mode a long read (a 20,000-row
#: export job) never blocks a writer (a sign-in), nor a writer the readers; writers still take
#: turns, and wait up to 30 s for one another before "database is locked". NORMAL is WAL's
#: safe synchronous level: a power cut may lose the last commits, never corrupt the file.
SQLITE_PRAGMAS = ("busy_timeout=30000", "foreign_keys=ON", "journal_mode=WAL",
                  "synchronous=NORMAL")


def _sqlite_connection(dbapi_connection: Any, record: Any) -> None:
    """Set SQLITE_PRAGMAS on a new connection (web, workers and CLI alike)."""
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _postgresql_session(app: Flask) -> None:
    """Each PostgreSQL connection starts with POSTGRESQL_SESSION (web, workers and CLI alike)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        given = url.query.get("options", "")  # e.g. ?options=-csearch_path%3D... is kept
        engine = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        engine.setdefault("connect_args", {}).setdefault(
            "options", f"{given} {POSTGRESQL_SESSION}".strip())


def _trust_proxies(app: Flask) -> None:
    """Behind N trusted proxies, the client's address and scheme are what they forwarded."""
    hops = int(app.config.get("LEC_TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the LEC web app; `test_config` overrides settings in tests."""
    app = Flask(__name__, instance_relative_config=True)
    params.install(app)  # before any route: bounded <int:...> and type=int everywhere
    app.config.from_object(Config)
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{app.instance_path}/lec.sqlite"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app)

    _trust_proxies(app)
    _postgresql_session(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path) / "migrations"),
                     render_as_batch=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_connection)
    i18n.init_app(app)
    csrf.init_app(app)
    auth.login_manager.init_app(app)
    rules.set_actor_provider(
        lambda: current_user._get_current_object()
        if current_user and current_user.is_authenticated else None
    )
    hooks.install()
    security.init_app(app)
    errors.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admission.bp)
    app.register_blueprint(api.bp)
    jobs.init_app(app)
    admin_views.init_app(app)
    cli.lec.add_command(jobs.queue.worker)
    app.cli.add_command(cli.lec)
    _register_pages(app)
    return app


def _register_pages(app: Flask) -> None:
    """The root and the health check."""

    @app.route("/")
    def home() -> Response:
        return redirect(url_for("admin.index"))

    @app.route("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        """For load balancers: 200 when the app, its database and its Redis answer."""
        return health.check(app)
