"""the order's payload in its own table: order rows are rewritten at every change, the
payload (about two thirds of the row) never changes after the order is created

Revision ID: b4d8f2a6c0e3
Revises: a7c3e9d1f5b2
Create Date: 2026-11-29 05:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4d8f2a6c0e3'
down_revision = 'a7c3e9d1f5b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'order_payloads',
        sa.Column('order_id', sa.String(length=255), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.PrimaryKeyConstraint('order_id'),
    )
    op.execute("INSERT INTO order_payloads (order_id, payload) SELECT id, payload FROM orders")
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('payload')


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))
    op.execute("UPDATE orders SET payload = (SELECT payload FROM order_payloads WHERE order_id = orders.id)")
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.alter_column('payload', existing_type=sa.JSON(), nullable=False)
    op.drop_table('order_payloads')
