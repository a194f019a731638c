"""Invite codes: generated through the Management API, used through /code."""
from __future__ import annotations

import re

import pytest

from tests.conftest import make_org

from .quest_helpers import (PID, actions_by_id, balance, err, ok, progress, push_example, reward,
                            row_counts, run_in_threads, user)

ADDR = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01"
ADDR2 = "0x2222222222222222222222222222222222222222"
CODE_RE = re.compile(r"^[23456789BCDFGHJKMNPQRSTVWXYZ]{8}$")


@pytest.fixture
def summer(client, auth):
    return push_example(client, auth)


def generate(client, auth, pid=PID, **body):
    r = client.post(f"/api/v1/admin/campaigns/{pid}/codes", json=body, headers=auth)
    return ok(r, 201)["codes"]


def used_by(client, auth, code, pid=PID, **q):
    r = client.get("/api/v1/code", query_string={"code": code, "pid": pid, **q}, headers=auth)
    return ok(r)["used_by"]


def claim(client, auth, code, used_by_, pid=PID, **extra):
    return client.post("/api/v1/code", json={"code": code, "pid": pid, "used_by": used_by_, **extra},
                       headers=auth)


def release(client, auth, code, pid=PID, **extra):
    return client.delete("/api/v1/code", json={"code": code, "pid": pid, **extra}, headers=auth)


def wallet_code(client, auth, address, pid=PID, **q):
    r = client.get("/api/v1/wallet/code", query_string={"address": address, "pid": pid, **q}, headers=auth)
    return ok(r)["code"]


# -- generating -----------------------------------------------------------------------------

def test_generate_codes_with_prefix_and_max_uses(client, auth, summer):
    r = client.post(f"/api/v1/admin/campaigns/{PID}/codes", json={"count": 5, "prefix": "VIP", "max_uses": 2},
                    headers=auth)
    assert r.status_code == 201
    assert set(r.json) == {"success", "data"} and set(r.json["data"]) == {"codes"}
    codes = r.json["data"]["codes"]
    assert len(codes) == 5 and len(set(codes)) == 5
    for code in codes:
        prefix, _, rest = code.partition("-")
        assert prefix == "VIP" and CODE_RE.match(rest), code
    assert used_by(client, auth, codes[0]) == []


def test_generate_defaults_to_one_single_use_code_without_prefix(client, auth, summer):
    [code] = generate(client, auth)
    assert CODE_RE.match(code)
    ok(claim(client, auth, code, ADDR))
    err(claim(client, auth, code, ADDR2), 409)


def test_codes_can_be_generated_for_an_unpublished_campaign(client, auth):
    r = client.put("/api/v1/admin/campaigns/draft_only", json={"id": "draft_only", "name": "D"}, headers=auth)
    assert r.status_code == 200
    assert len(generate(client, auth, pid="draft_only", count=2)) == 2


@pytest.mark.parametrize("body,message", [
    ({"count": 0}, "count"), ({"count": 1001}, "count"), ({"count": True}, "count"),
    ({"count": "3"}, "count"), ({"count": 2.5}, "count"), ({"count": -1}, "count"),
    ({"prefix": "bad prefix!"}, "prefix"), ({"prefix": ""}, "prefix"), ({"prefix": "P" * 33}, "prefix"),
    ({"prefix": 7}, "prefix"), ({"max_uses": 0}, "max_uses"), ({"max_uses": False}, "max_uses"),
    ({"max_uses": 10**7}, "max_uses"), (b'{"count": ', "malformed JSON"), (b"", "JSON request body"),
    (b"[1]", "must be an object"),
])
def test_generate_with_bad_input_is_400_and_writes_nothing(app, client, auth, summer, body, message):
    before = row_counts(app)
    path = f"/api/v1/admin/campaigns/{PID}/codes"
    if isinstance(body, bytes):
        r = client.post(path, data=body, headers={**auth, "Content-Type": "application/json"})
    else:
        r = client.post(path, json=body, headers=auth)
    assert message in err(r, 400)
    assert row_counts(app) == before


