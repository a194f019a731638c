"""Calendar periods in the campaign's time zone (SPEC §2 "Period").

Daily periods start at local midnight, weekly ones on Monday, monthly ones
on the 1st: everyone sees one reset time. A period is named by a short key
("once", "2026-11-22", "2026-W47", "2026-11") stored beside the counters.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def period_key(recurrence: str, now: datetime, tz: str) -> str:
    if recurrence == "once":
        return "once"
    local = now.astimezone(zone(tz))
    if recurrence == "daily":
        return local.date().isoformat()
    if recurrence == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if recurrence == "monthly":
        return f"{local.year}-{local.month:02d}"
    raise ValueError(f"unknown recurrence {recurrence!r}")


def next_reset(recurrence: str, now: datetime, tz: str) -> datetime | None:
    """When the current period ends, as an aware UTC-comparable datetime."""
    if recurrence == "once":
        return None
    z = zone(tz)
    day = now.astimezone(z).date()
    if recurrence == "daily":
        nxt = day + timedelta(days=1)
    elif recurrence == "weekly":
        nxt = day + timedelta(days=7 - day.weekday())
    elif recurrence == "monthly":
        nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    else:
        raise ValueError(f"unknown recurrence {recurrence!r}")
    # Local midnight of that day; zoneinfo resolves DST (a midnight that does
    # not exist is shifted forward by fold=0 semantics).
    return datetime.combine(nxt, time(0), tzinfo=z)
