"""The Rewards API (GamifyHost's dialect) through the test client."""
from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.run import instant_win
from extensions import db
from models import Event, LedgerEntry, RuleAward
from tests.conftest import make_org

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED = 1234


def example(name):
    return json.loads((EXAMPLES / name).read_text())


@pytest.fixture
def app_config():
    """A seeded random source for instant-win draws."""
    return {"RNG": random.Random(SEED)}


@pytest.fixture
def rw(client, auth, api_key):
    """Both example campaigns published; the Rewards API headers."""
    for name in ("default-example.json", "campaign-example.json"):
        doc = example(name)
        assert client.put(f"/api/v1/admin/campaigns/{doc['id']}", json=doc, headers=auth).status_code == 200
        assert client.post(f"/api/v1/admin/campaigns/{doc['id']}/publish", headers=auth).status_code == 200
    return {"X-API-Secret": api_key}


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def award(client, h, **body):
    return client.post("/v1/points/award", json={"userId": "user_12345", "eventType": "signup", **body},
                       headers=h)


def error_of(r, status):
    assert r.status_code == status, r.json
    assert set(r.json) == {"status", "code", "message"}
    assert r.json["status"] == "error" and r.json["code"] == status and r.json["message"]
    return r.json["message"]


# -- POST /v1/points/award --------------------------------------------------------------------

def test_award_answers_201_with_every_documented_field(client, rw):
    r = award(client, rw, displayName="Alice", email="alice@example.com",
              metadata={"source": "ios_app", "campaign": "summer_2025"}, reference="ref_signup_user12345")
    assert r.status_code == 201
    assert {k: r.json[k] for k in ("message", "code", "status")} == \
        {"message": "Points awarded successfully", "code": 201, "status": "success"}
    d = r.json["data"]
    assert set(d) == {"ledgerId", "userId", "eventType", "pointsAwarded", "userBalance", "reference",
                      "createdAt"}
    assert (d["userId"], d["eventType"], d["pointsAwarded"], d["userBalance"], d["reference"]) == \
        ("user_12345", "signup", 500, 500, "ref_signup_user12345")
    assert d["createdAt"] == "2026-11-22T12:00:00Z" and isinstance(d["ledgerId"], str)


def test_award_creates_then_updates_the_user(client, rw):
    award(client, rw, displayName="Alice", email="alice@example.com")
    award(client, rw, eventType="purchase", displayName="Alice B.")
    u = client.get("/v1/users/user_12345", headers=rw).json
    assert u["status"] == "success"
    assert {k: u["data"][k] for k in ("userId", "displayName", "email", "balance", "totalEarned",
                                      "totalSpent")} == \
        {"userId": "user_12345", "displayName": "Alice B.", "email": "alice@example.com",
         "balance": 600, "totalEarned": 600, "totalSpent": 0}


def test_duplicate_reference_is_409_and_pays_nothing(app, client, rw):
    assert award(client, rw, reference="r1").status_code == 201
    entries = count(app, LedgerEntry)
    assert "Duplicate reference" in error_of(award(client, rw, reference="r1"), 409)
    # another user, same event type and reference: still a duplicate
    assert award(client, rw, userId="other", reference="r1").status_code == 409
    assert count(app, LedgerEntry) == entries
    # the same reference for another event type is fine
    assert award(client, rw, eventType="purchase", reference="r1").status_code == 201


def test_concurrent_awards_with_one_reference_pay_once(app, client, rw):
    barrier = threading.Barrier(20)

    def go(i):
        barrier.wait()
        return award(client, rw, userId=f"u{i % 3}", reference="same").status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(go, range(20)))
    assert codes.count(201) == 1 and codes.count(409) == 19
    assert count(app, RuleAward) == 1 and count(app, LedgerEntry) == 1


def test_max_per_user_counts_awards(client, rw):
    doc = example("default-example.json")
    doc["reward_rules"][1]["max_per_user"] = 2  # purchase
    client.put("/api/v1/admin/campaigns/default", json=doc, headers={"Authorization": "Bearer " + rw["X-API-Secret"]})
    client.post("/api/v1/admin/campaigns/default/publish", headers={"Authorization": "Bearer " + rw["X-API-Secret"]})
    assert [award(client, rw, eventType="purchase").status_code for _ in range(3)] == [201, 201, 409]
    assert award(client, rw, userId="someone-else", eventType="purchase").status_code == 201


