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

from engine import keys, leaderboard, tokens
from engine.campaigns import DEFAULT_PID, get_campaign, view
from engine.instant_win import pick
from engine.ledger import sum_entries
from extensions import db
from models import Balance, Campaign, LedgerEntry, Play, PrizeStock, User
from tests.conftest import make_org

from .quest_helpers import EXAMPLES, push, row_counts, run_in_threads

SEED = 20261122
SECRET = "test-secret-key"
GAMES_READS = ("/v1/games", "/v1/games/NEON_WHEEL/config", "/v1/users/alice/sdk-balance",
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".           "/v1/leaderboard", "/v1/users/alice/plays")


@pytest.fixture
def app_config():
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}"."""A seeded random source for instant-win draws."""
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return {"RNG": random.Random(SEED)}


def default_example() -> dict:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return json.loads((EXAMPLES / "default-example.json").read_text())


TIERS = default_example()["mechanics"]["instant_win"]["tiers"]


@pytest.fixture
def published(client, auth):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".doc = default_example()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".push(client, auth, doc)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return doc


@pytest.fixture
def pk(runner, org):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}"."""A publishable key made as an operator would: `flask key create ORG --publishable`."""
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".r = runner.invoke(args=["key", "create", "acme", "--publishable"])
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r.exit_code == 0, r.output
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".raw = r.output.strip().splitlines()[-1]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert raw.startswith("pk_live_")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return raw


@pytest.fixture
def sdk(pk):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}"."""The headers the SDK sends (GamifyHostApi._headers)."""
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return {"X-API-Key": pk, "Content-Type": "application/json"}


# -- the SDK's fromJson, field by field -------------------------------------------------------------

def _as(value, kind, key):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".# Dart's `as T?`: null or exactly T (a JSON true is a bool, never an int).
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert value is None or type(value) is kind, f"{key}: {value!r} is not {kind.__name__}?"
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return value


def _int(j, k, default=0):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".v = _as(j.get(k), int, k)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return default if v is None else v


def _str(j, k, default=""):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".v = _as(j.get(k), str, k)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return default if v is None else v


def _map(j, k):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".v = _as(j.get(k), dict, k)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return {} if v is None else v


def _fields(j: dict, names: str) -> None:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".# The SDK tolerates missing fields; Questkit promises every one of them.
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert set(names.split()) <= set(j), (names, sorted(j))


def sdk_game_info(j):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}"._fields(j, "gameType name description pointsToUnlock status imageUrl")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return {"gameType": _str(j, "gameType"), "name": _str(j, "name"),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        "description": _str(j, "description"), "pointsToUnlock": _int(j, "pointsToUnlock"),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        "status": _str(j, "status"), "imageUrl": _as(j.get("imageUrl"), str, "imageUrl")}


def sdk_game_config(j):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}"._fields(j, "gameType name description pointsToUnlock status config")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return {"gameType": _str(j, "gameType"), "name": _str(j, "name"),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        "description": _str(j, "description"), "pointsToUnlock": _int(j, "pointsToUnlock"),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        "status": _str(j, "status"), "config": _map(j, "config")}


def sdk_user_balance(j):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}"._fields(j, "userId totalPoints displayName")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return {"userId": _str(j, "userId"), "totalPoints": _int(j, "totalPoints"),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        "displayName": _as(j.get("displayName"), str, "displayName")}


def sdk_leaderboard_entry(j):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}"._fields(j, "rank userId displayName totalPoints totalRewardsWon gamesPlayed score")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return {k: _int(j, k) for k in ("rank", "totalPoints", "totalRewardsWon", "gamesPlayed", "score")} | {
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    "userId": _str(j, "userId"), "displayName": _str(j, "displayName")}


def sdk_play_record(j):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}"._fields(j, "playId gameType pointsSpent rewardTier rewardType rewardValue rewardLabel outcome playedAt")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return {"playId": _str(j, "playId"), "gameType": _str(j, "gameType"),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        "pointsSpent": _int(j, "pointsSpent"), "rewardTier": _str(j, "rewardTier"),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        "rewardType": _str(j, "rewardType"), "rewardValue": _int(j, "rewardValue"),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        "rewardLabel": _str(j, "rewardLabel"), "outcome": _map(j, "outcome"),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        "playedAt": _str(j, "playedAt")}


def sdk_meta(j):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}"._fields(j, "page limit total totalPages")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return {"page": _int(j, "page", 1), "limit": _int(j, "limit", 20), "total": _int(j, "total"),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        "totalPages": _int(j, "totalPages")}


def sdk_get(client, headers, path, **query):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}"."""GamifyHostApi._get: a 2xx body as a JSON object, else an error with body['message']."""
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".r = client.get(path, query_string={k: str(v) for k, v in query.items()}, headers=headers)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".body = r.get_json()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert isinstance(body, dict)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r.status_code == 200, (r.status_code, body)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert body["status"] == "success"
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return body


def sdk_list(client, headers, path, parse, **query):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".body = sdk_get(client, headers, path, **query)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return [parse(e) for e in _as(body.get("data"), list, "data") or []]


def sdk_page(client, headers, path, parse, **query):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".body = sdk_get(client, headers, path, **query)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return ([parse(e) for e in _as(body.get("data"), list, "data") or []],
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        sdk_meta(_as(body.get("meta"), dict, "meta") or {}))


def error(r, status):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}"."""The Rewards dialect's error envelope."""
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r.status_code == status, (r.status_code, r.get_json())
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".body = r.get_json()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert body["status"] == "error" and body["code"] == status, body
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert isinstance(body["message"], str) and body["message"]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return body["message"]