def test_generate_for_an_unknown_or_foreign_campaign_is_404(app, client, auth, summer):
    before = row_counts(app)
    err(client.post("/api/v1/admin/campaigns/nope/codes", json={"count": 1}, headers=auth), 404)
    _, key_b = make_org(app, "globex")
    b = {"Authorization": f"Bearer {key_b}"}
    after_org = row_counts(app)
    err(client.post(f"/api/v1/admin/campaigns/{PID}/codes", json={"count": 1}, headers=b), 404)
    assert row_counts(app) == after_org
    assert after_org["invite_codes"] == before["invite_codes"]


# -- claiming --------------------------------------------------------------------------------

def test_claim_with_a_wallet_address_is_case_insensitive(client, auth, summer):
    [code] = generate(client, auth, count=1, max_uses=5)
    r = claim(client, auth, code, ADDR)
    assert ok(r) == {}
    assert used_by(client, auth, code) == [ADDR.lower()]
    assert wallet_code(client, auth, ADDR) == code
    assert wallet_code(client, auth, ADDR.lower()) == code
    assert wallet_code(client, auth, "0x" + ADDR[2:].upper()) == code
    # the same wallet in another case is the same user: a second claim is a 409
    err(claim(client, auth, code, ADDR.lower()), 409)
    assert used_by(client, auth, code) == [ADDR.lower()]
    # vip_code (an optional invite_code action, 40 xp) paid the wallet
    assert balance(client, auth, ADDR, platform="web3")["xp"] == 40


def test_claim_with_a_platform_names_an_account(client, auth, summer):
    [code] = generate(client, auth, count=1, max_uses=3)
    ok(claim(client, auth, code, "alice", platform="discord"))
    ok(claim(client, auth, code, "alice", platform="email"))  # another user
    assert used_by(client, auth, code) == ["alice", "alice"]
    assert balance(client, auth, "alice")["xp"] == 40
    a = actions_by_id(progress(client, auth, "alice"))["vip_code"]
    assert (a["status"], a["completions"]) == ("completed", 1)


def test_claim_without_platform_needs_a_wallet_address(app, client, auth, summer):
    [code] = generate(client, auth)
    before = row_counts(app)
    for bad in ("alice", "0x123", ADDR + "ff", "0x" + "z" * 40):
        assert "used_by" in err(claim(client, auth, code, bad), 400)
    assert row_counts(app) == before


def test_unknown_code_is_404_and_writes_nothing(app, client, auth, summer):
    generate(client, auth)
    before = row_counts(app)
    assert "unknown invite code" in err(claim(client, auth, "NOPE-BCDFGHJK", ADDR), 404)
    err(client.get("/api/v1/code", query_string={"code": "NOPE", "pid": PID}, headers=auth), 404)
    err(release(client, auth, "NOPE"), 404)
    assert row_counts(app) == before


def test_a_code_of_another_campaign_is_404(client, auth, summer):
    [code] = generate(client, auth, pid="default")
    err(claim(client, auth, code, ADDR), 404)
    ok(claim(client, auth, code, ADDR, pid="default"))


def test_a_used_up_code_is_409(app, client, auth, summer):
    [code] = generate(client, auth, max_uses=2)
    ok(claim(client, auth, code, "u1", platform="discord"))
    ok(claim(client, auth, code, "u2", platform="discord"))
    before = row_counts(app)
    assert "used up" in err(claim(client, auth, code, "u3", platform="discord"), 409)
    after = row_counts(app)
    assert after["invite_claims"] == before["invite_claims"] and after["ledger_entries"] == before["ledger_entries"]
    assert used_by(client, auth, code) == ["u1", "u2"]


