"""logins found in any case: an index on lower(login)

Revision ID: e5f1a2b3c4d6
Revises: d4e7a9c1b2f3
Create Date: 2026-12-05 08:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5f1a2b3c4d6'
down_revision = 'd4e7a9c1b2f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_user_account_login_lower', 'user_account', [sa.text('lower(login)')],
                    unique=False)


def downgrade():
    op.drop_index('ix_user_account_login_lower', table_name='user_account')
