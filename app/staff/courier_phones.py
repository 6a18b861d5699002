"""/couriers: each courier's phone link (contract §3.5). Staff make one (shown once, as a URL
and a QR code to scan: only its hash is kept) or revoke it; the fleet table shows who has a
link and when their phone was last seen, with their last shared position."""
from __future__ import annotations

import segno
from flask import Blueprint, url_for

from ..auth import role_required
from ..extensions import db
from ..services import courier_links
from .couriers import FRAGMENT, PAGE, _locked, _saved, fleet
from .pages import respond

bp = Blueprint("courier_phones", __name__, url_prefix="/couriers")
bp.add_app_template_global(courier_links.presence_of, "courier_presence")


def qr_data_uri(url: str) -> str:
    """The link as a QR code, an SVG in a data: URI (the CSP allows data: images; no script)."""
    return segno.make(url, error="m").svg_data_uri(scale=5, border=2, dark="#17202a")


@bp.post("/<id:courier_id>/link")
@role_required("dispatcher")
def make_link(courier_id):
    """A new phone link; the old one stops working. Shown once, on this answer only."""
    courier = _locked(courier_id)
    if not courier.is_active:
        db.session.rollback()
        return respond(PAGE, FRAGMENT, status=409, **fleet(
            notice=f"{courier.name} is inactive: reactivate them before making a link.", at=courier.id))
    token = courier_links.make_link(courier)
    db.session.commit()
    url = url_for("courier_phone.page", token=token, _external=True)
    response = respond(PAGE, FRAGMENT, **fleet(
        notice=f"New link for {courier.name}: any earlier link of theirs no longer works.",
        link={"courier_id": courier.id, "url": url, "qr": qr_data_uri(url)}, at=courier.id))
    response.headers["Cache-Control"] = "no-store"  # the secret is on this page, once
    return response


@bp.post("/<id:courier_id>/link/revoke")
@role_required("dispatcher")
def revoke_link(courier_id):
    courier = _locked(courier_id)
    had = courier_links.revoke(courier)
    return _saved(f"{courier.name}'s phone link no longer works." if had else f"{courier.name} had no link.",
                  courier.id)
