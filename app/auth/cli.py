"""The staff account commands: `flask --app wsgi user create NAME --role ROLE --password PW`,
`user set-role NAME ROLE` and `user set-password NAME --password PW`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from ..services import accounts
from .views import sweep_sockets


def register(app) -> None:
    app.cli.add_command(user_group)


@click.group("user", cls=AppGroup)  # AppGroup: each command runs in the app's context
def user_group():
    """Manage staff accounts."""


@user_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create(username, role, password):
    """Create a staff account: flask --app wsgi user create NAME --role ROLE --password PW"""
    try:
        accounts.create_user(username, role=role, password=password)
        db.session.commit()
    except accounts.UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created {role} {username}")


def _account(username):
    user = accounts.find(username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return user


@user_group.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(accounts.ROLES))
def set_role(username, role):
    """Give an account another role; its sessions end: flask --app wsgi user set-role NAME ROLE"""
    user = _account(username)
    accounts.set_role(user, role)
    db.session.commit()
    sweep_sockets()
    click.echo(f"{user.username} is now {role}; their sessions ended")


@user_group.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password(username, password):
    """Set a new password; the account's sessions end: flask --app wsgi user set-password NAME --password PW"""
    user = _account(username)
    try:
        accounts.set_password(user, password)
    except accounts.UserError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    sweep_sockets()
    click.echo(f"new password set for {user.username}; their sessions ended")
