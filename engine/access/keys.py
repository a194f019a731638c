"""API keys: shown once, stored as a lookup prefix and a SHA-256 digest."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models import ApiKey

from engine.db import prepared
from engine.errors import NotFound, Unauthorized

PREFIXES = {"secret": "qk_live_", "publishable": "pk_live_"}
# Characters of the random part kept in clear to find the row without a scan.
LOOKUP_CHARS = 12


class InvalidKey(Unauthorized):
    """A missing, malformed, unknown or revoked API key (each dialect names its header)."""


@dataclass(frozen=True)
class KeyIdentity:
    """Who a request acts for, once its key checked out."""

    org_id: int
    key_id: int
    kind: str  # "secret" | "publishable"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_key(session: Session, org_id: int, now: datetime, kind: str = "secret",
               label: str | None = None) -> tuple[ApiKey, str]:
    """A new key; returns the row and the raw key, which is never stored."""
    if kind not in PREFIXES:
        raise ValueError(f"unknown key kind {kind!r}")
    # 32 random bytes, as SPEC §11 asks; url-safe base64 is 43 characters.
    raw = PREFIXES[kind] + secrets.token_urlsafe(32)
    row = ApiKey(org_id=org_id, kind=kind, prefix=_lookup(raw), digest=_digest(raw),
                 label=label, created_at=now)
    session.add(row)
    session.flush()
    return row, raw


def _lookup(raw: str) -> str:
    # The prefix (qk_live_/pk_live_) plus the first random characters.
    return raw[: len("qk_live_") + LOOKUP_CHARS]


_BY_PREFIX = prepared.Prepared(
    select(ApiKey.id, ApiKey.org_id, ApiKey.kind, ApiKey.digest, ApiKey.revoked_at)
    .where(ApiKey.prefix == bindparam("prefix")))


def authenticate(session: Session, raw: str | None) -> KeyIdentity:
    """The identity of a presented key; Unauthorized for anything else."""
    if not raw or not isinstance(raw, str) or len(raw) > 200:
        raise InvalidKey("missing or invalid API key")
    if not raw.startswith(tuple(PREFIXES.values())):
        raise InvalidKey("missing or invalid API key")
    # Every API request runs this: a prepared statement (engine/prepared.py).
    row = prepared.first(session, _BY_PREFIX, {"prefix": _lookup(raw)})
    # Compare digests in constant time even when the prefix matched nothing.
    expected = row.digest if row is not None else "0" * 64
    if not hmac.compare_digest(expected, _digest(raw)) or row is None or row.revoked_at is not None:
        raise InvalidKey("missing or invalid API key")
    return KeyIdentity(org_id=row.org_id, key_id=row.id, kind=row.kind)


def revoke_key(session: Session, org_id: int, key_id: int, now: datetime) -> None:
    row = session.get(ApiKey, key_id)
    if row is None or row.org_id != org_id:
        raise NotFound("unknown API key")
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()


def list_keys(session: Session, org_id: int) -> list[ApiKey]:
    """The organization's keys, newest first (only prefixes: the keys themselves are not stored)."""
    return list(session.scalars(select(ApiKey).where(ApiKey.org_id == org_id)
                                .order_by(ApiKey.id.desc())))
