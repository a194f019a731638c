"""POST /api/v1/admin/campaigns/{pid}/simulate: a dry run against the draft."""
from __future__ import annotations

import copy

import pytest

from tests.conftest import make_org

from .quest_helpers import PID, balance, err, example, ok, push, push_example, row_counts, user

PATH = f"/api/v1/admin/campaigns/{PID}/simulate"
GAME = {"name": "GameSession", "category": "dices"}


@pytest.fixture
def summer(client, auth):
    return push_example(client, auth)


def simulate(client, auth, pid=PID, **body):
    r = client.post(f"/api/v1/admin/campaigns/{pid}/simulate",
                    json={"account": "sim", "platform": "wowhaus", **body}, headers=auth)
    return ok(r)


def test_simulate_reports_each_step_and_the_total_paid(app, client, auth, summer):
    before = row_counts(app)
    data = simulate(client, auth,
                    events=[{**GAME, "data": {"bet": 100}} for _ in range(5)],
                    values=[{"aid": "daily_login"}, {"aid": "score_update", "cid": "pro_player", "value": 1000},
                            {"aid": "bonus_score", "cid": "pro_player", "value": 7}],
                    streams=[{"stream": "player_score", "value": 10000}])
    assert set(data) == {"steps", "paid"}
    steps = data["steps"]
    assert len(steps) == 5 + 3 + 1
    assert [s["input"]["kind"] for s in steps] == ["event"] * 5 + ["value"] * 3 + ["stream"]
    assert [s["paid"] for s in steps] == [0, 0, 0, 0, 210, 75 + 20, 200, 7, 300]  # + bronze_250 at 285
    assert sorted(c["aid"] for c in steps[4]["completed"]) == ["bet_500", "roll_5"]
    assert steps[4]["quests_completed"] == ["dice_master"]
    assert steps[5]["input"] == {"kind": "value", "aid": "daily_login"}
    assert {"aid": "roll_5", "progress": 3, "target": 5} in steps[2]["advanced"]
    assert data["paid"] == {"xp": 210 + 75 + 20 + 200 + 7 + 300, "ref_xp": 0, "ugc_xp": 0}
    # a dry run writes nothing at all
    assert row_counts(app) == before


def test_simulate_uses_the_draft_not_the_live_definition(app, client, auth, summer):
    values = [{"aid": "daily_login"}]
    assert simulate(client, auth, values=values)["paid"]["xp"] == 75
    draft = copy.deepcopy(summer)
    draft["actions"][1]["xp"] = 100  # daily_login, still with the 50% bonus
    draft["actions"].append({"id": "brand_new", "name": "New", "type": "api_call", "xp": 11})
    push(client, auth, draft, publish=False)
    before = row_counts(app)
    data = simulate(client, auth, values=values + [{"aid": "brand_new"}])
    assert data["paid"]["xp"] == 150 + 11
    assert row_counts(app) == before
    # live still pays the published figure and knows nothing of the new action
    r = client.post("/api/v1/action/value", json=user("real", aid="daily_login"), headers=auth)
    assert ok(r)["paid"] == 75
    err(client.post("/api/v1/action/value", json=user("real", aid="brand_new"), headers=auth), 404)


def test_simulate_works_on_a_campaign_never_published(app, client, auth):
    push(client, auth, example(), publish=False)
    before = row_counts(app)
    data = simulate(client, auth, values=[{"aid": "daily_login"}])
    assert data["paid"] == {"xp": 75, "ref_xp": 0, "ugc_xp": 0}
    assert row_counts(app) == before


def test_simulate_writes_nothing_for_an_existing_user_either(app, client, auth, summer):
    ok(client.post("/api/v1/user/reward", json=user("sim", "wowhaus", id="r", xp=5), headers=auth))
    ok(client.post("/api/v1/user/reward", json=user("sim", "wowhaus", id="r", xp=5, env="dev"), headers=auth))
    before = row_counts(app)
    simulate(client, auth, events=[GAME] * 6, values=[{"aid": "daily_login"}],
             streams=[{"stream": "player_score", "value": 50000}])
    assert row_counts(app) == before
    assert balance(client, auth, "sim", "wowhaus") == {"xp": 5, "ref_xp": 0, "ugc_xp": 0}
    assert balance(client, auth, "sim", "wowhaus", env="dev") == {"xp": 5, "ref_xp": 0, "ugc_xp": 0}
    # twice in a row: same answer, since nothing was kept
    a = simulate(client, auth, values=[{"aid": "daily_login"}])
    b = simulate(client, auth, values=[{"aid": "daily_login"}])
    assert a == b and a["paid"]["xp"] == 75


