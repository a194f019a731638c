"""Games SDK endpoints (SPEC §4) as GamifyHost's Flutter SDK reads them, and playing games.

The ``sdk_*`` parsers below mirror the fromJson factories of the SDK
(gamifyhost/gamifyhost-flutter, lib/src/gamifyhost_api.dart): each field is
read with the Dart cast the SDK uses (``as int?``, ``as String?``,
``as Map<String, dynamic>?``), which throws on any other JSON type, so a
wrong type here is a crash in a real app.
"""
from __future__ import annotations

import copy
import json
import random

import pytest
from sqlalchemy import func, select

from engine.access import keys, tokens
from engine.reads import leaderboard
from engine.definitions.campaigns import DEFAULT_PID, get_campaign, view
from engine.run.instant_win import pick
from engine.ledger import sum_entries
from extensions import db
from models import Balance, Campaign, LedgerEntry, Play, PrizeStock, User
from tests.conftest import make_org

from .quest_helpers import EXAMPLES, push, row_counts, run_in_threads

SEED = 20261122
SECRET = "test-secret-key"
GAMES_READS = ("/v1/games", "/v1/games/NEON_WHEEL/config", "/v1/users/alice/sdk-balance",
               "/v1/leaderboard", "/v1/users/alice/plays")


@pytest.fixture
def app_config():
    """A seeded random source for instant-win draws."""
    return {"RNG": random.Random(SEED)}


def default_example() -> dict:
    return json.loads((EXAMPLES / "default-example.json").read_text())


TIERS = default_example()["mechanics"]["instant_win"]["tiers"]


@pytest.fixture
def published(client, auth):
    doc = default_example()
    push(client, auth, doc)
    return doc


@pytest.fixture
def pk(runner, org):
    """A publishable key made as an operator would: `flask key create ORG --publishable`."""
    r = runner.invoke(args=["key", "create", "acme", "--publishable"])
    assert r.exit_code == 0, r.output
    raw = r.output.strip().splitlines()[-1]
    assert raw.startswith("pk_live_")
    return raw


@pytest.fixture
def sdk(pk):
    """The headers the SDK sends (GamifyHostApi._headers)."""
    return {"X-API-Key": pk, "Content-Type": "application/json"}


# -- the SDK's fromJson, field by field -------------------------------------------------------------

def _as(value, kind, key):
    # Dart's `as T?`: null or exactly T (a JSON true is a bool, never an int).
    assert value is None or type(value) is kind, f"{key}: {value!r} is not {kind.__name__}?"
    return value


def _int(j, k, default=0):
    v = _as(j.get(k), int, k)
    return default if v is None else v


def _str(j, k, default=""):
    v = _as(j.get(k), str, k)
    return default if v is None else v


def _map(j, k):
    v = _as(j.get(k), dict, k)
    return {} if v is None else v


def _fields(j: dict, names: str) -> None:
    # The SDK tolerates missing fields; Questkit promises every one of them.
    assert set(names.split()) <= set(j), (names, sorted(j))


def sdk_game_info(j):
    _fields(j, "gameType name description pointsToUnlock status imageUrl")
    return {"gameType": _str(j, "gameType"), "name": _str(j, "name"),
            "description": _str(j, "description"), "pointsToUnlock": _int(j, "pointsToUnlock"),
            "status": _str(j, "status"), "imageUrl": _as(j.get("imageUrl"), str, "imageUrl")}


def sdk_game_config(j):
    _fields(j, "gameType name description pointsToUnlock status config")
    return {"gameType": _str(j, "gameType"), "name": _str(j, "name"),
            "description": _str(j, "description"), "pointsToUnlock": _int(j, "pointsToUnlock"),
            "status": _str(j, "status"), "config": _map(j, "config")}


def sdk_user_balance(j):
    _fields(j, "userId totalPoints displayName")
    return {"userId": _str(j, "userId"), "totalPoints": _int(j, "totalPoints"),
            "displayName": _as(j.get("displayName"), str, "displayName")}


