"""drop ix_learner_last_name: ix_learner_name_birth_date leads on the surname and serves it

One index fewer to write for every learner imported.

Revision ID: e2a7c9d4f1b6
Revises: d8f1c3a5b7e9
Create Date: 2026-12-05 22:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e2a7c9d4f1b6'
down_revision = 'd8f1c3a5b7e9'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_learner_last_name', table_name='learner')


def downgrade():
    op.create_index('ix_learner_last_name', 'learner', ['last_name'], unique=False)
