"""The four JSON dialects: where each reads its key, its envelopes, its error table.

- Campaign API (claimr's dialect), /api/v1, ``Authorization: Bearer``:
  ``{"success": true, "data": ...}``; errors ``{"success": false, "error": "..."}``
  (plus ``errors`` [{path, message}] when the engine listed them).
- Management API, /api/v1/admin, ``Authorization: Bearer``: the Campaign API's envelope.
- Rewards API (GamifyHost's dialect), /v1, ``X-API-Secret`` (the Games SDK
  routes take ``X-API-Key``): ``{"status": "success", "data"}``; errors
  ``{"status": "error", "code": <status>, "message": "..."}``.
- Participants API, /api/v1/gamify, ``X-API-Key``: plain resource JSON;
  errors ``{"error": {"code", "message"}}``.
"""
from __future__ import annotations

from flask import request

from ._api import Dialect

BEARER_HINT = "send it in the Authorization header as Bearer <key>"
X_API_KEY_HINT = "send it in the X-API-Key header"


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


# -- Campaign and Management APIs ---------------------------------------------------------

def _campaign_ok(data):
    return {"success": True, "data": data}


def _campaign_error(status, message, exc):
    body = {"success": False, "error": message}
    issues = getattr(exc, "issues", None)
    if issues:
        body["errors"] = issues
    return body


campaign = Dialect("campaign", "/api/v1", bearer_token, BEARER_HINT, _campaign_ok, _campaign_error)
management = Dialect("management", "/api/v1/admin", bearer_token, BEARER_HINT, _campaign_ok,
                     _campaign_error)


# -- Rewards API and the Games SDK --------------------------------------------------------

def _rewards_ok(data):
    return {"status": "success", "data": data}


def _rewards_error(status, message, exc):
    return {"status": "error", "code": status, "message": message}


def rewards_key() -> str | None:
    # Secret keys travel in X-API-Secret; the Games SDK sends X-API-Key.
    return request.headers.get("X-API-Secret") or request.headers.get("X-API-Key")


rewards = Dialect("rewards", "/v1", rewards_key, "send it in the X-API-Secret header", _rewards_ok,
                  _rewards_error)


# -- Participants API ---------------------------------------------------------------------

# The error codes clients branch on: the engine error's own code first, then by status.
ERROR_CODES = {"insufficient_points": "insufficient_points", "out_of_stock": "out_of_stock"}
STATUS_CODES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
                422: "idempotency_key_reused", 503: "unavailable"}


def _participants_ok(data):
    return data


def _participants_error(status, message, exc):
    code = ERROR_CODES.get(getattr(exc, "code", None))
    return {"error": {"code": code or STATUS_CODES.get(status, "error"), "message": message}}


participants = Dialect("participants", "/api/v1/gamify", lambda: request.headers.get("X-API-Key"),
                       X_API_KEY_HINT, _participants_ok, _participants_error)

# Longest prefix first: /api/v1/admin must win over /api/v1.
DIALECTS = sorted([campaign, management, rewards, participants], key=lambda d: len(d.prefix), reverse=True)


def dialect_for(path: str) -> Dialect | None:
    """The dialect that answers errors under ``path``, if any."""
    for dialect in DIALECTS:
        if path == dialect.prefix or path.startswith(dialect.prefix + "/"):
            return dialect
    return None
