"""Schema migrations (Flask-Migrate) build exactly the schema the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from models import db


def test_migrations_match_the_models(database_url, tmp_path):
    """`lec init` runs the migrations; a model change without a migration fails here."""
    url = database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path}/migrated.sqlite"
    else:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migrated CASCADE"))
            conn.execute(text("CREATE SCHEMA migrated"))
        admin.dispose()
        url = url + "?options=-csearch_path%3Dmigrated"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == []
