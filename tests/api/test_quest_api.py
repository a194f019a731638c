"""Quests through the Campaign API: events, action values, streams, progress, activity.

The example campaign (examples/campaign-example.json) is pushed as
summer_games and published. Its timezone is Europe/Berlin; the clock starts
on Sunday 2026-11-22T12:00Z (13:00 in Berlin, CET = UTC+1).
"""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Event
from tests.conftest import make_org

from .quest_helpers import (PID, actions_by_id, balance, err, example, ok, progress, push,
                            push_example, reward, row_counts, run_in_threads, user)

DICE = {"platform": "wowhaus"}  # roll_5 and bet_500 only count events of wowhaus users
GAME = {"name": "GameSession", "category": "dices"}


@pytest.fixture
def summer(client, auth):
    return push_example(client, auth)


def event(client, auth, account="gamer", platform="wowhaus", **fields):
    body = {k: v for k, v in user(account, platform, **{**GAME, **fields}).items() if v is not None}
    return client.post("/api/v1/event", json=body, headers=auth)


def value(client, auth, aid, account="alice", platform="discord", **fields):
    return client.post("/api/v1/action/value", json=user(account, platform, aid=aid, **fields),
                       headers=auth)


def stream(client, auth, amount, account="alice", platform="discord", name="player_score", **fields):
    return client.post("/api/v1/stream/value",
                       json=user(account, platform, stream=name, value=amount, **fields), headers=auth)


def events_list(client, auth, account="gamer", platform="wowhaus", **q):
    r = client.get("/api/v1/events", query_string=user(account, platform, **q), headers=auth)
    assert r.status_code == 200, r.json
    body = r.json
    # GET /events is the one endpoint whose list sits at the top level (SPEC §3)
    assert set(body) == {"success", "events"} and body["success"] is True
    return body["events"]


# -- POST /event, GET /events ---------------------------------------------------------------

def test_event_is_stored_and_listed_at_the_top_level(client, auth, org, summer):
    r = event(client, auth, id="evt_1", data={"bet": 20, "level": 5}, ts=1672531200)
    data = ok(r)
    assert data["duplicate"] is False
    events = events_list(client, auth)
    assert events == [{
        "id": "evt_1", "account": "gamer", "platform": "wowhaus", "pid": PID,
        "name": "GameSession", "category": "dices", "data": {"bet": 20, "level": 5},
        "ts": 1672531200, "oid": str(org[0]),
    }]


def test_event_without_ts_lists_the_receive_time(client, auth, clock, summer):
    ok(event(client, auth, id="e"))
    [e] = events_list(client, auth)
    assert e["ts"] == int(clock.now().timestamp())


def test_events_filter_by_name_and_category(client, auth, summer):
    ok(event(client, auth, id="1"))
    ok(event(client, auth, id="2", name="GameSession", category="cards"))
    ok(event(client, auth, id="3", name="Login", category="dices"))
    ok(event(client, auth, id="4", name="Login", category=None))  # no category: it is optional
    assert [e["id"] for e in events_list(client, auth)] == ["1", "2", "3", "4"]
    assert [e["id"] for e in events_list(client, auth, name="GameSession")] == ["1", "2"]
    assert [e["id"] for e in events_list(client, auth, category="dices")] == ["1", "3"]
    assert [e["id"] for e in events_list(client, auth, name="Login", category="dices")] == ["3"]
    assert events_list(client, auth, name="nothing") == []


def test_events_are_per_user_and_unknown_user_reads_empty(app, client, auth, summer):
    ok(event(client, auth, account="one", id="x"))
    ok(event(client, auth, account="two", id="x"))
    assert [e["account"] for e in events_list(client, auth, account="one")] == ["one"]
    before = row_counts(app)
    assert events_list(client, auth, account="nobody") == []
    assert row_counts(app) == before  # a read creates nothing


def test_repeated_event_id_is_stored_and_counted_once(app, client, auth, summer):
    for _ in range(3):
        r = event(client, auth, id="same", data={"bet": 10})
    assert ok(r)["duplicate"] is True
    for i in range(3):
        ok(event(client, auth, id=f"other-{i}", data={"bet": 10}))
    assert len(events_list(client, auth)) == 4
    roll = actions_by_id(progress(client, auth, "gamer", "wowhaus"))["roll_5"]
    assert roll["progress"] == 4 and roll["status"] == "in_progress"
    bet = actions_by_id(progress(client, auth, "gamer", "wowhaus"))["bet_500"]
    assert bet["progress"] == 40
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 4


def test_event_ids_are_per_user(client, auth, summer):
    ok(event(client, auth, account="a", id="shared"))
    assert ok(event(client, auth, account="b", id="shared"))["duplicate"] is False


def test_events_without_id_are_all_counted(client, auth, summer):
    for _ in range(3):
        ok(event(client, auth))
    assert actions_by_id(progress(client, auth, "gamer", "wowhaus"))["roll_5"]["progress"] == 3


