"""Inputs that once reached a 500: each now gets a 2xx or a clear 4xx."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HUGE = "1" + "0" * 400  # a JSON integer no float can hold


@pytest.fixture
def summer(client, auth):
    doc = json.loads((EXAMPLES / "campaign-example.json").read_text())
    client.put("/api/v1/admin/campaigns/summer_games", json=doc, headers=auth)
    client.post("/api/v1/admin/campaigns/summer_games/publish", headers=auth)
    default = json.loads((EXAMPLES / "default-example.json").read_text())
    client.put("/api/v1/admin/campaigns/default", json=default, headers=auth)
    client.post("/api/v1/admin/campaigns/default/publish", headers=auth)


def post_raw(client, path, body: str, headers):
    return client.post(path, data=body.encode(), headers={**headers, "Content-Type": "application/json"})


def test_a_huge_integer_in_event_data_is_stored_and_saturates(client, auth, summer):
    body = ('{"account":"a","platform":"wowhaus","pid":"summer_games","name":"GameSession",'
            '"category":"dices","data":{"bet":' + HUGE + '}}')
    r = post_raw(client, "/api/v1/event", body, auth)
    assert r.status_code == 200 and r.json["data"]["paid"] == 105  # bet_500 reached at once


def test_a_huge_integer_in_metadata_pays_the_capped_points(client, auth, api_key, summer):
    body = '{"userId":"u","eventType":"order_paid","metadata":{"amount":' + HUGE + '}}'
    r = post_raw(client, "/v1/campaigns/default/events", body, {"X-API-Secret": api_key})
    # the points are capped at one ledger entry's maximum; + 50 for crossing first_1000
    assert r.status_code == 200 and r.json["data"]["pointsEarned"] == 1_000_000_000 + 50


@pytest.mark.parametrize("body", [
    '{"account":"\\ud800","platform":"p","pid":"default","id":"r","xp":1}',
    '{"account":"a","platform":"p","pid":"default","id":"\\udfff","xp":1}',
])
def test_a_lone_surrogate_is_400(client, auth, body):
    r = post_raw(client, "/api/v1/user/reward", body, auth)
    assert r.status_code == 400 and "Unicode" in r.json["error"]


def test_a_lone_surrogate_in_a_query_parameter_is_not_a_500(client, auth):
    # werkzeug decodes the invalid UTF-8 to U+FFFD; the request must just not fail
    r = client.get("/api/v1/user/balance?account=%ED%A0%80&platform=p&pid=default", headers=auth)
    assert r.status_code < 500


@pytest.mark.parametrize("path", ["/api/v1/user/ref_id", "/api/v1/wallet/ref_id"])
def test_env_is_checked_on_referral_id_reads(client, auth, path):
    q = {"account": "a", "platform": "p", "address": "0x" + "a" * 40, "pid": "default", "env": "bogus"}
    assert client.get(path, query_string=q, headers=auth).status_code == 400


def test_a_definition_whose_payout_cannot_fit_a_ledger_entry_is_refused(client, auth):
    doc = {"id": "big", "name": "Big", "actions": [
        {"id": "a", "name": "A", "type": "api_call", "xp": 1_000_000_000, "xp_mul": 5}]}
    r = client.put("/api/v1/admin/campaigns/big", json=doc, headers=auth)
    assert r.status_code == 400 and r.json["errors"][0]["path"] == "actions[0].xp"
