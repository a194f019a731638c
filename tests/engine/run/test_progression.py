"""Streaks, tiers, badges and challenges without Flask (SPEC §2 `tiers`,
`badges`, `streaks`, `challenges`).

Most tests run in America/New_York, the time zone of
examples/default-example.json (the organization's loyalty program):

  tiers       bronze 0, silver 1000, gold 5000, platinum 10000 (total_earned)
  badges      first_steps (daily_login x1), power_user (5000 points), on_fire (streak 7)
  streaks     daily, freezes {max 2, earn_every 7}
  challenges  five_orders: 5 order_paid in [2026-11-01Z, 2030-01-01Z), 300 points
  mechanics   daily_login 10 points, order_paid floor(metadata.amount),
              milestone first_1000 at 1000 paying 50
  rewards     coffee 300 (quantity 100), tshirt 2500

Local times are written as New York wall-clock times (``ny(...)``) so the
day boundaries under test are visible in the test itself.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.participation import catalog, events, participants, credits, awards
from engine.outbox import webhooks
from engine.run.streaks import period_index
from models import Achievement, Message, Streak

from tests.engine.world import REPO, T0, UTC, World, at, balances, entries

NY_TZ = "America/New_York"
NY = ZoneInfo(NY_TZ)
DAY = timedelta(days=1)
DEFAULT_EXAMPLE = REPO / "examples" / "default-example.json"


def ny(text: str, fold: int = 0) -> datetime:
    """'2026-11-23 23:30' New York wall-clock time, as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=NY, fold=fold).astimezone(UTC)


def loyalty(**top) -> dict:
    """A fresh copy of examples/default-example.json, top-level keys replaced."""
    doc = json.loads(DEFAULT_EXAMPLE.read_text())
    doc.update(top)
    return doc


def program(pid: str = "prog", **top) -> dict:
    """A bare campaign in New York with only the sections given."""
    return {"id": pid, "name": pid.title(), "timezone": NY_TZ, **top}


def daily(max_freezes: int | None = None, every: int | None = None, period: str = "daily") -> dict:
    rule = {"period": period}
    if max_freezes is not None:
        rule["freezes"] = {"max": max_freezes, "earn_every": every}
    return rule


def send(w: World, v, u, now: datetime, name: str = "ping", **data) -> events.EventResult:
    """A Participants/Rewards-style event (matched on its name alone)."""
    return events.record_event(w.s, v, u, name=name, now=now, data=data or None, any_category=True)


def streak_row(w: World, v, u) -> Streak:
    return w.s.get(Streak, (v.campaign.id, v.env, u.id))


def state(row: Streak) -> tuple[int, int, int]:
    """(current, longest, freezes held)."""
    return row.current, row.longest, row.freezes


def snap(w: World, v, u, now: datetime) -> participants.Snapshot:
    return participants.snapshot(w.s, v, u, now)


def achieved(w: World, v, u, kind: str) -> dict[str, datetime]:
    rows = w.s.scalars(select(Achievement).where(
        Achievement.campaign_id == v.campaign.id, Achievement.env == v.env,
        Achievement.user_id == u.id, Achievement.kind == kind))
    return {a.code: a.achieved_at for a in rows if a.achieved_at is not None}


def new_badges(result: events.EventResult) -> list[str]:
    return [code for kind, code in result.outcome.achieved if kind == "badge"]


@pytest.fixture
def w(session):
    return World(session)


@pytest.fixture
def acme(w):
    """examples/default-example.json published as the default campaign."""
    w.publish(loyalty())
    return w, w.live("default")


# -- streaks: periods in the campaign's time zone --------------------------------

def test_period_index_numbers_local_days_and_monday_weeks_consecutively():
    # 23:30 and 00:30 in New York on consecutive days are one UTC date (2026-11-24).
    late, early = ny("2026-11-23 23:30"), ny("2026-11-24 00:30")
    assert late.date() == early.date()
    assert period_index("daily", early, NY_TZ) == period_index("daily", late, NY_TZ) + 1
    # ISO weeks start on Monday at local midnight: Sunday 23:30 in New York is
    # already Monday in UTC, but still last week here.
    sunday, monday = ny("2026-11-29 23:30"), ny("2026-11-30 00:00")
    assert sunday.weekday() == 0  # Monday 04:30 UTC
    assert period_index("weekly", sunday, NY_TZ) == period_index("weekly", ny("2026-11-23 00:00"), NY_TZ)
    assert period_index("weekly", monday, NY_TZ) == period_index("weekly", sunday, NY_TZ) + 1
    assert period_index("weekly", ny("2026-11-23 00:00"), NY_TZ) == \
        period_index("weekly", ny("2026-11-22 23:59"), NY_TZ) + 1


def test_daily_streak_splits_at_local_midnight_not_utc_midnight(w):
    w.publish(program(streaks=daily()))
    v, u = w.live("prog"), w.user("alice")
    # Same UTC date (2026-11-24), two New York days: two periods.
    send(w, v, u, ny("2026-11-23 23:30"))
    send(w, v, u, ny("2026-11-24 00:30"))
    assert state(streak_row(w, v, u)) == (2, 2, 0)
    # Two UTC dates (25th 23:00Z, 26th 01:00Z), one New York day: counts once.
    send(w, v, u, ny("2026-11-25 18:00"))
    send(w, v, u, ny("2026-11-25 20:00"))
    assert state(streak_row(w, v, u)) == (3, 3, 0)


def test_daily_streak_follows_local_days_across_the_fall_back_dst_change(w):
    # 2026-11-01 in New York has 25 hours (EDT -4 -> EST -5 at 02:00).
    w.publish(program(streaks=daily()))
    v, u = w.live("prog"), w.user("alice")
    send(w, v, u, ny("2026-10-31 23:30"))           # 03:30Z Nov 1
    send(w, v, u, ny("2026-11-01 01:30", fold=0))   # EDT
    send(w, v, u, ny("2026-11-01 01:30", fold=1))   # EST, an hour later, same day
    assert state(streak_row(w, v, u)) == (2, 2, 0)
    send(w, v, u, ny("2026-11-01 23:30"))           # 04:30Z Nov 2, still Nov 1 here
    assert streak_row(w, v, u).current == 2
    send(w, v, u, ny("2026-11-02 00:30"))
    assert state(streak_row(w, v, u)) == (3, 3, 0)


def test_daily_streak_follows_local_days_across_the_spring_forward_dst_change(w):
    # 2027-03-14 in New York has 23 hours (EST -5 -> EDT -4 at 02:00).
    w.publish(program(streaks=daily()))
    v, u = w.live("prog"), w.user("alice")
    send(w, v, u, ny("2027-03-13 23:30"))  # 04:30Z Mar 14
    send(w, v, u, ny("2027-03-14 00:30"))  # 05:30Z Mar 14
    assert streak_row(w, v, u).current == 2
    send(w, v, u, ny("2027-03-14 23:30"))  # 03:30Z Mar 15: a fixed -5 offset would say 22:30
    assert streak_row(w, v, u).current == 2
    send(w, v, u, ny("2027-03-15 00:30"))  # 04:30Z Mar 15: a fixed -5 offset would say Mar 14
    assert state(streak_row(w, v, u)) == (3, 3, 0)


def test_several_events_in_one_local_day_count_once(w):
    w.publish(program(streaks=daily()))
    v, u = w.live("prog"), w.user("alice")
    for hour in ("00:00", "06:00", "12:00", "18:00", "23:59"):
        send(w, v, u, ny(f"2026-11-23 {hour}"))
        assert state(streak_row(w, v, u)) == (1, 1, 0)
    send(w, v, u, ny("2026-11-24 00:00"))
    assert state(streak_row(w, v, u)) == (2, 2, 0)


def test_a_missed_day_without_freezes_restarts_current_at_one_and_keeps_longest(w):
    w.publish(program(streaks=daily()))
    v, u = w.live("prog"), w.user("alice")
    for day in (20, 21, 22):
        send(w, v, u, ny(f"2026-11-{day} 12:00"))
    assert state(streak_row(w, v, u)) == (3, 3, 0)
    send(w, v, u, ny("2026-11-24 12:00"))  # the 23rd missed
    assert state(streak_row(w, v, u)) == (1, 3, 0)
    send(w, v, u, ny("2026-11-25 12:00"))
    assert state(streak_row(w, v, u)) == (2, 3, 0)


def test_a_missed_day_with_a_freeze_keeps_the_streak_and_spends_the_freeze(w):
    w.publish(program(streaks=daily(max_freezes=2, every=3)))
    v, u = w.live("prog"), w.user("alice")
    for day in (20, 21, 22):
        send(w, v, u, ny(f"2026-11-{day} 12:00"))
    assert state(streak_row(w, v, u)) == (3, 3, 1)  # one freeze earned at 3
    send(w, v, u, ny("2026-11-24 12:00"))  # the 23rd missed: the freeze covers it
    row = streak_row(w, v, u)
    assert state(row) == (4, 4, 0)
    assert row.freezes_spent == 1
    shown = snap(w, v, u, ny("2026-11-24 13:00")).streak
    assert (shown.current, shown.longest, shown.freezes) == (4, 4, 0)


