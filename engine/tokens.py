"""Signed tokens. Each kind has its own salt, so one can never pass for another.

Secrets come as a list, newest last (SECRET_KEY_FALLBACKS then SECRET_KEY):
itsdangerous signs with the newest and verifies with any, which is what a
key rotation needs. Payloads carry ids only, never secrets.
"""
from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from .errors import Unauthorized

WIDGET_SALT = "questkit.widget-token.v1"


@dataclass(frozen=True)
class WidgetIdentity:
    org_id: int
    user_id: int


def _widget_serializer(secrets: list[str]) -> URLSafeSerializer:
    return URLSafeSerializer(secrets, salt=WIDGET_SALT)


def make_widget_token(secrets: list[str], org_id: int, user_id: int) -> str:
    """A permanent token bound to the organization and user, not to a campaign."""
    return _widget_serializer(secrets).dumps({"o": org_id, "u": user_id})


def read_widget_token(secrets: list[str], token) -> WidgetIdentity:
    if not isinstance(token, str) or not token or len(token) > 1000:
        raise Unauthorized("missing or invalid user token")
    try:
        data = _widget_serializer(secrets).loads(token)
        return WidgetIdentity(org_id=int(data["o"]), user_id=int(data["u"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise Unauthorized("missing or invalid user token") from None
