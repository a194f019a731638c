"""The webhook delivery worker (SPEC §6).

A worker claims due messages in one short transaction (PostgreSQL: FOR
UPDATE SKIP LOCKED, so several workers never take the same message; SQLite:
the write lock, one worker at a time), sends them with no transaction open,
then records each attempt in another short transaction. A claim is a lease:
if the worker dies, the message is due again when the lease passes, so
delivery is at-least-once and a duplicate carries the same webhook-id.
"""
from __future__ import annotations

import http.client
import logging
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from models import Attempt, Hook, Message

from engine.errors import Conflict, InvalidInput, NotFound
from engine.db.storage import writing
from engine.outbox.webhooks import check_uri, signature

log = logging.getLogger(__name__)

TIMEOUT_S = 15
# Waits after the 1st, 2nd ... 9th failed attempt; a 10th failure is final.
RETRY_AFTER = [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
               timedelta(hours=5), timedelta(hours=10), timedelta(hours=14), timedelta(hours=20),
               timedelta(hours=24)]
JITTER = 0.1  # up to 10% later, never earlier
EXCERPT = 1000


@dataclass
class Settings:
    allow_private: bool = False
    lease: timedelta = timedelta(seconds=60)
    batch: int = 50
    wall_clock: Callable[[], float] = time.time  # webhook-timestamp is real time, whatever the clock


@dataclass
class Result:
    status_code: int | None
    latency_ms: int
    error: str | None
    excerpt: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim(session: Session, now: datetime, settings: Settings) -> list[tuple[Message, Hook]]:
    """Lease up to ``batch`` due messages to this worker and commit the lease."""
    q = (select(Message).where(
        Message.status == "pending", Message.next_attempt_at <= now,
        or_(Message.leased_until.is_(None), Message.leased_until <= now))
        .order_by(Message.next_attempt_at, Message.id).limit(settings.batch))
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    session.rollback()  # start afresh, so the claim begins as a writer
    with writing():
        messages = list(session.scalars(q))
        for m in messages:
            m.leased_until = now + settings.lease
        hooks = {h.id: h for h in session.scalars(
            select(Hook).where(Hook.id.in_({m.hook_pk for m in messages})))} if messages else {}
        session.commit()
    return [(m, hooks[m.hook_pk]) for m in messages]


def send(hook: Hook, message: Message, settings: Settings) -> Result:
    """One POST, no redirects, 15 s; the address is checked again first."""
    started = time.perf_counter()
    try:
        addresses = check_uri(hook.uri, settings.allow_private)
    except InvalidInput as exc:
        return Result(None, 0, f"refused: {exc.message}", None)
    parts = urlsplit(hook.uri)
    https = parts.scheme == "https"
    if addresses:
        # Connect to the addresses just checked, not to a fresh DNS answer (rebinding);
        # the Host header and TLS (SNI, certificate) still use the name.
        conn_cls = PinnedHTTPSConnection if https else PinnedHTTPConnection
    else:
        conn_cls = http.client.HTTPSConnection if https else http.client.HTTPConnection
    ts = int(settings.wall_clock())
    headers = {
        "content-type": "application/json",
        "user-agent": "Questkit-Webhooks/1",
        "webhook-id": message.msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature(hook.secret, message.msg_id, ts, message.body),
    }
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = conn_cls(parts.hostname, parts.port, timeout=TIMEOUT_S)
    conn.addresses = addresses
    try:
        conn.request("POST", path, body=message.body.encode("utf-8"), headers=headers)
        resp = conn.getresponse()
        excerpt = resp.read(EXCERPT).decode("utf-8", "replace")
        return Result(resp.status, _ms(started), None, excerpt)
    except (OSError, http.client.HTTPException) as exc:
        return Result(None, _ms(started), f"{type(exc).__name__}: {exc}"[:500], None)
    finally:
        conn.close()


class PinnedHTTPConnection(http.client.HTTPConnection):
    """connect() dials ``addresses`` (set before the request) in turn instead of
    resolving the host again. HTTPSConnection.connect calls this connect() before
    it wraps the socket in TLS, so the pinned HTTPS connection below inherits it."""

    addresses: list[str] = []

    def connect(self):
        last = OSError(f"no address to connect to for {self.host}")
        for address in self.addresses:
            try:
                self.sock = socket.create_connection((address, self.port), self.timeout, self.source_address)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return
            except OSError as exc:
                last = exc
        raise last


