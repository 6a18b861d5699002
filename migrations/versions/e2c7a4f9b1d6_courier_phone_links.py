"""couriers: the phone link (its token's hash) and presence (last seen, last position)

Revision ID: e2c7a4f9b1d6
Revises: b1e6d4f8a2c7
Create Date: 2026-12-06 00:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2c7a4f9b1d6'
down_revision = 'b1e6d4f8a2c7'
branch_labels = None
depends_on = None


def upgrade():
    # All nullable: existing couriers start with no link and no presence.
    with op.batch_alter_table('couriers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('link_made_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('seen_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('position_at', sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint('uq_couriers_link_hash', ['link_hash'])


def downgrade():
    with op.batch_alter_table('couriers', schema=None) as batch_op:
        batch_op.drop_constraint('uq_couriers_link_hash', type_='unique')
        for column in ('position_at', 'longitude', 'latitude', 'seen_at', 'link_made_at', 'link_hash'):
            batch_op.drop_column(column)