def test_events_count_progressive_pays_per_multiple_and_resets_daily(client, auth, clock, summer):
    paid = [ok(event(client, auth, id=f"e{i}"))["paid"] for i in range(12)]
    # 105 = floor(100 * 1.05) at the 5th and the 10th event, nothing for the leftovers
    assert [i for i, p in enumerate(paid) if p] == [4, 9]
    assert paid[4] == 105 and paid[9] == 105
    roll = actions_by_id(progress(client, auth, "gamer", "wowhaus"))["roll_5"]
    assert (roll["status"], roll["progress"], roll["target"], roll["completions"]) == \
        ("completed", 12, 5, 2)
    # Berlin midnight: the 2 leftovers do not carry over
    clock.set(datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc))
    roll = actions_by_id(progress(client, auth, "gamer", "wowhaus"))["roll_5"]
    assert (roll["status"], roll["progress"], roll["completions"]) == ("available", 0, 2)
    paid = [ok(event(client, auth, id=f"d2-{i}"))["paid"] for i in range(5)]
    # 105 for roll_5, + 20 for crossing the bronze_250 milestone (210 -> 315 earned)
    assert paid == [0, 0, 0, 0, 105 + 20]


def test_event_of_another_platform_does_not_count(client, auth, summer):
    data = ok(event(client, auth, account="gamer", platform="discord"))
    assert data["paid"] == 0
    assert actions_by_id(progress(client, auth, "gamer", "discord"))["roll_5"]["progress"] == 0


def test_events_value_sums_the_query_and_completes_the_quest(client, auth, summer):
    answers = [ok(event(client, auth, id=f"b{i}", data={"bet": 100})) for i in range(5)]
    last = answers[-1]
    # the 5th event pays roll_5 and bet_500 (100 * 1.05 each) and completes dice_master
    assert last["paid"] == 210
    assert sorted(c["aid"] for c in last["completed"]) == ["bet_500", "roll_5"]
    assert last["quests_completed"] == ["dice_master"]
    assert balance(client, auth, "gamer", "wowhaus") == {"xp": 210, "ref_xp": 0, "ugc_xp": 0}
    # non-numeric bets are ignored, fractional ones floored; bet_500 is once: no more pay
    ok(event(client, auth, id="junk", data={"bet": "lots"}))
    assert ok(event(client, auth, id="more", data={"bet": 900.9}))["paid"] == 0


def test_event_for_an_unknown_name_is_stored_and_answers_200(client, auth, summer):
    data = ok(event(client, auth, id="z", name="Nothing", category="none"))
    assert data["paid"] == 0 and data["completed"] == []
    assert len(events_list(client, auth)) == 1


# -- POST /action/value ---------------------------------------------------------------

def test_api_call_pays_once_per_berlin_day(client, auth, clock, summer):
    data = ok(value(client, auth, "daily_login"))
    # 50 xp with a 50% bonus
    assert data["paid"] == 75 and data["completed"] == [{"aid": "daily_login", "cid": None, "xp": 75}]
    assert ok(value(client, auth, "daily_login"))["paid"] == 0
    clock.set(datetime(2026, 11, 22, 22, 59, 59, tzinfo=timezone.utc))  # 23:59:59 in Berlin
    assert ok(value(client, auth, "daily_login"))["paid"] == 0
    clock.set(datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc))  # midnight in Berlin
    assert ok(value(client, auth, "daily_login"))["paid"] == 75
    assert balance(client, auth, "alice")["xp"] == 150


def test_api_number_pays_when_the_latest_value_reaches_the_target(client, auth, summer):
    cid = {"cid": "pro_player"}
    assert ok(value(client, auth, "score_update", value=999, **cid))["paid"] == 0
    a = actions_by_id(progress(client, auth, "alice"))["score_update"]
    assert (a["status"], a["progress"], a["target"]) == ("in_progress", 999, 1000)
    # the latest value counts, not the sum
    assert ok(value(client, auth, "score_update", value=10, **cid))["paid"] == 0
    assert actions_by_id(progress(client, auth, "alice"))["score_update"]["progress"] == 10
    assert ok(value(client, auth, "score_update", value=1000, **cid))["paid"] == 200
    assert ok(value(client, auth, "score_update", value=5000, **cid))["paid"] == 0  # once
    a = actions_by_id(progress(client, auth, "alice"))["score_update"]
    assert (a["status"], a["completions"], a["next_reset_at"]) == ("completed", 1, None)


def test_api_score_adds_each_value_and_never_completes(client, auth, summer):
    cid = {"cid": "pro_player"}
    assert ok(value(client, auth, "bonus_score", value=30, **cid))["paid"] == 30
    assert ok(value(client, auth, "bonus_score", value=12.9, **cid))["paid"] == 12
    assert ok(value(client, auth, "bonus_score", value=0, **cid))["paid"] == 0
    assert balance(client, auth, "alice")["xp"] == 42
    assert actions_by_id(progress(client, auth, "alice"))["bonus_score"]["status"] != "completed"


