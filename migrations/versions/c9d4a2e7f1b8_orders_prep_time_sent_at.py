"""orders.prep_time_sent_at: when OneTablet sent the kept prep_time, so an older
confirmation arriving later cannot overwrite a newer promise

Revision ID: c9d4a2e7f1b8
Revises: b4d8f2a6c0e3
Create Date: 2026-11-29 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c9d4a2e7f1b8'
down_revision = 'b4d8f2a6c0e3'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable, no default: existing orders' prep_time has no known send time, so the next
    # confirmation with a prep_time applies (as before) and starts the comparison.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prep_time_sent_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('prep_time_sent_at')
