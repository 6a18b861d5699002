"""hostile clients: refused webhooks keep no body (body nullable, body_size, refused_slot
ring); stores.timezone_set, so an order fills a store's time zone but never overwrites it

Revision ID: b1e6d4f8a2c7
Revises: d7f3b1a9e5c2
Create Date: 2026-12-05 23:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1e6d4f8a2c7'
down_revision = 'd7f3b1a9e5c2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_receipts', schema=None) as batch_op:
        batch_op.alter_column('body', existing_type=sa.Text(), nullable=True)
        batch_op.add_column(sa.Column('body_size', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('refused_slot', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_webhook_receipts_refused_slot'), ['refused_slot'])
    # Stores that exist already count as set: until now every order rewrote the zone, so
    # what they hold is what an admin or the latest order named; never overwrite it again.
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone_set', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.alter_column('timezone_set', server_default=None)


def downgrade():
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_column('timezone_set')
    op.execute("UPDATE webhook_receipts SET body = '' WHERE body IS NULL")
    with op.batch_alter_table('webhook_receipts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_webhook_receipts_refused_slot'), type_='unique')
        batch_op.drop_column('refused_slot')
        batch_op.drop_column('body_size')
        batch_op.alter_column('body', existing_type=sa.Text(), nullable=False)
