"""Webhook subscriptions and the transactional outbox (SPEC §6).

``emit`` writes one message per matching hook into the session, so the
message commits or rolls back with the change that caused it; the worker in
engine.outbox.webhook_delivery sends it later, never inside a request's transaction.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models import Campaign, Hook, Message, User

from engine.db import statements
from engine.clock import iso
from engine.errors import InvalidInput, NotFound, Unauthorized

SCOPES = ("user_activity",)
TYPES = ("task.completed", "quest.completed", "points.rewarded", "points.withdrawn",
         "referral.created", "invite_code.used", "instant_win.won", "tier.reached", "badge.earned")


# -- addresses ----------------------------------------------------------------------

NAT64 = ipaddress.ip_network("64:ff9b::/96")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _carried(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 one reaches: mapped, 6to4, Teredo, NAT64, ::a.b.c.d."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    embedded = [address.ipv4_mapped, address.sixtofour, address.teredo[1] if address.teredo else None]
    # NAT64, or the compatible form ::a.b.c.d (of which :: and ::1 are not: they carry no host)
    if address in NAT64 or (int(address) >> 32 == 0 and int(address) > 1):
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [v4 for v4 in embedded if v4 is not None]


THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


def is_unreachable(address: Address) -> bool:
    """Multicast, unspecified ("this network", 0.0.0.0/8), broadcast or reserved
    (240.0.0.0/4 holds 255.255.255.255), itself or in the IPv4 address it carries:
    never one host's webhook endpoint, so refused even where private addresses are
    allowed. (IPv6's reserved blocks also hold ::1 and the IPv4-carrying forms, which
    are judged by what they carry; is_public refuses the rest.)"""
    if address.is_multicast or address.is_unspecified:
        return True
    if isinstance(address, ipaddress.IPv4Address):
        return address.is_reserved or address in THIS_NETWORK
    return any(is_unreachable(v4) for v4 in _carried(address))


def is_public(address: Address) -> bool:
    """Global, not multicast or reserved, and so is any IPv4 address an IPv6 one
    carries inside it.

    ``is_global`` alone passes multicast (224.0.0.1, ff02::1), unassigned IPv6
    blocks, and ::ffff:127.0.0.1-style embeddings (mapped, 6to4, Teredo, NAT64,
    the deprecated compatible form ::a.b.c.d), which reach the embedded address.
    """
    if not address.is_global or is_unreachable(address):
        return False
    carried = _carried(address)
    if isinstance(address, ipaddress.IPv6Address) and address.is_reserved and not carried:
        return False
    return all(v4.is_global for v4 in carried)


def _numeric_addresses(hostname: str, port: int) -> list[Address]:
    """The addresses a numeric host stands for (1.2.3.4, ff02::1, and the forms the
    resolver also reads as numbers: 2130706433, 0x7f.1), without asking DNS; none for a name."""
    try:
        infos = socket.getaddrinfo(hostname, port, proto=socket.IPPROTO_TCP, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return []
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def check_uri(uri: str, allow_private: bool) -> list[str]:
    """https to public addresses only, unless allow_private (development, tests).

    ``uri`` is checked exactly as it is stored and sent: any control character
    or whitespace is refused (urlsplit would drop a tab, CR or LF and check a
    different address). Multicast, unspecified, broadcast and reserved
    addresses are refused even with allow_private, which admits http,
    loopback and private addresses; with it a host name is not resolved.

    Checked at registration and again before every delivery: a name that
    resolved to a public address yesterday may point inside today. Returns
    the addresses checked (none when allow_private), so the worker connects
    to exactly those and never to a second, unchecked DNS answer.
    """
    if not isinstance(uri, str) or any(ch.isspace() or not ch.isprintable() for ch in uri):
        raise InvalidInput("uri must not contain whitespace or control characters")
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        raise InvalidInput("uri is not a valid URL") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed or not parts.hostname:
        raise InvalidInput("uri must be an https:// URL" if not allow_private
                           else "uri must be an http(s):// URL")
    if parts.username or parts.password:
        raise InvalidInput("uri must not carry credentials")
    if any(is_unreachable(a) for a in _numeric_addresses(parts.hostname, port or 443)):
        raise InvalidInput(f"uri host {parts.hostname!r} is a multicast, broadcast, unspecified "
                           "or reserved address")
    if allow_private:
        return []
    try:
        infos = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise InvalidInput(f"uri host {parts.hostname!r} does not resolve") from None
    addresses: list[str] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not is_public(address):
            raise InvalidInput(f"uri host {parts.hostname!r} resolves to a non-public address")
        if str(address) not in addresses:
            addresses.append(str(address))
    return addresses


# -- subscriptions ------------------------------------------------------------------

def register(session: Session, org_id: int, *, scope: str, hook_id: str, uri: str, secret: str | None,
             pids: list[str], now: datetime, allow_private: bool) -> Hook:
    """Create or update (same scope and hook_id) a subscription; it is active again.

    The URI is checked first: resolving its host can take seconds, and no
    lock is held yet. Without a ``secret`` a ``whsec_`` one is generated
    (``hook.secret``; the caller shows it once).
    """
    check_uri(uri, allow_private)
    if scope not in SCOPES:
        raise InvalidInput(f"scope must be one of: {', '.join(SCOPES)}")
    if secret is None:
        secret = generate_secret()
    elif secret.startswith("whsec_"):
        try:
            base64.b64decode(secret[len("whsec_"):], validate=True)
        except ValueError:
            raise InvalidInput("a whsec_ secret must be base64 after the prefix") from None
    hook = session.scalars(select(Hook).where(Hook.org_id == org_id, Hook.scope == scope,
                                              Hook.hook_id == hook_id).with_for_update()).one_or_none()
    if hook is None:
        hook = Hook(org_id=org_id, scope=scope, hook_id=hook_id, created_at=now)
        session.add(hook)
    hook.uri, hook.secret, hook.pids = uri, secret, list(pids)
    hook.active, hook.disabled_reason, hook.updated_at = True, None, now
    session.flush()
    return hook


def get_hook(session: Session, org_id: int, hook_id: str, scope: str = "user_activity") -> Hook:
    hook = session.scalars(select(Hook).where(Hook.org_id == org_id, Hook.scope == scope,
                                              Hook.hook_id == hook_id)).one_or_none()
    if hook is None:
        raise NotFound(f"unknown hook {hook_id!r}")
    return hook


def unregister(session: Session, org_id: int, *, scope: str, hook_id: str, now: datetime) -> None:
    """Stop deliveries; the hook and its log stay for the delivery history."""
    if scope not in SCOPES:  # bad input (400), not an unknown hook (404)
        raise InvalidInput(f"scope must be one of: {', '.join(SCOPES)}")
    hook = get_hook(session, org_id, hook_id, scope)
    hook.active, hook.disabled_reason, hook.updated_at = False, "unregistered", now


# -- outbox ---------------------------------------------------------------------------

_CAMPAIGN = select(Campaign.org_id, Campaign.pid).where(Campaign.id == bindparam("id"))
_ACTIVE_HOOKS = select(Hook.id, Hook.pids).where(
    Hook.org_id == bindparam("org_id"), Hook.active.is_(True))
_USER = select(User.account, User.platform).where(User.id == bindparam("id"))


def _hooks_for(session: Session, campaign_id: int) -> tuple[str, list[int]]:
    """The campaign's pid and the ids of the active hooks that want it.

    Read once per transaction, as Core statements: a request that pays
    ten entries emits ten times, and most campaigns have no hook at all.
    """
    cache = session.info.setdefault("qk_hooks", {})
    found = cache.get(campaign_id)
    if found is None:
        session.flush()  # a hook changed earlier in this transaction counts as changed
        org_id, pid = statements.first(session, _CAMPAIGN, {"id": campaign_id})
        hooks = [h.id for h in statements.rows(session, _ACTIVE_HOOKS, {"org_id": org_id})
                 if not h.pids or pid in h.pids]
        found = cache[campaign_id] = (pid, hooks)
    return found


def emit(session: Session, *, campaign_id: int, env: str, user_id: int, type: str, data: dict,
         now: datetime) -> int:
    """Queue ``type`` for every hook that wants it; returns how many messages.

    The sandbox (env=dev) sends nothing.
    """
    if env != "live":
        return 0
    pid, hooks = _hooks_for(session, campaign_id)
    if not hooks:
        return 0
    user = statements.first(session, _USER, {"id": user_id})
    body = json.dumps({
        "type": type,
        "timestamp": iso(now),
        "data": {"pid": pid, "account": user.account, "platform": user.platform, **data},
    }, separators=(",", ":"), default=str)
    for hook_id in hooks:
        session.add(Message(msg_id="msg_" + secrets.token_hex(12), hook_pk=hook_id, type=type,
                            body=body, status="pending", attempts=0, next_attempt_at=now,
                            created_at=now))
    return len(hooks)


# -- signatures --------------------------------------------------------------------------

SECRET_BYTES = 24  # Standard Webhooks asks for 24 to 64 random bytes


def generate_secret() -> str:
    """A new secret in the Standard Webhooks form: whsec_ and base64 of random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signing_key(secret: str) -> bytes:
    """whsec_ secrets are base64 (Standard Webhooks); any other is its UTF-8 bytes."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_"):])  # checked at registration
    return secret.encode("utf-8")


def signature(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    signed = f"{msg_id}.{timestamp}.{body}".encode("utf-8")
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def list_hooks(session: Session, org_id: int) -> list[Hook]:
    return list(session.scalars(select(Hook).where(Hook.org_id == org_id).order_by(Hook.id)))


# What the Standard Webhooks libraries allow between webhook-timestamp and now.
SIGNATURE_TOLERANCE = 300  # seconds


def verify(secret: str, msg_id: str, stamp: str, body: str, signatures: str, now_ts: float) -> None:
    """Check a delivery as a receiver would (Standard Webhooks): a webhook-id, a
    webhook-timestamp within SIGNATURE_TOLERANCE of ``now_ts`` (wall-clock unix
    seconds, as the worker stamps them), and one of the space-separated
    ``v1,`` signatures matching. Unauthorized otherwise."""
    if not msg_id or not stamp.isdigit():
        raise Unauthorized("not a signed delivery")
    if abs(now_ts - int(stamp)) > SIGNATURE_TOLERANCE:
        raise Unauthorized("webhook-timestamp too far from now")
    expected = signature(secret, msg_id, int(stamp), body)
    if not any(hmac.compare_digest(expected, given) for given in signatures.split()):
        raise Unauthorized("bad signature")
