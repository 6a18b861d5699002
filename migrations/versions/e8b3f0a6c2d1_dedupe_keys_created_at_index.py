"""index dedupe_keys.created_at: the retention job prunes keys by age

Revision ID: e8b3f0a6c2d1
Revises: d2a7e5c9f1b4
Create Date: 2026-11-29 03:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e8b3f0a6c2d1'
down_revision = 'd2a7e5c9f1b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dedupe_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dedupe_keys_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('dedupe_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dedupe_keys_created_at'))
