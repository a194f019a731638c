"""The first slice of the Campaign API through the test client."""
from __future__ import annotations

import json

from engine import ledger
from extensions import db
from models import Balance, Campaign, LedgerEntry, User
from sqlalchemy import func, select

USER = {"account": "alice", "platform": "discord", "pid": "default"}


def balance(client, auth, **params):
    q = {**USER, **params}
    r = client.get("/api/v1/user/balance", query_string=q, headers=auth)
    assert r.status_code == 200, r.json
    return r.json["data"]


def test_unknown_user_reads_zeros_and_is_not_created(app, client, auth):
    assert balance(client, auth) == {"xp": 0, "ref_xp": 0, "ugc_xp": 0}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_reward_credits_xp_and_ugc_kind_credits_ugc_xp(client, auth):
    r = client.post("/api/v1/user/reward", json={**USER, "id": "r1", "xp": 100}, headers=auth)
    assert r.status_code == 200
    assert r.json == {"success": True, "data": {"duplicate": False, "xp": 100, "ref_xp": 0, "ugc_xp": 0}}
    r = client.post("/api/v1/user/reward", json={**USER, "id": "r2", "xp": 7, "kind": "ugc"}, headers=auth)
    assert r.json["data"]["ugc_xp"] == 7
    assert balance(client, auth) == {"xp": 100, "ref_xp": 0, "ugc_xp": 7}


def test_repeated_reward_id_is_a_duplicate_and_pays_once(app, client, auth):
    body = {**USER, "id": "once", "xp": 40}
    client.post("/api/v1/user/reward", json=body, headers=auth)
    r = client.post("/api/v1/user/reward", json={**body, "xp": 999}, headers=auth)
    assert r.status_code == 200
    assert r.json["data"]["duplicate"] is True
    assert balance(client, auth)["xp"] == 40
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1


def test_reward_ids_are_per_user(client, auth):
    client.post("/api/v1/user/reward", json={**USER, "id": "same", "xp": 5}, headers=auth)
    bob = {**USER, "account": "bob"}
    r = client.post("/api/v1/user/reward", json={**bob, "id": "same", "xp": 5}, headers=auth)
    assert r.json["data"]["duplicate"] is False
    assert balance(client, auth, account="bob")["xp"] == 5


def test_withdraw_subtracts_and_strict_refuses_going_negative(client, auth):
    client.post("/api/v1/user/reward", json={**USER, "id": "r", "xp": 30}, headers=auth)
    r = client.post("/api/v1/user/withdraw", json={**USER, "id": "w1", "xp": 50, "strict": True},
                    headers=auth)
    assert r.status_code == 409
    assert r.json["success"] is False and "insufficient" in r.json["error"]
    assert balance(client, auth)["xp"] == 30
    r = client.post("/api/v1/user/withdraw", json={**USER, "id": "w2", "xp": 30, "strict": True},
                    headers=auth)
    assert r.status_code == 200 and r.json["data"]["xp"] == 0


def test_non_strict_withdraw_may_go_negative(client, auth):
    r = client.post("/api/v1/user/withdraw", json={**USER, "id": "w", "xp": 10}, headers=auth)
    assert r.status_code == 200
    assert balance(client, auth)["xp"] == -10


def test_strict_withdraw_counts_ref_and_ugc_in_the_total(client, auth):
    client.post("/api/v1/user/reward", json={**USER, "id": "u", "xp": 20, "kind": "ugc"}, headers=auth)
    r = client.post("/api/v1/user/withdraw", json={**USER, "id": "w", "xp": 20, "strict": True},
                    headers=auth)
    assert r.status_code == 200
    # xp alone goes below zero; the total does not (SPEC §1)
    assert balance(client, auth) == {"xp": -20, "ref_xp": 0, "ugc_xp": 20}


def test_withdraw_id_is_idempotent_and_separate_from_reward_ids(client, auth):
    client.post("/api/v1/user/reward", json={**USER, "id": "order-1", "xp": 50}, headers=auth)
    w = {**USER, "id": "order-1", "xp": 50, "strict": True}
    assert client.post("/api/v1/user/withdraw", json=w, headers=auth).json["data"]["duplicate"] is False
    assert client.post("/api/v1/user/withdraw", json=w, headers=auth).json["data"]["duplicate"] is True
    assert balance(client, auth)["xp"] == 0


def test_activity_lists_rewards_with_their_kind_and_total_xp(client, auth, clock):
    client.post("/api/v1/user/reward", json={**USER, "id": "a", "xp": 10, "kind": "bonus"}, headers=auth)
    client.post("/api/v1/user/reward", json={**USER, "id": "b", "xp": 5, "kind": "ugc"}, headers=auth)
    client.post("/api/v1/user/withdraw", json={**USER, "id": "c", "xp": 3}, headers=auth)
    r = client.get("/api/v1/user/activity", query_string=USER, headers=auth)
    data = r.json["data"]
    assert data["userId"] == "alice"
    assert data["xp"] == 12
    assert [(x["id"], x["kind"], x["xp"]) for x in data["rewards"]] == [("a", "bonus", 10), ("b", "ugc", 5)]
    assert data["rewards"][0]["created_at"] == "2026-11-22T12:00:00Z"
    assert data["tasks"] == [] and data["quests"] == []