def test_two_missed_days_with_one_freeze_break_the_streak_and_keep_the_freeze(w):
    w.publish(program(streaks=daily(max_freezes=2, every=3)))
    v, u = w.live("prog"), w.user("alice")
    for day in (20, 21, 22):
        send(w, v, u, ny(f"2026-11-{day} 12:00"))
    send(w, v, u, ny("2026-11-25 12:00"))  # the 23rd and 24th missed, one freeze held
    row = streak_row(w, v, u)
    assert state(row) == (1, 3, 1)
    assert row.freezes_spent == 0


def test_freezes_are_earned_every_earn_every_periods_and_capped_at_max(w):
    w.publish(program(streaks=daily(max_freezes=2, every=2)))
    v, u = w.live("prog"), w.user("alice")
    held = []
    for day in range(1, 8):  # Dec 1..7
        send(w, v, u, ny(f"2026-12-{day:02d} 09:00"))
        held.append(streak_row(w, v, u).freezes)
    assert held == [0, 1, 1, 2, 2, 2, 2]  # earned at 2 and 4; 6 would be a third: capped
    send(w, v, u, ny("2026-12-10 09:00"))  # the 8th and 9th missed: both freezes spent
    row = streak_row(w, v, u)
    assert (row.current, row.longest, row.freezes_spent) == (8, 8, 2)
    assert row.freezes == 1  # spent down to 0, then 8 is a multiple of 2: one earned again


def test_weekly_streak_counts_iso_weeks_from_local_monday_midnight(w):
    w.publish(program(streaks=daily(period="weekly")))
    v, u = w.live("prog"), w.user("alice")
    send(w, v, u, ny("2026-11-23 09:00"))  # Monday, week 48
    send(w, v, u, ny("2026-11-29 23:30"))  # Sunday here, Monday 04:30 UTC: still week 48
    assert state(streak_row(w, v, u)) == (1, 1, 0)
    send(w, v, u, ny("2026-11-30 00:00"))  # Monday, week 49
    assert state(streak_row(w, v, u)) == (2, 2, 0)
    send(w, v, u, ny("2026-12-06 23:59"))  # Sunday, week 49: counted already
    assert state(streak_row(w, v, u)) == (2, 2, 0)
    send(w, v, u, ny("2026-12-14 10:00"))  # week 51: week 50 missed, no freezes
    assert state(streak_row(w, v, u)) == (1, 2, 0)


def test_weekly_streak_spends_a_freeze_on_a_missed_week(w):
    w.publish(program(streaks=daily(max_freezes=1, every=2, period="weekly")))
    v, u = w.live("prog"), w.user("alice")
    send(w, v, u, ny("2026-11-23 09:00"))  # week 48
    send(w, v, u, ny("2026-12-01 09:00"))  # week 49: a freeze earned
    send(w, v, u, ny("2026-12-15 09:00"))  # week 51: week 50 frozen
    row = streak_row(w, v, u)
    assert (row.current, row.freezes_spent) == (3, 1)


def test_streak_view_at_read_time_shows_zero_once_the_gap_is_too_long(w):
    w.publish(program(streaks=daily()))
    v, u = w.live("prog"), w.user("alice")
    send(w, v, u, ny("2026-11-20 12:00"))
    send(w, v, u, ny("2026-11-21 12:00"))
    today = snap(w, v, u, ny("2026-11-21 23:59")).streak
    assert (today.current, today.longest) == (2, 2)
    tomorrow = snap(w, v, u, ny("2026-11-22 23:59")).streak  # not yet acted: still alive
    assert (tomorrow.current, tomorrow.longest) == (2, 2)
    after = snap(w, v, u, ny("2026-11-23 00:00")).streak  # the 22nd was missed
    assert (after.current, after.longest) == (0, 2)
    assert after.last_activity_at == ny("2026-11-21 12:00")
    assert state(streak_row(w, v, u)) == (2, 2, 0)  # a read writes nothing


def test_streak_view_projects_the_freezes_a_covered_gap_will_spend(w):
    w.publish(program(streaks=daily(max_freezes=2, every=2)))
    v, u = w.live("prog"), w.user("alice")
    for day in (17, 18, 19, 20):
        send(w, v, u, ny(f"2026-11-{day} 12:00"))
    assert streak_row(w, v, u).freezes == 2
    views = {day: snap(w, v, u, ny(f"2026-11-{day} 12:00")).streak for day in (21, 22, 23, 24)}
    assert [(s.current, s.freezes) for s in views.values()] == [
        (4, 2),  # the 21st: nothing missed yet
        (4, 1),  # the 21st missed: one freeze will go
        (4, 0),  # the 21st and 22nd missed: both
        (0, 2),  # three missed, two held: broken, and the freezes are kept
    ]
    assert state(streak_row(w, v, u)) == (4, 4, 2)
    send(w, v, u, ny("2026-11-23 12:00"))  # what the view promised on the 23rd
    assert state(streak_row(w, v, u)) == (5, 5, 0)


def test_a_new_version_switching_daily_to_weekly_starts_the_streak_afresh(w):
    w.publish(program(streaks=daily(max_freezes=1, every=2)))
    v, u = w.live("prog"), w.user("alice")
    for day in (23, 24, 25):
        send(w, v, u, ny(f"2026-11-{day} 12:00"))
    assert state(streak_row(w, v, u)) == (3, 3, 1)
    w.publish(program(streaks=daily(period="weekly")), ny("2026-11-25 13:00"))
    v = w.live("prog")
    assert snap(w, v, u, ny("2026-11-25 14:00")).streak is None  # the daily row no longer applies
    send(w, v, u, ny("2026-11-26 12:00"))
    row = streak_row(w, v, u)
    assert (row.period, row.current, row.longest, row.freezes) == ("weekly", 1, 3, 0)


def test_a_user_without_activity_has_no_streak_view(w):
    w.publish(program(streaks=daily()))
    v, u = w.live("prog"), w.user("alice")
    assert snap(w, v, u, T0).streak is None


def test_a_points_award_counts_for_the_streak(acme):
    """SPEC §2: a period counts when the user has any event *or award* in it."""
    w, v = acme
    u = w.user("alice", "internal")
    send(w, v, u, ny("2026-11-23 12:00"), "daily_login")
    awards.award(w.s, v, u, event_type="purchase", now=ny("2026-11-24 12:00"))
    assert state(streak_row(w, v, u))[:2] == (2, 2)
    credits.reward(w.s, v, u, reward_id="r1", xp=5, kind=None, now=ny("2026-11-25 12:00"))
    assert state(streak_row(w, v, u))[:2] == (3, 3)
    balances(w.s, v, u)


def test_spending_is_not_activity_for_the_streak(acme):
    w, v = acme
    u = w.user("alice", "internal")
    send(w, v, u, ny("2026-11-23 12:00"), "order_paid", amount=400)
    catalog.claim(w.s, v, u, code="coffee", now=ny("2026-11-24 12:00"))
    assert streak_row(w, v, u).current == 1
    assert streak_row(w, v, u).last_activity_at == ny("2026-11-23 12:00")


# -- tiers ------------------------------------------------------------------------

def test_tier_progress_gives_the_reached_tier_the_next_one_and_points_remaining(acme):
    w, v = acme
    u = w.user("alice", "internal")
    t = ny("2026-11-23 12:00")
    send(w, v, u, t, "order_paid", amount=400)
    tier = snap(w, v, u, t).tier
    assert (tier.tier["code"], tier.next_tier["code"], tier.points_remaining) == ("bronze", "silver", 600)
    # 1,200 more crosses 1,000: the milestone's 50 count too (400 + 1200 + 50).
    send(w, v, u, t, "order_paid", amount=1200)
    assert balances(w.s, v, u).total_earned == 1650
    tier = snap(w, v, u, t).tier
    assert (tier.tier["code"], tier.next_tier["code"], tier.points_remaining) == ("silver", "gold", 3350)
    send(w, v, u, t, "order_paid", amount=3350)  # exactly 5,000
    tier = snap(w, v, u, t).tier
    assert (tier.tier["code"], tier.next_tier["code"], tier.points_remaining) == ("gold", "platinum", 5000)
    send(w, v, u, t, "order_paid", amount=6000)
    tier = snap(w, v, u, t).tier
    assert (tier.tier["code"], tier.next_tier, tier.points_remaining) == ("platinum", None, None)
    assert set(achieved(w, v, u, "tier")) == {"bronze", "silver", "gold", "platinum"}


def test_tiers_are_ranked_by_points_required_whatever_their_order_in_the_definition(w):
    tiers = [{"code": c, "name": c, "level": lvl, "color": "#000000", "points_required": p}
             for c, lvl, p in (("gold", 3, 500), ("base", 1, 0), ("silver", 2, 100))]
    w.publish(program(tiers=tiers, mechanics={"points": [{"event_type": "buy", "points": 150}]}))
    v, u = w.live("prog"), w.user("alice")
    result = send(w, v, u, T0, "buy")
    assert [c for k, c in result.outcome.achieved if k == "tier"] == ["base", "silver"]
    tier = snap(w, v, u, T0).tier
    assert (tier.tier["code"], tier.next_tier["code"], tier.points_remaining) == ("silver", "gold", 350)


def test_spending_never_demotes_a_tier(acme):
    w, v = acme
    u = w.user("alice", "internal")
    t1, t2, t3 = ny("2026-11-23 12:00"), ny("2026-11-24 12:00"), ny("2026-11-25 12:00")
    send(w, v, u, t1, "order_paid", amount=5000)  # + milestone 50
    catalog.claim(w.s, v, u, code="tshirt", now=t2)
    credits.withdraw(w.s, v, u, withdraw_id="w1", xp=2000, strict=True, now=t3)
    b = balances(w.s, v, u)
    assert (b.total, b.total_earned, b.total_spent) == (550, 5050, 4500)
    tier = snap(w, v, u, t3).tier
    assert (tier.tier["code"], tier.achieved_at) == ("gold", t1)
    assert (tier.next_tier["code"], tier.points_remaining) == ("platinum", 4950)
    assert achieved(w, v, u, "tier") == {"bronze": t1, "silver": t1, "gold": t1}


def test_a_tier_is_dated_when_first_reached(acme):
    w, v = acme
    u = w.user("alice", "internal")
    t1, t2, t3 = ny("2026-11-23 12:00"), ny("2026-11-24 12:00"), ny("2026-11-25 12:00")
    send(w, v, u, t1, "order_paid", amount=10)
    send(w, v, u, t2, "order_paid", amount=990)  # 1,000 (+50): silver
    send(w, v, u, t3, "order_paid", amount=10)
    catalog.claim(w.s, v, u, code="coffee", now=t3)
    assert achieved(w, v, u, "tier") == {"bronze": t1, "silver": t2}
    assert snap(w, v, u, t3).tier.achieved_at == t2


def test_a_tier_with_zero_points_required_is_reached_at_first_activity(acme):
    w, v = acme
    u = w.user("alice", "internal")
    t = ny("2026-11-23 12:00")
    result = send(w, v, u, t, "page_view")  # pays nothing
    assert ("tier", "bronze") in result.outcome.achieved
    assert achieved(w, v, u, "tier") == {"bronze": t}
    assert balances(w.s, v, u).total_earned == 0
    tier = snap(w, v, u, t).tier
    assert (tier.tier["code"], tier.achieved_at, tier.points_remaining) == ("bronze", t, 1000)


def test_a_tier_added_by_a_new_version_below_the_total_is_recorded_at_the_next_activity(w):
    mechanics = {"points": [{"event_type": "buy", "points": 300}]}
    w.publish(program(mechanics=mechanics, streaks=daily()))
    v, u = w.live("prog"), w.user("alice")
    send(w, v, u, T0, "buy")
    tiers = [{"code": "fan", "name": "Fan", "level": 1, "color": "#000000", "points_required": 200}]
    w.publish(program(mechanics=mechanics, streaks=daily(), tiers=tiers), T0 + DAY)
    v = w.live("prog")
    assert achieved(w, v, u, "tier") == {}
    send(w, v, u, T0 + 2 * DAY, "ping")
    assert achieved(w, v, u, "tier") == {"fan": T0 + 2 * DAY}


# -- badges -----------------------------------------------------------------------

def test_event_count_badge_is_earned_on_exactly_the_countth_event_and_only_once(w):
    badge = {"code": "regular", "name": "Regular", "rarity": "uncommon",
             "criteria": {"event_type": "daily_login", "count": 3}}
    w.publish(program(badges=[badge]))
    v, u = w.live("prog"), w.user("alice")
    times = [T0 + i * timedelta(hours=1) for i in range(6)]
    got = [new_badges(send(w, v, u, t, "daily_login")) for t in times[:2]]
    send(w, v, u, times[2], "other")  # another type does not count
    got += [new_badges(send(w, v, u, t, "daily_login")) for t in times[3:]]
    assert got == [[], [], ["regular"], [], []]
    assert achieved(w, v, u, "badge") == {"regular": times[3]}
    [shown] = snap(w, v, u, times[5]).badges
    assert (shown.code, shown.rarity, shown.earned_at) == ("regular", "uncommon", times[3])


