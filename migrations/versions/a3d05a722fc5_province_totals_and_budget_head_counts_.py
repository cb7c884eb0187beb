"""province totals and budget head counts kept at each confirm

Revision ID: a3d05a722fc5
Revises: c12a1e7b0d3f
Create Date: 2026-11-22 07:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3d05a722fc5'
down_revision = 'c12a1e7b0d3f'
branch_labels = None
depends_on = None

LOWEST = ("c.cancelled_at IS NULL AND (c.level = 'institution' "
          "OR (c.level = 'lao' AND c.database = 'other'))")


def upgrade():
    op.create_table('province_total',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.Column('database', sa.String(length=10), nullable=False),
    sa.Column('grade', sa.String(length=2), nullable=False),
    sa.Column('gender', sa.String(length=1), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['province_code'], ['province.code'], name=op.f('fk_province_total_province_code_province')),
    sa.ForeignKeyConstraint(['round_id'], ['collection_round.id'], name=op.f('fk_province_total_round_id_collection_round')),
    sa.PrimaryKeyConstraint('round_id', 'province_code', 'database', 'grade', 'gender', name=op.f('pk_province_total'))
    )
    with op.batch_alter_table('confirmation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subsidised', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('learners', sa.Integer(), nullable=True))
    # The sums of the confirmations already made (rules/totals.py keeps them from now on).
    op.execute(f"""
        INSERT INTO province_total (round_id, province_code, database, grade, gender, count)
        SELECT c.round_id, c.province_code, c.database, s.grade, s.gender, SUM(s.count)
        FROM snapshot_count s JOIN confirmation c ON c.id = s.confirmation_id
        WHERE {LOWEST}
        GROUP BY c.round_id, c.province_code, c.database, s.grade, s.gender""")
    op.execute(f"""
        UPDATE confirmation SET
          subsidised = (SELECT COALESCE(SUM(CASE WHEN s.grade IN
                          ('K1', 'K2', 'K3', 'P1', 'P2', 'P3', 'P4', 'P5', 'P6')
                          THEN s.count ELSE 0 END), 0)
                        FROM snapshot_count s WHERE s.confirmation_id = confirmation.id),
          learners = (SELECT COALESCE(SUM(s.count), 0)
                      FROM snapshot_count s WHERE s.confirmation_id = confirmation.id)
        WHERE id IN (SELECT c.id FROM confirmation c WHERE {LOWEST})""")


def downgrade():
    with op.batch_alter_table('confirmation', schema=None) as batch_op:
        batch_op.drop_column('learners')
        batch_op.drop_column('subsidised')
    op.drop_table('province_total')
