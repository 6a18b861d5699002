"""HTTP for the outbox: OneTablet's API (bearer key) and the customer app's webhook
(signed the Standard Webhooks way). One `requests.Session` per sender thread, with
connect and read timeouts, no redirects (a moved API is a configuration error to see)."""
from __future__ import annotations

import json
from typing import Optional

import requests

from ..infra.signing import sign

USER_AGENT = "Passline-outbox/1"


class NotConfigured(Exception):
    """The target's URL is not set: the message waits until it is."""


class Client:
    def __init__(self, config):
        self.config = config
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    @property
    def timeout(self) -> tuple[float, float]:
        return self.config["OUTBOX_CONNECT_TIMEOUT_SECONDS"], self.config["OUTBOX_READ_TIMEOUT_SECONDS"]

    def close(self) -> None:
        self.session.close()

    def deliver(self, *, target: str, method: str, path: str, payload: dict,
                idempotency_key: str) -> requests.Response:
        """Send one message; raises requests' exceptions for timeouts and refused connections."""
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key}
        if target == "onetablet":
            url = _join(self._setting("ONETABLET_API_URL"), path)
            key = self.config.get("ONETABLET_API_KEY")
            if key:
                headers["Authorization"] = f"Bearer {key}"
        elif target == "customer":
            url = _join(self._setting("CUSTOMER_WEBHOOK_URL"), path)
            secret = self.config.get("CUSTOMER_WEBHOOK_SECRET")
            if secret:
                # The webhook-id is the idempotency key: the receiver dedupes our retries by it.
                headers.update(sign(secret, body, webhook_id=idempotency_key))
        else:
            raise ValueError(f"unknown outbox target {target!r}")
        return self.session.request(method, url, data=body.encode("utf-8"), headers=headers,
                                    timeout=self.timeout, allow_redirects=False)

    def _setting(self, name: str) -> str:
        value: Optional[str] = self.config.get(name)
        if not value:
            raise NotConfigured(f"{name} is not set")
        return value


def configured_targets(config) -> list[str]:
    """The targets this process can reach; messages for others wait in the outbox."""
    wanted = {"onetablet": "ONETABLET_API_URL", "customer": "CUSTOMER_WEBHOOK_URL"}
    return [target for target, setting in wanted.items() if config.get(setting)]


def _join(base: str, path: str) -> str:
    if not path:
        return base
    return base.rstrip("/") + "/" + path.lstrip("/")
