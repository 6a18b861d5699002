"""/c/<token>: a courier's page on their phone (contract §3.5). No login: the token in the path
is the courier's only credential, so every view looks it up first, and an unknown or revoked
one is the same 404 page after the same work. Wrong tokens are throttled per address.

The page (page.html, static/courier/) lists the courier's open orders, polls for new ones
(GET …/orders with If-None-Match: a 304 costs one small query), posts one tap per status
(POST …/tap), kept on the phone while offline, and, with consent, its position."""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, g, jsonify, make_response, render_template, request, \
    send_from_directory
from flask_limiter.errors import RateLimitExceeded
from markupsafe import Markup

from ..auth import throttle
from ..domain import labels, lifecycle
from ..extensions import csrf
from ..infra import clock
from ..infra.bodies import BadBody, json_object, raw_body
from ..services import courier_links
from ..services.courier_links import TapRefused

bp = Blueprint("courier_phone", __name__, url_prefix="/c")

MAX_BODY = 2048  # a tap or a position is a few dozen bytes
TAP_ID = re.compile(r"[0-9a-fA-F-]{8,64}")  # crypto.randomUUID(), or the page's fallback
_LIMITER = "passline_courier_links"
# What the big button says for the status it posts: the courier's words, not the code.
BUTTON = {"dasher_confirmed": "Accept this order", "arriving_at_store": "On my way to the store",
          "arrived_at_store": "I'm at the store", "dasher_out_for_delivery": "Picked up: on my way",
          "dropoff": "Delivered"}


def _courier(token: str):
    """The token's courier, or the 404 every unknown link gets (counted by the throttle)."""
    courier = courier_links.courier_for(token)
    if courier is None:
        g.unknown_link = True
        current_app.logger.info("courier link %s… refused: unknown or revoked", courier_links.log_id(token))
        abort(404, description="This link does not work any more. Ask dispatch for a new one.")
    courier_links.seen(courier)
    return courier


def _same_origin() -> None:
    """CSRF, without a session: the /c/ POSTs are exempt from Flask-WTF on purpose, since they
    carry no session cookie to ride on; the token in the path authenticates them and another
    site cannot know it. As defence in depth a browser's own Origin and Sec-Fetch-Site must
    still say the request comes from this site (a client that sends neither is no browser,
    and holds the token anyway)."""
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if (site and site not in ("same-origin", "none")) or (origin and urlsplit(origin).netloc != request.host):
        abort(403, description="A courier's taps come from the courier's page only.")


def _refuse(status: int, code: str, detail: str):
    return jsonify(error=code, detail=detail), status


def _body() -> dict:
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    if request.mimetype != "application/json":
        raise BadBody(415, "send JSON (Content-Type: application/json)")
    return json_object(raw_body())


def _store_time(order, now: datetime) -> str:
    try:
        return now.astimezone(ZoneInfo(order.store.timezone)).strftime("%H:%M")
    except (KeyError, ValueError):  # a zone name tzdata does not know: UTC rather than nothing
        return now.strftime("%H:%M UTC")


def _cards(courier, orders):
    now = clock.now()
    return render_template("courier/_orders.html", courier=courier, orders=orders, now=now,
                           store_time=_store_time, button=BUTTON, steps=lifecycle.courier_steps,
                           why_not=lifecycle.courier_status_refusal, label=labels.label)


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from /c/ so that its scope is every courier's page."""
    response = send_from_directory(current_app.static_folder, "courier/sw.js", mimetype="text/javascript",
                                   max_age=0)
    response.headers["Service-Worker-Allowed"] = "/c/"
    return response


@bp.get("/<token>")
def page(token):
    courier = _courier(token)
    orders = courier_links.open_orders(courier.id)
    response = make_response(render_template(
        "courier/page.html", courier=courier, orders_html=Markup(_cards(courier, orders)), token=token,
        poll_seconds=current_app.config["COURIER_POLL_SECONDS"],
        position_seconds=current_app.config["COURIER_POSITION_SECONDS"], button=BUTTON))
    _private(response)
    return response


@bp.get("/<token>/orders")
def orders(token):
    """The order list alone, for the page's poll; 304 when nothing changed."""
    courier = _courier(token)
    found = courier_links.open_orders(courier.id)
    etag = courier_links.fingerprint(courier, found)
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        response = make_response(_cards(courier, found))
    response.set_etag(etag)
    return _private(response)


@bp.post("/<token>/tap")
def tap(token):
    """{"order_id", "status", "tap"}: the courier's next status; `tap` is made on the phone, so a
    re-sent tap is applied once. 200 applied or repeated, 404 not one of theirs, 409 refused
    by the rules (with why), 422 malformed."""
    _same_origin()
    courier = _courier(token)
    body = _body()
    order_id, status, tap_id = body.get("order_id"), body.get("status"), body.get("tap")
    if not isinstance(order_id, str) or not 0 < len(order_id) <= 255:
        return _refuse(422, "invalid", "order_id must be the order's id")
    if status not in lifecycle.COURIER_STATUSES:
        return _refuse(422, "invalid", f"status must be one of {', '.join(lifecycle.COURIER_STATUSES)}")
    if not isinstance(tap_id, str) or not TAP_ID.fullmatch(tap_id):
        return _refuse(422, "invalid", "tap must be the id the phone made for this tap")
    try:
        applied = courier_links.tap(courier, order_id, status, tap_id)
    except TapRefused as refused:
        return _refuse(refused.status, "not_found" if refused.status == 404 else "refused", str(refused))
    return jsonify(applied=applied, status=status)


@bp.post("/<token>/position")
def position(token):
    """{"latitude", "longitude"} from the phone's geolocation, sent while the courier shares it."""
    _same_origin()
    courier = _courier(token)
    body = _body()
    latitude, longitude = body.get("latitude"), body.get("longitude")
    problem = courier_links.valid_position(latitude, longitude)
    if problem:
        return _refuse(422, "invalid", problem)
    courier_links.record_position(courier, float(latitude), float(longitude))
    return jsonify(saved=True)


def _private(response):
    # The token is in the URL: no shared cache may keep the page, and it sends no Referer.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.errorhandler(BadBody)
def _bad_body(error: BadBody):
    return _refuse(error.status, "invalid", error.detail)


@bp.errorhandler(RateLimitExceeded)
def _too_many(error):
    wait = throttle.retry_after(_LIMITER)
    answer = (_refuse(429, "too_many_requests", f"too many unknown links from this address; wait {wait} s")
              if request.method == "POST" else
              (render_template("error.html", error=error, back=None), 429))
    response = make_response(answer)
    response.headers["Retry-After"] = str(wait)
    return response


def init_app(app) -> None:
    """Register /c/, exempt from CSRF (see _same_origin) and throttled: every view shares one
    count per address of unknown links, checked before the view runs."""
    csrf.exempt(bp)
    app.register_blueprint(bp)
    guarded = tuple(f"{bp.name}.{endpoint}" for endpoint in ("page", "orders", "tap", "position"))
    limiter = throttle.make_limiter(app, "passline-courier-link", guards=guarded)
    allowed = (f"{int(app.config['COURIER_LINK_FAILURES_PER_ADDRESS'])} per "
               f"{int(app.config['COURIER_LINK_FAILURE_WINDOW_SECONDS'])} second")
    shared = limiter.shared_limit(allowed, scope="courier-link", key_func=throttle.address_key,
                                  deduct_when=lambda response: bool(g.get("unknown_link")))
    for name in guarded:
        app.view_functions[name] = shared(app.view_functions[name])
    app.extensions[_LIMITER] = limiter

    from . import cli

    cli.register(app)