def test_simulate_reports_a_locked_action_and_goes_on(app, client, auth, summer):
    push(client, auth, {"id": PID, "name": "Gated", "actions": [
        {"id": "tutorial", "name": "T", "type": "api_call", "xp": 10},
        {"id": "level", "name": "L", "type": "api_number", "target": 5, "xp": 50, "deps": ["tutorial"]},
    ]}, publish=False)
    before = row_counts(app)
    data = simulate(client, auth, values=[{"aid": "level", "value": 9}, {"aid": "tutorial"},
                                          {"aid": "level", "value": 9}])
    first, second, third = data["steps"]
    assert first["paid"] == 0 and "locked" in first["error"]
    assert (second["paid"], third["paid"]) == (10, 50)
    assert data["paid"]["xp"] == 60
    assert row_counts(app) == before


def test_simulate_needs_nothing_but_the_user(client, auth, summer):
    assert simulate(client, auth) == {"steps": [], "paid": {"xp": 0, "ref_xp": 0, "ugc_xp": 0}}


@pytest.mark.parametrize("body,status,message", [
    (b'{"account": "a", ', 400, "malformed JSON"),
    (b"", 400, "JSON request body is required"),
    (b"[]", 400, "must be an object"),
    ({"platform": "p"}, 400, "account: is required"),
    ({"account": "a"}, 400, "platform: is required"),
    ({"account": 1, "platform": "p"}, 400, "account"),
    ({"account": "a", "platform": "p", "events": {}}, 400, "events"),
    ({"account": "a", "platform": "p", "events": [{"category": "x"}]}, 400, "name"),
    ({"account": "a", "platform": "p", "events": [{"name": "n", "data": [1]}]}, 400, "data"),
    ({"account": "a", "platform": "p", "values": [{"value": 1}]}, 400, "aid"),
    ({"account": "a", "platform": "p", "values": [{"aid": "score_update", "value": True}]}, 400, "value"),
    ({"account": "a", "platform": "p", "values": [{"aid": "score_update", "value": "1"}]}, 400, "value"),
    ({"account": "a", "platform": "p", "values": [{"aid": "score_update", "value": 1e300}]}, 400, "value"),
    ({"account": "a", "platform": "p", "values": [{"aid": "nope"}]}, 404, "unknown action"),
    ({"account": "a", "platform": "p", "values": [{"aid": "roll_5"}]}, 400, "type"),
    ({"account": "a", "platform": "p", "values": [{"aid": "score_update"}]}, 400, "value"),
    ({"account": "a", "platform": "p", "streams": [{"stream": "s"}]}, 400, "value"),
    ({"account": "a", "platform": "p", "streams": [{"stream": "s", "value": -1}]}, 400, "value"),
    ({"account": "a", "platform": "p", "streams": [{"stream": "s", "value": False}]}, 400, "value"),
    ({"account": "a", "platform": "p", "streams": [{"stream": "player_score", "value": 1e300}]}, 400, "value"),
    ({"account": "a", "platform": "p", "values": [{"aid": "x"}] * 1001}, 400, "values"),
])
def test_simulate_bad_input_is_4xx_and_writes_nothing(app, client, auth, summer, body, status, message):
    before = row_counts(app)
    if isinstance(body, bytes):
        r = client.post(PATH, data=body, headers={**auth, "Content-Type": "application/json"})
    else:
        r = client.post(PATH, json=body, headers=auth)
    assert message in err(r, status)
    assert row_counts(app) == before


def test_simulate_unknown_or_foreign_campaign_is_404(app, client, auth, summer):
    before = row_counts(app)
    body = {"account": "a", "platform": "p", "values": [{"aid": "daily_login"}]}
    assert "unknown campaign" in err(client.post("/api/v1/admin/campaigns/nope/simulate", json=body,
                                                 headers=auth), 404)
    _, key_b = make_org(app, "globex")
    after_org = row_counts(app)
    r = client.post(PATH, json=body, headers={"Authorization": f"Bearer {key_b}"})
    assert "unknown campaign" in err(r, 404)
    assert row_counts(app) == after_org
    assert after_org["users"] == before["users"]
