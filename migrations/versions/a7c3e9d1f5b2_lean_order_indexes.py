"""courier index partial, unused audit `at` index dropped: fewer index writes at each change

Every change to an order that is not a HOT update writes an entry into each of its indexes,
and every audit row into each of order_events'. ix_orders_courier_id now holds only orders
that have a courier; ix_order_events_at was read by no query (reports read overdue rows by
the partial ix_order_events_overdue_at, timelines by order_id).

Revision ID: a7c3e9d1f5b2
Revises: e8b3f0a6c2d1
Create Date: 2026-11-29 05:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9d1f5b2'
down_revision = 'e8b3f0a6c2d1'
branch_labels = None
depends_on = None

HAS_COURIER = sa.text("courier_id IS NOT NULL")


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_courier_id')
        batch_op.create_index('ix_orders_courier_id', ['courier_id'], unique=False,
                              postgresql_where=HAS_COURIER, sqlite_where=HAS_COURIER)
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_index('ix_order_events_at')


def downgrade():
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.create_index('ix_order_events_at', ['at'], unique=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_courier_id')
        batch_op.create_index('ix_orders_courier_id', ['courier_id'], unique=False)
