"""`flask --app wsgi courier create NAME --phone PHONE` (prints the new courier's id) and
`flask --app wsgi courier link ID` (prints a new phone link, revoking the old): contract §6."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from ..models import Courier
from ..services import courier_links, couriers


def register(app) -> None:
    app.cli.add_command(courier_group)


@click.group("courier", cls=AppGroup)  # AppGroup: each command runs in the app's context
def courier_group():
    """Manage couriers and their phone links."""


@courier_group.command("create")
@click.argument("name")
@click.option("--phone", required=True, help="the courier's phone number, e.g. +1 555 987 6543")
def create(name, phone):
    """Add an active courier and print their id."""
    # The same rules as the /couriers form's (app/services/couriers.py), whoever adds one.
    values, errors = couriers.check_new(name, phone)
    if errors:
        raise click.ClickException(" ".join(errors.values()))
    courier = couriers.add(values)
    db.session.commit()
    click.echo(courier.id)


@courier_group.command("link")
@click.argument("courier_id", type=click.IntRange(1, 2**63 - 1))
def link(courier_id):
    """Make the courier a new phone link (the old one stops working) and print it."""
    courier = db.session.get(Courier, courier_id)
    if courier is None:
        raise click.ClickException(f"no courier {courier_id}")
    if not courier.is_active:
        raise click.ClickException(f"{courier.name} is inactive: reactivate them on /couriers first")
    token = courier_links.make_link(courier)
    db.session.commit()
    click.echo(link_url(current_app.config["PASSLINE_URL"], token))


def link_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/c/{token}"
