"""One-time play links (SPEC §7): signed, expiring, single use.

A link is two halves. The URL carries a token signed with itsdangerous (its
own salt) holding only ids and a random nonce; the database holds the nonce
with the link's expiry and, once spent, when it was used. Both must agree:
a forged token fails the signature, a token whose row is gone or belongs to
another organization is unknown, and spending is a conditional UPDATE
(``... WHERE used_at IS NULL``) so two concurrent submissions cannot both
start a session. Expiry is decided by the engine clock (``now``), never by
the wall clock, so tests can move time past it.

Opening a link (:func:`open_link`) checks it without spending it: e-mail
scanners that prefetch the URL must not burn it. :func:`spend_link` spends it.
"""
from __future__ import annotations

import secrets as random_secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from itsdangerous import BadSignature
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import PlayLink

from engine.errors import EngineError, InvalidInput
from engine.access.tokens import timed_serializer

PLAY_LINK_SALT = "questkit.play-link.v1"
DEFAULT_HOURS = 48
MIN_HOURS, MAX_HOURS = 1, 720
MAX_TOKEN = 2000  # far above a real token (ids + a 32-character nonce + signature)


class PlayLinkError(EngineError):
    """A play link that cannot be used; the message is safe to show its user."""

    code = "play_link_invalid"


class PlayLinkExpired(PlayLinkError):
    code = "play_link_expired"


class PlayLinkUsed(PlayLinkError):
    code = "play_link_used"


class PlayLinkInvalid(PlayLinkError):
    """Not a link we can honour: see the two subclasses."""


class PlayLinkTampered(PlayLinkInvalid):
    """Missing, malformed, or not signed by us (a bad signature)."""

    code = "play_link_tampered"


class PlayLinkUnknown(PlayLinkInvalid):
    """Signed by us, but no such link (anymore) in its organization."""

    code = "play_link_unknown"


@dataclass(frozen=True)
class IssuedLink:
    link: PlayLink
    token: str

    @property
    def expires_at(self) -> datetime:
        return self.link.expires_at


def url_of(public_url: str, token: str) -> str:
    """The address a participant opens: ``<PUBLIC_URL>/play?token=…``."""
    return f"{public_url.rstrip('/')}/play?token={quote(token, safe='')}"


def check_hours(hours) -> int:
    """``linkExpiresInHours``: an integer from 1 to 720 (a boolean is not one)."""
    if isinstance(hours, bool) or not isinstance(hours, int) or not MIN_HOURS <= hours <= MAX_HOURS:
        raise InvalidInput(f"linkExpiresInHours must be an integer from {MIN_HOURS} to {MAX_HOURS}")
    return hours


def _serializer(secrets: list[str], now: datetime):
    return timed_serializer(secrets, PLAY_LINK_SALT, now.timestamp())


def issue_link(session: Session, secrets: list[str], *, org_id: int, user_id: int, campaign_id: int,
               now: datetime, hours: int = DEFAULT_HOURS) -> IssuedLink:
    """A new link for the user on the campaign, valid for ``hours`` from ``now``.

    Flushes the link's row; the caller commits (a rolled-back award leaves no link).
    """
    hours = check_hours(hours)
    link = PlayLink(nonce=random_secrets.token_urlsafe(24), org_id=org_id, user_id=user_id,
                    campaign_id=campaign_id, created_at=now, expires_at=now + timedelta(hours=hours))
    session.add(link)
    session.flush()
    token = _serializer(secrets, now).dumps(
        {"o": org_id, "u": user_id, "c": campaign_id, "n": link.nonce})
    return IssuedLink(link, token)


def _find(session: Session, secrets: list[str], token, now: datetime) -> PlayLink:
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN:
        raise PlayLinkTampered("This play link is incomplete or damaged.")
    try:
        data = _serializer(secrets, now).loads(token.strip())
        ids = int(data["o"]), int(data["u"]), int(data["c"])
        nonce = data["n"]
    except (BadSignature, KeyError, TypeError, ValueError):
        raise PlayLinkTampered("This play link is incomplete or damaged.") from None
    if not isinstance(nonce, str):
        raise PlayLinkTampered("This play link is incomplete or damaged.")
    link = session.scalars(select(PlayLink).where(PlayLink.nonce == nonce)).one_or_none()
    if link is None or (link.org_id, link.user_id, link.campaign_id) != ids:
        raise PlayLinkUnknown("We could not find this play link.")
    return link


def _check(link: PlayLink, now: datetime) -> None:
    # campaign_id lets the page that explains the error wear the campaign's brand.
    if link.used_at is not None:
        raise PlayLinkUsed("This play link has already been used.", campaign_id=link.campaign_id)
    if now >= link.expires_at:
        raise PlayLinkExpired("This play link has expired.", campaign_id=link.campaign_id)


def open_link(session: Session, secrets: list[str], token, now: datetime) -> PlayLink:
    """The link the token names, if it can still be spent; nothing is written.

    Raises PlayLinkTampered, PlayLinkUnknown, PlayLinkUsed or PlayLinkExpired.
    """
    link = _find(session, secrets, token, now)
    _check(link, now)
    return link


def spend_link(session: Session, secrets: list[str], token, now: datetime) -> PlayLink:
    """Spend the link (once, whoever else tries at the same moment); the caller commits.

    Raises as :func:`open_link`; a concurrent spender that won the race makes
    this one PlayLinkUsed.
    """
    link = _find(session, secrets, token, now)
    _check(link, now)
    spent = session.execute(
        update(PlayLink)
        .where(PlayLink.id == link.id, PlayLink.used_at.is_(None), PlayLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        session.expire(link)
        if link.used_at is None:  # not spent by another, so it expired in between
            raise PlayLinkExpired("This play link has expired.", campaign_id=link.campaign_id)
        raise PlayLinkUsed("This play link has already been used.", campaign_id=link.campaign_id)
    session.expire(link)
    return link
