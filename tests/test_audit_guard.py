"""audit_entry is append-only in PostgreSQL whatever the role (issue 12 item 8)."""

import pytest
from conftest import migrated_app
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from models import db


@pytest.mark.postgresql_only
def test_a_raw_update_delete_or_truncate_of_the_audit_log_fails(database_url):
    app = migrated_app(database_url, "guarded")
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_entry (at, action) VALUES (now(), 'sign_in')"))
        for statement in ("UPDATE audit_entry SET action = 'nothing'", "DELETE FROM audit_entry",
                          "TRUNCATE audit_entry"):
            with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
                conn.execute(text(statement))
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT action FROM audit_entry")).scalars().all() == [
                "sign_in"]
        db.engine.dispose()
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP SCHEMA guarded CASCADE"))
    admin.dispose()