def test_a_second_claim_by_the_same_user_is_409(client, auth, summer):
    first, second = generate(client, auth, count=2, max_uses=5)
    ok(claim(client, auth, first, ADDR))
    assert "already claimed" in err(claim(client, auth, first, ADDR), 409)
    assert "already claimed" in err(claim(client, auth, second, ADDR), 409)
    assert used_by(client, auth, second) == []
    assert wallet_code(client, auth, ADDR) == first
    assert balance(client, auth, ADDR, platform="web3")["xp"] == 40  # paid once


def test_release_frees_the_code_for_reuse(client, auth, summer):
    [code] = generate(client, auth)
    ok(claim(client, auth, code, ADDR))
    err(claim(client, auth, code, ADDR2), 409)
    assert ok(release(client, auth, code)) == {}
    assert used_by(client, auth, code) == []
    assert wallet_code(client, auth, ADDR) == ""
    ok(claim(client, auth, code, ADDR2))
    assert used_by(client, auth, code) == [ADDR2]
    # what the first claim paid stays paid (the ledger is append-only)
    assert balance(client, auth, ADDR, platform="web3")["xp"] == 40


def test_release_from_one_user_only(client, auth, summer):
    [code] = generate(client, auth, max_uses=2)
    ok(claim(client, auth, code, ADDR))
    ok(claim(client, auth, code, "bob", platform="discord"))
    ok(release(client, auth, code, used_by=ADDR.upper().replace("0X", "0x")))
    assert used_by(client, auth, code) == ["bob"]
    # not a user of it: 404, nothing changes
    assert "not used by" in err(release(client, auth, code, used_by=ADDR2), 404)
    err(release(client, auth, code, used_by="carol", platform="discord"), 404)
    ok(release(client, auth, code, used_by="bob", platform="discord"))
    assert used_by(client, auth, code) == []


def test_a_released_user_can_claim_again_without_being_paid_twice(client, auth, summer):
    first, second = generate(client, auth, count=2)
    ok(claim(client, auth, first, ADDR))
    ok(release(client, auth, first, used_by=ADDR))
    ok(claim(client, auth, second, ADDR))
    assert wallet_code(client, auth, ADDR) == second
    assert balance(client, auth, ADDR, platform="web3")["xp"] == 40


def test_codes_in_dev_are_claimed_in_the_sandbox(client, auth, summer):
    [code] = generate(client, auth)
    ok(claim(client, auth, code, ADDR, env="dev"))
    assert used_by(client, auth, code) == []
    assert used_by(client, auth, code, env="dev") == [ADDR.lower()]
    assert wallet_code(client, auth, ADDR) == "" and wallet_code(client, auth, ADDR, env="dev") == code
    ok(claim(client, auth, code, ADDR2))  # live: the code is still free
    assert balance(client, auth, ADDR, platform="web3") == {"xp": 0, "ref_xp": 0, "ugc_xp": 0}
    assert balance(client, auth, ADDR, platform="web3", env="dev")["xp"] == 40


def test_20_concurrent_claims_of_a_single_use_code(app, client, auth, summer):
    [code] = generate(client, auth, max_uses=1)

    def claim_it(i):
        return claim(client, auth, code, f"0x{i:040x}").status_code

    codes = run_in_threads(20, claim_it)
    assert codes.count(200) == 1 and codes.count(409) == 19, codes
    assert len(used_by(client, auth, code)) == 1
    assert row_counts(app)["invite_claims"] == 1


def test_concurrent_claims_by_one_user_of_several_codes(app, client, auth, summer):
    codes = generate(client, auth, count=10, max_uses=5)

    def claim_it(i):
        return claim(client, auth, codes[i], ADDR).status_code

    statuses = run_in_threads(10, claim_it)
    assert statuses.count(200) == 1 and statuses.count(409) == 9, statuses
    assert balance(client, auth, ADDR, platform="web3")["xp"] == 40


# -- invite_only --------------------------------------------------------------------------------

