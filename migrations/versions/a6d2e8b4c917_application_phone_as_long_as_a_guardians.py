"""an application's phone as long as a guardian's (50): a number with an extension fits

Revision ID: a6d2e8b4c917
Revises: f3a9c2d71b84
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a6d2e8b4c917'
down_revision = 'f3a9c2d71b84'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.alter_column('contact_phone', existing_type=sa.String(length=20),
                              type_=sa.String(length=50), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.alter_column('contact_phone', existing_type=sa.String(length=50),
                              type_=sa.String(length=20), existing_nullable=False)
