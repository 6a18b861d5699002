"""couriers: every stored phone rewritten to E.164, as new couriers' phones have been since
app/infra/phones.py, so that one number is one string and the duplicate check can compare them

Revision ID: f1c8e4a2b9d3
Revises: e2c7a4f9b1d6
Create Date: 2026-12-08 09:00:00

Couriers added before phones were normalised keep what was typed ("(555) 010-2000").
This reads each one with the app's own rule (`phones.normalise`, imported, not copied: a
second copy here would drift from the one the /couriers form applies) in the app's
PHONE_REGION (`flask db upgrade` runs inside the app, which read and checked the setting).

What cannot be read as a phone (empty, letters, too few digits, no area code) is kept as it
is and named in a WARNING line of the upgrade's output: the deploy does not fail over data a
person must look at. Two couriers whose phones become the same number are both kept (there
is no unique constraint on couriers.phone) and named in a WARNING line; /couriers then shows
the same number on both rows, and a new courier with it is refused naming the first active one.
"""
import logging
from collections import defaultdict

from alembic import op
import sqlalchemy as sa
from flask import current_app

from app.infra import phones


# revision identifiers, used by Alembic.
revision = 'f1c8e4a2b9d3'
down_revision = 'e2c7a4f9b1d6'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.courier_phones_e164")

# The table as this revision knows it, not app.models: a later model must not change this step.
couriers = sa.table("couriers", sa.column("id", sa.BigInteger), sa.column("name", sa.String),
                    sa.column("phone", sa.String))


def upgrade():
    region = current_app.config["PHONE_REGION"]
    conn = op.get_bind()
    sharing = defaultdict(list)  # E.164 number -> the couriers that have it now
    for courier_id, name, phone in conn.execute(
            sa.select(couriers.c.id, couriers.c.name, couriers.c.phone).order_by(couriers.c.id)).all():
        try:
            number = phones.normalise(phone, region)
        except phones.PhoneError as error:
            log.warning("courier %s (%s): phone %r kept as it is, not a phone in %s: %s",
                        courier_id, name, phone, region, error)
            continue
        sharing[number].append(f"{courier_id} ({name})")
        if number != phone:
            conn.execute(sa.update(couriers).where(couriers.c.id == courier_id).values(phone=number))
    for number, named in sharing.items():
        if len(named) > 1:
            log.warning("couriers %s now share the phone %s: all kept; deactivate the ones not in use on "
                        "/couriers", ", ".join(named), number)


def downgrade():
    # A no-op: what was typed is not kept, and E.164 is a phone the previous revision reads as well.
    pass
