"""heartbeats: when each scheduled job last ran, so a stopped scheduler (overdue alarms no
longer raised) shows on /healthz and the board instead of going unnoticed

Revision ID: d7f3b1a9e5c2
Revises: a3f9c1e7d5b2
Create Date: 2026-11-30 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7f3b1a9e5c2'
down_revision = 'a3f9c1e7d5b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'heartbeats',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('by', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade():
    op.drop_table('heartbeats')
