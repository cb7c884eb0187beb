"""one throttle table for sign-in, admission and look-ups; audit_entry append-only in PostgreSQL, with the learner's institution

Revision ID: c12a1e7b0d3f
Revises: 6d719f14d3cc
Create Date: 2026-11-22 04:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c12a1e7b0d3f'
down_revision = '6d719f14d3cc'
branch_labels = None
depends_on = None

# Whatever role the app connects as, a row of the log can be added and read, never changed,
# deleted or truncated: the trigger refuses, and only a superuser dropping it can undo that.
GUARD = """
CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_entry_no_update_delete BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_entry FROM PUBLIC;
"""


def upgrade():
    op.create_table('throttle_hit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_throttle_hit'))
    )
    with op.batch_alter_table('throttle_hit', schema=None) as batch_op:
        batch_op.create_index('ix_throttle_hit_key_at', ['key', 'at'], unique=False)
    # Counters only: nothing to carry over.
    with op.batch_alter_table('sign_in_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_failure_key_at')
    op.drop_table('sign_in_failure')
    with op.batch_alter_table('admission_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admission_attempt_at'))
        batch_op.drop_index('ix_admission_attempt_address_kind_at')
    op.drop_table('admission_attempt')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_institution_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_audit_entry_subject_at', ['subject_institution_id', 'at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(GUARD)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER audit_entry_no_truncate ON audit_entry")
        op.execute("DROP TRIGGER audit_entry_no_update_delete ON audit_entry")
        op.execute("DROP FUNCTION audit_entry_append_only()")
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entry_subject_at')
        batch_op.drop_column('subject_institution_id')
    op.create_table('admission_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admission_attempt'))
    )
    with op.batch_alter_table('admission_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_admission_attempt_address_kind_at', ['address', 'kind', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_admission_attempt_at'), ['at'], unique=False)
    op.create_table('sign_in_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failure'))
    )
    with op.batch_alter_table('sign_in_failure', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_failure_key_at', ['key', 'at'], unique=False)
    with op.batch_alter_table('throttle_hit', schema=None) as batch_op:
        batch_op.drop_index('ix_throttle_hit_key_at')
    op.drop_table('throttle_hit')
