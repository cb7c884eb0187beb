"""Schema migrations (Flask-Migrate) build exactly the schema the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import migrated_app

from models import db


def test_migrations_match_the_models(database_url, tmp_path):
    """`lec init` runs the migrations; a model change without a migration fails here."""
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path}/migrated.sqlite"
    app = migrated_app(database_url, "migrated")
    with app.app_context():
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == []
