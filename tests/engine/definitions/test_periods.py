"""Calendar periods in the campaign time zone (SPEC §2 "Period", §12).

Daily periods start at local midnight, weekly ones on Monday, monthly ones on
the 1st, in the campaign's timezone, across DST changes too. Tested both on
engine.definitions.periods directly and through the task engine (two inputs count
together only when they fall in one local period).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.definitions import periods
from engine.reads import progress

from tests.engine.world import T0, World, action_status, at, custom, example, roll, task_paid, tick, ticks

UTC = timezone.utc


def _pair_pays(session, recurrence: str, tz: str, first: str, second: str) -> bool:
    """Publish an action needing 2 events per period; do they pay together?"""
    w = World(session)
    w.publish(custom([tick("t", recurrence, count=2, xp=10, continuous=True)], timezone=tz))
    v = w.live("custom")
    u = w.user("alice")
    ticks(w.s, v, u, at(first))
    ticks(w.s, v, u, at(second))
    return task_paid(w.s, v, u, "t") == 10


# (recurrence, timezone, first event, second event, same local period?)
BOUNDARIES = [
    # Berlin winter (UTC+1): local midnight is 23:00Z
    ("daily", "Europe/Berlin", "2026-11-22T12:00Z", "2026-11-22T22:59Z", True),
    ("daily", "Europe/Berlin", "2026-11-22T12:00Z", "2026-11-22T23:01Z", False),
    ("daily", "Europe/Berlin", "2026-11-21T23:01Z", "2026-11-22T12:00Z", True),   # before UTC midnight
    # Berlin summer (UTC+2): 22:00Z
    ("daily", "Europe/Berlin", "2027-07-01T08:00Z", "2027-07-01T21:59Z", True),
    ("daily", "Europe/Berlin", "2027-07-01T08:00Z", "2027-07-01T22:01Z", False),
    # Berlin spring forward, Sunday 2027-03-28: a 23-hour day, 2027-03-27T23:00Z..28T22:00Z
    ("daily", "Europe/Berlin", "2027-03-27T23:01Z", "2027-03-28T21:59Z", True),
    ("daily", "Europe/Berlin", "2027-03-27T22:59Z", "2027-03-27T23:01Z", False),
    ("daily", "Europe/Berlin", "2027-03-28T21:59Z", "2027-03-28T22:01Z", False),
    # Berlin fall back, Sunday 2026-10-25: a 25-hour day, 2026-10-24T22:00Z..25T23:00Z
    ("daily", "Europe/Berlin", "2026-10-24T22:01Z", "2026-10-25T22:59Z", True),
    ("daily", "Europe/Berlin", "2026-10-24T21:59Z", "2026-10-24T22:01Z", False),
    ("daily", "Europe/Berlin", "2026-10-25T22:59Z", "2026-10-25T23:01Z", False),
    # New York fall back, Sunday 2026-11-01: 04:00Z..2026-11-02T05:00Z
    ("daily", "America/New_York", "2026-11-01T04:01Z", "2026-11-02T04:59Z", True),
    ("daily", "America/New_York", "2026-11-02T04:59Z", "2026-11-02T05:01Z", False),
    # New York spring forward, Sunday 2027-03-14: 05:00Z..2027-03-15T04:00Z
    ("daily", "America/New_York", "2027-03-14T05:01Z", "2027-03-15T03:59Z", True),
    ("daily", "America/New_York", "2027-03-15T03:59Z", "2027-03-15T04:01Z", False),
    # a zone ahead of UTC by more than a day's fraction
    ("daily", "Pacific/Auckland", "2026-11-22T10:59Z", "2026-11-22T11:01Z", False),
    ("daily", "UTC", "2026-11-22T00:01Z", "2026-11-22T23:59Z", True),
    # weekly: Monday 00:00 local (Sunday 2026-11-22 23:00Z in Berlin)
    ("weekly", "Europe/Berlin", "2026-11-16T00:00Z", "2026-11-22T22:59Z", True),
    ("weekly", "Europe/Berlin", "2026-11-22T22:59Z", "2026-11-22T23:01Z", False),
    ("weekly", "Europe/Berlin", "2026-11-15T23:01Z", "2026-11-16T00:00Z", True),   # Sunday UTC, Monday local
    # weekly across the spring change: Monday 2027-03-29 00:00 CEST is 2027-03-28T22:00Z
    ("weekly", "Europe/Berlin", "2027-03-22T08:00Z", "2027-03-28T21:59Z", True),
    ("weekly", "Europe/Berlin", "2027-03-28T21:59Z", "2027-03-28T22:01Z", False),
    # the ISO week spanning New Year
    ("weekly", "Europe/Berlin", "2026-12-31T12:00Z", "2027-01-03T12:00Z", True),
    ("weekly", "Europe/Berlin", "2027-01-03T22:59Z", "2027-01-03T23:01Z", False),
    # monthly: the 1st at 00:00 local
    ("monthly", "Europe/Berlin", "2026-11-01T00:00Z", "2026-11-30T22:59Z", True),
    ("monthly", "Europe/Berlin", "2026-11-30T22:59Z", "2026-11-30T23:01Z", False),
    ("monthly", "Europe/Berlin", "2026-10-31T23:01Z", "2026-11-15T12:00Z", True),  # Oct UTC, Nov local
    ("monthly", "Europe/Berlin", "2027-03-31T21:59Z", "2027-03-31T22:01Z", False),  # summer time
    ("monthly", "America/New_York", "2026-12-01T04:59Z", "2026-12-01T05:01Z", False),
    # once: one period forever
    ("once", "Europe/Berlin", "2026-11-22T12:00Z", "2029-02-01T12:00Z", True),
]


@pytest.mark.parametrize("recurrence, tz, first, second, together", BOUNDARIES,
                         ids=[f"{r}-{tz}-{a}-{b}" for r, tz, a, b, _ in BOUNDARIES])
def test_periods_reset_at_local_calendar_boundaries(session, recurrence, tz, first, second,
                                                    together):
    assert _pair_pays(session, recurrence, tz, first, second) is together


def test_the_example_campaign_resets_roll_5_at_berlin_midnight(session):
    w = World(session)
    w.publish(example())
    v = w.live("summer_games")
    before, after = w.user("before"), w.user("after")
    for _ in range(4):
        roll(w.s, v, before, at("2026-11-22T20:00Z"))
        roll(w.s, v, after, at("2026-11-22T20:00Z"))
    roll(w.s, v, before, at("2026-11-22T22:59Z"))   # 23:59 in Berlin: the same day
    roll(w.s, v, after, at("2026-11-22T23:01Z"))    # 00:01 in Berlin: a new day
    assert task_paid(w.s, v, before, "roll_5") == 105
    assert task_paid(w.s, v, after, "roll_5") == 0
    assert action_status(w.s, v, after, "roll_5", at("2026-11-22T23:01Z"))["progress"] == 1


# -- next_reset ----------------------------------------------------------------------

NEXT_RESETS = [
    ("daily", "Europe/Berlin", "2026-11-22T12:00Z", "2026-11-22T23:00Z"),
    ("daily", "Europe/Berlin", "2026-11-22T22:59Z", "2026-11-22T23:00Z"),
    ("daily", "Europe/Berlin", "2026-11-22T23:00Z", "2026-11-23T23:00Z"),   # at midnight: the next one
    ("daily", "Europe/Berlin", "2027-03-28T12:00Z", "2027-03-28T22:00Z"),   # spring forward day
    ("daily", "Europe/Berlin", "2027-03-27T12:00Z", "2027-03-27T23:00Z"),   # the eve: still CET
    ("daily", "Europe/Berlin", "2026-10-25T12:00Z", "2026-10-25T23:00Z"),   # fall back day
    ("daily", "Europe/Berlin", "2026-10-24T12:00Z", "2026-10-24T22:00Z"),   # the eve: still CEST
    ("daily", "America/New_York", "2026-11-01T12:00Z", "2026-11-02T05:00Z"),
    ("daily", "America/New_York", "2026-10-31T12:00Z", "2026-11-01T04:00Z"),
    ("daily", "America/New_York", "2027-03-14T12:00Z", "2027-03-15T04:00Z"),
    ("daily", "America/New_York", "2026-11-22T03:00Z", "2026-11-22T05:00Z"),  # 22:00 on the 21st
    ("daily", "UTC", "2026-11-22T12:00Z", "2026-11-23T00:00Z"),
    ("weekly", "Europe/Berlin", "2026-11-22T12:00Z", "2026-11-22T23:00Z"),  # Sunday -> Monday
    ("weekly", "Europe/Berlin", "2026-11-22T23:00Z", "2026-11-29T23:00Z"),  # Monday -> next Monday
    ("weekly", "Europe/Berlin", "2027-03-25T12:00Z", "2027-03-28T22:00Z"),  # over the change
    ("weekly", "Europe/Berlin", "2026-10-20T12:00Z", "2026-10-25T23:00Z"),
    ("monthly", "Europe/Berlin", "2026-11-22T12:00Z", "2026-11-30T23:00Z"),
    ("monthly", "Europe/Berlin", "2027-03-15T12:00Z", "2027-03-31T22:00Z"),
    ("monthly", "Europe/Berlin", "2026-12-31T22:59Z", "2026-12-31T23:00Z"),  # into January
    ("monthly", "Europe/Berlin", "2027-01-31T12:00Z", "2027-01-31T23:00Z"),   # the 31st -> Feb 1st
    ("monthly", "Europe/Berlin", "2027-02-15T12:00Z", "2027-02-28T23:00Z"),
    ("monthly", "America/New_York", "2026-10-15T12:00Z", "2026-11-01T04:00Z"),
]


@pytest.mark.parametrize("recurrence, tz, now, expected", NEXT_RESETS,
                         ids=[f"{r}-{tz}-{n}" for r, tz, n, _ in NEXT_RESETS])
def test_next_reset_is_the_next_local_period_start(recurrence, tz, now, expected):
    got = periods.next_reset(recurrence, at(now), tz)
    assert got == at(expected)
    assert got.utcoffset() is not None


def test_once_never_resets():
    assert periods.next_reset("once", T0, "Europe/Berlin") is None
    assert periods.period_key("once", T0, "Europe/Berlin") == "once"


def test_period_keys_name_local_days_weeks_and_months():
    assert periods.period_key("daily", at("2026-11-22T23:30Z"), "Europe/Berlin") == "2026-11-23"
    assert periods.period_key("daily", at("2026-11-22T23:30Z"), "UTC") == "2026-11-22"
    assert periods.period_key("weekly", at("2026-11-22T23:30Z"), "Europe/Berlin") == "2026-W48"
    assert periods.period_key("weekly", at("2026-11-22T22:30Z"), "Europe/Berlin") == "2026-W47"
    assert periods.period_key("weekly", at("2027-01-01T12:00Z"), "Europe/Berlin") == "2026-W53"
    assert periods.period_key("monthly", at("2026-11-30T23:30Z"), "Europe/Berlin") == "2026-12"


ZONES = ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata", "Pacific/Auckland",
         "Australia/Lord_Howe", "America/Santiago", "America/Havana", "Asia/Tehran",
         "Pacific/Kiritimati", "America/St_Johns"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    now=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31),
                     timezones=st.just(UTC)),
    tz=st.sampled_from(ZONES),
    recurrence=st.sampled_from(["daily", "weekly", "monthly"]),
)
def test_next_reset_is_exactly_where_the_period_key_changes(now, tz, recurrence):
    reset = periods.next_reset(recurrence, now, tz)
    key = periods.period_key(recurrence, now, tz)
    assert reset > now
    assert periods.period_key(recurrence, reset - timedelta(microseconds=1), tz) == key
    assert periods.period_key(recurrence, reset, tz) != key


def test_user_progress_shows_the_next_local_reset_across_a_dst_change(session):
    w = World(session)
    w.publish(custom([tick("d", "daily"), tick("w", "weekly"), tick("m", "monthly"),
                      tick("o", "once")]))
    v = w.live("custom")
    u = w.user("alice")
    now = at("2027-03-27T12:00Z")          # Saturday before the spring change
    resets = {a["id"]: a["next_reset_at"] for a in progress.user_progress(w.s, v, u, now)["actions"]}
    assert resets == {"d": at("2027-03-27T23:00Z"), "w": at("2027-03-28T22:00Z"),
                      "m": at("2027-03-31T22:00Z"), "o": None}