def test_action_value_unknown_action_is_404(app, client, auth, summer):
    before = row_counts(app)
    assert "unknown action" in err(value(client, auth, "nope"), 404)
    assert "unknown action" in err(value(client, auth, "nope", cid="pro_player"), 404)
    assert row_counts(app) == before


def test_action_value_wrong_quest_is_404(app, client, auth, summer):
    before = row_counts(app)
    err(value(client, auth, "score_update", value=5, cid="dice_master"), 404)
    err(value(client, auth, "score_update", value=5, cid="no_such_quest"), 404)
    err(value(client, auth, "daily_login", cid="pro_player"), 404)  # a top-level action
    assert row_counts(app) == before


@pytest.mark.parametrize("aid", ["roll_5", "bet_500", "volume", "join_discord", "vip_code"])
def test_action_value_on_an_action_it_does_not_feed_is_400(app, client, auth, summer, aid):
    before = row_counts(app)
    assert "type" in err(value(client, auth, aid, value=5), 400)
    assert row_counts(app) == before


def test_action_value_needs_a_value_for_numbers(app, client, auth, summer):
    before = row_counts(app)
    err(value(client, auth, "score_update", cid="pro_player"), 400)
    err(value(client, auth, "bonus_score", cid="pro_player"), 400)
    err(value(client, auth, "bonus_score", cid="pro_player", value=-1), 400)
    assert row_counts(app) == before


def test_bring_friends_is_locked_until_score_update_and_never_fed_by_action_value(client, auth, summer):
    p = actions_by_id(progress(client, auth, "alice"))
    assert p["bring_friends"]["status"] == "locked"
    # a referrals action is not fed by /action/value, locked or not: wrong type first (400)
    err(value(client, auth, "bring_friends", cid="pro_player", value=3), 400)
    ok(value(client, auth, "score_update", cid="pro_player", value=1000))
    assert actions_by_id(progress(client, auth, "alice"))["bring_friends"]["status"] == "available"
    err(value(client, auth, "bring_friends", cid="pro_player", value=3), 400)


GATED = {
    "id": "gated", "name": "Gated", "timezone": "UTC",
    "actions": [
        {"id": "tutorial", "name": "Tutorial", "type": "api_call", "xp": 10},
        {"id": "level", "name": "Reach level 5", "type": "api_number", "target": 5, "xp": 50,
         "deps": ["tutorial"]},
        {"id": "play3", "name": "Play 3 games", "type": "events_count",
         "event": {"category": "games", "name": "play"}, "count": 3, "xp": 30, "deps": ["tutorial"]},
    ],
}


def test_action_value_on_a_locked_action_is_409_and_writes_nothing(app, client, auth):
    push(client, auth, GATED)
    body = {"pid": "gated"}
    ok(client.post("/api/v1/user/reward", json=user("alice", **body, id="seed", xp=1), headers=auth))
    before = row_counts(app)
    r = value(client, auth, "level", value=9, **body)
    assert "locked" in err(r, 409)
    assert row_counts(app) == before
    assert actions_by_id(progress(client, auth, "alice", pid="gated"))["level"]["status"] == "locked"
    ok(value(client, auth, "tutorial", **body))
    assert ok(value(client, auth, "level", value=9, **body))["paid"] == 50


def test_events_for_a_locked_action_are_stored_but_never_count_later(client, auth):
    push(client, auth, GATED)
    play = user("alice", pid="gated", name="play", category="games")
    for i in range(2):
        r = client.post("/api/v1/event", json={**play, "id": f"early{i}"}, headers=auth)
        assert ok(r)["paid"] == 0
    ok(value(client, auth, "tutorial", pid="gated"))
    assert actions_by_id(progress(client, auth, "alice", pid="gated"))["play3"]["progress"] == 0
    paid = [ok(client.post("/api/v1/event", json={**play, "id": f"late{i}"}, headers=auth))["paid"]
            for i in range(3)]
    assert paid == [0, 0, 30]
    r = client.get("/api/v1/events", query_string=user("alice", pid="gated"), headers=auth)
    assert len(r.json["events"]) == 5


@pytest.mark.parametrize("change", [
    {"status": "paused"},
    {"starts_at": "2027-01-01T00:00:00Z"},
    {"ends_at": "2026-11-01T00:00:00Z"},
])
def test_action_value_outside_the_running_campaign_is_409(app, client, auth, change):
    push_example(client, auth, **change)
    before = row_counts(app)
    err(value(client, auth, "daily_login"), 409)
    assert row_counts(app) == before
    # events are stored and answered 200 but advance nothing
    data = ok(event(client, auth, id="e"))
    assert data["paid"] == 0 and data["completed"] == []
    assert actions_by_id(progress(client, auth, "gamer", "wowhaus"))["daily_login"]["status"] == "locked"


