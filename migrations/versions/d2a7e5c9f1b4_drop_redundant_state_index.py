"""drop ix_orders_state: ix_orders_state_changed (state, state_changed_at) serves every
lookup by state, and one index fewer is one index write fewer on every order change

Revision ID: d2a7e5c9f1b4
Revises: c4e1a9d2b7f3
Create Date: 2026-11-29 03:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd2a7e5c9f1b4'
down_revision = 'c4e1a9d2b7f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_state')


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_state', ['state'], unique=False)