def test_participants_record_reports_the_badges_an_event_earned(acme):
    w, v = acme
    u = w.user("alice", "internal")
    first = participants.record(w.s, v, u, event_type="daily_login", properties=None,
                                client_id=None, now=T0)
    assert [b["code"] for b in first.badges_earned] == ["first_steps"]
    assert first.points_earned == 10
    assert first.tier["code"] == "bronze"
    again = participants.record(w.s, v, u, event_type="daily_login", properties=None,
                                client_id=None, now=T0 + DAY)
    assert again.badges_earned == []


def test_points_badge_counts_total_earned_including_milestone_rewards(acme):
    w, v = acme
    doc = loyalty()
    doc["badges"].append({"code": "big", "name": "Big", "rarity": "rare",
                          "criteria": {"points": 1050}})
    w.publish(doc)
    v = w.live("default")
    u = w.user("alice", "internal")
    t1, t2 = ny("2026-11-23 12:00"), ny("2026-11-24 12:00")
    # 1,000 from the event, 50 from the milestone it crosses, in the same run.
    result = send(w, v, u, t1, "order_paid", amount=1000)
    assert "big" in new_badges(result)
    assert balances(w.s, v, u).total_earned == 1050
    send(w, v, u, t2, "order_paid", amount=3900)  # 4,950
    assert "power_user" not in achieved(w, v, u, "badge")
    catalog.claim(w.s, v, u, code="tshirt", now=t2)  # spending does not count against it
    result = send(w, v, u, t2, "order_paid", amount=50)  # 5,000 earned, 2,500 held
    assert "power_user" in new_badges(result)
    assert achieved(w, v, u, "badge") == {"big": t1, "power_user": t2}


def test_a_points_badge_is_earned_by_an_award_that_is_not_an_event(acme):
    w, v = acme
    u = w.user("alice", "internal")
    for i in range(10):
        awards.award(w.s, v, u, event_type="signup" if i == 0 else "purchase",
                      now=T0 + i * timedelta(minutes=1))
    # 500 + 9 x 100 = 1,400, + the milestone's 50; then a 3,550 reward reaches 5,000.
    credits.reward(w.s, v, u, reward_id="big", xp=3550, kind=None, now=T0 + DAY)
    assert achieved(w, v, u, "badge") == {"power_user": T0 + DAY}
    assert balances(w.s, v, u).total_earned == 5000


def test_streak_badge_is_earned_when_the_streak_reaches_n_and_kept_after_it_breaks(acme):
    w, v = acme
    doc = loyalty()
    doc["badges"].append({"code": "three", "name": "Three", "rarity": "common",
                          "criteria": {"streak": 3}})
    w.publish(doc)
    v = w.live("default")
    u = w.user("alice", "internal")
    got = {}
    for day in (20, 21, 22, 23, 24, 25, 26):
        t = ny(f"2026-11-{day} 23:45")  # late evening: the next UTC day
        got[day] = new_badges(send(w, v, u, t, "page_view"))
    assert got == {20: [], 21: [], 22: ["three"], 23: [], 24: [], 25: [], 26: ["on_fire"]}
    send(w, v, u, ny("2026-12-05 12:00"), "page_view")  # a long gap breaks the streak
    assert streak_row(w, v, u).current == 1
    assert achieved(w, v, u, "badge") == {"three": ny("2026-11-22 23:45"),
                                          "on_fire": ny("2026-11-26 23:45")}


def test_a_streak_badge_without_a_streaks_section_keeps_a_daily_streak(w):
    badge = {"code": "two", "name": "Two", "rarity": "common", "criteria": {"streak": 2}}
    w.publish(program(badges=[badge]))
    v, u = w.live("prog"), w.user("alice")
    assert new_badges(send(w, v, u, ny("2026-11-23 23:00"))) == []
    assert new_badges(send(w, v, u, ny("2026-11-24 01:00"))) == ["two"]


def test_a_badge_added_in_a_later_version_counts_the_events_sent_before_it(w):
    w.publish(program())
    v, u = w.live("prog"), w.user("alice")
    for i in range(4):
        send(w, v, u, T0 + i * timedelta(minutes=1), "daily_login")
    badges = [{"code": "six", "name": "Six", "rarity": "rare",
               "criteria": {"event_type": "daily_login", "count": 6}},
              {"code": "three", "name": "Three", "rarity": "common",
               "criteria": {"event_type": "daily_login", "count": 3}}]
    w.publish(program(badges=badges), T0 + DAY)
    v = w.live("prog")
    t5, t6 = T0 + 2 * DAY, T0 + 3 * DAY
    assert new_badges(send(w, v, u, t5, "daily_login")) == ["three"]  # 5 sent, 3 needed
    assert new_badges(send(w, v, u, t6, "daily_login")) == ["six"]    # exactly the 6th
    assert achieved(w, v, u, "badge") == {"three": t5, "six": t6}