# -- POST /stream/value --------------------------------------------------------------------

def test_stream_values_add_up_within_the_week(client, auth, clock, summer):
    assert ok(stream(client, auth, 4000))["paid"] == 0
    a = actions_by_id(progress(client, auth, "alice"))["volume"]
    assert (a["status"], a["progress"], a["target"]) == ("in_progress", 4000, 10000)
    assert ok(stream(client, auth, 5999.9))["paid"] == 0  # floored: 9999
    assert ok(stream(client, auth, 1))["paid"] == 300 + 20  # + bronze_250, crossed
    assert ok(stream(client, auth, 50000))["paid"] == 0  # not progressive: once a week
    # Monday 00:00 in Berlin starts a new week; the sum starts again
    clock.set(datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc))
    a = actions_by_id(progress(client, auth, "alice"))["volume"]
    assert (a["status"], a["progress"], a["completions"]) == ("available", 0, 1)
    assert ok(stream(client, auth, 10000))["paid"] == 300


def test_stream_without_matching_actions_answers_200_and_pays_nothing(client, auth, summer):
    data = ok(stream(client, auth, 10**6, name="unknown_stream"))
    assert data == {"paid": 0, "completed": [], "quests_completed": []}


def test_stream_value_must_be_a_non_negative_number(app, client, auth, summer):
    before = row_counts(app)
    for bad in (-1, True, "10", None, [1], 1e16):
        err(stream(client, auth, bad), 400)
    body = user("alice", stream="player_score")
    err(client.post("/api/v1/stream/value", json=body, headers=auth), 400)  # missing value
    assert row_counts(app) == before


# -- GET /user/progress --------------------------------------------------------------------

def test_progress_of_a_new_user_lists_every_action_and_quest(app, client, auth, summer):
    before = row_counts(app)
    data = progress(client, auth, "newbie")
    assert row_counts(app) == before  # reading creates nothing
    assert data["userId"] == "newbie"
    order = ["join_discord", "daily_login", "roll_5", "bet_500", "score_update", "bonus_score",
             "volume", "bring_friends", "vip_code"]
    assert [a["id"] for a in data["actions"]] == order
    by_id = actions_by_id(data)
    for a in data["actions"]:
        assert {"id", "name", "type", "quest", "status", "progress", "target", "completions", "xp",
                "next_reset_at"} <= set(a)
    assert {k: a["status"] for k, a in by_id.items()} == {
        **{k: "available" for k in order}, "bring_friends": "locked"}
    assert by_id["daily_login"]["quest"] is None and by_id["roll_5"]["quest"] == "dice_master"
    assert (by_id["daily_login"]["xp"], by_id["roll_5"]["xp"], by_id["volume"]["xp"]) == (75, 105, 300)
    assert by_id["roll_5"]["target"] == 5 and by_id["bet_500"]["target"] == 500
    assert by_id["daily_login"]["type"] == "api_call" and by_id["daily_login"]["name"] == "Daily Login"
    assert data["quests"] == [
        {"id": "dice_master", "name": "Dice Master", "status": "available", "completed_at": None},
        {"id": "pro_player", "name": "Pro Player", "status": "available", "completed_at": None},
    ]


def test_next_reset_is_the_next_berlin_midnight_in_utc(client, auth, clock, summer):
    by_id = actions_by_id(progress(client, auth, "alice"))
    # 2026-11-22 13:00 CET -> midnight CET of the 23rd = 23:00Z on the 22nd
    assert by_id["daily_login"]["next_reset_at"] == "2026-11-22T23:00:00Z"
    assert by_id["roll_5"]["next_reset_at"] == "2026-11-22T23:00:00Z"
    # weekly: the next Monday at midnight (the 22nd is a Sunday, so also the 23rd)
    assert by_id["volume"]["next_reset_at"] == "2026-11-22T23:00:00Z"
    assert by_id["score_update"]["next_reset_at"] is None  # once: never resets
    # Tuesday: the weekly reset is the next Monday
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc))
    by_id = actions_by_id(progress(client, auth, "alice"))
    assert by_id["daily_login"]["next_reset_at"] == "2026-11-24T23:00:00Z"
    assert by_id["volume"]["next_reset_at"] == "2026-11-29T23:00:00Z"
    # summer time (CEST = UTC+2): midnight is 22:00Z
    clock.set(datetime(2027, 7, 1, 21, 30, tzinfo=timezone.utc))  # 23:30 in Berlin
    assert actions_by_id(progress(client, auth, "alice"))["daily_login"]["next_reset_at"] == \
        "2027-07-01T22:00:00Z"
    # the night the clocks go forward (2027-03-28): Saturday 22:00Z is 23:00 CET
    clock.set(datetime(2027, 3, 27, 22, 0, tzinfo=timezone.utc))
    assert actions_by_id(progress(client, auth, "alice"))["daily_login"]["next_reset_at"] == \
        "2027-03-27T23:00:00Z"
    clock.set(datetime(2027, 3, 28, 12, 0, tzinfo=timezone.utc))
    assert actions_by_id(progress(client, auth, "alice"))["daily_login"]["next_reset_at"] == \
        "2027-03-28T22:00:00Z"