def sdk_leaderboard_entry(j):
    _fields(j, "rank userId displayName totalPoints totalRewardsWon gamesPlayed score")
    return {k: _int(j, k) for k in ("rank", "totalPoints", "totalRewardsWon", "gamesPlayed", "score")} | {
        "userId": _str(j, "userId"), "displayName": _str(j, "displayName")}


def sdk_play_record(j):
    _fields(j, "playId gameType pointsSpent rewardTier rewardType rewardValue rewardLabel outcome playedAt")
    return {"playId": _str(j, "playId"), "gameType": _str(j, "gameType"),
            "pointsSpent": _int(j, "pointsSpent"), "rewardTier": _str(j, "rewardTier"),
            "rewardType": _str(j, "rewardType"), "rewardValue": _int(j, "rewardValue"),
            "rewardLabel": _str(j, "rewardLabel"), "outcome": _map(j, "outcome"),
            "playedAt": _str(j, "playedAt")}


def sdk_meta(j):
    _fields(j, "page limit total totalPages")
    return {"page": _int(j, "page", 1), "limit": _int(j, "limit", 20), "total": _int(j, "total"),
            "totalPages": _int(j, "totalPages")}


def sdk_get(client, headers, path, **query):
    """GamifyHostApi._get: a 2xx body as a JSON object, else an error with body['message']."""
    r = client.get(path, query_string={k: str(v) for k, v in query.items()}, headers=headers)
    body = r.get_json()
    assert isinstance(body, dict)
    assert r.status_code == 200, (r.status_code, body)
    assert body["status"] == "success"
    return body


def sdk_list(client, headers, path, parse, **query):
    body = sdk_get(client, headers, path, **query)
    return [parse(e) for e in _as(body.get("data"), list, "data") or []]


def sdk_page(client, headers, path, parse, **query):
    body = sdk_get(client, headers, path, **query)
    return ([parse(e) for e in _as(body.get("data"), list, "data") or []],
            sdk_meta(_as(body.get("meta"), dict, "meta") or {}))


def error(r, status):
    """The Rewards dialect's error envelope."""
    assert r.status_code == status, (r.status_code, r.get_json())
    body = r.get_json()
    assert body["status"] == "error" and body["code"] == status, body
    assert isinstance(body["message"], str) and body["message"]
    return body["message"]


# -- helpers ----------------------------------------------------------------------------------------

def fund(client, auth, account, xp, *, rid=None, platform="internal"):
    r = client.post("/api/v1/user/reward", headers=auth, json={
        "account": account, "platform": platform, "pid": DEFAULT_PID, "id": rid or f"fund-{account}-{xp}",
        "xp": xp})
    assert r.status_code == 200, r.get_json()