# -- helpers ----------------------------------------------------------------------------------------

def fund(client, auth, account, xp, *, rid=None, platform="internal"):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".r = client.post("/api/v1/user/reward", headers=auth, json={
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    "account": account, "platform": platform, "pid": DEFAULT_PID, "id": rid or f"fund-{account}-{xp}",
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    "xp": xp})
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r.status_code == 200, r.get_json()


def widget_token(client, auth, account, name=None, platform="internal"):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".q = {"account": account, "platform": platform, **({"name": name} if name else {})}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".r = client.get("/api/v1/token", query_string=q, headers=auth)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r.status_code == 200, r.get_json()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return r.get_json()["data"]["token"]


def bearer(token):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return {"Authorization": f"Bearer {token}"}


def play(client, token, game="NEON_WHEEL", status=200, headers=None):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".r = client.post(f"/v1/games/{game}/play", headers={**bearer(token), **(headers or {})})
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".if status != 200:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    return error(r, status)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r.status_code == 200, r.get_json()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".body = r.get_json()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert body["status"] == "success"
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return body["data"]


def user_row(app, account, platform="internal"):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".with app.app_context():
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    return db.session.scalars(select(User).where(User.account == account,
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".                                                 User.platform == platform)).one()


def default_campaign(app, org_id):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".with app.app_context():
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    return get_campaign(db.session, org_id, DEFAULT_PID)


def total_of(app, org_id, account):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".with app.app_context():
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    c = get_campaign(db.session, org_id, DEFAULT_PID)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    u = db.session.scalars(select(User).where(User.org_id == org_id, User.account == account)).one()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    stored = db.session.get(Balance, (c.id, u.id, "live"))
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    audit = sum_entries(db.session, c.id, u.id, "live").total
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert stored is None or stored.total == audit
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    return audit


def expected_draws(n, tiers=TIERS, seed=SEED):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}"."""What engine.instant_win.draw picks on the same random sequence (sold-out tiers: no prize)."""
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".rng, stock, out = random.Random(seed), {}, []
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".for _ in range(n):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    i = pick(tiers, rng.random())
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    if i is not None and tiers[i].get("quantity") is not None:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        if stock.get(i, 0) >= tiers[i]["quantity"]:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".            i = None
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        else:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".            stock[i] = stock.get(i, 0) + 1
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    out.append(tiers[i] if i is not None else None)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".return out


# -- reads: the SDK's getGames / getGameConfig / getUserBalance ---------------------------------------

def test_get_games_lists_the_default_campaigns_games_as_sdk_game_info(client, published, sdk):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".games = sdk_list(client, sdk, "/v1/games", sdk_game_info)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert games == [
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    {"gameType": "NEON_WHEEL", "name": "Neon Wheel", "description": "Spin for points and prizes.",
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".     "pointsToUnlock": 50, "status": "ACTIVE", "imageUrl": None},
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    {"gameType": "COSMIC_SLOTS", "name": "Cosmic Slots", "description": "Three reels, one pull.",
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".     "pointsToUnlock": 100, "status": "ACTIVE", "imageUrl": None},
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    {"gameType": "ENIGMA_BOXES", "name": "Enigma Boxes", "description": "Pick one of three boxes.",
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".     "pointsToUnlock": 75, "status": "INACTIVE", "imageUrl": None},
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".]


def test_image_url_is_passed_through_when_the_definition_has_one(client, auth, sdk):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".doc = default_example()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".doc["games"][0]["image_url"] = "https://cdn.example.com/wheel.png"
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".push(client, auth, doc)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".games = sdk_list(client, sdk, "/v1/games", sdk_game_info)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert [g["imageUrl"] for g in games] == ["https://cdn.example.com/wheel.png", None, None]


def test_an_organization_without_games_lists_none(client, org, sdk):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert sdk_list(client, sdk, "/v1/games", sdk_game_info) == []
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.get("/v1/games/NEON_WHEEL/config", headers=sdk), 404)


def test_game_config_parses_as_sdk_game_config(client, published, sdk):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".wheel = sdk_game_config(sdk_get(client, sdk, "/v1/games/NEON_WHEEL/config")["data"])
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert wheel == {"gameType": "NEON_WHEEL", "name": "Neon Wheel",
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".                 "description": "Spin for points and prizes.", "pointsToUnlock": 50,
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".                 "status": "ACTIVE", "config": {"segments": 8}}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".slots = sdk_game_config(sdk_get(client, sdk, "/v1/games/COSMIC_SLOTS/config")["data"])
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert slots["config"] == {} and slots["pointsToUnlock"] == 100
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".boxes = sdk_game_config(sdk_get(client, sdk, "/v1/games/ENIGMA_BOXES/config")["data"])
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert boxes["status"] == "INACTIVE"
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert "NOPE" in error(client.get("/v1/games/NOPE/config", headers=sdk), 404)


def test_sdk_balance_parses_as_sdk_user_balance(client, auth, published, sdk):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".r = client.post("/v1/points/award", headers={"X-API-Secret": auth["Authorization"][7:]},
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".                json={"userId": "alice", "eventType": "signup", "displayName": "Alice"})
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r.status_code == 201, r.get_json()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "bob", 30)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".alice = sdk_user_balance(sdk_get(client, sdk, "/v1/users/alice/sdk-balance")["data"])
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert alice == {"userId": "alice", "totalPoints": 500, "displayName": "Alice"}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".bob = sdk_user_balance(sdk_get(client, sdk, "/v1/users/bob/sdk-balance")["data"])
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert bob == {"userId": "bob", "totalPoints": 30, "displayName": None}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.get("/v1/users/nobody/sdk-balance", headers=sdk), 404)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.get("/v1/users/nobody/plays", headers=sdk), 404)


# -- leaderboard and play history: pagination --------------------------------------------------------

def test_leaderboard_pages_follow_engine_standings_with_sdk_meta(app, client, auth, published, sdk, org):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".for i in range(25):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    fund(client, auth, f"u{i:02d}", 1000 - i * 10)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".tokens_ = {a: widget_token(client, auth, a) for a in ("u03", "u07")}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".outcomes = [play(client, tokens_["u03"]) for _ in range(3)] + [play(client, tokens_["u07"])]

 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".rows, meta = sdk_page(client, sdk, "/v1/leaderboard", sdk_leaderboard_entry)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert meta == {"page": 1, "limit": 20, "total": 25, "totalPages": 2}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert [r["rank"] for r in rows] == list(range(1, 21))
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".with app.app_context():
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    v = view(get_campaign(db.session, org[0], DEFAULT_PID), "live")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    engine_rows = leaderboard.standings(db.session, v, offset=0, limit=25)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert [(r["rank"], r["userId"], r["totalPoints"]) for r in rows] == \
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    [(s.rank, s.account, s.score) for s in engine_rows[:20]]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert all(r["score"] == r["totalPoints"] and r["displayName"] == r["userId"] for r in rows)

 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".by_user = {r["userId"]: r for r in rows}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert by_user["u03"]["gamesPlayed"] == 3 and by_user["u07"]["gamesPlayed"] == 1
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert by_user["u03"]["totalRewardsWon"] == sum(1 for o in outcomes[:3] if o["outcome"]["won"])
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert by_user["u00"]["gamesPlayed"] == 0 and by_user["u00"]["totalRewardsWon"] == 0

 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".rows2, meta2 = sdk_page(client, sdk, "/v1/leaderboard", sdk_leaderboard_entry, page=2, limit=20)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert meta2 == {"page": 2, "limit": 20, "total": 25, "totalPages": 2}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert [(r["rank"], r["userId"]) for r in rows2] == [(s.rank, s.account) for s in engine_rows[20:]]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".rows3, meta3 = sdk_page(client, sdk, "/v1/leaderboard", sdk_leaderboard_entry, page=3)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert rows3 == [] and meta3["total"] == 25
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".rows7, meta7 = sdk_page(client, sdk, "/v1/leaderboard", sdk_leaderboard_entry, page=4, limit=7)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert [r["rank"] for r in rows7] == [22, 23, 24, 25] and meta7["totalPages"] == 4


def test_empty_leaderboard_has_zero_pages(client, published, sdk):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".rows, meta = sdk_page(client, sdk, "/v1/leaderboard", sdk_leaderboard_entry)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert rows == [] and meta == {"page": 1, "limit": 20, "total": 0, "totalPages": 0}


@pytest.mark.parametrize("query", [{"page": 0}, {"page": -1}, {"limit": 0}, {"limit": 101},
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".                               {"page": "x"}, {"limit": "2.5"}, {"page": ""}])
def test_paging_outside_its_range_is_400(client, auth, published, sdk, query):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 10)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".for path in ("/v1/leaderboard", "/v1/users/alice/plays"):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    error(client.get(path, query_string=query, headers=sdk), 400)


def test_limit_100_is_allowed(client, published, sdk):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}"._, meta = sdk_page(client, sdk, "/v1/leaderboard", sdk_leaderboard_entry, limit=100)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert meta["limit"] == 100


def test_play_history_is_newest_first_paginated_and_parses_as_sdk_play_records(
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    app, client, auth, published, sdk, clock):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 5000)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".token = widget_token(client, auth, "alice")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".made = []
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".for i in range(25):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    made.append(play(client, token, "COSMIC_SLOTS" if i % 5 == 0 else "NEON_WHEEL"))
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    clock.advance(minutes=1)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".rows, meta = sdk_page(client, sdk, "/v1/users/alice/plays", sdk_play_record, limit=10)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert meta == {"page": 1, "limit": 10, "total": 25, "totalPages": 3}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".newest_first = list(reversed(made))
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert [r["playId"] for r in rows] == [p["playId"] for p in newest_first[:10]]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".rows3, _ = sdk_page(client, sdk, "/v1/users/alice/plays", sdk_play_record, page=3, limit=10)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert [r["playId"] for r in rows3] == [p["playId"] for p in newest_first[20:]]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".default_page, default_meta = sdk_page(client, sdk, "/v1/users/alice/plays", sdk_play_record)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert len(default_page) == 20 and default_meta["totalPages"] == 2

 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".for row, mine in zip(rows, newest_first):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    won = mine["outcome"]["won"]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert row["gameType"] == mine["gameType"]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert row["pointsSpent"] == (100 if row["gameType"] == "COSMIC_SLOTS" else 50)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert row["rewardType"] == ("POINTS" if won else "NONE")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert row["rewardTier"] == (mine["outcome"]["prizeTier"] if won else "NONE")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert row["rewardValue"] == mine["rewardValue"]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert row["rewardLabel"] == (f"{row['rewardValue']} points" if won else "No prize")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert row["outcome"]["result"] == ("WIN" if won else "LOSE")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    # Win codes are vouchers: never in a history a public key can read.
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert "winCode" not in row["outcome"]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert row["playedAt"].startswith("2026-11-22T")


def test_event_triggered_instant_wins_are_not_game_plays(client, auth, sdk):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".doc = default_example()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".doc["mechanics"]["instant_win"]["event_types"] = ["daily_login"]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".push(client, auth, doc)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".r = client.post("/v1/campaigns/default/events", headers={"X-API-Secret": auth["Authorization"][7:]},
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".                json={"userId": "alice", "eventType": "daily_login"})
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r.status_code == 200, r.get_json()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".rows, meta = sdk_page(client, sdk, "/v1/users/alice/plays", sdk_play_record)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert rows == [] and meta["total"] == 0


# -- playing ------------------------------------------------------------------------------------------

def test_plays_spend_points_and_draw_what_the_seeded_rng_picks(app, client, auth, published, org):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 3000)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".token = widget_token(client, auth, "alice", name="Alice")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".expected = expected_draws(40)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert any(expected) and not all(expected)  # the seed gives wins and losses
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".balance = 3000 + 50  # the 3000 credited crossed first_1000, which paid 50
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".for want in expected:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    got = play(client, token)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    balance += -50 + (want["points"] if want else 0)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert got["outcome"]["won"] is (want is not None)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert got["rewardTier"] == (want["name"] if want else "NONE")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert got["rewardValue"] == (want["points"] if want else 0)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert got["pointsSpent"] == 50 and got["gameType"] == "NEON_WHEEL"
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert got["balance"] == got["totalPoints"] == balance and got["userId"] == "alice"
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    if want:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        assert got["outcome"]["winCode"].startswith("ACME-")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    else:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        assert got["outcome"]["winCode"] is None
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    sdk_play_record(got)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert total_of(app, org[0], "alice") == balance
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".with app.app_context():
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    debits = db.session.scalars(select(LedgerEntry.amount).where(LedgerEntry.kind == "play")).all()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert debits == [-50] * 40
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    # Game plays never use up the event trigger's max_plays.
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert db.session.scalar(select(func.count()).select_from(Play).where(Play.source == "game")) == 40


def test_a_win_code_from_a_game_can_be_redeemed_once(client, auth, published):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 3000)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".token = widget_token(client, auth, "alice")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".won = next(p for p in (play(client, token) for _ in range(40)) if p["outcome"]["won"])
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".secret = {"X-API-Secret": auth["Authorization"][7:]}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".looked = client.get(f"/v1/win-codes/{won['outcome']['winCode']}", headers=secret).get_json()["data"]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert looked["prizeTier"] == won["rewardTier"] and looked["userId"] == "alice"
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert client.post(f"/v1/win-codes/{won['outcome']['winCode']}/redeem", headers=secret).status_code == 200
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.post(f"/v1/win-codes/{won['outcome']['winCode']}/redeem", headers=secret), 409)


def test_a_short_balance_is_409_and_draws_nothing(app, client, auth, published, org):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 49)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".token = widget_token(client, auth, "alice")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".before = row_counts(app)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert "insufficient" in play(client, token, status=409).lower()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert row_counts(app) == before and total_of(app, org[0], "alice") == 49
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".with app.app_context():
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert db.session.scalar(select(func.count()).select_from(Play)) == 0
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".# Nothing was drawn: the next play gets the sequence's first draw.
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 1, rid="top-up")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".first = expected_draws(1)[0]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".got = play(client, token)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert got["rewardValue"] == (first["points"] if first else 0)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert got["balance"] == (first["points"] if first else 0)


def test_a_user_who_never_earned_cannot_play(client, auth, published):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".token = widget_token(client, auth, "newbie")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".play(client, token, status=409)


def test_an_inactive_game_is_409_and_an_unknown_one_404(app, client, auth, published, org):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 500)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".token = widget_token(client, auth, "alice")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert "not active" in play(client, token, "ENIGMA_BOXES", status=409)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".play(client, token, "TETRIS", status=404)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".play(client, token, "neon_wheel", status=404)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert total_of(app, org[0], "alice") == 500


def test_a_free_game_writes_no_debit(app, client, auth, org):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".doc = default_example()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".doc["games"][0]["points_to_unlock"] = 0
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".push(client, auth, doc)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".token = widget_token(client, auth, "alice")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".got = play(client, token)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert got["pointsSpent"] == 0
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".with app.app_context():
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        LedgerEntry.kind == "play")) == 0


def test_a_prize_that_crosses_a_milestone_pays_it(app, client, auth, org):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".doc = default_example()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".doc["mechanics"]["instant_win"]["tiers"] = [{"name": "Sure thing", "probability": 1, "points": 20}]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".push(client, auth, doc)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 990)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".got = play(client, widget_token(client, auth, "alice"))
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert got["rewardValue"] == 20
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert got["balance"] == 990 - 50 + 20 + 50  # first_1000 crossed by total_earned 1010


def test_a_paused_default_campaign_refuses_plays(client, auth):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".push(client, auth, {**default_example(), "status": "paused"})
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 500)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".play(client, widget_token(client, auth, "alice"), status=409)


def test_an_idempotency_key_replays_the_first_play(app, client, auth, published, org):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 500)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "bob", 500)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".alice, bob = widget_token(client, auth, "alice"), widget_token(client, auth, "bob")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".h = {"Idempotency-Key": "tap-1"}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".r1 = client.post("/v1/games/NEON_WHEEL/play", headers={**bearer(alice), **h})
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".r2 = client.post("/v1/games/NEON_WHEEL/play", headers={**bearer(alice), **h})
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r1.status_code == r2.status_code == 200
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r1.get_data() == r2.get_data() and r2.headers["Idempotent-Replayed"] == "true"
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".with app.app_context():
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert db.session.scalar(select(func.count()).select_from(Play)) == 1
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".# The key is the user's own: another user with the same key plays for real.
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".r3 = client.post("/v1/games/NEON_WHEEL/play", headers={**bearer(bob), **h})
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r3.status_code == 200 and "Idempotent-Replayed" not in r3.headers
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r3.get_json()["data"]["playId"] != r1.get_json()["data"]["playId"]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r3.get_json()["data"]["userId"] == "bob"
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.post("/v1/games/COSMIC_SLOTS/play", headers={**bearer(alice), **h}), 422)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.post("/v1/games/NEON_WHEEL/play", headers={**bearer(alice), "Idempotency-Key": "k" * 300}),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".      400)


# -- credentials ----------------------------------------------------------------------------------------

def test_play_needs_a_user_credential(app, client, auth, published, sdk, org):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 500)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".token = widget_token(client, auth, "alice")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".before = row_counts(app)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert "token" in error(client.post("/v1/games/NEON_WHEEL/play"), 401)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.post("/v1/games/NEON_WHEEL/play", headers=sdk), 401)  # a public key is no user credential
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.post("/v1/games/NEON_WHEEL/play", headers=auth), 401)  # nor is a secret key
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.post("/v1/games/NEON_WHEEL/play", headers=bearer(token[:-2] + "xx")), 401)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.post("/v1/games/NEON_WHEEL/play", headers=bearer("")), 401)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.post("/v1/games/NEON_WHEEL/play", headers={"X-User-Token": "nonsense"}), 401)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.post("/v1/games/NEON_WHEEL/play", headers={"Authorization": f"Basic {token}"}), 401)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert row_counts(app) == before
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".# The widget token works as a Bearer or in X-User-Token, with or without the SDK's key.
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert play(client, token)["userId"] == "alice"
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".r = client.post("/v1/games/NEON_WHEEL/play", headers={**sdk, "X-User-Token": token})
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r.status_code == 200, r.get_json()


def test_a_play_session_plays_until_it_expires(app, client, auth, published, org, clock):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 500)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".alice = user_row(app, "alice")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".campaign = default_campaign(app, org[0])
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".session = tokens.make_play_session([SECRET], org[0], alice.id, campaign.id, clock.now().timestamp())
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".# As the play page (templates/play/page.html) sends it: Bearer session, body "{}".
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".r = client.post("/v1/games/NEON_WHEEL/play", data="{}",
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".                headers={**bearer(session), "Content-Type": "application/json"})
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert r.status_code == 200, r.get_json()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".got = r.get_json()["data"]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert got["userId"] == "alice" and got["balance"] == 450 + got["rewardValue"]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".clock.advance(hours=tokens.PLAY_SESSION_HOURS - 1)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".play(client, session)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".clock.advance(hours=1, seconds=1)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.post("/v1/games/NEON_WHEEL/play", headers=bearer(session)), 401)


def test_a_play_session_for_another_campaign_is_refused(app, client, auth, published, org, clock):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".push(client, auth, {"id": "other", "name": "Other"})
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 500)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".alice = user_row(app, "alice")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".with app.app_context():
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    other = db.session.scalars(select(Campaign).where(Campaign.pid == "other")).one()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".session = tokens.make_play_session([SECRET], org[0], alice.id, other.id, clock.now().timestamp())
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.post("/v1/games/NEON_WHEEL/play", headers=bearer(session)), 403)


def test_a_token_of_another_organization_never_plays_here(app, client, auth, published, org):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 500)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".other_id, other_key = make_org(app, "globex")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".other_auth = {"Authorization": f"Bearer {other_key}"}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, other_auth, "mallory", 500)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".mallory = widget_token(client, other_auth, "mallory")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".before = row_counts(app)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".# Globex's default campaign has no games: Acme's are out of reach.
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".play(client, mallory, status=404)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert row_counts(app) == before
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".# A token naming Acme but one of Globex's users is forged.
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".forged = tokens.make_widget_token([SECRET], org[0], user_row(app, "mallory").id)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.post("/v1/games/NEON_WHEEL/play", headers=bearer(forged)), 401)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert row_counts(app) == before
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".# Once Globex has games of its own, Mallory plays there and Acme's data does not move.
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".push(client, other_auth, default_example())
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert play(client, mallory)["userId"] == "mallory"
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert total_of(app, org[0], "alice") == 500
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".with app.app_context():
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    plays = db.session.scalars(select(Play)).all()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert [p.campaign_id for p in plays] == [default_campaign(app, other_id).id]


# -- keys: publishable reads, never writes -----------------------------------------------------------

def test_publishable_key_reads_the_sdk_endpoints_but_never_writes(app, client, auth, org, published, sdk,
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".                                                               pk):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 500)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".for path in GAMES_READS:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert client.get(path, headers=sdk).status_code == 200, path
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".before = row_counts(app)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".award = {"userId": "alice", "eventType": "signup"}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".writes = [
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    client.post("/v1/points/award", json=award, headers=sdk),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    client.post("/v1/points/award", json=award, headers={"X-API-Secret": pk}),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    client.post("/v1/campaigns/default/events", json={"userId": "alice", "eventType": "daily_login"},
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".                headers=sdk),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    client.post("/api/v1/user/reward", headers=bearer(pk), json={
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        "account": "alice", "platform": "internal", "pid": "default", "id": "x", "xp": 5}),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    client.post("/v1/win-codes/ACME-ABCDEFGH/redeem", headers=sdk),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    client.put("/api/v1/admin/campaigns/default", json=default_example(), headers=bearer(pk)),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".for r in writes:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert r.status_code == 403, (r.request.path, r.get_json())
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".# Only the Games SDK reads: the rest of the Rewards API is out of reach too.
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.get("/v1/users/alice", headers=sdk), 403)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert row_counts(app) == before
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert total_of(app, org[0], "alice") == 500


def test_secret_keys_read_the_sdk_endpoints_too(client, auth, published):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 500)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".secret = auth["Authorization"][7:]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".for headers in ({"X-API-Secret": secret}, {"X-API-Key": secret}):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    for path in GAMES_READS:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".        assert client.get(path, headers=headers).status_code == 200, path


def test_reads_without_a_valid_key_are_401(client, published):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".for path in GAMES_READS:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    error(client.get(path), 401)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    error(client.get(path, headers={"X-API-Key": "pk_live_" + "x" * 43}), 401)


def test_a_publishable_key_sees_only_its_own_organization(app, client, auth, published):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".fund(client, auth, "alice", 500)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".other_id, _ = make_org(app, "globex")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".with app.app_context():
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    _, other_pk = keys.create_key(db.session, other_id, app.extensions["questkit"].clock.now(),
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".                                  kind="publishable")
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    db.session.commit()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".h = {"X-API-Key": other_pk}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.get("/v1/users/alice/sdk-balance", headers=h), 404)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".error(client.get("/v1/users/alice/plays", headers=h), 404)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert sdk_list(client, h, "/v1/games", sdk_game_info) == []
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert sdk_page(client, h, "/v1/leaderboard", sdk_leaderboard_entry)[0] == []


def test_every_games_route_is_in_openapi(client):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".paths = client.get("/openapi.json").get_json()["paths"]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".for path in ("/v1/games", "/v1/games/{game_type}/config", "/v1/users/{user_id}/sdk-balance",
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".             "/v1/leaderboard", "/v1/users/{user_id}/plays"):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert "get" in paths[path], path
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert {"page", "limit"} <= {p["name"] for p in paths["/v1/leaderboard"]["get"]["parameters"]}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert "post" in paths["/v1/games/{game_type}/play"]


# -- stock under concurrency -----------------------------------------------------------------------------

GOLD = {"name": "Gold", "probability": 1, "points": 1000, "quantity": 10}


def test_200_concurrent_plays_pay_a_tier_of_quantity_10_exactly_10_times(app, client, auth, org):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".doc = copy.deepcopy(default_example())
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".doc["mechanics"]["instant_win"]["tiers"] = [GOLD]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".del doc["mechanics"]["milestones"]  # winners' totals are then exactly what the plays moved
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".doc["games"][0]["points_to_unlock"] = 1
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".push(client, auth, doc)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".players = [f"p{i:02d}" for i in range(40)]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".toks = {}
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".for account in players:
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    fund(client, auth, account, 10)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    toks[account] = widget_token(client, auth, account)

 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".def go(i):
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    r = client.post("/v1/games/NEON_WHEEL/play", headers=bearer(toks[players[i % 40]]))
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    return r.status_code, (r.get_json().get("data") or {}).get("rewardTier")

 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".results = run_in_threads(200, go)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".codes = [c for c, _ in results]
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert codes.count(200) == 200, sorted(set(codes))
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert sum(1 for _, tier in results if tier == "Gold") == 10
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".with app.app_context():
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert db.session.scalars(select(PrizeStock.awarded)).one() == 10
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    won = db.session.scalars(select(Play).where(Play.tier == "Gold")).all()
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert len(won) == 10 and len({p.win_code for p in won}) == 10
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".    assert db.session.scalar(select(func.count()).select_from(Play)) == 200
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".paid = sum(total_of(app, org[0], a) for a in players)
 As the play page (templates/play/page.html) sends it: Bearer session, body "{}".assert paid == 40 * 10 - 200 * 1 + 10 * 1000
