"""list and search indexes: enrolment list order, learner name prefixes

Revision ID: b11b0001
Revises: ffba4a9312bb
Create Date: 2026-11-22 04:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b11b0001'
down_revision = 'ffba4a9312bb'
branch_labels = None
depends_on = None


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    pattern = ' text_pattern_ops' if postgresql else ''
    for column in ('first_name', 'last_name'):
        op.create_index(f'ix_learner_{column}_prefix', 'learner',
                        [sa.text(f'lower({column}){pattern}')], unique=False)
    if postgresql:  # SQLite cannot reflect the DESC; its lists are a demo's size
        op.create_index('ix_enrolment_list_order', 'enrolment',
                        [sa.text('academic_year DESC'), 'institution_id', 'grade', 'classroom',
                         'id'], unique=False)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_enrolment_list_order', table_name='enrolment')
    for column in ('first_name', 'last_name'):
        op.drop_index(f'ix_learner_{column}_prefix', table_name='learner')
