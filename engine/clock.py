"""The one source of time for the engine.

Engine functions take ``now`` as an argument; adapters get it from the app's
clock, which tests replace with a :class:`MovableClock` to walk through
daily resets, DST changes and expiry.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SystemClock:
    def now(self) -> datetime:
        return utcnow()


class MovableClock:
    """A clock for tests: frozen at a given instant until moved."""

    def __init__(self, start: datetime | None = None):
        self._now = start or utcnow()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("MovableClock needs an aware datetime")
        with self._lock:
            self._now = when

    def advance(self, **delta) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


def iso(dt: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, the one format every *_at field uses."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
