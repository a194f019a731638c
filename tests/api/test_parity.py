"""One user, points arriving through every dialect: the engine agrees.

The Rewards API and the Campaign API's default campaign are one wallet: a
user of the Rewards API and a participant of the Participants API are the
account on platform `internal` (SPEC §1).
"""
from __future__ import annotations

import json
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_points_from_every_dialect_land_in_one_balance(client, auth, api_key):
    doc = json.loads((EXAMPLES / "default-example.json").read_text())
    client.put("/api/v1/admin/campaigns/default", json=doc, headers=auth)
    client.post("/api/v1/admin/campaigns/default/publish", headers=auth)
    secret = {"X-API-Secret": api_key}
    gamify = {"X-API-Key": api_key}
    user = {"account": "user_12345", "platform": "internal", "pid": "default"}

    # Rewards API: a rule award (500) and a campaign event paying mechanics points (10)
    r = client.post("/v1/points/award", json={"userId": "user_12345", "eventType": "signup"}, headers=secret)
    assert r.status_code == 201
    r = client.post("/v1/campaigns/default/events", json={"userId": "user_12345", "eventType": "daily_login"},
                    headers=secret)
    assert r.status_code == 200 and r.json["data"]["pointsEarned"] == 10
    # Campaign API on the default campaign: a credit, a ugc credit and a strict withdrawal
    assert client.post("/api/v1/user/reward", json={**user, "id": "c1", "xp": 40}, headers=auth).status_code == 200
    assert client.post("/api/v1/user/reward", json={**user, "id": "c2", "xp": 5, "kind": "ugc"},
                       headers=auth).status_code == 200
    assert client.post("/api/v1/user/withdraw", json={**user, "id": "w1", "xp": 100, "strict": True},
                       headers=auth).status_code == 200
    # Campaign API event on the default campaign: the same mechanics apply (daily_login: 10)
    assert client.post("/api/v1/event", json={**user, "name": "daily_login"}, headers=auth).status_code == 200

    # Participants API: an order paid (floor(amount) = 700, crossing the 1,000-point
    # milestone: +50) and a catalog claim (coffee: -300)
    r = client.post("/api/v1/gamify/events", json={"participant_id": "user_12345", "event_type": "order_paid",
                                                  "properties": {"amount": 700.9}}, headers=gamify)
    assert r.status_code == 201 and r.json["points_earned"] == 750
    r = client.post("/api/v1/gamify/participants/user_12345/rewards", json={"code": "coffee"}, headers=gamify)
    assert r.status_code == 201

    expected_total = 500 + 10 + 40 + 5 - 100 + 10 + 750 - 300
    campaign = client.get("/api/v1/user/balance", query_string=user, headers=auth).json["data"]
    assert campaign == {"xp": expected_total - 5, "ref_xp": 0, "ugc_xp": 5}
    rewards = client.get("/v1/users/user_12345", headers=secret).json["data"]
    assert (rewards["balance"], rewards["totalEarned"], rewards["totalSpent"]) == \
        (expected_total, expected_total + 400, 400)
    profile = client.get("/api/v1/gamify/participants/user_12345", headers=gamify).json
    assert profile["points"] == {"balance": expected_total, "total_earned": expected_total + 400,
                                 "total_spent": 400}
    assert profile["total_events"] == 3  # daily_login twice (Rewards, Campaign API), order_paid
    assert profile["tier"]["code"] == "silver"  # total_earned 1,315 >= 1,000
    sdk = client.get("/v1/users/user_12345/sdk-balance", headers=secret).json["data"]
    assert sdk["totalPoints"] == expected_total
    activity = client.get("/api/v1/user/activity", query_string=user, headers=auth).json["data"]
    assert activity["xp"] == expected_total
