"""Referrals through the Campaign API, and the five /wallet/* endpoints.

summer_games (the example) pays referee_bonus 25 and referrer_bonus 50, both
into ref_xp; daily_login pays the referrer ref_xp 10 and volume 30 on each
completion of the referee.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.conftest import START, make_org

from .quest_helpers import (PID, actions_by_id, balance, err, ok, progress, push, push_example,
                            reward, row_counts, run_in_threads, user)


@pytest.fixture
def summer(client, auth):
    return push_example(client, auth)


def ref_id(client, auth, account, platform="discord", pid=PID):
    r = client.get("/api/v1/user/ref_id", query_string=user(account, platform, pid), headers=auth)
    return ok(r)["ref_id"]


def set_by_ref_id(client, auth, account, rid, platform="discord", **extra):
    return client.post("/api/v1/user/ref_id", json=user(account, platform, ref_id=rid, **extra),
                       headers=auth)


def set_referrer(client, auth, account, ref_account, platform="discord", ref_platform="discord", **extra):
    return client.post("/api/v1/user/referrer",
                       json=user(account, platform, ref_account=ref_account, ref_platform=ref_platform,
                                 **extra), headers=auth)


def referrals(client, auth, account, platform="discord", **q):
    r = client.get("/api/v1/user/referrals", query_string=user(account, platform, **q), headers=auth)
    return ok(r)["referrals"]


def daily_login(client, auth, account, platform="discord", **extra):
    return ok(client.post("/api/v1/action/value", json=user(account, platform, aid="daily_login", **extra),
                          headers=auth))


def register(client, auth, *accounts, platform="discord"):
    for account in accounts:
        ok(client.get("/api/v1/token", query_string={"account": account, "platform": platform},
                      headers=auth))


# -- GET /user/ref_id -------------------------------------------------------------------

def test_ref_id_is_created_once_and_stable_per_user_and_campaign(client, auth, summer):
    a1 = ref_id(client, auth, "alice")
    assert isinstance(a1, str) and 4 <= len(a1) <= 64
    assert ref_id(client, auth, "alice") == a1
    assert ref_id(client, auth, "bob") != a1
    assert ref_id(client, auth, "alice", platform="email") != a1  # another user
    assert ref_id(client, auth, "alice", pid="default") != a1  # another campaign
    assert ref_id(client, auth, "alice") == a1


def test_ref_id_registers_the_user(app, client, auth, summer):
    before = row_counts(app)
    ref_id(client, auth, "fresh")
    after = row_counts(app)
    assert after["users"] == before["users"] + 1 and after["ref_codes"] == before["ref_codes"] + 1
    ref_id(client, auth, "fresh")
    assert row_counts(app) == after


# -- setting the referrer ---------------------------------------------------------------------

def test_referral_by_ref_id_pays_both_bonuses_into_ref_xp(client, auth, summer):
    rid = ref_id(client, auth, "alice")
    r = set_by_ref_id(client, auth, "bob", rid)
    assert ok(r) == {}
    assert balance(client, auth, "bob") == {"xp": 0, "ref_xp": 25, "ugc_xp": 0}
    assert balance(client, auth, "alice") == {"xp": 0, "ref_xp": 50, "ugc_xp": 0}


def test_referral_by_account_pays_both_bonuses(client, auth, summer):
    reward(client, auth, "alice", 5)
    assert ok(set_referrer(client, auth, "bob", "alice")) == {}
    assert balance(client, auth, "bob")["ref_xp"] == 25
    assert balance(client, auth, "alice") == {"xp": 5, "ref_xp": 50, "ugc_xp": 0}


def test_a_second_referrer_is_409_and_pays_nothing(app, client, auth, summer):
    rid_a = ref_id(client, auth, "alice")
    rid_c = ref_id(client, auth, "carol")
    ok(set_by_ref_id(client, auth, "bob", rid_a))
    before = row_counts(app)
    assert "already" in err(set_by_ref_id(client, auth, "bob", rid_a), 409)
    err(set_by_ref_id(client, auth, "bob", rid_c), 409)
    err(set_referrer(client, auth, "bob", "carol"), 409)
    err(set_referrer(client, auth, "bob", "alice"), 409)
    assert row_counts(app) == before
    assert balance(client, auth, "alice")["ref_xp"] == 50
    assert balance(client, auth, "carol")["ref_xp"] == 0


def test_self_referral_is_400(app, client, auth, summer):
    rid = ref_id(client, auth, "alice")
    before = row_counts(app)
    assert "themselves" in err(set_by_ref_id(client, auth, "alice", rid), 400)
    err(set_referrer(client, auth, "alice", "alice"), 400)
    assert row_counts(app) == before
    # the same account on another platform is another user
    assert ok(set_referrer(client, auth, "alice", "alice", platform="email")) == {}


def test_a_cycle_is_400(app, client, auth, summer):
    ok(set_by_ref_id(client, auth, "b", ref_id(client, auth, "a")))  # a refers b
    ok(set_referrer(client, auth, "c", "b"))  # b refers c
    rid_c = ref_id(client, auth, "c")
    before = row_counts(app)
    assert "cycle" in err(set_by_ref_id(client, auth, "a", rid_c), 400)  # c refers a: a->b->c->a
    assert "cycle" in err(set_referrer(client, auth, "a", "b"), 400)  # two steps back
    assert row_counts(app) == before
    assert balance(client, auth, "a")["ref_xp"] == 50  # only its bonus for referring b
    register(client, auth, "d")
    ok(set_referrer(client, auth, "a", "d"))  # a's referrer can still be an outsider


def test_unknown_ref_id_is_404_and_writes_nothing(app, client, auth, summer):
    before = row_counts(app)
    assert "ref_id" in err(set_by_ref_id(client, auth, "bob", "NOPE1234"), 404)
    assert row_counts(app) == before


def test_ref_id_of_another_campaign_is_404(client, auth, summer):
    other = ref_id(client, auth, "alice", pid="default")
    err(set_by_ref_id(client, auth, "bob", other), 404)


def test_unknown_referrer_is_404_and_writes_nothing(app, client, auth, summer):
    before = row_counts(app)
    assert "referrer" in err(set_referrer(client, auth, "bob", "nobody"), 404)
    err(set_referrer(client, auth, "bob", "alice"), 404)
    reward(client, auth, "alice", 1)
    err(set_referrer(client, auth, "bob", "alice", ref_platform="steam"), 404)  # same account, other platform
    assert row_counts(app)["referrals"] == before["referrals"]


def test_referrer_need_not_have_touched_the_campaign(client, auth, summer):
    ok(client.get("/api/v1/token", query_string={"account": "alice", "platform": "discord"}, headers=auth))
    ok(set_referrer(client, auth, "bob", "alice"))
    assert balance(client, auth, "alice")["ref_xp"] == 50


def test_campaign_without_a_referrals_section_pays_no_bonus(client, auth):
    push(client, auth, {"id": "plain", "name": "Plain",
                        "actions": [{"id": "go", "name": "Go", "type": "api_call", "xp": 10, "ref_xp": 4}]})
    reward(client, auth, "alice", 1, pid="plain")
    ok(set_referrer(client, auth, "bob", "alice", pid="plain"))
    assert balance(client, auth, "bob", pid="plain")["ref_xp"] == 0
    assert balance(client, auth, "alice", pid="plain")["ref_xp"] == 0
    ok(client.post("/api/v1/action/value", json=user("bob", pid="plain", aid="go"), headers=auth))
    assert balance(client, auth, "alice", pid="plain") == {"xp": 1, "ref_xp": 4, "ugc_xp": 0}


# -- ref_xp from the referee's tasks, GET /user/referrals --------------------------------------

def test_ref_xp_from_daily_login_and_the_referrals_list(client, auth, clock, summer):
    ok(client.get("/api/v1/token", query_string={"account": "bob", "platform": "discord",
                                                 "name": "Bobby"}, headers=auth))
    register(client, auth, "alice")
    ok(set_referrer(client, auth, "bob", "alice"))
    clock.advance(minutes=10)
    ok(set_referrer(client, auth, "carl", "alice"))
    assert daily_login(client, auth, "bob")["paid"] == 75
    assert balance(client, auth, "alice")["ref_xp"] == 110  # two 50 bonuses + 10 for bob's login
    daily_login(client, auth, "bob")  # same day: nothing more
    assert balance(client, auth, "alice")["ref_xp"] == 110
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc))
    daily_login(client, auth, "bob")
    ok(client.post("/api/v1/stream/value", json=user("bob", stream="player_score", value=10000),
                   headers=auth))
    assert balance(client, auth, "alice") == {"xp": 0, "ref_xp": 50 + 50 + 10 + 10 + 30, "ugc_xp": 0}
    # bob's own ref_xp is his referee bonus only
    assert balance(client, auth, "bob") == {"xp": 75 + 75 + 300 + 20, "ref_xp": 25, "ugc_xp": 0}  # + bronze_250
    assert referrals(client, auth, "alice") == [
        {"id": "bob", "name": "Bobby", "ref_xp": 50 + 10 + 10 + 30, "xp": 25 + 450 + 20,
         "cts": int(START.timestamp())},
        {"id": "carl", "name": "carl", "ref_xp": 50, "xp": 25,
         "cts": int(START.timestamp()) + 600},
    ]
    assert referrals(client, auth, "bob") == []


def test_referrals_of_an_unknown_user_are_empty_and_create_nothing(app, client, auth, summer):
    before = row_counts(app)
    assert referrals(client, auth, "ghost") == []
    assert row_counts(app) == before


def test_a_chain_pays_ref_xp_to_the_direct_referrer_only(client, auth, summer):
    register(client, auth, "a")
    ok(set_referrer(client, auth, "b", "a"))  # a refers b
    ok(set_by_ref_id(client, auth, "c", ref_id(client, auth, "b")))  # b refers c
    assert balance(client, auth, "a")["ref_xp"] == 50
    assert balance(client, auth, "b")["ref_xp"] == 25 + 50
    assert balance(client, auth, "c")["ref_xp"] == 25
    daily_login(client, auth, "c")
    assert balance(client, auth, "b")["ref_xp"] == 25 + 50 + 10
    assert balance(client, auth, "a")["ref_xp"] == 50
    assert [r["id"] for r in referrals(client, auth, "a")] == ["b"]
    assert [(r["id"], r["ref_xp"]) for r in referrals(client, auth, "b")] == [("c", 60)]
    daily_login(client, auth, "b")
    assert balance(client, auth, "a")["ref_xp"] == 60
    assert referrals(client, auth, "a")[0]["ref_xp"] == 60


def test_bring_friends_counts_referrals_made_while_locked_once_it_unlocks(client, auth, summer):
    register(client, auth, "alice")
    for friend in ("f1", "f2", "f3", "f4"):
        ok(set_referrer(client, auth, friend, "alice"))
    a = actions_by_id(progress(client, auth, "alice"))["bring_friends"]
    assert a["status"] == "locked"
    assert balance(client, auth, "alice")["xp"] == 0
    r = client.post("/api/v1/action/value",
                    json=user("alice", aid="score_update", cid="pro_player", value=1000), headers=auth)
    data = ok(r)
    # score_update (200) unlocks bring_friends, a state re-checked at once (150),
    # and the 350 cross the bronze_250 milestone (20)
    assert data["paid"] == 350 + 20
    assert sorted(c["aid"] for c in data["completed"]) == ["bring_friends", "score_update"]
    a = actions_by_id(progress(client, auth, "alice"))["bring_friends"]
    assert (a["status"], a["completions"]) == ("completed", 1)
    ok(set_referrer(client, auth, "f5", "alice"))  # once: no second payment
    assert balance(client, auth, "alice")["xp"] == 350 + 20  # + bronze_250


def test_referrals_in_dev_are_a_sandbox(client, auth, summer):
    register(client, auth, "alice", "carol")
    ok(set_referrer(client, auth, "bob", "alice", env="dev"))
    assert balance(client, auth, "alice", env="dev")["ref_xp"] == 50
    assert balance(client, auth, "alice")["ref_xp"] == 0
    assert referrals(client, auth, "alice") == []
    assert [r["id"] for r in referrals(client, auth, "alice", env="dev")] == ["bob"]
    # live still lets bob be referred (by someone else even)
    ok(set_referrer(client, auth, "bob", "carol"))
    err(set_referrer(client, auth, "bob", "carol", env="dev"), 409)


def test_concurrent_referrals_of_one_user_pay_the_bonus_once(app, client, auth, summer):
    rids = [ref_id(client, auth, f"ref{i}") for i in range(10)]

    def refer(i):
        return set_by_ref_id(client, auth, "target", rids[i]).status_code

    codes = run_in_threads(10, refer)
    assert codes.count(200) == 1 and codes.count(409) == 9, codes
    assert balance(client, auth, "target")["ref_xp"] == 25
    assert sum(balance(client, auth, f"ref{i}")["ref_xp"] for i in range(10)) == 50


def test_concurrent_mutual_referrals_never_make_a_cycle(client, auth, summer):
    ref_id(client, auth, "x"), ref_id(client, auth, "y")

    def refer(i):
        me, other = ("x", "y") if i % 2 else ("y", "x")
        return set_referrer(client, auth, me, other).status_code

    codes = run_in_threads(10, refer)
    assert codes.count(200) == 1, codes
    assert set(codes) <= {200, 400, 409}
    total = [len(referrals(client, auth, u)) for u in ("x", "y")]
    assert sorted(total) == [0, 1]


# -- wallets -------------------------------------------------------------------------------------

ADDR = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01"
ADDR2 = "0x1111111111111111111111111111111111111111"


def wallet(address=ADDR, **extra):
    return {"address": address, "pid": PID, **extra}


def test_wallet_reward_and_withdraw_work_on_platform_web3(client, auth, summer):
    data = ok(client.post("/api/v1/wallet/reward", json=wallet(id="w1", xp=100), headers=auth))
    assert data["xp"] == 100 and data["duplicate"] is False
    # the same wallet, written in lowercase, through the user endpoints on platform web3
    assert balance(client, auth, ADDR.lower(), platform="web3")["xp"] == 100
    assert ok(client.post("/api/v1/wallet/reward", json=wallet(ADDR.upper().replace("0X", "0x"),
                                                               id="w1", xp=100),
                          headers=auth))["duplicate"] is True
    data = ok(client.post("/api/v1/wallet/withdraw", json=wallet(ADDR.lower(), id="out", xp=30, strict=True),
                          headers=auth))
    assert data["xp"] == 70
    r = client.post("/api/v1/wallet/withdraw", json=wallet(id="big", xp=71, strict=True), headers=auth)
    assert "insufficient" in err(r, 409)
    ok(client.post("/api/v1/wallet/withdraw", json=wallet(id="big", xp=71), headers=auth))  # not strict
    assert balance(client, auth, ADDR, platform="web3")["xp"] == -1


def test_wallet_ref_id_is_404_for_an_unknown_wallet(app, client, auth, summer):
    before = row_counts(app)
    r = client.get("/api/v1/wallet/ref_id", query_string=wallet(), headers=auth)
    assert "unknown wallet" in err(r, 404)
    assert row_counts(app) == before


def test_wallet_ref_id_for_a_registered_wallet_matches_the_user_one(client, auth, summer):
    ok(client.post("/api/v1/wallet/reward", json=wallet(id="hi", xp=1), headers=auth))
    rid = ok(client.get("/api/v1/wallet/ref_id", query_string=wallet(), headers=auth))["ref_id"]
    assert ok(client.get("/api/v1/wallet/ref_id", query_string=wallet(ADDR.lower()), headers=auth))["ref_id"] == rid
    assert ref_id(client, auth, ADDR.lower(), platform="web3") == rid


def test_wallet_referrals_list_referred_wallets_and_points(client, auth, summer):
    ok(client.post("/api/v1/wallet/reward", json=wallet(id="hi", xp=1), headers=auth))
    rid = ok(client.get("/api/v1/wallet/ref_id", query_string=wallet(), headers=auth))["ref_id"]
    ok(set_by_ref_id(client, auth, ADDR2, rid, platform="web3"))
    daily_login(client, auth, ADDR2, platform="web3")
    data = ok(client.get("/api/v1/wallet/referrals", query_string=wallet(ADDR.upper().replace("0X", "0x")),
                         headers=auth))
    assert data == {"address": ADDR.lower(), "points": [{"address": ADDR2, "total_points": 60}]}


def test_wallet_referrals_of_an_unknown_wallet_are_empty(app, client, auth, summer):
    before = row_counts(app)
    data = ok(client.get("/api/v1/wallet/referrals", query_string=wallet(), headers=auth))
    assert data == {"address": ADDR.lower(), "points": []}
    assert row_counts(app) == before


def test_wallet_code_is_empty_without_a_claim(app, client, auth, summer):
    before = row_counts(app)
    assert ok(client.get("/api/v1/wallet/code", query_string=wallet(), headers=auth)) == {"code": ""}
    assert row_counts(app) == before


BAD_ADDRESSES = ["0x123", "1234567890abcdef1234567890abcdef12345678", ADDR + "0", "0x" + "g" * 40, "",
                 "alice"]


@pytest.mark.parametrize("bad", BAD_ADDRESSES)
@pytest.mark.parametrize("path", ["/api/v1/wallet/code", "/api/v1/wallet/ref_id", "/api/v1/wallet/referrals"])
def test_wallet_reads_with_a_bad_address_are_400(client, auth, summer, path, bad):
    assert "address" in err(client.get(path, query_string=wallet(bad), headers=auth), 400)


@pytest.mark.parametrize("bad", BAD_ADDRESSES + [None, 5, True])
@pytest.mark.parametrize("path", ["/api/v1/wallet/reward", "/api/v1/wallet/withdraw"])
def test_wallet_writes_with_a_bad_address_are_400_and_write_nothing(app, client, auth, summer, path, bad):
    before = row_counts(app)
    body = wallet(bad, id="x", xp=5)
    if bad is None:
        del body["address"]
    assert "address" in err(client.post(path, json=body, headers=auth), 400)
    assert row_counts(app) == before


@pytest.mark.parametrize("path", ["/api/v1/wallet/reward", "/api/v1/wallet/withdraw"])
@pytest.mark.parametrize("change,message", [
    ({"xp": True}, "xp"), ({"xp": "5"}, "xp"), ({"xp": 0}, "xp"), ({"xp": -5}, "xp"),
    ({"xp": 10**10}, "xp"), ({"id": None}, "id"), ({"pid": None}, "pid"), ({"strict": "yes"}, None),
    ({"env": "prod"}, "env"),
])
def test_wallet_writes_with_bad_fields_are_400(app, client, auth, summer, path, change, message):
    body = {k: v for k, v in {**wallet(id="x", xp=5), **change}.items() if v is not None}
    before = row_counts(app)
    r = client.post(path, json=body, headers=auth)
    if message is None:  # strict is only a field of withdrawals; reward ignores it
        if path.endswith("reward"):
            ok(r)
            return
        message = "strict"
    assert message in err(r, 400)
    assert row_counts(app) == before


@pytest.mark.parametrize("path", ["/api/v1/wallet/reward", "/api/v1/wallet/withdraw"])
def test_wallet_writes_with_malformed_json_are_400(app, client, auth, summer, path):
    before = row_counts(app)
    r = client.post(path, data=b'{"address": "0x', headers={**auth, "Content-Type": "application/json"})
    assert "malformed JSON" in err(r, 400)
    assert row_counts(app) == before


# -- bad input and tenant isolation for the referral endpoints ------------------------------------

REF_BODIES = {
    "/api/v1/user/ref_id": user("bob", ref_id="ABCDEFGH"),
    "/api/v1/user/referrer": user("bob", ref_account="alice", ref_platform="discord"),
}


@pytest.mark.parametrize("path", list(REF_BODIES))
@pytest.mark.parametrize("label,change,message", [
    ("malformed", b'{"account": ', "malformed JSON"),
    ("empty", b"", "JSON request body is required"),
    ("missing account", {"account": None}, "account: is required"),
    ("missing pid", {"pid": None}, "pid: is required"),
    ("numeric account", {"account": 5}, "account"),
    ("boolean platform", {"platform": True}, "platform"),
    ("long account", {"account": "a" * 257}, "account"),
    ("bad env", {"env": "prod"}, "env"),
])
def test_referral_writes_with_bad_input_are_400(app, client, auth, summer, path, label, change, message):
    reward(client, auth, "alice", 1)
    before = row_counts(app)
    if isinstance(change, bytes):
        r = client.post(path, data=change, headers={**auth, "Content-Type": "application/json"})
    else:
        body = {k: v for k, v in {**REF_BODIES[path], **change}.items() if v is not None}
        r = client.post(path, json=body, headers=auth)
    assert message in err(r, 400)
    assert row_counts(app) == before


@pytest.mark.parametrize("path,missing", [("/api/v1/user/ref_id", "ref_id"),
                                          ("/api/v1/user/referrer", "ref_account"),
                                          ("/api/v1/user/referrer", "ref_platform")])
def test_referral_writes_without_the_referrer_field_are_400(client, auth, summer, path, missing):
    body = {k: v for k, v in REF_BODIES[path].items() if k != missing}
    assert f"{missing}: is required" in err(client.post(path, json=body, headers=auth), 400)


@pytest.mark.parametrize("path", ["/api/v1/user/ref_id", "/api/v1/user/referrals"])
@pytest.mark.parametrize("missing", ["account", "platform", "pid"])
def test_referral_reads_without_a_parameter_are_400(app, client, auth, summer, path, missing):
    before = row_counts(app)
    q = {k: v for k, v in user("alice").items() if k != missing}
    assert missing in err(client.get(path, query_string=q, headers=auth), 400)
    assert row_counts(app) == before


def test_unknown_campaign_is_404_on_every_referral_and_wallet_endpoint(app, client, auth, summer):
    reward(client, auth, "alice", 1)
    ok(client.post("/api/v1/wallet/reward", json=wallet(id="hi", xp=1), headers=auth))
    before = row_counts(app)
    for r in _every_endpoint(client, auth, pid="nope"):
        assert "unknown campaign" in err(r, 404)
    assert row_counts(app) == before


def test_another_organization_gets_404_on_every_referral_and_wallet_endpoint(app, client, auth, summer):
    reward(client, auth, "alice", 1)
    ok(client.post("/api/v1/wallet/reward", json=wallet(id="hi", xp=1), headers=auth))
    ref_id(client, auth, "alice")
    _, key_b = make_org(app, "globex")
    before = row_counts(app)
    for r in _every_endpoint(client, {"Authorization": f"Bearer {key_b}"}, pid=PID):
        assert "unknown campaign" in err(r, 404)
    assert row_counts(app) == before


def _every_endpoint(client, headers, pid):
    q = user("alice", pid=pid)
    w = wallet(pid=pid)
    yield client.get("/api/v1/user/ref_id", query_string=q, headers=headers)
    yield client.post("/api/v1/user/ref_id", json={**user("bob", pid=pid), "ref_id": "ABCDEFGH"},
                      headers=headers)
    yield client.post("/api/v1/user/referrer",
                      json={**user("bob", pid=pid), "ref_account": "alice", "ref_platform": "discord"},
                      headers=headers)
    yield client.get("/api/v1/user/referrals", query_string=q, headers=headers)
    yield client.get("/api/v1/wallet/code", query_string=w, headers=headers)
    yield client.get("/api/v1/wallet/ref_id", query_string=w, headers=headers)
    yield client.get("/api/v1/wallet/referrals", query_string=w, headers=headers)
    yield client.post("/api/v1/wallet/reward", json={**w, "id": "x", "xp": 1}, headers=headers)
    yield client.post("/api/v1/wallet/withdraw", json={**w, "id": "x", "xp": 1}, headers=headers)


def test_another_organizations_users_and_ref_ids_are_unknown_in_its_own_campaign(app, client, auth, summer):
    rid = ref_id(client, auth, "alice")
    _, key_b = make_org(app, "globex")
    b = {"Authorization": f"Bearer {key_b}"}
    example_b = dict(summer)
    push(client, b, example_b)  # globex has its own summer_games
    err(set_by_ref_id(client, b, "bob", rid), 404)
    err(set_referrer(client, b, "bob", "alice"), 404)
    assert ref_id(client, b, "alice") != rid
    assert balance(client, auth, "alice")["ref_xp"] == 0


def test_concurrent_first_ref_id_calls_agree(client, auth, summer):
    ids = run_in_threads(10, lambda i: ref_id(client, auth, "racer"))
    assert len(set(ids)) == 1


def test_wallet_writes_in_dev_are_a_sandbox(client, auth, summer):
    ok(client.post("/api/v1/wallet/reward", json=wallet(id="d", xp=9, env="dev"), headers=auth))
    ok(client.post("/api/v1/wallet/withdraw", json=wallet(id="d", xp=4, env="dev", strict=True), headers=auth))
    assert balance(client, auth, ADDR, platform="web3", env="dev")["xp"] == 5
    assert balance(client, auth, ADDR, platform="web3")["xp"] == 0
    r = client.post("/api/v1/wallet/withdraw", json=wallet(id="l", xp=1, strict=True), headers=auth)
    err(r, 409)


@pytest.mark.parametrize("path", ["/api/v1/wallet/code", "/api/v1/wallet/ref_id", "/api/v1/wallet/referrals"])
@pytest.mark.parametrize("missing", ["address", "pid"])
def test_wallet_reads_without_a_parameter_are_400(app, client, auth, summer, path, missing):
    ok(client.post("/api/v1/wallet/reward", json=wallet(id="hi", xp=1), headers=auth))
    before = row_counts(app)
    q = {k: v for k, v in wallet().items() if k != missing}
    assert f"{missing}: is required" in err(client.get(path, query_string=q, headers=auth), 400)
    assert row_counts(app) == before
