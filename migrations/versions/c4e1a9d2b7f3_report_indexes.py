"""report indexes: the overdue audit rows by time (overdue incidents by limit)

Revision ID: c4e1a9d2b7f3
Revises: f6b73c1e56b3
Create Date: 2026-11-28 23:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e1a9d2b7f3'
down_revision = 'f6b73c1e56b3'
branch_labels = None
depends_on = None

OVERDUE_EVENTS = "event IN ('overdue', 'overdue_escalated')"


def upgrade():
    # The timing report reads orders through ix_orders_store_created (store-local day
    # windows per store) and the overdue audit rows through this partial index: a few
    # percent of the trail, which PostgreSQL's planner then prefers to scanning by time.
    op.create_index('ix_order_events_overdue_at', 'order_events', ['at'], unique=False,
                    postgresql_where=sa.text(OVERDUE_EVENTS), sqlite_where=sa.text(OVERDUE_EVENTS))


def downgrade():
    op.drop_index('ix_order_events_overdue_at', table_name='order_events')
