"""Standard Webhooks signatures (https://www.standardwebhooks.com), the scheme OneTablet
signs with and Passline signs its own customer notifications with."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


TOLERANCE_SECONDS = 300  # the 5-minute window


class BadSignature(Exception):
    pass


def check_headers(headers) -> str:
    """What can be checked before a byte of the body is read: the three headers are there,
    the timestamp is inside the 5-minute window, and a v1 signature is offered. A request
    that fails here costs us no read of its body. Returns the webhook-id."""
    wanted = _wanted(headers)
    try:
        timestamp = float(wanted["webhook-timestamp"])  # seconds, as the library reads it
    except ValueError:
        raise BadSignature("malformed webhook-timestamp header: not a number") from None
    if not abs(time.time() - timestamp) <= TOLERANCE_SECONDS:  # NaN included
        raise BadSignature("Message timestamp outside the 5-minute window")
    if not any(part.startswith("v1,") for part in wanted["webhook-signature"].split(" ")):
        raise BadSignature("malformed webhook-signature header: no v1 signature")
    return wanted["webhook-id"]


def _wanted(headers) -> dict[str, str]:
    wanted = {k: headers.get(k) for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    missing = [k for k, v in wanted.items() if not v]
    if missing:
        raise BadSignature(f"missing header(s): {', '.join(missing)}")
    return wanted


def verify(secret: str, body: bytes, headers) -> str:
    """Check the signature and the 5-minute timestamp window; return the webhook-id."""
    wanted = _wanted(headers)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # Not JSON anyway, but a correctly signed body deserves a 400, not a 401.
        text = None
    try:
        hook = Webhook(secret)
        if text is not None:
            hook.verify(text, wanted, json_parse=False)
        else:
            _verify_raw(secret, body, wanted)
    except WebhookVerificationError as error:
        raise BadSignature(str(error)) from None
    except Exception:  # malformed header values: not base64, no "v1," prefix...
        raise BadSignature("malformed webhook-signature or webhook-timestamp header") from None
    return wanted["webhook-id"]


def _verify_raw(secret: str, body: bytes, headers) -> None:
    """The same check as Webhook.verify, over bytes that are not UTF-8."""
    timestamp = int(float(headers["webhook-timestamp"]))
    if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
        raise WebhookVerificationError("Message timestamp outside the 5-minute window")
    expected = _hmac(secret, f"{headers['webhook-id']}.{timestamp}.".encode() + body)
    for candidate in headers["webhook-signature"].split(" "):
        version, _, sig = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(base64.b64decode(sig), expected):
            return
    raise WebhookVerificationError("No matching signature found")


def _hmac(secret: str, message: bytes) -> bytes:
    key = base64.b64decode(secret.removeprefix("whsec_") + "==")
    return hmac.new(key, message, hashlib.sha256).digest()


def sign(secret: str, body: bytes | str, *, webhook_id: str | None = None,
         timestamp: datetime | None = None) -> dict[str, str]:
    """The three headers that make `body` a signed webhook."""
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    timestamp = timestamp or datetime.now(timezone.utc)
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, timestamp, text),
    }


def new_secret() -> str:
    return "whsec_" + base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()
