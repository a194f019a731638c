"""The task engine without Flask: SPEC §2 "Actions (tasks)" and "Semantics".

Most tests run on examples/campaign-example.json (Europe/Berlin; the
conftest clock's start, Sunday 2026-11-22 12:00Z, is 13:00 CET there):

  roll_5        events_count  dices/GameSession on wowhaus, count 5, daily,
                              continuous, progressive, 100 xp + 5% = 105
  bet_500       events_value  [].data.bet, target 500, once, 105
  daily_login   api_call      daily, continuous, 50 xp + 50% = 75, ref_xp 10
  join_discord  visit         20
  score_update  api_number    target 1000, 200
  bonus_score   api_score     optional
  volume        api_stream    player_score, target 10,000, weekly, 300, ref_xp 30
  bring_friends referrals     count 3, 150, deps [score_update]
  vip_code      invite_code   40, optional
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from engine.definitions import campaigns
from engine.participation import events, invites, referrals
from engine.reads import progress
from engine.errors import Conflict, InvalidInput, NotFound
from engine.run.tasks import EVALUATORS
from models import Event, QuestState

from tests.engine.world import (
    T0, World, action_status, at, balances, completions, custom, entries, example,
    paid_aids, quest_status, roll, stream, task_paid, tick, ticks, value,
)

DAY = timedelta(days=1)
PID = "summer_games"


@pytest.fixture
def w(session):
    return World(session)


@pytest.fixture
def summer(w):
    """The example campaign, published: (world, live view)."""
    w.publish(example())
    return w, w.live(PID)


def test_every_documented_task_type_has_an_evaluator():
    assert set(EVALUATORS) == {"visit", "api_call", "api_number", "api_score", "api_stream",
                               "events_count", "events_value", "referrals", "invite_code"}


# -- the product document's scenarios -------------------------------------------

def test_five_rolls_pay_100_xp_plus_5_percent(summer):
    w, v = summer
    u = w.user("alice")
    for _ in range(4):
        assert paid_aids(roll(w.s, v, u, T0).outcome) == []
    assert task_paid(w.s, v, u) == 0
    fifth = roll(w.s, v, u, T0).outcome
    assert fifth.completed == [{"aid": "roll_5", "cid": "dice_master", "xp": 105}]
    assert task_paid(w.s, v, u, "roll_5") == 105
    b = balances(w.s, v, u)
    assert (b.xp, b.ref_xp, b.ugc_xp) == (105, 0, 0)


def test_thirty_rolls_in_one_local_day_pay_six_times_105(summer):
    w, v = summer
    u = w.user("alice")
    for i in range(1, 31):
        # spread over the local day: 00:00 to 23:xx in Berlin (23:00Z..22:xxZ)
        now = at("2026-11-21T23:00Z") + timedelta(minutes=45 * (i - 1))
        roll(w.s, v, u, now)
        assert task_paid(w.s, v, u, "roll_5") == (i // 5) * 105, f"after roll {i}"
    assert task_paid(w.s, v, u, "roll_5") == 6 * 105
    assert len(completions(w.s, v, u, "roll_5")) == 6


def test_bets_summing_to_500_pay_105_once_and_never_again(summer):
    w, v = summer
    u = w.user("alice")
    roll(w.s, v, u, T0, bet=200)
    roll(w.s, v, u, T0, bet=250)
    assert task_paid(w.s, v, u, "bet_500") == 0
    assert action_status(w.s, v, u, "bet_500", T0)["progress"] == 450
    third = roll(w.s, v, u, T0, bet=50).outcome
    assert {"aid": "bet_500", "cid": "dice_master", "xp": 105} in third.completed
    assert task_paid(w.s, v, u, "bet_500") == 105
    # more bets the same day, the next days, the next month: never again
    for now in (T0, T0 + DAY, T0 + 2 * DAY, T0 + 40 * DAY):
        for _ in range(3):
            roll(w.s, v, u, now, bet=600)
    assert task_paid(w.s, v, u, "bet_500") == 105
    assert len(completions(w.s, v, u, "bet_500")) == 1
    st = action_status(w.s, v, u, "bet_500", T0 + 40 * DAY)
    assert (st["status"], st["completions"], st["next_reset_at"]) == ("completed", 1, None)


def test_bets_are_summed_from_the_query_floored_and_ignoring_non_numbers(summer):
    w, v = summer
    u = w.user("alice")
    for bet in (499.9, "1000", True, None, -50):
        roll(w.s, v, u, T0, bet=bet)
    assert action_status(w.s, v, u, "bet_500", T0)["progress"] == 499
    assert task_paid(w.s, v, u, "bet_500") == 0
    roll(w.s, v, u, T0, bet=1)
    assert task_paid(w.s, v, u, "bet_500") == 105


def test_events_for_another_platform_category_or_name_count_nothing(summer):
    w, v = summer
    discord = w.user("alice", "discord")
    wow = w.user("bob")
    for _ in range(6):
        roll(w.s, v, discord, T0, bet=1000)              # wrong platform (the user's)
        roll(w.s, v, wow, T0, bet=1000, category="cards")  # wrong category
        roll(w.s, v, wow, T0, bet=1000, name="Login")      # wrong name
        roll(w.s, v, wow, T0, bet=1000, category=None)     # no category
    for u in (discord, wow):
        assert task_paid(w.s, v, u) == 0
        for aid in ("roll_5", "bet_500"):
            assert action_status(w.s, v, u, aid, T0)["progress"] == 0
    # stored all the same
    assert len(events.list_events(w.s, v, discord)) == 6
    assert len(events.list_events(w.s, v, wow)) == 18
    # and the right events do count
    for _ in range(5):
        roll(w.s, v, wow, T0, bet=100)
    assert task_paid(w.s, v, wow, "roll_5") == 105
    assert task_paid(w.s, v, wow, "bet_500") == 105


# -- continuous, progressive, xp_mul --------------------------------------------

def test_non_continuous_action_pays_only_in_its_first_paying_period(w):
    w.publish(custom([tick("t", "daily", count=2, continuous=False)]))
    v = w.live("custom")
    u = w.user("alice")
    ticks(w.s, v, u, T0, 1)                      # day 1: not enough, pays nothing
    ticks(w.s, v, u, T0 + DAY, 2)                # day 2: the first paying period
    assert task_paid(w.s, v, u, "t") == 10
    ticks(w.s, v, u, T0 + 2 * DAY, 5)            # day 3: stays completed
    ticks(w.s, v, u, T0 + 30 * DAY, 5)
    assert task_paid(w.s, v, u, "t") == 10
    st = action_status(w.s, v, u, "t", T0 + 30 * DAY)
    assert (st["status"], st["completions"], st["next_reset_at"]) == ("completed", 1, None)


def test_continuous_action_pays_again_in_every_new_period(summer):
    w, v = summer
    u = w.user("alice")
    for day in range(3):
        for _ in range(5):
            roll(w.s, v, u, T0 + day * DAY)
        assert task_paid(w.s, v, u, "roll_5") == 105 * (day + 1)


def test_non_progressive_action_pays_once_per_period_whatever_the_excess(w):
    w.publish(custom([tick("t", "daily", count=5, continuous=True, progressive=False)]))
    v = w.live("custom")
    u = w.user("alice")
    ticks(w.s, v, u, T0, 30)
    assert task_paid(w.s, v, u, "t") == 10
    ticks(w.s, v, u, T0 + DAY, 4)
    assert task_paid(w.s, v, u, "t") == 10
    ticks(w.s, v, u, T0 + DAY, 1)
    assert task_paid(w.s, v, u, "t") == 20


def test_progressive_counts_ten_against_a_threshold_of_ten_three_times_for_thirty(w):
    w.publish(custom([tick("t", "daily", count=10, continuous=True, progressive=True)]))
    v = w.live("custom")
    u = w.user("alice")
    ticks(w.s, v, u, T0, 29)
    assert task_paid(w.s, v, u, "t") == 20
    ticks(w.s, v, u, T0, 1)
    assert task_paid(w.s, v, u, "t") == 30


def test_progressive_leftovers_do_not_carry_into_the_next_period(summer):
    w, v = summer
    u = w.user("alice")
    for _ in range(9):                       # 1 payout, 4 left over
        roll(w.s, v, u, T0)
    assert task_paid(w.s, v, u, "roll_5") == 105
    for _ in range(4):
        roll(w.s, v, u, T0 + DAY)            # would be the 2nd multiple if carried
    assert task_paid(w.s, v, u, "roll_5") == 105
    roll(w.s, v, u, T0 + DAY)
    assert task_paid(w.s, v, u, "roll_5") == 210


def test_non_continuous_progressive_action_pays_each_multiple_within_its_first_period(w):
    w.publish(custom([tick("t", "daily", count=2, continuous=False, progressive=True)]))
    v = w.live("custom")
    u = w.user("alice")
    ticks(w.s, v, u, T0, 6)
    assert task_paid(w.s, v, u, "t") == 30
    ticks(w.s, v, u, T0 + DAY, 6)
    assert task_paid(w.s, v, u, "t") == 30


@pytest.mark.parametrize("xp, xp_mul, pays", [
    (100, 5, 105), (50, 50, 75), (7, 50, 10), (10, 33, 13), (1, 99, 1), (3, 0, 3),
    (100, 0.5, 100), (750, 57.2, 1179), (10, 100, 20), (99, 1, 99),
])
def test_xp_mul_is_a_percent_bonus_rounded_down(w, xp, xp_mul, pays):
    w.publish(custom([{"id": "a", "name": "A", "type": "api_call", "xp": xp, "xp_mul": xp_mul}]))
    v = w.live("custom")
    u = w.user("alice")
    out = value(w.s, v, u, "a", None, T0)
    assert out.completed == [{"aid": "a", "cid": None, "xp": pays}]
    assert balances(w.s, v, u).xp == pays


def test_an_action_worth_zero_points_completes_without_a_ledger_entry(w):
    w.publish(custom([{"id": "a", "name": "A", "type": "api_call"}]))
    v = w.live("custom")
    u = w.user("alice")
    assert paid_aids(value(w.s, v, u, "a", None, T0)) == ["a"]
    assert entries(w.s, v, u) == []
    assert len(completions(w.s, v, u, "a")) == 1
    assert action_status(w.s, v, u, "a", T0)["status"] == "completed"


# -- ref_xp ----------------------------------------------------------------------

def test_ref_xp_is_paid_to_the_referrer_each_time_the_referee_completes(summer):
    w, v = summer
    ref, bob, carol = w.user("ref", "discord"), w.user("bob", "discord"), w.user("carol", "discord")
    referrals.set_referrer(w.s, v, bob, ref, T0)      # bonuses: bob 25, ref 50 (ref_xp)
    for day in range(3):
        value(w.s, v, bob, "daily_login", None, T0 + day * DAY)
        value(w.s, v, bob, "daily_login", None, T0 + day * DAY)  # once a day
        value(w.s, v, carol, "daily_login", None, T0 + day * DAY)  # no referrer
    assert task_paid(w.s, v, bob, "daily_login") == 3 * 75
    from_tasks = entries(w.s, v, ref, source="task.ref_xp")
    assert [(e.kind, e.amount, e.meta["aid"], e.meta["referee_id"]) for e in from_tasks] == \
        [("referral", 10, "daily_login", bob.id)] * 3
    b = balances(w.s, v, ref)
    assert (b.xp, b.ref_xp) == (0, 50 + 30)
    assert balances(w.s, v, bob).ref_xp == 25
    assert entries(w.s, v, carol, kind="referral") == []
    # an action without ref_xp pays the referrer nothing
    for _ in range(5):
        roll(w.s, v, bob, T0)
    assert task_paid(w.s, v, bob, "roll_5") == 0  # bob is on discord: not a wowhaus roll
    value(w.s, v, bob, "score_update", 1000, T0)
    assert balances(w.s, v, ref).ref_xp == 80
    assert {e.version for e in entries(w.s, v, ref) + entries(w.s, v, bob)} == {1}


def test_ref_xp_of_a_stream_action_follows_each_payout(summer):
    w, v = summer
    ref, bob = w.user("ref"), w.user("bob")
    referrals.set_referrer(w.s, v, bob, ref, T0)
    stream(w.s, v, bob, "player_score", 10_000, T0)
    stream(w.s, v, bob, "player_score", 10_000, T0 + DAY)  # Monday: a new week
    assert [e.amount for e in entries(w.s, v, ref, source="task.ref_xp")] == [30, 30]


# -- deps ------------------------------------------------------------------------

GATED = custom([
    {"id": "gate", "name": "Gate", "type": "api_call", "xp": 1},
    tick("rolls", "once", count=5, xp=100, deps=["gate"]),
    {"id": "score", "name": "Score", "type": "api_number", "target": 10, "xp": 5,
     "deps": ["gate"]},
])


def test_events_for_an_action_locked_by_deps_are_stored_but_never_count_later(w):
    w.publish(GATED)
    v = w.live("custom")
    u = w.user("alice")
    assert action_status(w.s, v, u, "rolls", T0)["status"] == "locked"
    for r in ticks(w.s, v, u, T0, 5):
        assert r.outcome.locked == ["rolls"] and r.outcome.completed == []
    assert len(events.list_events(w.s, v, u)) == 5
    value(w.s, v, u, "gate", None, T0)
    st = action_status(w.s, v, u, "rolls", T0)
    assert (st["status"], st["progress"]) == ("available", 0)
    ticks(w.s, v, u, T0, 4)
    assert task_paid(w.s, v, u, "rolls") == 0
    ticks(w.s, v, u, T0, 1)
    assert task_paid(w.s, v, u, "rolls") == 100


@pytest.mark.parametrize("dep_first", [True, False])
def test_an_event_that_pays_a_dep_does_not_count_for_the_action_it_unlocks(w, dep_first):
    first = tick("first", "once", count=1, xp=1)
    second = tick("second", "once", count=1, xp=10, deps=["first"])
    w.publish(custom([first, second] if dep_first else [second, first]))
    v = w.live("custom")
    u = w.user("alice")
    out = ticks(w.s, v, u, T0)[0].outcome
    assert (paid_aids(out), out.locked) == (["first"], ["second"])   # whatever the order
    assert paid_aids(ticks(w.s, v, u, T0)[0].outcome) == ["second"]


def test_a_stream_value_that_pays_a_dep_does_not_count_for_the_action_it_unlocks(w):
    w.publish(custom([
        {"id": "sooner", "name": "Sooner", "type": "api_stream", "stream": "s", "target": 5,
         "xp": 1},
        {"id": "later", "name": "Later", "type": "api_stream", "stream": "s", "target": 5,
         "xp": 10, "deps": ["sooner"]},
    ]))
    v = w.live("custom")
    u = w.user("alice")
    assert paid_aids(stream(w.s, v, u, "s", 5, T0)) == ["sooner"]
    assert paid_aids(stream(w.s, v, u, "s", 4, T0)) == []
    assert paid_aids(stream(w.s, v, u, "s", 1, T0)) == ["later"]


def test_a_value_for_an_action_locked_by_deps_is_a_conflict(w):
    w.publish(GATED)
    v = w.live("custom")
    u = w.user("alice")
    with pytest.raises(Conflict, match="gate"):
        value(w.s, v, u, "score", 50, T0)
    assert entries(w.s, v, u) == []
    value(w.s, v, u, "gate", None, T0)
    assert paid_aids(value(w.s, v, u, "score", 50, T0)) == ["score"]


# -- value-fed types ---------------------------------------------------------------

def test_api_number_uses_the_latest_value_not_a_sum(summer):
    w, v = summer
    u = w.user("alice")
    for x in (600, 600, 999):
        value(w.s, v, u, "score_update", x, T0)
    assert task_paid(w.s, v, u, "score_update") == 0
    assert action_status(w.s, v, u, "score_update", T0)["progress"] == 999
    value(w.s, v, u, "score_update", 300, T0)
    assert action_status(w.s, v, u, "score_update", T0)["progress"] == 300
    value(w.s, v, u, "score_update", 1000, T0)
    assert task_paid(w.s, v, u, "score_update") == 200
    value(w.s, v, u, "score_update", 5000, T0 + DAY)    # once: never again
    assert task_paid(w.s, v, u, "score_update") == 200
    assert action_status(w.s, v, u, "score_update", T0 + DAY)["status"] == "completed"


def test_api_score_adds_each_value_to_xp_at_once_and_never_completes(summer):
    w, v = summer
    u = w.user("alice")
    assert value(w.s, v, u, "bonus_score", 150, T0).completed == \
        [{"aid": "bonus_score", "cid": "pro_player", "xp": 150}]
    assert balances(w.s, v, u).xp == 150
    value(w.s, v, u, "bonus_score", 20, T0)
    value(w.s, v, u, "bonus_score", 2.9, T0)   # floored
    value(w.s, v, u, "bonus_score", 0, T0)     # pays nothing
    value(w.s, v, u, "bonus_score", 30, T0 + 10 * DAY)
    assert [e.amount for e in entries(w.s, v, u, kind="task")] == [150, 20, 2, 30]
    assert balances(w.s, v, u).xp == 202
    assert action_status(w.s, v, u, "bonus_score", T0 + 10 * DAY)["status"] != "completed"
    with pytest.raises(InvalidInput):
        value(w.s, v, u, "bonus_score", -5, T0)


def test_api_score_keeps_adding_in_later_periods_even_when_not_continuous(w):
    w.publish(custom([{"id": "s", "name": "S", "type": "api_score", "recurrence": "daily",
                       "continuous": False}]))
    v = w.live("custom")
    u = w.user("alice")
    value(w.s, v, u, "s", 10, T0)
    value(w.s, v, u, "s", 10, T0 + DAY)
    value(w.s, v, u, "s", 10, T0 + 5 * DAY)
    assert balances(w.s, v, u).xp == 30
    st = action_status(w.s, v, u, "s", T0 + 5 * DAY)
    assert st["status"] == "in_progress" and st["next_reset_at"] is not None


def test_api_call_pays_on_its_first_call_each_local_day(summer):
    w, v = summer
    u = w.user("alice")
    assert paid_aids(value(w.s, v, u, "daily_login", None, T0)) == ["daily_login"]
    assert paid_aids(value(w.s, v, u, "daily_login", 1, T0 + timedelta(hours=10))) == []  # 23:00 local
    assert paid_aids(value(w.s, v, u, "daily_login", None, T0 + timedelta(hours=11))) == \
        ["daily_login"]                                                               # 00:00 local
    assert task_paid(w.s, v, u, "daily_login") == 150


def test_feed_value_refuses_other_types_unknown_actions_and_non_numbers(summer):
    w, v = summer
    u = w.user("alice")
    with pytest.raises(InvalidInput):
        value(w.s, v, u, "roll_5", 5, T0)
    with pytest.raises(NotFound):
        value(w.s, v, u, "nope", 5, T0)
    with pytest.raises(NotFound):
        value(w.s, v, u, "score_update", 5, T0, cid="dice_master")
    for bad in (True, "5", None, float("nan")):
        with pytest.raises(InvalidInput):
            value(w.s, v, u, "score_update", bad, T0)
    assert entries(w.s, v, u) == []


def test_api_stream_sums_per_week_and_resets_next_monday(summer):
    w, v = summer
    u = w.user("alice")
    stream(w.s, v, u, "player_score", 4000, T0)                  # Sunday
    stream(w.s, v, u, "other_stream", 6000, T0)                  # another stream
    assert task_paid(w.s, v, u, "volume") == 0
    assert paid_aids(stream(w.s, v, u, "player_score", 6000, T0)) == ["volume"]
    stream(w.s, v, u, "player_score", 50_000, T0)                # not progressive
    assert task_paid(w.s, v, u, "volume") == 300
    monday = at("2026-11-22T23:00Z")                             # Monday 00:00 Berlin
    st = action_status(w.s, v, u, "volume", monday)
    assert (st["progress"], st["status"]) == (0, "available")
    stream(w.s, v, u, "player_score", 9999.9, monday)             # floored: 9999
    assert task_paid(w.s, v, u, "volume") == 300
    stream(w.s, v, u, "player_score", 1, monday + 6 * DAY)       # Sunday again
    assert task_paid(w.s, v, u, "volume") == 600


def test_visit_pays_once_when_completed(summer):
    w, v = summer
    u = w.user("alice")
    out = events.complete_visit(w.s, v, u, aid="join_discord", now=T0)
    assert out.completed == [{"aid": "join_discord", "cid": None, "xp": 20}]
    events.complete_visit(w.s, v, u, aid="join_discord", now=T0 + DAY)
    assert task_paid(w.s, v, u, "join_discord") == 20
    with pytest.raises(InvalidInput):
        events.complete_visit(w.s, v, u, aid="daily_login", now=T0)
    with pytest.raises(NotFound):
        events.complete_visit(w.s, v, u, aid="nope", now=T0)


# -- referrals and invite codes ---------------------------------------------------

def test_referrals_action_counts_referrals_made_while_locked_once_it_unlocks(summer):
    w, v = summer
    ref = w.user("ref")
    for i in range(3):
        out = referrals.set_referrer(w.s, v, w.user(f"friend{i}"), ref, T0)
        assert "bring_friends" not in paid_aids(out)
    assert task_paid(w.s, v, ref, "bring_friends") == 0
    st = action_status(w.s, v, ref, "bring_friends", T0)
    assert (st["status"], st["progress"], st["target"]) == ("locked", 3, 3)
    out = value(w.s, v, ref, "score_update", 1000, T0)
    assert paid_aids(out) == ["score_update", "bring_friends"]
    assert task_paid(w.s, v, ref, "bring_friends") == 150
    assert action_status(w.s, v, ref, "bring_friends", T0)["status"] == "completed"


def test_referrals_action_pays_when_the_third_user_is_referred(summer):
    w, v = summer
    ref = w.user("ref")
    value(w.s, v, ref, "score_update", 1000, T0)
    referrals.set_referrer(w.s, v, w.user("f1"), ref, T0)
    referrals.set_referrer(w.s, v, w.user("f2"), ref, T0)
    assert task_paid(w.s, v, ref, "bring_friends") == 0
    out = referrals.set_referrer(w.s, v, w.user("f3"), ref, T0)
    assert {"aid": "bring_friends", "cid": "pro_player", "xp": 150} in out.completed
    referrals.set_referrer(w.s, v, w.user("f4"), ref, T0 + DAY)
    assert task_paid(w.s, v, ref, "bring_friends") == 150
    b = balances(w.s, v, ref)
    assert (b.xp, b.ref_xp) == (200 + 150, 4 * 50)


def test_invite_code_action_pays_when_a_code_is_claimed(summer):
    w, v = summer
    u, other = w.user("alice"), w.user("bob")
    code, second = invites.generate(w.s, v.campaign, count=2, now=T0)
    assert action_status(w.s, v, u, "vip_code", T0)["status"] == "available"
    out = invites.claim(w.s, v, u, code, T0)
    assert out.completed == [{"aid": "vip_code", "cid": "pro_player", "xp": 40}]
    with pytest.raises(Conflict):
        invites.claim(w.s, v, u, second, T0)
    assert task_paid(w.s, v, u, "vip_code") == 40
    assert task_paid(w.s, v, other, "vip_code") == 0
    assert action_status(w.s, v, u, "vip_code", T0)["status"] == "completed"


def test_a_referrals_count_reached_while_the_campaign_was_paused_pays_once_it_resumes(w):
    doc = custom([{"id": "login", "name": "Login", "type": "api_call", "xp": 1},
                  {"id": "friends", "name": "Friends", "type": "referrals", "count": 2, "xp": 100}],
                 status="paused")
    w.publish(doc)
    ref = w.user("ref")
    for i in range(2):
        referrals.set_referrer(w.s, w.live("custom"), w.user(f"f{i}"), ref, T0)
    assert task_paid(w.s, w.live("custom"), ref) == 0
    doc["status"] = "active"
    w.publish(doc)
    v = w.live("custom")
    # no referral of its own unlocks it: the user's next input checks it again
    assert paid_aids(value(w.s, v, ref, "login", None, T0)) == ["login", "friends"]
    value(w.s, v, ref, "login", None, T0 + DAY)
    assert task_paid(w.s, v, ref, "friends") == 100


def test_an_invite_code_claimed_before_the_campaign_starts_pays_once_it_runs(w):
    w.publish(example())
    v = w.live(PID)
    u = w.user("alice")
    code = invites.generate(w.s, v.campaign, count=1, now=T0)[0]
    before = at("2026-05-20T12:00:00Z")
    assert invites.claim(w.s, v, u, code, before).completed == []
    assert action_status(w.s, v, u, "vip_code", before)["status"] == "locked"
    out = roll(w.s, v, u, at("2026-06-01T08:00:00Z")).outcome
    assert {"aid": "vip_code", "cid": "pro_player", "xp": 40} in out.completed
    roll(w.s, v, u, at("2026-06-02T08:00:00Z"))
    assert task_paid(w.s, v, u, "vip_code") == 40


# -- invite_only --------------------------------------------------------------------

@pytest.fixture
def invite_only(w):
    doc = example()
    doc["invite_only"] = True
    w.publish(doc)
    v = w.live(PID)
    return w, v, invites.generate(w.s, v.campaign, count=5, now=T0)


def test_invite_only_campaign_advances_nothing_before_a_code_is_claimed(invite_only):
    w, v, codes = invite_only
    u = w.user("alice")
    for r in [roll(w.s, v, u, T0, bet=500) for _ in range(5)]:
        assert r.outcome.completed == [] and set(r.outcome.locked) == {"roll_5", "bet_500"}
    assert len(events.list_events(w.s, v, u)) == 5
    with pytest.raises(Conflict, match="invite"):
        value(w.s, v, u, "daily_login", None, T0)
    with pytest.raises(Conflict):
        events.complete_visit(w.s, v, u, aid="join_discord", now=T0)
    assert stream(w.s, v, u, "player_score", 20_000, T0).completed == []
    assert action_status(w.s, v, u, "roll_5", T0)["status"] == "locked"
    assert entries(w.s, v, u) == []

    out = invites.claim(w.s, v, u, codes[0], T0)
    assert paid_aids(out) == ["vip_code"]
    for _ in range(4):                          # the 5 stored rolls do not count
        roll(w.s, v, u, T0)
    assert task_paid(w.s, v, u, "roll_5") == 0
    assert action_status(w.s, v, u, "bet_500", T0)["progress"] == 0
    roll(w.s, v, u, T0)
    assert task_paid(w.s, v, u, "roll_5") == 105
    assert paid_aids(value(w.s, v, u, "daily_login", None, T0)) == ["daily_login"]


def test_invite_only_referral_bonuses_wait_for_the_referees_claim(invite_only):
    w, v, codes = invite_only
    ref, bob = w.user("ref"), w.user("bob")
    invites.claim(w.s, v, ref, codes[0], T0)
    referrals.set_referrer(w.s, v, bob, ref, T0)
    assert balances(w.s, v, bob).ref_xp == 0
    assert balances(w.s, v, ref).ref_xp == 0
    invites.claim(w.s, v, bob, codes[1], T0 + DAY)
    assert balances(w.s, v, bob).ref_xp == 25
    assert balances(w.s, v, ref).ref_xp == 50
    # and once only
    value(w.s, v, bob, "daily_login", None, T0 + DAY)
    assert balances(w.s, v, ref).ref_xp == 50 + 10
    assert len(entries(w.s, v, ref, source="referral.bonus")) == 1


# -- campaign availability -----------------------------------------------------------

def _with(**changes) -> dict:
    doc = example()
    doc.update(changes)
    return doc


UNAVAILABLE = {
    "paused": (_with(status="paused"), T0),
    "ended": (_with(status="ended"), T0),
    "before starts_at": (example(), at("2026-05-31T23:59:59Z")),
    "after ends_at": (example(), at("2030-06-01T00:00:01Z")),
}


@pytest.mark.parametrize("case", list(UNAVAILABLE))
def test_a_campaign_that_is_not_running_locks_every_action(w, case):
    doc, now = UNAVAILABLE[case]
    w.publish(doc)
    v = w.live(PID)
    u = w.user("alice")
    for aid, x in (("daily_login", None), ("score_update", 5000), ("bonus_score", 10)):
        with pytest.raises(Conflict, match="not running"):
            value(w.s, v, u, aid, x, now)
    with pytest.raises(Conflict):
        events.complete_visit(w.s, v, u, aid="join_discord", now=now)
    for _ in range(5):
        r = roll(w.s, v, u, now, bet=500)
        assert r.outcome.completed == [] and not r.duplicate
    assert stream(w.s, v, u, "player_score", 10_000, now).completed == []
    assert len(events.list_events(w.s, v, u)) == 5
    assert entries(w.s, v, u) == []
    statuses = {a["id"]: a["status"] for a in progress.user_progress(w.s, v, u, now)["actions"]}
    assert set(statuses.values()) == {"locked"}


def test_the_campaign_runs_from_starts_at_until_ends_at(w):
    w.publish(example())
    v = w.live(PID)
    u = w.user("alice")
    assert paid_aids(value(w.s, v, u, "daily_login", None, at("2026-06-01T00:00:00Z"))) == \
        ["daily_login"]
    assert paid_aids(value(w.s, v, u, "daily_login", None, at("2030-05-31T23:59:59Z"))) == \
        ["daily_login"]


def test_events_received_while_paused_never_count_after_resuming(w):
    w.publish(_with(status="paused"))
    v = w.live(PID)
    u = w.user("alice")
    for _ in range(5):
        roll(w.s, v, u, T0, bet=100)
    w.publish(example())
    v = w.live(PID)
    for _ in range(4):
        roll(w.s, v, u, T0, bet=100)
    assert task_paid(w.s, v, u) == 0
    roll(w.s, v, u, T0, bet=100)
    assert task_paid(w.s, v, u) == 210  # roll_5 and bet_500, on the live events only


# -- quests ---------------------------------------------------------------------------

def test_a_quest_completes_once_when_all_its_required_actions_have_paid(summer):
    w, v = summer
    u = w.user("alice")
    for _ in range(4):
        r = roll(w.s, v, u, T0, bet=125)
    assert paid_aids(r.outcome) == ["bet_500"] and r.outcome.quests == []
    assert quest_status(w.s, v, u, "dice_master", T0)["status"] == "in_progress"
    done = roll(w.s, v, u, T0 + timedelta(minutes=1), bet=125).outcome
    assert done.quests == ["dice_master"]
    for day in range(3):                        # roll_5 pays again; the quest does not
        for _ in range(5):
            assert roll(w.s, v, u, T0 + day * DAY).outcome.quests == []
    rows = w.s.scalars(select(QuestState).where(QuestState.user_id == u.id)).all()
    assert [(q.quest_id, q.completed_at) for q in rows] == \
        [("dice_master", T0 + timedelta(minutes=1))]
    q = quest_status(w.s, v, u, "dice_master", T0 + 3 * DAY)
    assert (q["status"], q["completed_at"]) == ("completed", T0 + timedelta(minutes=1))
    assert quest_status(w.s, v, u, "pro_player", T0)["status"] == "available"
    activity = progress.user_activity(w.s, v, u)
    assert [q["id"] for q in activity["quests"]] == ["dice_master"]
    assert [t["id"] for t in activity["tasks"]].count("bet_500") == 1
    assert [t["id"] for t in activity["tasks"]].count("roll_5") == 4
    # + 20: the example's bronze_250 milestone, crossed on the way
    assert activity["xp"] == balances(w.s, v, u).total == 5 * 105 + 20


def test_optional_actions_are_not_needed_to_complete_a_quest(summer):
    w, v = summer
    u = w.user("alice")
    for i in range(3):
        referrals.set_referrer(w.s, v, w.user(f"f{i}"), u, T0)
    assert value(w.s, v, u, "score_update", 1000, T0).quests == []      # + bring_friends
    out = stream(w.s, v, u, "player_score", 10_000, T0)
    assert out.quests == ["pro_player"]                                # bonus_score, vip_code unpaid
    assert quest_status(w.s, v, u, "pro_player", T0)["status"] == "completed"


# -- versions -----------------------------------------------------------------------

def _republish(w, mutate) -> None:
    doc = example()
    mutate(doc)
    w.publish(doc, now=T0)


def _roll5(doc) -> dict:
    return doc["quests"][0]["actions"][0]


def test_publishing_keeps_counters_of_unchanged_actions_and_records_the_paying_version(summer):
    w, v = summer
    u = w.user("alice")
    for _ in range(5):
        roll(w.s, v, u, T0)
    for _ in range(3):
        roll(w.s, v, u, T0)
    value(w.s, v, u, "score_update", 400, T0)

    def bump(doc):
        _roll5(doc).update(xp=200, name="Roll five times")
        doc["description"] = "v2"
    _republish(w, bump)
    v2 = w.live(PID)
    assert v2.version == 2
    assert action_status(w.s, v2, u, "roll_5", T0)["progress"] == 8
    assert action_status(w.s, v2, u, "score_update", T0)["progress"] == 400
    roll(w.s, v2, u, T0)
    assert task_paid(w.s, v2, u, "roll_5") == 105            # 9 rolls: still one multiple
    roll(w.s, v2, u, T0)                                     # the 10th, counted across versions
    assert [(e.amount, e.version) for e in entries(w.s, v2, u, kind="task")] == [(105, 1), (210, 2)]
    assert [c.version for c in completions(w.s, v2, u, "roll_5")] == [1, 2]


def test_a_changed_target_applies_from_then_on(summer):
    w, v = summer
    u = w.user("alice")
    for _ in range(3):
        roll(w.s, v, u, T0, bet=100)
    _republish(w, lambda doc: doc["quests"][0]["actions"][1].update(target=350))
    v2 = w.live(PID)
    assert action_status(w.s, v2, u, "bet_500", T0)["target"] == 350
    out = roll(w.s, v2, u, T0, bet=50).outcome
    assert "bet_500" in paid_aids(out)
    assert [e.version for e in entries(w.s, v2, u, kind="task")] == [2]


def test_a_changed_type_restarts_the_counter(w):
    w.publish(custom([tick("t", "once", count=5, xp=10)]))
    u = w.user("alice")
    ticks(w.s, w.live("custom"), u, T0, 3)
    w.publish(custom([{"id": "t", "name": "t", "type": "events_value", "query": "[].data.n",
                       "event": {"category": "c", "name": "tick"}, "target": 5, "xp": 10}]))
    v2 = w.live("custom")
    assert action_status(w.s, v2, u, "t", T0)["progress"] == 0
    events.record_event(w.s, v2, u, name="tick", category="c", data={"n": 2}, now=T0)
    assert action_status(w.s, v2, u, "t", T0)["progress"] == 2      # not 3 + 2
    assert task_paid(w.s, v2, u) == 0
    events.record_event(w.s, v2, u, name="tick", category="c", data={"n": 3}, now=T0)
    assert task_paid(w.s, v2, u) == 10


def test_a_changed_type_restarts_a_completed_action(w):
    w.publish(custom([{"id": "a", "name": "A", "type": "api_call", "xp": 10}]))
    u = w.user("alice")
    value(w.s, w.live("custom"), u, "a", None, T0)
    w.publish(custom([{"id": "a", "name": "A", "type": "api_number", "target": 5, "xp": 10}]))
    v2 = w.live("custom")
    assert action_status(w.s, v2, u, "a", T0)["status"] == "available"
    value(w.s, v2, u, "a", 5, T0)
    assert [(e.amount, e.version) for e in entries(w.s, v2, u)] == [(10, 1), (10, 2)]


def test_a_changed_recurrence_restarts_the_counter(summer):
    w, v = summer
    u = w.user("alice")
    for _ in range(4):
        roll(w.s, v, u, T0)
    _republish(w, lambda doc: _roll5(doc).update(recurrence="weekly"))
    v2 = w.live(PID)
    roll(w.s, v2, u, T0)
    assert task_paid(w.s, v2, u, "roll_5") == 0
    for _ in range(4):
        roll(w.s, v2, u, T0)
    assert task_paid(w.s, v2, u, "roll_5") == 105


def test_a_removed_action_keeps_its_history(summer):
    w, v = summer
    u = w.user("alice")
    events.complete_visit(w.s, v, u, aid="join_discord", now=T0)
    _republish(w, lambda doc: doc["actions"].pop(0))
    v2 = w.live(PID)
    assert "join_discord" not in v2.compiled.actions
    assert balances(w.s, v2, u).xp == 20
    assert [t["id"] for t in progress.user_activity(w.s, v2, u)["tasks"]] == ["join_discord"]


# -- duplicates ----------------------------------------------------------------------

def test_an_event_id_repeated_for_the_same_user_is_stored_and_counted_once(summer):
    w, v = summer
    alice, bob = w.user("alice"), w.user("bob")
    first = roll(w.s, v, alice, T0, bet=500, client_id="e1")
    assert first.duplicate is False and "bet_500" in paid_aids(first.outcome)
    for later in (T0, T0 + DAY):
        again = roll(w.s, v, alice, later, bet=500, client_id="e1")
        assert again.duplicate is True and again.event.id == first.event.id
        assert again.outcome.completed == [] and again.outcome.advanced == []
    for i in range(2, 5):
        roll(w.s, v, alice, T0, client_id=f"e{i}")
    assert action_status(w.s, v, alice, "roll_5", T0)["progress"] == 4
    n = w.s.scalar(select(func.count()).select_from(Event).where(Event.user_id == alice.id))
    assert n == 4
    # the same id from another user is another event
    other = roll(w.s, v, bob, T0, bet=500, client_id="e1")
    assert other.duplicate is False and "bet_500" in paid_aids(other.outcome)
    # and events without an id are never duplicates
    assert not roll(w.s, v, alice, T0).duplicate and not roll(w.s, v, alice, T0).duplicate


# -- incremental cost ----------------------------------------------------------------

def _cost_of_one_more_event(w, v, account: str, history: int) -> tuple[int, int]:
    """(SQL statements, ORM rows loaded) for one event after ``history`` earlier ones."""
    u = w.user(account)
    for i in range(history):
        roll(w.s, v, u, T0, bet=1, client_id=f"{account}-{i}")
    w.s.commit()
    engine = w.s.get_bind()
    statements: list[str] = []
    loaded: list[object] = []

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def on_load(session, instance):
        loaded.append(instance)
    sa_event.listen(engine, "before_cursor_execute", on_statement)
    sa_event.listen(w.s, "loaded_as_persistent", on_load)
    try:
        # the 11th / 301st roll: pays nothing either way (11 // 5 == 10 // 5)
        r = roll(w.s, v, u, T0, bet=1, client_id=f"{account}-last")
        w.s.commit()
    finally:
        sa_event.remove(engine, "before_cursor_execute", on_statement)
        sa_event.remove(w.s, "loaded_as_persistent", on_load)
    assert r.outcome.completed == [] and not r.duplicate
    return len(statements), len(loaded)


def test_the_cost_of_an_event_does_not_grow_with_earlier_events(summer):
    w, v = summer
    statements_10, rows_10 = _cost_of_one_more_event(w, v, "few", 10)
    statements_300, rows_300 = _cost_of_one_more_event(w, v, "many", 300)
    assert statements_10 == statements_300
    assert rows_10 == rows_300
    assert statements_300 <= 20 and rows_300 <= 20
    assert action_status(w.s, v, w.user("many"), "bet_500", T0)["progress"] == 301


# -- dev env ---------------------------------------------------------------------------

def test_dev_env_runs_the_draft_against_a_sandbox(summer):
    w, live = summer
    draft = example()
    _roll5(draft)["count"] = 2
    campaigns.put_draft(w.s, w.org.id, PID, draft, T0)
    dev = w.dev(PID)
    assert (dev.env, dev.version, live.version) == ("dev", 2, 1)
    u = w.user("alice")
    for _ in range(2):
        roll(w.s, dev, u, T0)
    assert task_paid(w.s, dev, u, "roll_5") == 105
    assert [e.version for e in entries(w.s, dev, u)] == [2]
    assert balances(w.s, dev, u).xp == 105
    # live saw nothing, and counts against its own definition
    assert balances(w.s, live, u).total == 0
    assert action_status(w.s, live, u, "roll_5", T0)["progress"] == 0
    assert events.list_events(w.s, live, u) == []
    for _ in range(2):
        roll(w.s, live, u, T0)
    assert task_paid(w.s, live, u) == 0
    for _ in range(3):
        roll(w.s, live, u, T0)
    assert task_paid(w.s, live, u, "roll_5") == 105
    # and the sandbox did not move
    assert balances(w.s, dev, u).xp == 105
    assert action_status(w.s, dev, u, "roll_5", T0)["progress"] == 2
    assert len(events.list_events(w.s, dev, u)) == 2


def test_dev_env_has_its_own_referrals_and_code_claims(summer):
    w, live = summer
    dev = w.dev(PID)
    ref, bob = w.user("ref"), w.user("bob")
    referrals.set_referrer(w.s, dev, bob, ref, T0)
    assert balances(w.s, dev, ref).ref_xp == 50
    assert balances(w.s, live, ref).ref_xp == 0
    assert referrals.referrer_of(w.s, live, bob.id) is None
    referrals.set_referrer(w.s, live, bob, ref, T0)   # not a conflict: another env
    code = invites.generate(w.s, live.campaign, count=1, now=T0, max_uses=1)[0]
    invites.claim(w.s, dev, bob, code, T0)
    invites.claim(w.s, live, bob, code, T0)           # one use per env
    assert task_paid(w.s, dev, bob, "vip_code") == task_paid(w.s, live, bob, "vip_code") == 40


# -- user_progress ---------------------------------------------------------------------

def test_user_progress_reports_status_progress_target_completions_and_next_reset(summer):
    w, v = summer
    u = w.user("alice")
    doc = progress.user_progress(w.s, v, u, T0)
    acts = {a["id"]: a for a in doc["actions"]}
    assert list(acts) == ["join_discord", "daily_login", "roll_5", "bet_500", "score_update",
                          "bonus_score", "volume", "bring_friends", "vip_code"]
    assert {k: (a["status"], a["progress"], a["target"], a["completions"])
            for k, a in acts.items()} == {
        "join_discord": ("available", 0, 1, 0), "daily_login": ("available", 0, 1, 0),
        "roll_5": ("available", 0, 5, 0), "bet_500": ("available", 0, 500, 0),
        "score_update": ("available", 0, 1000, 0), "bonus_score": ("available", 0, 1, 0),
        "volume": ("available", 0, 10_000, 0), "bring_friends": ("locked", 0, 3, 0),
        "vip_code": ("available", 0, 1, 0),
    }
    monday_berlin = at("2026-11-22T23:00Z")     # Sunday 23:00Z: Monday 00:00 in Berlin
    assert acts["roll_5"]["next_reset_at"] == monday_berlin   # daily: local midnight
    assert acts["volume"]["next_reset_at"] == monday_berlin   # weekly: Monday
    assert acts["bet_500"]["next_reset_at"] is None
    assert (acts["roll_5"]["xp"], acts["daily_login"]["xp"]) == (105, 75)
    assert acts["roll_5"]["quest"] == "dice_master" and acts["join_discord"]["quest"] is None
    assert [(q["id"], q["status"]) for q in doc["quests"]] == \
        [("dice_master", "available"), ("pro_player", "available")]

    for _ in range(3):
        roll(w.s, v, u, T0, bet=100)
    r5 = action_status(w.s, v, u, "roll_5", T0)
    assert (r5["status"], r5["progress"], r5["completions"]) == ("in_progress", 3, 0)
    for _ in range(2):
        roll(w.s, v, u, T0, bet=100)
    r5 = action_status(w.s, v, u, "roll_5", T0)
    assert (r5["status"], r5["progress"], r5["completions"]) == ("completed", 5, 1)
    b5 = action_status(w.s, v, u, "bet_500", T0)
    assert (b5["status"], b5["progress"], b5["completions"]) == ("completed", 500, 1)
    # the next local day: roll_5 is open again, its completions remain
    tomorrow = at("2026-11-23T08:00Z")
    r5 = action_status(w.s, v, u, "roll_5", tomorrow)
    assert (r5["status"], r5["progress"], r5["completions"]) == ("available", 0, 1)
    assert r5["next_reset_at"] == at("2026-11-23T23:00Z")
    assert action_status(w.s, v, u, "bet_500", tomorrow)["status"] == "completed"
    # a reached score unlocks bring_friends
    value(w.s, v, u, "score_update", 1000, T0)
    assert action_status(w.s, v, u, "bring_friends", T0)["status"] == "available"


def test_user_progress_of_an_unknown_user_is_a_fresh_slate_and_writes_nothing(summer):
    w, v = summer
    w.s.commit()
    doc = progress.user_progress(w.s, v, None, T0)
    assert {a["status"] for a in doc["actions"]} == {"available", "locked"}
    assert all(a["progress"] == 0 and a["completions"] == 0 for a in doc["actions"])
    assert not w.s.new and not w.s.dirty
    assert progress.user_activity(w.s, v, None) == {"tasks": [], "quests": [], "rewards": [],
                                                      "xp": 0}