def test_a_badge_removed_then_added_again_still_counts_every_event(w):
    badge = {"code": "five", "name": "Five", "rarity": "rare",
             "criteria": {"event_type": "daily_login", "count": 5}}
    w.publish(program(badges=[badge]))
    v, u = w.live("prog"), w.user("alice")
    send(w, v, u, T0, "daily_login")                           # 1
    w.publish(program(), T0 + DAY)                             # the badge is gone
    v = w.live("prog")
    for i in range(3):
        send(w, v, u, T0 + DAY + i * timedelta(minutes=1), "daily_login")  # 2, 3, 4
    w.publish(program(badges=[badge]), T0 + 2 * DAY)           # and back
    v = w.live("prog")
    assert new_badges(send(w, v, u, T0 + 3 * DAY, "daily_login")) == ["five"]  # the 5th


def test_a_repeated_event_id_counts_once_for_badges_and_challenges(w):
    badge = {"code": "two", "name": "Two", "rarity": "common",
             "criteria": {"event_type": "order", "count": 2}}
    w.publish(program(badges=[badge], challenges=[challenge(count=2)]))
    v, u = w.live("prog"), w.user("alice")
    t = at("2026-11-24T12:00Z")
    for _ in range(3):
        events.record_event(w.s, v, u, name="order", now=t, client_id="e1", any_category=True)
    assert achieved(w, v, u, "badge") == {}
    assert achieved(w, v, u, "challenge") == {}
    result = events.record_event(w.s, v, u, name="order", now=t, client_id="e2", any_category=True)
    assert new_badges(result) == ["two"]
    assert result.outcome.paid_to(u.id) == 300


def test_the_sandbox_keeps_its_own_streaks_badges_and_tiers(acme):
    w, v = acme
    dev, u = w.dev("default"), w.user("alice", "internal")
    send(w, dev, u, T0, "daily_login")
    assert achieved(w, dev, u, "badge") == {"first_steps": T0}
    assert streak_row(w, dev, u).current == 1
    assert achieved(w, v, u, "badge") == {} and achieved(w, v, u, "tier") == {}
    assert streak_row(w, v, u) is None
    assert new_badges(send(w, v, u, T0 + DAY, "daily_login")) == ["first_steps"]


# -- challenges -------------------------------------------------------------------

def challenge(code: str = "sprint", *, count: int = 3, starts: str = "2026-11-23T00:00:00Z",
              ends: str = "2026-11-26T00:00:00Z", reward: int = 300, event_type: str = "order") -> dict:
    return {"code": code, "name": code.title(), "event_type": event_type, "count": count,
            "starts_at": starts, "ends_at": ends, "reward_points": reward}


def challenge_entries(w: World, v, u) -> list:
    return entries(w.s, v, u, source="challenge")


def test_challenge_counts_only_events_inside_its_window(w):
    w.publish(program(challenges=[challenge(count=3)]))
    v, u = w.live("prog"), w.user("alice")
    start, end = at("2026-11-23T00:00Z"), at("2026-11-26T00:00Z")
    for t in (start - timedelta(minutes=1), start - timedelta(seconds=1)):
        send(w, v, u, t, "order")  # before the window
    send(w, v, u, start, "order")  # starts_at is inside
    send(w, v, u, start + DAY, "other")
    send(w, v, u, start + DAY, "order")
    send(w, v, u, end, "order")  # ends_at is outside
    send(w, v, u, end + DAY, "order")
    [row] = w.s.scalars(select(Achievement).where(Achievement.kind == "challenge"))
    assert (row.code, row.progress, row.achieved_at) == ("sprint", 2, None)
    assert challenge_entries(w, v, u) == []
    assert snap(w, v, u, end).challenges == {"active": 0, "completed": 0}


def test_challenge_reward_is_paid_exactly_once(w):
    w.publish(program(challenges=[challenge(count=3, reward=300)]))
    v, u = w.live("prog"), w.user("alice")
    t = at("2026-11-24T12:00Z")
    results = [send(w, v, u, t + i * timedelta(minutes=1), "order") for i in range(6)]
    assert [r.outcome.paid_to(u.id) for r in results] == [0, 0, 300, 0, 0, 0]
    [entry] = challenge_entries(w, v, u)
    assert (entry.kind, entry.amount, entry.meta) == ("event", 300, {"challenge": "sprint"})
    assert entry.created_at == t + 2 * timedelta(minutes=1)
    b = balances(w.s, v, u)
    assert (b.total, b.total_earned) == (300, 300)