def test_invite_only_campaign_advances_nothing_before_a_claim(app, client, auth):
    push_example(client, auth, invite_only=True)
    game = user("gamer", "wowhaus", name="GameSession", category="dices")
    for i in range(5):
        data = ok(client.post("/api/v1/event", json={**game, "id": f"pre{i}", "data": {"bet": 100}},
                              headers=auth))
        assert data["paid"] == 0 and data["completed"] == []
    r = client.get("/api/v1/events", query_string=user("gamer", "wowhaus"), headers=auth)
    assert len(r.json["events"]) == 5  # stored all the same
    p = actions_by_id(progress(client, auth, "gamer", "wowhaus"))
    assert p["roll_5"]["progress"] == 0 and p["roll_5"]["status"] == "locked"
    assert p["daily_login"]["status"] == "locked"
    before = row_counts(app)
    r = client.post("/api/v1/action/value", json=user("gamer", "wowhaus", aid="daily_login"), headers=auth)
    assert "invite" in err(r, 409)
    r = client.post("/api/v1/stream/value", json=user("gamer", "wowhaus", stream="player_score", value=10**4),
                    headers=auth)
    assert ok(r)["paid"] == 0
    assert actions_by_id(progress(client, auth, "gamer", "wowhaus"))["volume"]["progress"] == 0
    assert row_counts(app)["ledger_entries"] == before["ledger_entries"]

    [code] = generate(client, auth)
    ok(claim(client, auth, code, "gamer", platform="wowhaus"))
    assert balance(client, auth, "gamer", "wowhaus")["xp"] == 40  # vip_code
    # the events sent before the claim never count; new ones do
    assert actions_by_id(progress(client, auth, "gamer", "wowhaus"))["roll_5"]["progress"] == 0
    paid = [ok(client.post("/api/v1/event", json={**game, "id": f"post{i}"}, headers=auth))["paid"]
            for i in range(5)]
    assert paid == [0, 0, 0, 0, 105]
    r = client.post("/api/v1/action/value", json=user("gamer", "wowhaus", aid="daily_login"), headers=auth)
    assert ok(r)["paid"] == 75


def test_invite_only_referral_bonuses_wait_for_the_referees_claim(client, auth):
    push_example(client, auth, invite_only=True)
    ok(client.get("/api/v1/token", query_string={"account": "alice", "platform": "discord"}, headers=auth))
    ok(client.post("/api/v1/user/referrer", json=user("bob", ref_account="alice", ref_platform="discord"),
                   headers=auth))
    assert balance(client, auth, "bob")["ref_xp"] == 0
    assert balance(client, auth, "alice")["ref_xp"] == 0
    [code] = generate(client, auth)
    ok(claim(client, auth, code, "bob", platform="discord"))
    assert balance(client, auth, "bob") == {"xp": 40, "ref_xp": 25, "ugc_xp": 0}
    # the referrer need not have claimed a code to get its bonus
    assert balance(client, auth, "alice")["ref_xp"] == 50
    # a release and a new claim do not pay the bonuses again
    ok(release(client, auth, code))
    ok(claim(client, auth, code, "bob", platform="discord"))
    assert balance(client, auth, "bob")["ref_xp"] == 25 and balance(client, auth, "alice")["ref_xp"] == 50


# -- bad input and tenant isolation --------------------------------------------------------------

