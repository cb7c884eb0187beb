"""the list order of young children alone, so the department's list of them skips the schools

Revision ID: d8f1c3a5b7e9
Revises: c7e4b1d9a2f5
Create Date: 2026-12-05 21:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd8f1c3a5b7e9'
down_revision = 'c7e4b1d9a2f5'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':  # as ix_enrolment_list_order (b11b0001)
        op.create_index('ix_enrolment_list_order_cdc', 'enrolment',
                        [sa.text('academic_year DESC'), 'institution_id', 'grade', 'classroom',
                         'id'], unique=False,
                        postgresql_where=sa.text("grade IN ('A2', 'A3', 'A4', 'A5')"))


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_enrolment_list_order_cdc', table_name='enrolment')