def widget_token(client, auth, account, name=None, platform="internal"):
    q = {"account": account, "platform": platform, **({"name": name} if name else {})}
    r = client.get("/api/v1/token", query_string=q, headers=auth)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["data"]["token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def play(client, token, game="NEON_WHEEL", status=200, headers=None):
    r = client.post(f"/v1/games/{game}/play", headers={**bearer(token), **(headers or {})})
    if status != 200:
        return error(r, status)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "success"
    return body["data"]


def user_row(app, account, platform="internal"):
    with app.app_context():
        return db.session.scalars(select(User).where(User.account == account,
                                                     User.platform == platform)).one()


def default_campaign(app, org_id):
    with app.app_context():
        return get_campaign(db.session, org_id, DEFAULT_PID)


def total_of(app, org_id, account):
    with app.app_context():
        c = get_campaign(db.session, org_id, DEFAULT_PID)
        u = db.session.scalars(select(User).where(User.org_id == org_id, User.account == account)).one()
        stored = db.session.get(Balance, (c.id, u.id, "live"))
        audit = sum_entries(db.session, c.id, u.id, "live").total
        assert stored is None or stored.total == audit
        return audit


def expected_draws(n, tiers=TIERS, seed=SEED):
    """What engine.run.instant_win.draw picks on the same random sequence (sold-out tiers: no prize)."""
    rng, stock, out = random.Random(seed), {}, []
    for _ in range(n):
        i = pick(tiers, rng.random())
        if i is not None and tiers[i].get("quantity") is not None:
            if stock.get(i, 0) >= tiers[i]["quantity"]:
                i = None
            else:
                stock[i] = stock.get(i, 0) + 1
        out.append(tiers[i] if i is not None else None)
    return out


# -- reads: the SDK's getGames / getGameConfig / getUserBalance ---------------------------------------

def test_get_games_lists_the_default_campaigns_games_as_sdk_game_info(client, published, sdk):
    games = sdk_list(client, sdk, "/v1/games", sdk_game_info)
    assert games == [
        {"gameType": "NEON_WHEEL", "name": "Neon Wheel", "description": "Spin for points and prizes.",
         "pointsToUnlock": 50, "status": "ACTIVE", "imageUrl": None},
        {"gameType": "COSMIC_SLOTS", "name": "Cosmic Slots", "description": "Three reels, one pull.",
         "pointsToUnlock": 100, "status": "ACTIVE", "imageUrl": None},
        {"gameType": "ENIGMA_BOXES", "name": "Enigma Boxes", "description": "Pick one of three boxes.",
         "pointsToUnlock": 75, "status": "INACTIVE", "imageUrl": None},
    ]


def test_image_url_is_passed_through_when_the_definition_has_one(client, auth, sdk):
    doc = default_example()
    doc["games"][0]["image_url"] = "https://cdn.example.com/wheel.png"
    push(client, auth, doc)
    games = sdk_list(client, sdk, "/v1/games", sdk_game_info)
    assert [g["imageUrl"] for g in games] == ["https://cdn.example.com/wheel.png", None, None]


def test_an_organization_without_games_lists_none(client, org, sdk):
    assert sdk_list(client, sdk, "/v1/games", sdk_game_info) == []
    error(client.get("/v1/games/NEON_WHEEL/config", headers=sdk), 404)


def test_game_config_parses_as_sdk_game_config(client, published, sdk):
    wheel = sdk_game_config(sdk_get(client, sdk, "/v1/games/NEON_WHEEL/config")["data"])
    assert wheel == {"gameType": "NEON_WHEEL", "name": "Neon Wheel",
                     "description": "Spin for points and prizes.", "pointsToUnlock": 50,
                     "status": "ACTIVE", "config": {"segments": 8}}
    slots = sdk_game_config(sdk_get(client, sdk, "/v1/games/COSMIC_SLOTS/config")["data"])
    assert slots["config"] == {} and slots["pointsToUnlock"] == 100
    boxes = sdk_game_config(sdk_get(client, sdk, "/v1/games/ENIGMA_BOXES/config")["data"])
    assert boxes["status"] == "INACTIVE"
    assert "NOPE" in error(client.get("/v1/games/NOPE/config", headers=sdk), 404)


def test_sdk_balance_parses_as_sdk_user_balance(client, auth, published, sdk):
    r = client.post("/v1/points/award", headers={"X-API-Secret": auth["Authorization"][7:]},
                    json={"userId": "alice", "eventType": "signup", "displayName": "Alice"})
    assert r.status_code == 201, r.get_json()
    fund(client, auth, "bob", 30)
    alice = sdk_user_balance(sdk_get(client, sdk, "/v1/users/alice/sdk-balance")["data"])
    assert alice == {"userId": "alice", "totalPoints": 500, "displayName": "Alice"}
    bob = sdk_user_balance(sdk_get(client, sdk, "/v1/users/bob/sdk-balance")["data"])
    assert bob == {"userId": "bob", "totalPoints": 30, "displayName": None}
    error(client.get("/v1/users/nobody/sdk-balance", headers=sdk), 404)
    error(client.get("/v1/users/nobody/plays", headers=sdk), 404)


# -- leaderboard and play history: pagination --------------------------------------------------------

def test_leaderboard_pages_follow_engine_standings_with_sdk_meta(app, client, auth, published, sdk, org):
    for i in range(25):
        fund(client, auth, f"u{i:02d}", 1000 - i * 10)
    tokens_ = {a: widget_token(client, auth, a) for a in ("u03", "u07")}
    outcomes = [play(client, tokens_["u03"]) for _ in range(3)] + [play(client, tokens_["u07"])]

    rows, meta = sdk_page(client, sdk, "/v1/leaderboard", sdk_leaderboard_entry)
    assert meta == {"page": 1, "limit": 20, "total": 25, "totalPages": 2}
    assert [r["rank"] for r in rows] == list(range(1, 21))
    with app.app_context():
        v = view(get_campaign(db.session, org[0], DEFAULT_PID), "live")
        engine_rows = leaderboard.standings(db.session, v, offset=0, limit=25)
    assert [(r["rank"], r["userId"], r["totalPoints"]) for r in rows] == \
        [(s.rank, s.account, s.score) for s in engine_rows[:20]]
    assert all(r["score"] == r["totalPoints"] and r["displayName"] == r["userId"] for r in rows)

    by_user = {r["userId"]: r for r in rows}
    assert by_user["u03"]["gamesPlayed"] == 3 and by_user["u07"]["gamesPlayed"] == 1
    assert by_user["u03"]["totalRewardsWon"] == sum(1 for o in outcomes[:3] if o["outcome"]["won"])
    assert by_user["u00"]["gamesPlayed"] == 0 and by_user["u00"]["totalRewardsWon"] == 0

    rows2, meta2 = sdk_page(client, sdk, "/v1/leaderboard", sdk_leaderboard_entry, page=2, limit=20)
    assert meta2 == {"page": 2, "limit": 20, "total": 25, "totalPages": 2}
    assert [(r["rank"], r["userId"]) for r in rows2] == [(s.rank, s.account) for s in engine_rows[20:]]
    rows3, meta3 = sdk_page(client, sdk, "/v1/leaderboard", sdk_leaderboard_entry, page=3)
    assert rows3 == [] and meta3["total"] == 25
    rows7, meta7 = sdk_page(client, sdk, "/v1/leaderboard", sdk_leaderboard_entry, page=4, limit=7)
    assert [r["rank"] for r in rows7] == [22, 23, 24, 25] and meta7["totalPages"] == 4


def test_empty_leaderboard_has_zero_pages(client, published, sdk):
    rows, meta = sdk_page(client, sdk, "/v1/leaderboard", sdk_leaderboard_entry)
    assert rows == [] and meta == {"page": 1, "limit": 20, "total": 0, "totalPages": 0}


@pytest.mark.parametrize("query", [{"page": 0}, {"page": -1}, {"limit": 0}, {"limit": 101},
                                   {"page": "x"}, {"limit": "2.5"}, {"page": ""}])
def test_paging_outside_its_range_is_400(client, auth, published, sdk, query):
    fund(client, auth, "alice", 10)
    for path in ("/v1/leaderboard", "/v1/users/alice/plays"):
        error(client.get(path, query_string=query, headers=sdk), 400)


def test_limit_100_is_allowed(client, published, sdk):
    _, meta = sdk_page(client, sdk, "/v1/leaderboard", sdk_leaderboard_entry, limit=100)
    assert meta["limit"] == 100


def test_play_history_is_newest_first_paginated_and_parses_as_sdk_play_records(
        app, client, auth, published, sdk, clock):
    fund(client, auth, "alice", 5000)
    token = widget_token(client, auth, "alice")
    made = []
    for i in range(25):
        made.append(play(client, token, "COSMIC_SLOTS" if i % 5 == 0 else "NEON_WHEEL"))
        clock.advance(minutes=1)
    rows, meta = sdk_page(client, sdk, "/v1/users/alice/plays", sdk_play_record, limit=10)
    assert meta == {"page": 1, "limit": 10, "total": 25, "totalPages": 3}
    newest_first = list(reversed(made))
    assert [r["playId"] for r in rows] == [p["playId"] for p in newest_first[:10]]
    rows3, _ = sdk_page(client, sdk, "/v1/users/alice/plays", sdk_play_record, page=3, limit=10)
    assert [r["playId"] for r in rows3] == [p["playId"] for p in newest_first[20:]]
    default_page, default_meta = sdk_page(client, sdk, "/v1/users/alice/plays", sdk_play_record)
    assert len(default_page) == 20 and default_meta["totalPages"] == 2

    for row, mine in zip(rows, newest_first):
        won = mine["outcome"]["won"]
        assert row["gameType"] == mine["gameType"]
        assert row["pointsSpent"] == (100 if row["gameType"] == "COSMIC_SLOTS" else 50)
        assert row["rewardType"] == ("POINTS" if won else "NONE")
        assert row["rewardTier"] == (mine["outcome"]["prizeTier"] if won else "NONE")
        assert row["rewardValue"] == mine["rewardValue"]
        assert row["rewardLabel"] == (f"{row['rewardValue']} points" if won else "No prize")
        assert row["outcome"]["result"] == ("WIN" if won else "LOSE")
        # Win codes are vouchers: never in a history a public key can read.
        assert "winCode" not in row["outcome"]
        assert row["playedAt"].startswith("2026-11-22T")


def test_event_triggered_instant_wins_are_not_game_plays(client, auth, sdk):
    doc = default_example()
    doc["mechanics"]["instant_win"]["event_types"] = ["daily_login"]
    push(client, auth, doc)
    r = client.post("/v1/campaigns/default/events", headers={"X-API-Secret": auth["Authorization"][7:]},
                    json={"userId": "alice", "eventType": "daily_login"})
    assert r.status_code == 200, r.get_json()
    rows, meta = sdk_page(client, sdk, "/v1/users/alice/plays", sdk_play_record)
    assert rows == [] and meta["total"] == 0


# -- playing ------------------------------------------------------------------------------------------

def test_plays_spend_points_and_draw_what_the_seeded_rng_picks(app, client, auth, published, org):
    fund(client, auth, "alice", 3000)
    token = widget_token(client, auth, "alice", name="Alice")
    expected = expected_draws(40)
    assert any(expected) and not all(expected)  # the seed gives wins and losses
    balance = 3000 + 50  # the 3000 credited crossed first_1000, which paid 50
    for want in expected:
        got = play(client, token)
        balance += -50 + (want["points"] if want else 0)
        assert got["outcome"]["won"] is (want is not None)
        assert got["rewardTier"] == (want["name"] if want else "NONE")
        assert got["rewardValue"] == (want["points"] if want else 0)
        assert got["pointsSpent"] == 50 and got["gameType"] == "NEON_WHEEL"
        assert got["balance"] == got["totalPoints"] == balance and got["userId"] == "alice"
        if want:
            assert got["outcome"]["winCode"].startswith("ACME-")
        else:
            assert got["outcome"]["winCode"] is None
        sdk_play_record(got)
    assert total_of(app, org[0], "alice") == balance
    with app.app_context():
        debits = db.session.scalars(select(LedgerEntry.amount).where(LedgerEntry.kind == "play")).all()
        assert debits == [-50] * 40
        # Game plays never use up the event trigger's max_plays.
        assert db.session.scalar(select(func.count()).select_from(Play).where(Play.source == "game")) == 40


def test_a_win_code_from_a_game_can_be_redeemed_once(client, auth, published):
    fund(client, auth, "alice", 3000)
    token = widget_token(client, auth, "alice")
    won = next(p for p in (play(client, token) for _ in range(40)) if p["outcome"]["won"])
    secret = {"X-API-Secret": auth["Authorization"][7:]}
    looked = client.get(f"/v1/win-codes/{won['outcome']['winCode']}", headers=secret).get_json()["data"]
    assert looked["prizeTier"] == won["rewardTier"] and looked["userId"] == "alice"
    assert client.post(f"/v1/win-codes/{won['outcome']['winCode']}/redeem", headers=secret).status_code == 200
    error(client.post(f"/v1/win-codes/{won['outcome']['winCode']}/redeem", headers=secret), 409)


def test_a_short_balance_is_409_and_draws_nothing(app, client, auth, published, org):
    fund(client, auth, "alice", 49)
    token = widget_token(client, auth, "alice")
    before = row_counts(app)
    assert "insufficient" in play(client, token, status=409).lower()
    assert row_counts(app) == before and total_of(app, org[0], "alice") == 49
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Play)) == 0
    # Nothing was drawn: the next play gets the sequence's first draw.
    fund(client, auth, "alice", 1, rid="top-up")
    first = expected_draws(1)[0]
    got = play(client, token)
    assert got["rewardValue"] == (first["points"] if first else 0)
    assert got["balance"] == (first["points"] if first else 0)