@pytest.mark.parametrize("method", ["post", "delete"])
@pytest.mark.parametrize("label,body,message", [
    ("malformed", b'{"code": ', "malformed JSON"),
    ("empty", b"", "JSON request body is required"),
    ("array", b'["x"]', "must be an object"),
    ("missing code", {"pid": PID, "used_by": ADDR}, "code: is required"),
    ("missing pid", {"code": "X", "used_by": ADDR}, "pid: is required"),
    ("numeric code", {"code": 5, "pid": PID, "used_by": ADDR}, "code"),
    ("boolean used_by", {"code": "X", "pid": PID, "used_by": True}, "used_by"),
    ("numeric platform", {"code": "X", "pid": PID, "used_by": "a", "platform": 1}, "platform"),
    ("long code", {"code": "C" * 257, "pid": PID, "used_by": ADDR}, "code"),
    ("bad env", {"code": "X", "pid": PID, "used_by": ADDR, "env": "qa"}, "env"),
])
def test_code_writes_with_bad_input_are_400(app, client, auth, summer, method, label, body, message):
    before = row_counts(app)
    call = getattr(client, method)
    if isinstance(body, bytes):
        r = call("/api/v1/code", data=body, headers={**auth, "Content-Type": "application/json"})
    else:
        r = call("/api/v1/code", json=body, headers=auth)
    assert message in err(r, 400)
    assert row_counts(app) == before


def test_claim_without_used_by_is_400(client, auth, summer):
    [code] = generate(client, auth)
    assert "used_by: is required" in err(client.post("/api/v1/code", json={"code": code, "pid": PID},
                                                     headers=auth), 400)


@pytest.mark.parametrize("q,message", [
    ({"pid": PID}, "code"), ({"code": "X"}, "pid"), ({"code": "X", "pid": PID, "env": "qa"}, "env"),
])
def test_code_read_with_bad_parameters_is_400(client, auth, summer, q, message):
    assert message in err(client.get("/api/v1/code", query_string=q, headers=auth), 400)


@pytest.mark.parametrize("q", [{"pid": PID}, {"address": ADDR}])
def test_wallet_code_without_a_parameter_is_400(client, auth, summer, q):
    err(client.get("/api/v1/wallet/code", query_string=q, headers=auth), 400)


def test_unknown_or_foreign_campaign_is_404_on_every_code_endpoint(app, client, auth, summer):
    [code] = generate(client, auth, max_uses=3)
    ok(claim(client, auth, code, ADDR))
    _, key_b = make_org(app, "globex")
    b = {"Authorization": f"Bearer {key_b}"}
    before = row_counts(app)
    for headers, pid in ((auth, "nope"), (b, PID)):
        for r in (
            client.get("/api/v1/code", query_string={"code": code, "pid": pid}, headers=headers),
            client.post("/api/v1/code", json={"code": code, "pid": pid, "used_by": ADDR2}, headers=headers),
            client.delete("/api/v1/code", json={"code": code, "pid": pid}, headers=headers),
            client.get("/api/v1/wallet/code", query_string={"address": ADDR, "pid": pid}, headers=headers),
        ):
            assert "unknown campaign" in err(r, 404)
    assert row_counts(app) == before
    assert used_by(client, auth, code) == [ADDR.lower()]


def test_another_organizations_code_is_unknown_in_its_own_campaign(app, client, auth, summer):
    [code] = generate(client, auth, pid="default")
    _, key_b = make_org(app, "globex")
    b = {"Authorization": f"Bearer {key_b}"}
    err(client.post("/api/v1/code", json={"code": code, "pid": "default", "used_by": ADDR}, headers=b), 404)
    err(client.get("/api/v1/code", query_string={"code": code, "pid": "default"}, headers=b), 404)
    reward(client, auth, "x", 1, pid="default")  # acme's own default still works
    ok(claim(client, auth, code, ADDR, pid="default"))


def test_idempotency_key_replays_a_claim_instead_of_a_409(client, auth, summer):
    [code] = generate(client, auth)
    h = {**auth, "Idempotency-Key": "claim-1"}
    body = {"code": code, "pid": PID, "used_by": ADDR}
    first = client.post("/api/v1/code", json=body, headers=h)
    again = client.post("/api/v1/code", json=body, headers=h)
    assert first.status_code == again.status_code == 200 and again.json == first.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert client.post("/api/v1/code", json={**body, "used_by": ADDR2}, headers=h).status_code == 422
    assert used_by(client, auth, code) == [ADDR.lower()]
