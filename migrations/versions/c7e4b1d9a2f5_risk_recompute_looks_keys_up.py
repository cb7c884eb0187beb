"""indexes for a risk recompute of some institutions: names with birth dates, guardian phones

It looks up, nationally, only the keys the institutions' learners have, instead of grouping
every learner of the country.

Revision ID: c7e4b1d9a2f5
Revises: a6d2e8b4c917
Create Date: 2026-12-05 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e4b1d9a2f5'
down_revision = 'a6d2e8b4c917'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_learner_name_birth_date', 'learner',
                    ['last_name', 'first_name', 'birth_date'], unique=False)
    # Exactly rules/risk/learner_checks.py's phone (models.people.normalised_phone): both
    # databases use an expression index only for the very same expression.
    op.create_index('ix_learner_normalised_phone', 'learner',
                    [sa.text("replace(replace(guardian_phone, ' ', ''), '-', '')")], unique=False)


def downgrade():
    op.drop_index('ix_learner_normalised_phone', table_name='learner')
    op.drop_index('ix_learner_name_birth_date', table_name='learner')