def test_a_user_who_never_earned_cannot_play(client, auth, published):
    token = widget_token(client, auth, "newbie")
    play(client, token, status=409)


def test_an_inactive_game_is_409_and_an_unknown_one_404(app, client, auth, published, org):
    fund(client, auth, "alice", 500)
    token = widget_token(client, auth, "alice")
    assert "not active" in play(client, token, "ENIGMA_BOXES", status=409)
    play(client, token, "TETRIS", status=404)
    play(client, token, "neon_wheel", status=404)
    assert total_of(app, org[0], "alice") == 500


def test_a_free_game_writes_no_debit(app, client, auth, org):
    doc = default_example()
    doc["games"][0]["points_to_unlock"] = 0
    push(client, auth, doc)
    token = widget_token(client, auth, "alice")
    got = play(client, token)
    assert got["pointsSpent"] == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.kind == "play")) == 0


def test_a_prize_that_crosses_a_milestone_pays_it(app, client, auth, org):
    doc = default_example()
    doc["mechanics"]["instant_win"]["tiers"] = [{"name": "Sure thing", "probability": 1, "points": 20}]
    push(client, auth, doc)
    fund(client, auth, "alice", 990)
    got = play(client, widget_token(client, auth, "alice"))
    assert got["rewardValue"] == 20
    assert got["balance"] == 990 - 50 + 20 + 50  # first_1000 crossed by total_earned 1010


def test_a_paused_default_campaign_refuses_plays(client, auth):
    push(client, auth, {**default_example(), "status": "paused"})
    fund(client, auth, "alice", 500)
    play(client, widget_token(client, auth, "alice"), status=409)


def test_an_idempotency_key_replays_the_first_play(app, client, auth, published, org):
    fund(client, auth, "alice", 500)
    fund(client, auth, "bob", 500)
    alice, bob = widget_token(client, auth, "alice"), widget_token(client, auth, "bob")
    h = {"Idempotency-Key": "tap-1"}
    r1 = client.post("/v1/games/NEON_WHEEL/play", headers={**bearer(alice), **h})
    r2 = client.post("/v1/games/NEON_WHEEL/play", headers={**bearer(alice), **h})
    assert r1.status_code == r2.status_code == 200
    assert r1.get_data() == r2.get_data() and r2.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Play)) == 1
    # The key is the user's own: another user with the same key plays for real.
    r3 = client.post("/v1/games/NEON_WHEEL/play", headers={**bearer(bob), **h})
    assert r3.status_code == 200 and "Idempotent-Replayed" not in r3.headers
    assert r3.get_json()["data"]["playId"] != r1.get_json()["data"]["playId"]
    assert r3.get_json()["data"]["userId"] == "bob"
    error(client.post("/v1/games/COSMIC_SLOTS/play", headers={**bearer(alice), **h}), 422)
    error(client.post("/v1/games/NEON_WHEEL/play", headers={**bearer(alice), "Idempotency-Key": "k" * 300}),
          400)


# -- credentials ----------------------------------------------------------------------------------------

def test_play_needs_a_user_credential(app, client, auth, published, sdk, org):
    fund(client, auth, "alice", 500)
    token = widget_token(client, auth, "alice")
    before = row_counts(app)
    assert "token" in error(client.post("/v1/games/NEON_WHEEL/play"), 401)
    error(client.post("/v1/games/NEON_WHEEL/play", headers=sdk), 401)  # a public key is no user credential
    error(client.post("/v1/games/NEON_WHEEL/play", headers=auth), 401)  # nor is a secret key
    error(client.post("/v1/games/NEON_WHEEL/play", headers=bearer(token[:-2] + "xx")), 401)
    error(client.post("/v1/games/NEON_WHEEL/play", headers=bearer("")), 401)
    error(client.post("/v1/games/NEON_WHEEL/play", headers={"X-User-Token": "nonsense"}), 401)
    error(client.post("/v1/games/NEON_WHEEL/play", headers={"Authorization": f"Basic {token}"}), 401)
    assert row_counts(app) == before
    # The widget token works as a Bearer or in X-User-Token, with or without the SDK's key.
    assert play(client, token)["userId"] == "alice"
    r = client.post("/v1/games/NEON_WHEEL/play", headers={**sdk, "X-User-Token": token})
    assert r.status_code == 200, r.get_json()


