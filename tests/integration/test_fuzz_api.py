"""Schemathesis against /api/openapi.json: requests generated from the spec (valid and
invalid ones) never get a 5xx, and every answer matches what the spec promises. Webhooks
are signed, so the generated bodies reach the parser and the schema checks."""
from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core import NotSet
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.checks import not_a_server_error

from app.api.openapi import document
from bench.traffic import signed_headers
from tests.helpers import PLATFORM_KEY, WEBHOOK_SECRET

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]


def _raw(body) -> bytes:
    """The bytes to sign: the generated JSON, or the raw bytes negative cases sometimes are."""
    if isinstance(body, NotSet):
        return b""
    return body if isinstance(body, bytes) else json.dumps(body).encode()


OPERATIONS = [(path, method.upper()) for path, methods in document()["paths"].items() for method in methods]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_get_no_5xx_and_answers_that_match_the_spec(app, menu, mode):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    for path, method in OPERATIONS:
        operation = schema[path][method]

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            if path.startswith("/onetablet"):
                raw = _raw(case.body)
                response = case.call(headers=signed_headers(raw, secret=WEBHOOK_SECRET), data=raw)
            else:
                response = case.call(headers={"Authorization": f"Bearer {PLATFORM_KEY}"})
            case.validate_response(response, checks=CHECKS)

        check()
