"""Signed tokens. Each kind has its own salt, so one can never pass for another.

Secrets come as a list, newest last (SECRET_KEY_FALLBACKS then SECRET_KEY):
itsdangerous signs with the newest and verifies with any, which is what a
key rotation needs. Payloads carry ids only, never secrets.
"""
from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer

from engine.errors import Unauthorized

WIDGET_SALT = "questkit.widget-token.v1"
PLAY_SESSION_SALT = "questkit.play-session.v1"
PLAY_SESSION_HOURS = 12


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


@dataclass(frozen=True)
class PlaySession:
    org_id: int
    user_id: int
    campaign_id: int


def timed_serializer(secrets: list[str], salt: str, now_ts: float) -> URLSafeTimedSerializer:
    """A timed serializer whose "now" is the engine clock's, for signing and
    for checking age alike, so tests can move time past an expiry."""

    class _ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(now_ts)

    return URLSafeTimedSerializer(secrets, salt=salt, signer=_ClockSigner)


def make_play_session(secrets: list[str], org_id: int, user_id: int, campaign_id: int,
                      now_ts: float) -> str:
    """A short-lived credential for one user on one campaign, started from a play link."""
    return timed_serializer(secrets, PLAY_SESSION_SALT, now_ts).dumps(
        {"o": org_id, "u": user_id, "c": campaign_id})


def read_play_session(secrets: list[str], token, now_ts: float) -> PlaySession:
    if not isinstance(token, str) or not token or len(token) > 1000:
        raise Unauthorized("missing or invalid play session")
    try:
        data = timed_serializer(secrets, PLAY_SESSION_SALT, now_ts).loads(
            token, max_age=PLAY_SESSION_HOURS * 3600)
        return PlaySession(int(data["o"]), int(data["u"]), int(data["c"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise Unauthorized("missing or invalid play session") from None


# -- widget sessions ---------------------------------------------------------------
# What the widget's own requests carry (in a header, never a cookie, so the
# widget works in a third-party iframe): one user, one campaign, one env,
# for a few hours. Started from a widget token or from a spent play link.
WIDGET_SESSION_SALT = "questkit.widget-session.v1"
WIDGET_SESSION_HOURS = 12


@dataclass(frozen=True)
class WidgetSession:
    org_id: int
    user_id: int
    campaign_id: int
    env: str
    page: str = ""  # the partner page embedding the widget: referral links point there


def make_widget_session(secrets: list[str], s: WidgetSession, now_ts: float) -> str:
    return timed_serializer(secrets, WIDGET_SESSION_SALT, now_ts).dumps(
        {"o": s.org_id, "u": s.user_id, "c": s.campaign_id, "e": s.env, "p": s.page})


def read_widget_session(secrets: list[str], token, now_ts: float) -> WidgetSession:
    if not isinstance(token, str) or not token or len(token) > 1000:
        raise Unauthorized("missing or invalid widget session")
    try:
        data = timed_serializer(secrets, WIDGET_SESSION_SALT, now_ts).loads(
            token, max_age=WIDGET_SESSION_HOURS * 3600)
        return WidgetSession(int(data["o"]), int(data["u"]), int(data["c"]), str(data["e"]),
                             str(data.get("p") or ""))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise Unauthorized("missing or invalid widget session") from None
