"""The fleet's couriers: what a new courier must be, whoever adds one (the /couriers page or
`flask courier create`)."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..infra import phones
from ..models import Courier


def check_new(name: str, phone: str) -> tuple[dict, dict]:
    """A new courier's fields (trimmed; the phone as E.164 once valid), and an error per field
    that is wrong, in words for the person who typed it."""
    values = {"name": (name or "").strip(), "phone": (phone or "").strip()}
    errors = {}
    if not values["name"]:
        errors["name"] = "Enter the courier's name."
    elif len(values["name"]) > 255:
        errors["name"] = "A name is at most 255 characters."
    try:  # kept as E.164, whatever way it was typed (app/infra/phones.py)
        values["phone"] = phones.normalise(values["phone"], current_app.config["PHONE_REGION"])
    except phones.PhoneError as error:
        errors["phone"] = str(error)
    else:
        # One person, one courier: an active courier with the same number is a duplicate.
        # Compared as E.164 strings: every stored phone is one since migration f1c8e4a2b9d3,
        # except those it could not read (kept as typed, named in its output), which match none.
        same = db.session.execute(
            select(Courier).where(Courier.is_active.is_(True), Courier.phone == values["phone"])
            .order_by(Courier.id).limit(1)
        ).scalar_one_or_none()
        if same is not None:
            errors["phone"] = f"{same.name} already has this number ({same.phone}) and is active."
    return values, errors


def add(values: dict) -> Courier:
    """A courier from check_new's values, active at once. The caller commits."""
    courier = Courier(name=values["name"], phone=values["phone"], is_active=True)
    db.session.add(courier)
    return courier