def test_a_challenge_published_mid_window_counts_the_window_s_earlier_events(w):
    w.publish(program())
    v, u = w.live("prog"), w.user("alice")
    send(w, v, u, at("2026-11-22T23:00Z"), "order")  # before the window
    send(w, v, u, at("2026-11-23T10:00Z"), "order")
    send(w, v, u, at("2026-11-23T11:00Z"), "order")
    w.publish(program(challenges=[challenge(count=3)]), at("2026-11-23T12:00Z"))
    v = w.live("prog")
    result = send(w, v, u, at("2026-11-23T13:00Z"), "order")  # the third in the window
    assert result.outcome.paid_to(u.id) == 300
    assert len(challenge_entries(w, v, u)) == 1


def test_challenge_status_counts_open_challenges_and_completed_ones(w):
    chs = [challenge("now_a", count=2), challenge("now_b", count=5),
           challenge("later", starts="2026-12-01T00:00:00Z", ends="2026-12-31T00:00:00Z"),
           challenge("over", starts="2026-11-01T00:00:00Z", ends="2026-11-10T00:00:00Z")]
    w.publish(program(challenges=chs))
    v, u = w.live("prog"), w.user("alice")
    t = at("2026-11-24T12:00Z")
    assert snap(w, v, u, t).challenges == {"active": 2, "completed": 0}
    send(w, v, u, t, "order")
    send(w, v, u, t, "order")  # completes now_a (and counts 2 of 5 for now_b)
    assert snap(w, v, u, t).challenges == {"active": 1, "completed": 1}
    assert snap(w, v, u, at("2026-12-02T00:00Z")).challenges == {"active": 1, "completed": 1}  # later
    assert snap(w, v, u, at("2027-01-01T00:00Z")).challenges == {"active": 0, "completed": 1}
    assert [e.meta["challenge"] for e in challenge_entries(w, v, u)] == ["now_a"]


def test_a_challenge_reward_counts_towards_tiers_milestones_and_badges(acme):
    w, v = acme
    u = w.user("alice", "internal")
    t = ny("2026-11-23 12:00")
    for _ in range(4):
        send(w, v, u, t, "order_paid", amount=170)  # 680
    result = send(w, v, u, t, "order_paid", amount=10)  # 690 + 300 = 990
    assert result.outcome.paid_to(u.id) == 310
    assert snap(w, v, u, t).tier.points_remaining == 10
    send(w, v, u, t, "order_paid", amount=10)  # 1,000: silver and the milestone
    b = balances(w.s, v, u)
    assert b.total_earned == 1050
    assert snap(w, v, u, t).tier.tier["code"] == "silver"
    assert [e.amount for e in entries(w.s, v, u, kind="milestone")] == [50]


# -- webhooks ---------------------------------------------------------------------

def test_tier_reached_and_badge_earned_are_queued_once_for_registered_hooks(acme):
    w, v = acme
    webhooks.register(w.s, w.org.id, scope="user_activity", hook_id="h1", uri="http://hooks.test/in",
                      secret="s3cret", pids=[], now=T0, allow_private=True)
    u = w.user("alice", "internal")
    send(w, v, u, T0, "daily_login")
    send(w, v, u, T0 + DAY, "order_paid", amount=1000)
    send(w, v, u, T0 + 2 * DAY, "daily_login")
    msgs = list(w.s.scalars(select(Message).where(
        Message.type.in_(("tier.reached", "badge.earned"))).order_by(Message.id)))
    bodies = [json.loads(m.body) for m in msgs]
    assert [(b["type"], b["data"]["code"], b["data"]["name"]) for b in bodies] == [
        ("tier.reached", "bronze", "Bronze"),
        ("badge.earned", "first_steps", "First Steps"),
        ("tier.reached", "silver", "Silver"),
    ]
    assert all(b["data"]["account"] == "alice" and b["data"]["pid"] == "default" for b in bodies)
    assert [m.created_at for m in msgs] == [T0, T0, T0 + DAY]


def test_the_sandbox_queues_no_progression_webhooks(w):
    w.publish(loyalty())
    webhooks.register(w.s, w.org.id, scope="user_activity", hook_id="h1", uri="http://hooks.test/in",
                      secret="s3cret", pids=[], now=T0, allow_private=True)
    v, u = w.dev("default"), w.user("alice", "internal")
    result = send(w, v, u, T0, "daily_login")
    assert ("badge", "first_steps") in result.outcome.achieved
    assert w.s.scalars(select(Message)).all() == []