def test_a_play_session_plays_until_it_expires(app, client, auth, published, org, clock):
    fund(client, auth, "alice", 500)
    alice = user_row(app, "alice")
    campaign = default_campaign(app, org[0])
    session = tokens.make_play_session([SECRET], org[0], alice.id, campaign.id, clock.now().timestamp())
    # As a Games SDK client sends it: Bearer session, body "{}".
    r = client.post("/v1/games/NEON_WHEEL/play", data="{}",
                    headers={**bearer(session), "Content-Type": "application/json"})
    assert r.status_code == 200, r.get_json()
    got = r.get_json()["data"]
    assert got["userId"] == "alice" and got["balance"] == 450 + got["rewardValue"]
    clock.advance(hours=tokens.PLAY_SESSION_HOURS - 1)
    play(client, session)
    clock.advance(hours=1, seconds=1)
    error(client.post("/v1/games/NEON_WHEEL/play", headers=bearer(session)), 401)


def test_a_play_session_for_another_campaign_is_refused(app, client, auth, published, org, clock):
    push(client, auth, {"id": "other", "name": "Other"})
    fund(client, auth, "alice", 500)
    alice = user_row(app, "alice")
    with app.app_context():
        other = db.session.scalars(select(Campaign).where(Campaign.pid == "other")).one()
    session = tokens.make_play_session([SECRET], org[0], alice.id, other.id, clock.now().timestamp())
    error(client.post("/v1/games/NEON_WHEEL/play", headers=bearer(session)), 403)


def test_a_token_of_another_organization_never_plays_here(app, client, auth, published, org):
    fund(client, auth, "alice", 500)
    other_id, other_key = make_org(app, "globex")
    other_auth = {"Authorization": f"Bearer {other_key}"}
    fund(client, other_auth, "mallory", 500)
    mallory = widget_token(client, other_auth, "mallory")
    before = row_counts(app)
    # Globex's default campaign has no games: Acme's are out of reach.
    play(client, mallory, status=404)
    assert row_counts(app) == before
    # A token naming Acme but one of Globex's users is forged.
    forged = tokens.make_widget_token([SECRET], org[0], user_row(app, "mallory").id)
    error(client.post("/v1/games/NEON_WHEEL/play", headers=bearer(forged)), 401)
    assert row_counts(app) == before
    # Once Globex has games of its own, Mallory plays there and Acme's data does not move.
    push(client, other_auth, default_example())
    assert play(client, mallory)["userId"] == "mallory"
    assert total_of(app, org[0], "alice") == 500
    with app.app_context():
        plays = db.session.scalars(select(Play)).all()
        assert [p.campaign_id for p in plays] == [default_campaign(app, other_id).id]


# -- keys: publishable reads, never writes -----------------------------------------------------------

def test_publishable_key_reads_the_sdk_endpoints_but_never_writes(app, client, auth, org, published, sdk,
                                                                   pk):
    fund(client, auth, "alice", 500)
    for path in GAMES_READS:
        assert client.get(path, headers=sdk).status_code == 200, path
    before = row_counts(app)
    award = {"userId": "alice", "eventType": "signup"}
    writes = [
        client.post("/v1/points/award", json=award, headers=sdk),
        client.post("/v1/points/award", json=award, headers={"X-API-Secret": pk}),
        client.post("/v1/campaigns/default/events", json={"userId": "alice", "eventType": "daily_login"},
                    headers=sdk),
        client.post("/api/v1/user/reward", headers=bearer(pk), json={
            "account": "alice", "platform": "internal", "pid": "default", "id": "x", "xp": 5}),
        client.post("/v1/win-codes/ACME-ABCDEFGH/redeem", headers=sdk),
        client.put("/api/v1/admin/campaigns/default", json=default_example(), headers=bearer(pk)),
    ]
    for r in writes:
        assert r.status_code == 403, (r.request.path, r.get_json())
    # Only the Games SDK reads: the rest of the Rewards API is out of reach too.
    error(client.get("/v1/users/alice", headers=sdk), 403)
    assert row_counts(app) == before
    assert total_of(app, org[0], "alice") == 500