def test_progress_statuses_follow_the_user(client, auth, clock, summer):
    for i in range(3):
        ok(event(client, auth, account="alice", id=f"e{i}", data={"bet": 10}))
    ok(value(client, auth, "daily_login", account="alice", platform="wowhaus"))
    data = progress(client, auth, "alice", "wowhaus")
    by_id = actions_by_id(data)
    assert by_id["roll_5"]["status"] == "in_progress" and by_id["roll_5"]["progress"] == 3
    assert by_id["bet_500"]["status"] == "in_progress" and by_id["bet_500"]["progress"] == 30
    dl = by_id["daily_login"]
    assert (dl["status"], dl["progress"], dl["completions"]) == ("completed", 1, 1)
    assert dl["next_reset_at"] == "2026-11-22T23:00:00Z"
    assert by_id["join_discord"]["status"] == "available"
    quests = {q["id"]: q for q in data["quests"]}
    assert quests["dice_master"]["status"] == "in_progress"
    assert quests["pro_player"]["status"] == "available"
    # the next day daily_login is available again, with its completion remembered
    clock.advance(days=1)
    dl = actions_by_id(progress(client, auth, "alice", "wowhaus"))["daily_login"]
    assert (dl["status"], dl["progress"], dl["completions"]) == ("available", 0, 1)


def test_a_quest_completes_when_its_required_actions_paid_and_shows_when(client, auth, clock):
    push_example(client, auth)
    cid = {"cid": "pro_player"}
    ok(value(client, auth, "score_update", value=1000, **cid))
    ok(stream(client, auth, 10000))
    for friend in ("f1", "f2"):
        ok(client.post("/api/v1/user/referrer", json=user(friend, ref_account="alice",
                                                          ref_platform="discord"), headers=auth))
    assert {q["id"]: q["status"] for q in progress(client, auth, "alice")["quests"]}["pro_player"] == \
        "in_progress"
    clock.advance(minutes=5)
    r = client.post("/api/v1/user/referrer", json=user("f3", ref_account="alice", ref_platform="discord"),
                    headers=auth)
    ok(r)
    # bonus_score and vip_code are optional: the third referral completes the quest
    q = {q["id"]: q for q in progress(client, auth, "alice")["quests"]}["pro_player"]
    assert q == {"id": "pro_player", "name": "Pro Player", "status": "completed",
                 "completed_at": "2026-11-22T12:05:00Z"}
    assert actions_by_id(progress(client, auth, "alice"))["bring_friends"]["status"] == "completed"


# -- GET /user/activity ----------------------------------------------------------------------

def test_activity_lists_tasks_quests_rewards_and_xp(client, auth, clock, summer):
    ok(value(client, auth, "daily_login", account="gamer", platform="wowhaus"))
    clock.advance(minutes=1)
    for i in range(5):
        ok(event(client, auth, id=f"e{i}", data={"bet": 100}))
    clock.advance(minutes=1)
    reward(client, auth, "gamer", 7, rid="bonus-1", platform="wowhaus", kind="promo")
    data = ok(client.get("/api/v1/user/activity", query_string=user("gamer", "wowhaus"), headers=auth))
    assert data["userId"] == "gamer"
    assert data["tasks"] == [
        {"id": "daily_login", "name": "Daily Login", "quest": None, "xp": 75,
         "completed_at": "2026-11-22T12:00:00Z"},
        {"id": "roll_5", "name": "Roll the dice 5 times today", "quest": "dice_master", "xp": 105,
         "completed_at": "2026-11-22T12:01:00Z"},
        {"id": "bet_500", "name": "Bet 500 in total", "quest": "dice_master", "xp": 105,
         "completed_at": "2026-11-22T12:01:00Z"},
    ]  # roll_5 before bet_500: actions are fed in definition order
    assert data["quests"] == [{"id": "dice_master", "name": "Dice Master",
                               "completed_at": "2026-11-22T12:01:00Z"}]
    assert data["rewards"] == [{"id": "bonus-1", "kind": "promo", "xp": 7,
                                "created_at": "2026-11-22T12:02:00Z"}]
    # + 20: the 5th event took total_earned past the bronze_250 milestone (75 + 210)
    assert data["xp"] == 75 + 105 + 105 + 20 + 7


def test_activity_of_an_unknown_user_is_empty_and_creates_nothing(app, client, auth, summer):
    before = row_counts(app)
    data = ok(client.get("/api/v1/user/activity", query_string=user("ghost"), headers=auth))
    assert data == {"userId": "ghost", "tasks": [], "quests": [], "rewards": [], "xp": 0}
    assert row_counts(app) == before


