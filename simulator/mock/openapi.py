"""The OpenAPI 3 description of the mock's public routes, generated from ``contract.py``.

Schemathesis and other OpenAPI tools read it from ``GET /openapi.json``; because the body
schemas come from ``contract.request_schema`` they can never drift from what the mock checks.
"""

from __future__ import annotations

from typing import Any

from simulator import contract

_MESSAGE = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}

_MESSAGE_REF = {"$ref": "#/components/schemas/Message"}

_RESPONSES = {
    "202": "accepted",
    "400": "authentication succeeded, but a mandatory field is missing or a field is invalid",
    "401": "the app does not exist, or authentication failed",
    "403": "the app's traffic is blocked by the Zero package limit",
    "413": "the body is larger than 64 KiB",
    "429": "injected fault: too many requests",
    "500": "internal server error (only when injected)",
    "503": "injected fault: service unavailable",
}


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for channel, prefix in ((contract.S2S, contract.S2S_PREFIX),
                            (contract.C2S, contract.C2S_PREFIX)):
        platforms = [p for p in contract.PLATFORMS
                     if channel == contract.S2S or p not in contract.S2S_ONLY_PLATFORMS]
        for operation in contract.OPERATIONS:
            path = prefix + contract.relative_path(operation, "{platform}", "{app_id}")
            paths[path] = {"post": _operation(channel, operation, platforms)}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "AppsFlyer PC/Console/CTV events API, S2S and C2S (ctv-simulator mock)",
            "version": "1.0",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "hmac": {
                    "type": "apiKey", "in": "header", "name": "authorization",
                    "description": "lowercase hex HMAC-SHA256 of the raw body, keyed by the "
                                   "app's dev key",
                },
            },
            "schemas": {"Message": _MESSAGE},
        },
        "security": [{"hmac": []}],
    }


def _operation(channel: str, operation: str, platforms: list[str]) -> dict[str, Any]:
    responses: dict[str, Any] = {"202": {"description": _RESPONSES["202"]}}
    for status, text in _RESPONSES.items():
        if status != "202":
            responses[status] = {
                "description": text,
                "content": {"application/json": {"schema": _MESSAGE_REF}},
            }
    return {
        "operationId": f"{channel}_{operation}",
        "parameters": [
            {"name": "platform", "in": "path", "required": True,
             "schema": {"type": "string", "enum": platforms}},
            {"name": "app_id", "in": "path", "required": True,
             "schema": {"type": "string", "pattern": f"^{contract.APP_ID_PATTERN.pattern}$"}},
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {
                "schema": contract.request_schema(operation, channel)}},
        },
        "responses": responses,
    }