def test_token_registers_the_user_with_name_and_is_stable(app, client, auth):
    q = {"account": "carol", "platform": "email", "name": "Carol C"}
    t1 = client.get("/api/v1/token", query_string=q, headers=auth).json["data"]["token"]
    t2 = client.get("/api/v1/token", query_string=q, headers=auth).json["data"]["token"]
    assert t1 == t2 and isinstance(t1, str) and len(t1) > 10
    with app.app_context():
        user = db.session.scalars(select(User).where(User.account == "carol")).one()
        assert user.name == "Carol C"
        from engine.access.tokens import read_widget_token
        ident = read_widget_token(["test-secret-key"], t1)
        assert ident.user_id == user.id


def test_token_verifies_after_secret_rotation(app, client, auth):
    from engine.access.tokens import read_widget_token
    t = client.get("/api/v1/token", query_string={"account": "d", "platform": "x"}, headers=auth)
    token = t.json["data"]["token"]
    # rotated: the new key signs, the old one still verifies as a fallback
    assert read_widget_token(["test-secret-key", "brand-new-key"], token).org_id
    import pytest
    from engine.errors import Unauthorized
    with pytest.raises(Unauthorized):
        read_widget_token(["some-other-key"], token)


def test_wallet_addresses_on_web3_are_case_insensitive(client, auth):
    addr = "0xABCDEF0123456789abcdef0123456789ABCDEF01"
    w = {"account": addr, "platform": "web3", "pid": "default"}
    client.post("/api/v1/user/reward", json={**w, "id": "x", "xp": 9}, headers=auth)
    r = client.get("/api/v1/user/balance", query_string={**w, "account": addr.lower()}, headers=auth)
    assert r.json["data"]["xp"] == 9


def test_dev_env_uses_a_separate_sandbox(client, auth):
    client.post("/api/v1/user/reward", json={**USER, "id": "live", "xp": 10}, headers=auth)
    client.post("/api/v1/user/reward", json={**USER, "id": "dev", "xp": 3, "env": "dev"}, headers=auth)
    assert balance(client, auth)["xp"] == 10
    assert balance(client, auth, env="dev")["xp"] == 3


def test_bad_env_is_a_400(client, auth):
    r = client.get("/api/v1/user/balance", query_string={**USER, "env": "staging"}, headers=auth)
    assert r.status_code == 400 and r.json["success"] is False


def test_campaign_info_live_and_draft(client, auth):
    doc = {"id": "spring", "name": "Spring", "actions": [
        {"id": "hello", "name": "Say hello", "type": "api_call", "xp": 10, "xp_mul": 50}]}
    assert client.put("/api/v1/admin/campaigns/spring", json=doc, headers=auth).status_code == 200
    r = client.get("/api/v1/campaign/info", query_string={"pid": "spring"}, headers=auth)
    assert r.status_code == 404  # never published
    r = client.get("/api/v1/campaign/info", query_string={"pid": "spring", "env": "dev"}, headers=auth)
    data = r.json["data"]
    assert data["id"] == "spring" and data["name"] == "Spring" and data["quests"] == []
    action = data["actions"][0]
    # defaults applied; xp_mul shown as defined (a percent)
    assert action["xp_mul"] == 50 and action["recurrence"] == "once" and action["is_optional"] is False
    client.post("/api/v1/admin/campaigns/spring/publish", headers=auth)
    doc["name"] = "Spring v2"
    client.put("/api/v1/admin/campaigns/spring", json=doc, headers=auth)
    live = client.get("/api/v1/campaign/info", query_string={"pid": "spring"}, headers=auth).json["data"]
    dev = client.get("/api/v1/campaign/info", query_string={"pid": "spring", "env": "dev"},
                     headers=auth).json["data"]
    assert (live["name"], dev["name"]) == ("Spring", "Spring v2")


def test_ledger_entries_record_the_version_that_paid_them(app, client, auth):
    client.post("/api/v1/user/reward", json={**USER, "id": "v", "xp": 1}, headers=auth)
    with app.app_context():
        entry = db.session.scalars(select(LedgerEntry)).one()
        campaign = db.session.get(Campaign, entry.campaign_id)
        assert entry.version == campaign.version == 1
        row = db.session.scalars(select(Balance)).one()
        assert ledger.sum_entries(db.session, row.campaign_id, row.user_id, "live").total == row.total == 1


def test_idempotency_key_replays_the_first_response(app, client, auth):
    h = {**auth, "Idempotency-Key": "k-1"}
    body = {**USER, "id": "ik", "xp": 10}
    r1 = client.post("/api/v1/user/reward", json=body, headers=h)
    r2 = client.post("/api/v1/user/reward", json=body, headers=h)
    assert r1.status_code == r2.status_code == 200
    assert r2.json == r1.json and r2.json["data"]["duplicate"] is False  # the first response, replayed
    assert r2.headers.get("Idempotent-Replayed") == "true"
    r3 = client.post("/api/v1/user/reward", json={**body, "xp": 11}, headers=h)
    assert r3.status_code == 422 and r3.json["success"] is False
    assert balance(client, auth)["xp"] == 10


def test_idempotency_key_does_not_keep_failures(client, auth):
    h = {**auth, "Idempotency-Key": "k-fail"}
    w = {**USER, "id": "w", "xp": 10, "strict": True}
    assert client.post("/api/v1/user/withdraw", json=w, headers=h).status_code == 409
    client.post("/api/v1/user/reward", json={**USER, "id": "top-up", "xp": 10}, headers=auth)
    # the fix-and-retry with the same key now goes through
    assert client.post("/api/v1/user/withdraw", json=w, headers=h).status_code == 200


def test_responses_are_json_with_the_envelope(client, auth):
    r = client.get("/api/v1/user/balance", query_string=USER, headers=auth)
    assert r.mimetype == "application/json"
    assert set(json.loads(r.data)) == {"success", "data"}