# -- env=dev: the draft and a sandbox ----------------------------------------------------------

def test_dev_env_runs_the_draft_against_a_sandbox(client, auth, summer):
    draft = copy.deepcopy(summer)
    draft["actions"][1]["xp"] = 100  # daily_login: 150 with the 50% bonus
    draft["actions"].append({"id": "draft_only", "name": "New", "type": "api_call", "xp": 9})
    push(client, auth, draft, publish=False)

    assert ok(value(client, auth, "daily_login", env="dev"))["paid"] == 150
    assert ok(value(client, auth, "draft_only", env="dev"))["paid"] == 9
    err(value(client, auth, "draft_only"), 404)  # not in the live definition
    assert balance(client, auth, "alice") == {"xp": 0, "ref_xp": 0, "ugc_xp": 0}
    assert balance(client, auth, "alice", env="dev")["xp"] == 159
    # live has its own counters: daily_login was not done there yet
    assert actions_by_id(progress(client, auth, "alice"))["daily_login"]["status"] == "available"
    dev = actions_by_id(progress(client, auth, "alice", env="dev"))
    assert dev["daily_login"]["status"] == "completed" and "draft_only" in dev
    assert ok(value(client, auth, "daily_login"))["paid"] == 75
    # events and streams too
    ok(event(client, auth, id="dev-1", env="dev"))
    assert events_list(client, auth) == []
    assert [e["id"] for e in events_list(client, auth, env="dev")] == ["dev-1"]
    ok(stream(client, auth, 10000, env="dev"))
    assert actions_by_id(progress(client, auth, "alice"))["volume"]["progress"] == 0
    activity = ok(client.get("/api/v1/user/activity", query_string=user("alice", env="dev"),
                             headers=auth))
    assert [t["id"] for t in activity["tasks"]] == ["daily_login", "draft_only", "volume"]


def test_dev_env_works_before_the_first_publish(client, auth):
    doc = example()
    push(client, auth, doc, publish=False)
    err(value(client, auth, "daily_login"), 404)  # no live definition yet
    assert ok(value(client, auth, "daily_login", env="dev"))["paid"] == 75
    err(client.get("/api/v1/user/progress", query_string=user("alice"), headers=auth), 404)
    assert progress(client, auth, "alice", env="dev")["actions"]


@pytest.mark.parametrize("path,method", [
    ("/api/v1/event", "post"), ("/api/v1/action/value", "post"), ("/api/v1/stream/value", "post"),
    ("/api/v1/events", "get"), ("/api/v1/user/progress", "get"), ("/api/v1/user/activity", "get"),
])
def test_unknown_env_is_400(app, client, auth, summer, path, method):
    body = user("alice", env="staging", name="n", aid="daily_login", stream="s", value=1)
    before = row_counts(app)
    if method == "post":
        r = client.post(path, json=body, headers=auth)
    else:
        r = client.get(path, query_string=body, headers=auth)
    err(r, 400)
    assert row_counts(app) == before


# -- bad input and tenant isolation ------------------------------------------------------------

GOOD = {
    "/api/v1/event": user("alice", name="GameSession", category="dices", id="e1", data={"a": 1}, ts=5),
    "/api/v1/action/value": user("alice", aid="score_update", cid="pro_player", value=5),
    "/api/v1/stream/value": user("alice", stream="player_score", value=5),
}


def _without(d, key):
    return {k: v for k, v in d.items() if k != key}


