"""The Idempotency-Key header of SPEC §10, for every POST.

The record is inserted at the start of the request's transaction and filled
with the response before the same commit, so the effects and the stored
response land together or not at all. A concurrent request with the same
key blocks on the unique index (PostgreSQL) or on the write lock (SQLite)
until the first commits, then finds the stored response and replays it.
Only successful (2xx) responses are kept: a failed request rolls back its
record too, so the client can fix the cause and retry with the same key.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IdempotencyRecord

from engine.errors import IdempotencyMismatch, InvalidInput
from engine.db.storage import insert_ignore

MAX_KEY = 256


def fingerprint(method: str, path: str, body: bytes) -> str:
    h = hashlib.sha256()
    h.update(method.encode() + b" " + path.encode() + b"\n")
    h.update(body)
    return h.hexdigest()


@dataclass(frozen=True)
class Replay:
    status: int
    body: str


def claim(session: Session, org_id: int, key: str, fp: str, now: datetime) -> IdempotencyRecord | Replay:
    """Our own fresh record to fill in, or the stored response to replay."""
    if not key or len(key) > MAX_KEY:
        raise InvalidInput(f"Idempotency-Key must be 1 to {MAX_KEY} characters")
    insert_ignore(session, IdempotencyRecord,
                  {"org_id": org_id, "key": key, "fingerprint": fp, "created_at": now},
                  ["org_id", "key"])
    rec = session.scalars(
        select(IdempotencyRecord).where(IdempotencyRecord.org_id == org_id,
                                        IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)
    ).one()
    if rec.fingerprint != fp:
        raise IdempotencyMismatch("this Idempotency-Key was used with a different request")
    if rec.status is None:
        # Committed records always carry a response (failures roll theirs
        # back), and another transaction's uncommitted one is invisible: a
        # record without one is the row this transaction just inserted.
        return rec
    return Replay(rec.status, rec.body)


def store(rec: IdempotencyRecord, status: int, body: str, session: Session) -> None:
    rec.status = status
    rec.body = body
    session.flush()
