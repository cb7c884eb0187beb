"""one live application per child, institution and academic year: a unique index on the ones not refused

Revision ID: f3a9c2d71b84
Revises: e5f1a2b3c4d6
Create Date: 2026-12-08 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a9c2d71b84'
down_revision = 'e5f1a2b3c4d6'
branch_labels = None
depends_on = None

LIVE = "status != 'rejected'"

# Two sends at the same moment could both be saved before this index: it cannot be built over
# them, and which one to refuse is the institution's call, not the migration's.
LATER_COPIES = f"""
SELECT a.id FROM application a WHERE a.{LIVE} AND EXISTS (
    SELECT 1 FROM application b WHERE b.{LIVE} AND b.national_id = a.national_id
    AND b.institution_id = a.institution_id AND b.academic_year = a.academic_year AND b.id < a.id)
ORDER BY a.id
"""


def upgrade():
    later = op.get_bind().scalars(sa.text(LATER_COPIES)).all()
    if later:
        raise RuntimeError(
            f"Applications sent a second time and not refused, by id: {later}. Refuse them "
            "in the admin (/admin/application/details/?id=...), then upgrade again.")
    op.create_index('uq_application_one_live', 'application',
                    ['national_id', 'institution_id', 'academic_year'], unique=True,
                    postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))


def downgrade():
    op.drop_index('uq_application_one_live', table_name='application')