BAD = [
    ("/api/v1/event", b'{"account": "alice", "pid": ', "malformed JSON"),
    ("/api/v1/event", b"", "JSON request body is required"),
    ("/api/v1/event", b"[]", "must be an object"),
    ("/api/v1/event", _without(GOOD["/api/v1/event"], "name"), "name: is required"),
    ("/api/v1/event", _without(GOOD["/api/v1/event"], "account"), "account: is required"),
    ("/api/v1/event", _without(GOOD["/api/v1/event"], "pid"), "pid: is required"),
    ("/api/v1/event", {**GOOD["/api/v1/event"], "ts": True}, "ts"),
    ("/api/v1/event", {**GOOD["/api/v1/event"], "ts": "yesterday"}, "ts"),
    ("/api/v1/event", {**GOOD["/api/v1/event"], "ts": 1e30}, "ts"),
    ("/api/v1/event", {**GOOD["/api/v1/event"], "data": [1, 2]}, "data"),
    ("/api/v1/event", {**GOOD["/api/v1/event"], "data": "x"}, "data"),
    ("/api/v1/event", {**GOOD["/api/v1/event"], "data": {"blob": "x" * (64 * 1024)}}, "data"),
    ("/api/v1/event", {**GOOD["/api/v1/event"], "name": 7}, "name"),
    ("/api/v1/event", {**GOOD["/api/v1/event"], "name": "n" * 257}, "name"),
    ("/api/v1/event", {**GOOD["/api/v1/event"], "id": 12}, "id"),
    ("/api/v1/event", {**GOOD["/api/v1/event"], "category": False}, "category"),
    ("/api/v1/action/value", b"{nope}", "malformed JSON"),
    ("/api/v1/action/value", _without(GOOD["/api/v1/action/value"], "aid"), "aid: is required"),
    ("/api/v1/action/value", _without(GOOD["/api/v1/action/value"], "platform"), "platform: is required"),
    ("/api/v1/action/value", {**GOOD["/api/v1/action/value"], "value": True}, "value"),
    ("/api/v1/action/value", {**GOOD["/api/v1/action/value"], "value": "5"}, "value"),
    ("/api/v1/action/value", {**GOOD["/api/v1/action/value"], "value": 1e300}, "value"),
    ("/api/v1/action/value", {**GOOD["/api/v1/action/value"], "cid": 3}, "cid"),
    ("/api/v1/action/value", {**GOOD["/api/v1/action/value"], "aid": ""}, "aid"),
    ("/api/v1/stream/value", b'{"value": NaN}', "malformed JSON"),
    ("/api/v1/stream/value", _without(GOOD["/api/v1/stream/value"], "stream"), "stream: is required"),
    ("/api/v1/stream/value", {**GOOD["/api/v1/stream/value"], "value": False}, "value"),
    ("/api/v1/stream/value", {**GOOD["/api/v1/stream/value"], "stream": ["a"]}, "stream"),
]


@pytest.mark.parametrize("path,body,message", BAD, ids=[f"{p.rsplit('/', 1)[1]}-{i}" for i, (p, _, _)
                                                        in enumerate(BAD)])
def test_bad_bodies_are_400_and_write_nothing(app, client, auth, summer, path, body, message):
    before = row_counts(app)
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
    r = client.post(path, headers={**auth, "Content-Type": "application/json"}, **kwargs)
    assert message in err(r, 400)
    assert row_counts(app) == before


def test_good_bodies_used_above_are_accepted(client, auth, summer):
    for path, body in GOOD.items():
        ok(client.post(path, json=body, headers=auth))


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/user/progress", "/api/v1/user/activity"])
@pytest.mark.parametrize("missing", ["account", "platform", "pid"])
def test_reads_without_a_required_parameter_are_400(client, auth, summer, path, missing):
    q = _without(user("alice"), missing)
    assert missing in err(client.get(path, query_string=q, headers=auth), 400)


@pytest.mark.parametrize("path", list(GOOD))
def test_unknown_campaign_is_404_and_writes_nothing(app, client, auth, summer, path):
    before = row_counts(app)
    assert "unknown campaign" in err(client.post(path, json={**GOOD[path], "pid": "nope"}, headers=auth), 404)
    assert row_counts(app) == before


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/user/progress", "/api/v1/user/activity"])
def test_reads_of_an_unknown_campaign_are_404(client, auth, summer, path):
    err(client.get(path, query_string=user("alice", pid="nope"), headers=auth), 404)


def test_another_organization_gets_404_on_every_endpoint(app, client, auth, summer):
    for path, body in GOOD.items():
        ok(client.post(path, json=body, headers=auth))
    before = row_counts(app)
    _, key_b = make_org(app, "globex")
    b = {"Authorization": f"Bearer {key_b}"}
    after_org = row_counts(app)
    for path, body in GOOD.items():
        assert "unknown campaign" in err(client.post(path, json=body, headers=b), 404), path
    for path in ("/api/v1/events", "/api/v1/user/progress", "/api/v1/user/activity"):
        err(client.get(path, query_string=user("alice"), headers=b), 404)
    assert row_counts(app) == after_org
    assert row_counts(app)["users"] == before["users"]


def test_event_ts_is_stored_but_the_period_is_the_receive_time(client, auth, summer):
    yesterday = int(datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc).timestamp())
    paid = [ok(event(client, auth, id=f"e{i}", ts=yesterday))["paid"] for i in range(5)]
    assert paid == [0, 0, 0, 0, 105]  # all five count today
    assert {e["ts"] for e in events_list(client, auth)} == {yesterday}


def test_idempotency_key_replays_an_event_and_a_value(client, auth, summer):
    h = {**auth, "Idempotency-Key": "ev-1"}
    body = user("gamer", "wowhaus", **GAME)
    first = client.post("/api/v1/event", json=body, headers=h)
    again = client.post("/api/v1/event", json=body, headers=h)
    assert again.status_code == 200 and again.json == first.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(events_list(client, auth)) == 1
    assert client.post("/api/v1/event", json={**body, "name": "Other"}, headers=h).status_code == 422
    h = {**auth, "Idempotency-Key": "val-1"}
    v = user("alice", aid="bonus_score", value=10)
    assert ok(client.post("/api/v1/action/value", json=v, headers=h))["paid"] == 10
    assert ok(client.post("/api/v1/action/value", json=v, headers=h))["paid"] == 10  # the first answer
    assert balance(client, auth, "alice")["xp"] == 10