def test_award_without_a_rule_is_404(client, rw):
    assert "No reward rule" in error_of(award(client, rw, eventType="nothing"), 404)


@pytest.mark.parametrize("body,fragment", [
    ({"userId": None}, "userId"),
    ({"eventType": 5}, "eventType"),
    ({"linkExpiresInHours": 0}, "linkExpiresInHours"),
    ({"linkExpiresInHours": 721}, "linkExpiresInHours"),
    ({"linkExpiresInHours": "48"}, "linkExpiresInHours"),
    ({"sendPlayLink": "yes"}, "sendPlayLink"),
    ({"sendPlayLink": True}, "email"),
    ({"email": "not-an-email"}, "email"),
    ({"metadata": [1]}, "metadata"),
])
def test_bad_award_bodies_are_400_and_write_nothing(app, client, rw, body, fragment):
    before = count(app, LedgerEntry)
    assert fragment in error_of(award(client, rw, **body), 400)
    assert count(app, LedgerEntry) == before


def test_award_needs_the_secret_key(client, rw):
    assert error_of(client.post("/v1/points/award", json={"userId": "u", "eventType": "signup"}), 401)
    r = client.post("/v1/points/award", json={"userId": "u", "eventType": "signup"},
                    headers={"X-API-Secret": "qk_live_nope"})
    error_of(r, 401)


# -- POST /v1/campaigns/{slug}/events -------------------------------------------------------------

def event(client, h, slug="summer-promo", **body):
    return client.post(f"/v1/campaigns/{slug}/events",
                       json={"userId": "user_12345", "eventType": "purchase", **body}, headers=h)


def test_campaign_event_pays_mechanics_and_reports_instant_win(client, rw):
    rng = random.Random(SEED)
    r = event(client, rw, metadata={"amount": 49.99, "product": "premium_plan"})
    assert r.status_code == 200 and r.json["status"] == "success"
    d = r.json["data"]
    tiers = example("campaign-example.json")["mechanics"]["instant_win"]["tiers"]
    i = instant_win.pick(tiers, rng.random())
    prize = tiers[i]["points"] if i is not None else 0
    assert d["pointsEarned"] == 100  # the purchase rule; the prize is reported apart
    assert d["totalPoints"] == 100 + prize
    assert d["instantWin"]["won"] is (i is not None)
    assert d["instantWin"]["pointsEarned"] == prize
    assert d["message"] == "Event recorded successfully"
    assert [m["code"] for m in d["milestones"]] == ["bronze_250", "silver_1000"]


def test_points_query_floors_and_pays_nothing_for_negative_or_non_numbers(client, rw):
    assert event(client, rw, eventType="deposit", metadata={"amount": 49.99}).json["data"]["pointsEarned"] == 49
    assert event(client, rw, eventType="deposit", metadata={"amount": -5}).json["data"]["pointsEarned"] == 0
    assert event(client, rw, eventType="deposit", metadata={"amount": "ten"}).json["data"]["pointsEarned"] == 0
    assert event(client, rw, eventType="deposit").json["data"]["pointsEarned"] == 0
    # no instant win for an event type that does not trigger it
    assert "instantWin" not in event(client, rw, eventType="deposit").json["data"]


def test_milestones_are_paid_once_when_total_earned_crosses_them(client, rw):
    d = event(client, rw, eventType="deposit", metadata={"amount": 260}).json["data"]
    # 260 from the deposit, + 20 for bronze_250 (a milestone pays into the same event)
    assert d["pointsEarned"] == 280
    assert {m["code"]: m["reached"] for m in d["milestones"]} == {"bronze_250": True, "silver_1000": False}
    d = event(client, rw, eventType="deposit", metadata={"amount": 10}).json["data"]
    assert d["pointsEarned"] == 10  # bronze is not paid again


def test_max_plays_is_409_and_records_nothing(app, client, rw):
    for _ in range(3):  # max_plays is 3 in the example
        assert event(client, rw).status_code == 200
    events_before, entries_before = count(app, Event), count(app, LedgerEntry)
    assert "maximum plays" in error_of(event(client, rw), 409)
    assert (count(app, Event), count(app, LedgerEntry)) == (events_before, entries_before)
    # other event types still work for that user
    assert event(client, rw, eventType="deposit", metadata={"amount": 1}).status_code == 200


