"""Signed tokens. Each kind has its own salt, so one can never pass for another.

Secrets come as a list, newest last (SECRET_KEY_FALLBACKS then SECRET_KEY):
itsdangerous signs with the newest and verifies with any, which is what a
key rotation needs. Payloads carry ids only, never secrets.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from itsdangerous import BadSignature, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from models import User

from engine.errors import InvalidInput, Unauthorized

WIDGET_SALT = "questkit.widget-token.v1"
PLAY_SESSION_SALT = "questkit.play-session.v1"
PLAY_SESSION_HOURS = 12


@dataclass(frozen=True)
class WidgetIdentity:
    org_id: int
    user_id: int
    generation: int = 0  # the user's token_generation when it was made
    expires_at: int | None = None  # unix seconds; None: permanent


# GET /token's expires_in, in seconds: a minute to a year.
MIN_EXPIRES_IN = 60
MAX_EXPIRES_IN = 366 * 24 * 3600


def _widget_serializer(secrets: list[str]) -> URLSafeSerializer:
    return URLSafeSerializer(secrets, salt=WIDGET_SALT)


def make_widget_token(secrets: list[str], org_id: int, user_id: int, generation: int = 0,
                      expires_at: int | None = None) -> str:
    """A token bound to the organization and user, not to a campaign: permanent
    (as claimr's) unless ``expires_at``, valid until the user's tokens are revoked.
    Without ``g`` and ``x`` the payload is ``{o, u}``: a permanent token of a user
    whose tokens were never revoked (generation 0)."""
    payload = {"o": org_id, "u": user_id}
    if generation:
        payload["g"] = generation
    if expires_at is not None:
        payload["x"] = int(expires_at)
    return _widget_serializer(secrets).dumps(payload)


def read_widget_token(secrets: list[str], token, now_ts: float | None = None) -> WidgetIdentity:
    """The signed identity; Unauthorized when tampered or (given ``now_ts``) expired.
    Whether the user revoked it is widget_user's check, which reads the database."""
    if not isinstance(token, str) or not token or len(token) > 1000:
        raise Unauthorized("missing or invalid user token")
    try:
        data = _widget_serializer(secrets).loads(token)
        ident = WidgetIdentity(org_id=_whole(data["o"]), user_id=_whole(data["u"]),
                               generation=_whole(data.get("g", 0)),
                               expires_at=_whole(data["x"]) if "x" in data else None)
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
        raise Unauthorized("missing or invalid user token") from None
    if ident.expires_at is not None and now_ts is not None and now_ts >= ident.expires_at:
        raise Unauthorized("expired user token")
    return ident


def _whole(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


def issue_widget_token(secrets: list[str], user: User, now: datetime,
                       expires_in: int | None = None) -> tuple[str, datetime | None]:
    """GET /token: the user's token at their current generation; with ``expires_in``
    (seconds, MIN_EXPIRES_IN..MAX_EXPIRES_IN) it stops working that long from now.
    Returns the token and when it expires (None: permanent)."""
    expires_at = None
    if expires_in is not None:
        if isinstance(expires_in, bool) or not isinstance(expires_in, int) \
                or not MIN_EXPIRES_IN <= expires_in <= MAX_EXPIRES_IN:
            raise InvalidInput(f"expires_in: must be between {MIN_EXPIRES_IN} and {MAX_EXPIRES_IN} seconds",
                               [{"path": "expires_in", "message": "out of range"}])
        expires_at = datetime.fromtimestamp(int(now.timestamp()) + expires_in, timezone.utc)
    token = make_widget_token(secrets, user.org_id, user.id, user.token_generation or 0,
                              int(expires_at.timestamp()) if expires_at else None)
    return token, expires_at


def widget_user(session: Session, secrets: list[str], token, now: datetime) -> tuple[User, WidgetIdentity]:
    """The user a widget token acts for, with what the token says: signed by us, not
    expired, and not revoked (its generation is the user's current token_generation).
    Unauthorized otherwise."""
    ident = read_widget_token(secrets, token, now.timestamp())
    user = session.get(User, ident.user_id)
    if user is None or user.org_id != ident.org_id or (user.token_generation or 0) != ident.generation:
        raise Unauthorized("missing or invalid user token")
    return user, ident


def revoke_widget_tokens(session: Session, user: User) -> int:
    """Every widget token of the user stops working, and so does every widget
    session started from one; tokens issued afterwards work. Returns the new generation."""
    session.refresh(user, with_for_update=True)
    user.token_generation = (user.token_generation or 0) + 1
    session.flush()
    return user.token_generation


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
    # Started from a widget token: its generation and expiry, which the session keeps.
    generation: int | None = None
    expires_at: int | None = None


def make_widget_session(secrets: list[str], s: WidgetSession, now_ts: float) -> str:
    payload = {"o": s.org_id, "u": s.user_id, "c": s.campaign_id, "e": s.env, "p": s.page}
    if s.generation is not None:
        payload["g"] = s.generation
    if s.expires_at is not None:
        payload["x"] = s.expires_at
    return timed_serializer(secrets, WIDGET_SESSION_SALT, now_ts).dumps(payload)


def session_from_token(ident: WidgetIdentity, campaign_id: int, env: str, page: str = "") -> WidgetSession:
    """A widget session started from a widget token: it ends when the token would."""
    return WidgetSession(ident.org_id, ident.user_id, campaign_id, env, page, ident.generation, ident.expires_at)


def session_holds(s: WidgetSession, user: User, now_ts: float) -> bool:
    """Whether the token a session started from is still good: not revoked since
    (the user's token_generation), not expired."""
    if s.generation is not None and (user.token_generation or 0) != s.generation:
        return False
    return s.expires_at is None or now_ts < s.expires_at


def read_widget_session(secrets: list[str], token, now_ts: float) -> WidgetSession:
    if not isinstance(token, str) or not token or len(token) > 1000:
        raise Unauthorized("missing or invalid widget session")
    try:
        data = timed_serializer(secrets, WIDGET_SESSION_SALT, now_ts).loads(
            token, max_age=WIDGET_SESSION_HOURS * 3600)
        return WidgetSession(int(data["o"]), int(data["u"]), int(data["c"]), str(data["e"]),
                             str(data.get("p") or ""),
                             _whole(data["g"]) if "g" in data else None,
                             _whole(data["x"]) if "x" in data else None)
    except (BadSignature, KeyError, TypeError, ValueError):
        raise Unauthorized("missing or invalid widget session") from None