def test_secret_keys_read_the_sdk_endpoints_too(client, auth, published):
    fund(client, auth, "alice", 500)
    secret = auth["Authorization"][7:]
    for headers in ({"X-API-Secret": secret}, {"X-API-Key": secret}):
        for path in GAMES_READS:
            assert client.get(path, headers=headers).status_code == 200, path


def test_reads_without_a_valid_key_are_401(client, published):
    for path in GAMES_READS:
        error(client.get(path), 401)
        error(client.get(path, headers={"X-API-Key": "pk_live_" + "x" * 43}), 401)


def test_a_publishable_key_sees_only_its_own_organization(app, client, auth, published):
    fund(client, auth, "alice", 500)
    other_id, _ = make_org(app, "globex")
    with app.app_context():
        _, other_pk = keys.create_key(db.session, other_id, app.extensions["questkit"].clock.now(),
                                      kind="publishable")
        db.session.commit()
    h = {"X-API-Key": other_pk}
    error(client.get("/v1/users/alice/sdk-balance", headers=h), 404)
    error(client.get("/v1/users/alice/plays", headers=h), 404)
    assert sdk_list(client, h, "/v1/games", sdk_game_info) == []
    assert sdk_page(client, h, "/v1/leaderboard", sdk_leaderboard_entry)[0] == []


def test_every_games_route_is_in_openapi(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in ("/v1/games", "/v1/games/{game_type}/config", "/v1/users/{user_id}/sdk-balance",
                 "/v1/leaderboard", "/v1/users/{user_id}/plays"):
        assert "get" in paths[path], path
    assert {"page", "limit"} <= {p["name"] for p in paths["/v1/leaderboard"]["get"]["parameters"]}
    assert "post" in paths["/v1/games/{game_type}/play"]


# -- stock under concurrency -----------------------------------------------------------------------------

GOLD = {"name": "Gold", "probability": 1, "points": 1000, "quantity": 10}


def test_200_concurrent_plays_pay_a_tier_of_quantity_10_exactly_10_times(app, client, auth, org):
    doc = copy.deepcopy(default_example())
    doc["mechanics"]["instant_win"]["tiers"] = [GOLD]
    del doc["mechanics"]["milestones"]  # winners' totals are then exactly what the plays moved
    doc["games"][0]["points_to_unlock"] = 1
    push(client, auth, doc)
    players = [f"p{i:02d}" for i in range(40)]
    toks = {}
    for account in players:
        fund(client, auth, account, 10)
        toks[account] = widget_token(client, auth, account)

    def go(i):
        r = client.post("/v1/games/NEON_WHEEL/play", headers=bearer(toks[players[i % 40]]))
        return r.status_code, (r.get_json().get("data") or {}).get("rewardTier")

    results = run_in_threads(200, go)
    codes = [c for c, _ in results]
    assert codes.count(200) == 200, sorted(set(codes))
    assert sum(1 for _, tier in results if tier == "Gold") == 10
    with app.app_context():
        assert db.session.scalars(select(PrizeStock.awarded)).one() == 10
        won = db.session.scalars(select(Play).where(Play.tier == "Gold")).all()
        assert len(won) == 10 and len({p.win_code for p in won}) == 10
        assert db.session.scalar(select(func.count()).select_from(Play)) == 200
    paid = sum(total_of(app, org[0], a) for a in players)
    assert paid == 40 * 10 - 200 * 1 + 10 * 1000