def test_oversized_event_is_413_in_the_envelope(app, client, auth, summer):
    before = row_counts(app)
    big = b'{"account": "a", "platform": "p", "pid": "summer_games", "name": "n", "data": {"x": "' + \
        b"x" * (1024 * 1024) + b'"}}'
    r = client.post("/api/v1/event", data=big, headers={**auth, "Content-Type": "application/json"})
    assert "too large" in err(r, 413)
    assert row_counts(app) == before


@pytest.mark.parametrize("raw,message", [(b"1e400", "out of range"), (b"-1", "ts"), (b"1.5e16", "ts")])
def test_absurd_ts_is_400(app, client, auth, summer, raw, message):
    before = row_counts(app)
    body = b'{"account": "a", "platform": "p", "pid": "summer_games", "name": "n", "ts": ' + raw + b"}"
    r = client.post("/api/v1/event", data=body, headers={**auth, "Content-Type": "application/json"})
    assert message in err(r, 400)
    assert row_counts(app) == before


# -- concurrency -----------------------------------------------------------------------------

def test_concurrent_events_with_one_id_are_stored_and_counted_once(app, client, auth, summer):
    def send(i):
        r = event(client, auth, id="same", data={"bet": 100})
        return r.status_code, r.json["data"]["duplicate"] if r.status_code == 200 else None

    results = run_in_threads(10, send)
    assert [code for code, _ in results] == [200] * 10, results
    assert [dup for _, dup in results].count(False) == 1
    assert len(events_list(client, auth)) == 1
    by_id = actions_by_id(progress(client, auth, "gamer", "wowhaus"))
    assert by_id["roll_5"]["progress"] == 1 and by_id["bet_500"]["progress"] == 100


def test_concurrent_values_and_streams_pay_once(client, auth, summer):
    def login(i):
        r = value(client, auth, "daily_login")
        return r.status_code, r.json["data"]["paid"]

    results = run_in_threads(10, login)
    assert {code for code, _ in results} == {200}
    assert sorted(p for _, p in results) == [0] * 9 + [75]

    def trade(i):
        r = stream(client, auth, 1000)
        return r.status_code, r.json["data"]["paid"]

    results = run_in_threads(10, trade)
    assert {code for code, _ in results} == {200}
    assert sorted(p for _, p in results) == [0] * 9 + [300 + 20]  # + bronze_250
    assert actions_by_id(progress(client, auth, "alice"))["volume"]["progress"] == 10000
    assert balance(client, auth, "alice")["xp"] == 375 + 20  # + bronze_250


# -- input the database could not store: a 400, never a 500 --------------------------------------

def test_events_value_with_an_absurd_number_saturates_instead_of_failing(client, auth, summer):
    # Event data is free-form: an absurd number in it is stored, and the
    # counter it feeds saturates (engine.run.tasks.PROGRESS_CAP) instead of overflowing.
    r = event(client, auth, id="big", data={"bet": 1e300})
    assert r.status_code == 200 and r.json["data"]["paid"] == 105
    bet = actions_by_id(progress(client, auth, "gamer", platform="wowhaus"))["bet_500"]
    assert bet["status"] == "completed" and bet["progress"] == 10**15


def test_event_data_overflowing_to_infinity_is_400(app, client, auth, summer):
    before = row_counts(app)
    body = b'{"account": "a", "platform": "p", "pid": "summer_games", "name": "n", "data": {"x": 1e400}}'
    r = client.post("/api/v1/event", data=body, headers={**auth, "Content-Type": "application/json"})
    err(r, 400)  # 1e400 parses as infinity, which no JSON column can hold
    assert row_counts(app) == before


@pytest.mark.parametrize("body", [
    b'{"account": "a\\u0000", "platform": "p", "pid": "summer_games", "name": "n"}',
    b'{"account": "a", "platform": "p", "pid": "summer_games", "name": "n", "data": {"x": "\\u0000"}}',
])
def test_nul_characters_in_a_body_are_400(app, client, auth, summer, body):
    before = row_counts(app)
    r = client.post("/api/v1/event", data=body, headers={**auth, "Content-Type": "application/json"})
    assert "NUL" in err(r, 400)  # PostgreSQL cannot store U+0000: refused on every database alike
    assert row_counts(app) == before


@pytest.mark.parametrize("path", ["/api/v1/user/progress", "/api/v1/events", "/api/v1/user/ref_id",
                                  "/api/v1/leaderboard"])
def test_nul_characters_in_query_parameters_are_400(app, client, auth, summer, path):
    before = row_counts(app)
    assert "NUL" in err(client.get(path, query_string=user("a\x00b"), headers=auth), 400)
    assert row_counts(app) == before
