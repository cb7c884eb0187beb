"""job titles kept as an English sentence and its values, jobs run in the submitter's language

Revision ID: d4e7a9c1b2f3
Revises: a3d05a722fc5
Create Date: 2026-12-04 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e7a9c1b2f3'
down_revision = 'a3d05a722fc5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_values', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_column('language')
        batch_op.drop_column('title_values')
