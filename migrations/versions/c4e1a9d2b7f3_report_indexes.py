"""report indexes: audit rows by event and time (overdue incidents by limit)

Revision ID: c4e1a9d2b7f3
Revises: f6b73c1e56b3
Create Date: 2026-11-28 23:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4e1a9d2b7f3'
down_revision = 'f6b73c1e56b3'
branch_labels = None
depends_on = None


def upgrade():
    # The timing report reads orders through ix_orders_store_created (store-local day
    # windows per store) and overdue audit rows through this one.
    op.create_index('ix_order_events_event_at', 'order_events', ['event', 'at'], unique=False)


def downgrade():
    op.drop_index('ix_order_events_event_at', table_name='order_events')