class PinnedHTTPSConnection(http.client.HTTPSConnection, PinnedHTTPConnection):
    """TLS to the name (SNI, certificate) over a connection to a pinned address."""


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def record(session: Session, message_pk: int, result: Result, now: datetime) -> None:
    """Log the attempt and decide: delivered, retry later, failed, or hook disabled."""
    session.rollback()
    with writing():
        message = session.get(Message, message_pk, with_for_update=True, populate_existing=True)
        session.add(Attempt(message_pk=message.id, attempted_at=now, status_code=result.status_code,
                            latency_ms=result.latency_ms, error=result.error,
                            response_excerpt=result.excerpt))
        if result.status_code == 410:
            # Gone: the receiver asks us to stop, for this message and the hook.
            hook = session.get(Hook, message.hook_pk)
            hook.active, hook.disabled_reason, hook.updated_at = False, "receiver answered 410 Gone", now
        if message.status != "pending":
            # Settled meanwhile (by another worker after a lease ran out): its outcome stands.
            session.commit()
            return
        message.attempts += 1
        message.leased_until = None
        if result.delivered:
            message.status, message.delivered_at = "delivered", now
        elif result.status_code == 410 or message.attempts > len(RETRY_AFTER):
            message.status = "failed"
        else:
            wait = RETRY_AFTER[message.attempts - 1]
            message.next_attempt_at = now + wait * (1 + random.uniform(0, JITTER))
        session.commit()


def deliver_due(session: Session, now: datetime, settings: Settings) -> int:
    """Send what is due now, one batch; returns how many attempts were made.

    The batch is leased for ``settings.lease``; sending it may take longer (slow
    receivers, a short lease). Once half the lease has gone by, the messages not
    yet tried are handed back rather than sent under a lease that may run out
    meanwhile, when another worker could claim and send them too.
    """
    batch = claim(session, now, settings)
    started, budget = time.monotonic(), settings.lease.total_seconds() / 2
    for done, (message, hook) in enumerate(batch):
        if done and time.monotonic() - started > budget:
            _release(session, [m.id for m, _ in batch[done:]], now + settings.lease)
            return done
        if not hook.active:
            result = Result(None, 0, "hook disabled or unregistered", None)
            _drop(session, message.id, now, result)
            continue
        result = send(hook, message, settings)
        record(session, message.id, result, now)
    return len(batch)


def _release(session: Session, message_pks: list[int], leased_until: datetime) -> None:
    """Give back messages this worker leased and did not try (only while still its lease)."""
    session.rollback()
    with writing():
        session.execute(update(Message).where(
            Message.id.in_(message_pks), Message.status == "pending",
            Message.leased_until == leased_until).values(leased_until=None))
        session.commit()


def _drop(session: Session, message_pk: int, now: datetime, result: Result) -> None:
    session.rollback()
    with writing():
        message = session.get(Message, message_pk, with_for_update=True, populate_existing=True)
        session.add(Attempt(message_pk=message.id, attempted_at=now, status_code=None, latency_ms=0,
                            error=result.error, response_excerpt=None))
        message.status, message.leased_until = "failed", None
        session.commit()


def redeliver(session: Session, org_id: int, msg_id: str, now: datetime) -> Message:
    """A failed (or any) message goes back in the queue with a fresh schedule."""
    message = session.scalars(select(Message).join(Hook, Hook.id == Message.hook_pk).where(
        Message.msg_id == msg_id, Hook.org_id == org_id)).one_or_none()
    if message is None:
        raise NotFound(f"unknown message {msg_id!r}")
    if message.status == "pending" and message.leased_until is not None and message.leased_until > now:
        # A worker is sending it right now; queueing it again could send it twice.
        raise Conflict("this message is being delivered right now; retry in a minute")
    message.status, message.attempts, message.next_attempt_at = "pending", 0, now
    message.leased_until, message.delivered_at = None, None
    session.flush()
    return message


def messages_of(session: Session, hook: Hook, limit: int = 100) -> list[tuple[Message, list[Attempt]]]:
    messages = list(session.scalars(select(Message).where(Message.hook_pk == hook.id)
                                    .order_by(Message.id.desc()).limit(limit)))
    attempts: dict[int, list[Attempt]] = {m.id: [] for m in messages}
    if messages:
        for a in session.scalars(select(Attempt).where(Attempt.message_pk.in_(list(attempts)))
                                 .order_by(Attempt.id)):
            attempts[a.message_pk].append(a)
    return [(m, attempts[m.id]) for m in messages]
