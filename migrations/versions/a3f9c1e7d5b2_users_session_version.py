"""users.session_version: a new password, a new role or a disable ends the account's
sessions for good (re-enabling does not bring them back)

Revision ID: a3f9c1e7d5b2
Revises: c9d4a2e7f1b8
Create Date: 2026-11-29 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3f9c1e7d5b2'
down_revision = 'c9d4a2e7f1b8'
branch_labels = None
depends_on = None


def upgrade():
    # Existing accounts start at 0, which is what sessions from before this change carry
    # (app/auth reads a bare user id as version 0): nobody is logged out by the upgrade.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