def test_unknown_or_inactive_campaign_is_404(client, rw, auth):
    assert "not found" in error_of(event(client, rw, slug="nope"), 404).lower()
    doc = example("campaign-example.json")
    doc["status"] = "paused"
    client.put("/api/v1/admin/campaigns/summer_games", json=doc, headers=auth)
    client.post("/api/v1/admin/campaigns/summer_games/publish", headers=auth)
    error_of(event(client, rw), 404)


@pytest.mark.parametrize("body", [{"userId": ""}, {"eventType": None}, {"metadata": "x"}])
def test_bad_event_bodies_are_400(client, rw, body):
    error_of(event(client, rw, **body), 400)


# -- win codes ----------------------------------------------------------------------------------

def first_win(client, h):
    for i in range(200):
        d = event(client, h, userId=f"player{i}").json["data"]
        if d["instantWin"]["won"]:
            return d["instantWin"], f"player{i}"
    raise AssertionError("no win in 200 seeded draws")


def test_win_codes_look_up_and_redeem_once(client, rw, clock):
    win, player = first_win(client, rw)
    code = win["winCode"]
    assert code.startswith("SUMM-") and len(code) == len("SUMM-") + 8
    d = client.get(f"/v1/win-codes/{code}", headers=rw).json["data"]
    assert (d["winCode"], d["prizeTier"], d["pointsEarned"], d["userId"], d["campaign"], d["redeemedAt"]) == \
        (code, win["prizeTier"], win["pointsEarned"], player, "summer_games", None)
    clock.advance(minutes=5)
    r = client.post(f"/v1/win-codes/{code}/redeem", headers=rw)
    assert r.status_code == 200 and r.json["data"]["redeemedAt"] == "2026-11-22T12:05:00Z"
    assert "already" in error_of(client.post(f"/v1/win-codes/{code}/redeem", headers=rw), 409)
    error_of(client.get("/v1/win-codes/SUMM-NOPE2345", headers=rw), 404)


def test_win_codes_of_another_organization_are_404(app, client, rw):
    win, _ = first_win(client, rw)
    _, other = make_org(app, "globex")
    error_of(client.get(f"/v1/win-codes/{win['winCode']}", headers={"X-API-Secret": other}), 404)
    error_of(client.post(f"/v1/win-codes/{win['winCode']}/redeem", headers={"X-API-Secret": other}), 404)


def test_user_resource_is_404_for_an_unknown_user(client, rw):
    assert "not found" in error_of(client.get("/v1/users/ghost", headers=rw), 404)


def test_an_award_that_crosses_a_milestone_pays_it(client, rw):
    # default-example: first_1000 pays 50 once total_earned reaches 1000
    award(client, rw)  # signup 500
    d = award(client, rw, eventType="referral").json["data"]  # 250
    assert d["userBalance"] == 750
    d = award(client, rw, eventType="referral").json["data"]  # 1000: crosses first_1000
    assert (d["pointsAwarded"], d["userBalance"]) == (250, 1050)
    d = award(client, rw, eventType="purchase").json["data"]
    assert d["userBalance"] == 1150  # paid once


def test_campaign_events_feed_the_campaigns_actions_by_name(client, rw, auth):
    doc = {"id": "shop", "name": "Shop", "actions": [
        {"id": "buy", "name": "Buy once", "type": "events_count",
         "event": {"category": "shop", "name": "purchase"}, "count": 2, "xp": 50}]}
    client.put("/api/v1/admin/campaigns/shop", json=doc, headers=auth)
    client.post("/api/v1/admin/campaigns/shop/publish", headers=auth)
    assert event(client, rw, slug="shop").json["data"]["pointsEarned"] == 0
    assert event(client, rw, slug="shop").json["data"]["pointsEarned"] == 50
    q = {"account": "user_12345", "platform": "internal", "pid": "shop"}
    progress = client.get("/api/v1/user/progress", query_string=q, headers=auth).json["data"]
    assert progress["actions"][0]["completions"] == 1


def test_a_campaign_api_credit_that_crosses_a_milestone_pays_it_once(client, rw, auth):
    user = {"account": "user_12345", "platform": "internal", "pid": "default"}
    r = client.post("/api/v1/user/reward", json={**user, "id": "big", "xp": 1000}, headers=auth)
    assert r.json["data"]["xp"] == 1050  # first_1000 pays 50 on the way
    client.post("/api/v1/user/reward", json={**user, "id": "more", "xp": 1000}, headers=auth)
    assert client.get("/v1/users/user_12345", headers=rw).json["data"]["balance"] == 2050
