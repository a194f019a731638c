"""GET /campaign/points (seasons) and GET /campaign/stats.

The example's seasons: Rookies 1000, Veterans 1150, Masters 1000 (3150 in
all). Rewards stay below 250 per user so that no milestone of the example
could ever add to them.
"""
from __future__ import annotations

import pytest

from tests.conftest import make_org

from .quest_helpers import PID, err, ok, push, push_example, reward, row_counts, user

SEASONS = [("Season 1: Rookies", 1000), ("Season 2: Veterans", 1150), ("Season 3: Masters", 1000)]


@pytest.fixture
def summer(client, auth):
    return push_example(client, auth)


def award(client, auth, total, per_user=200, prefix="p", **extra):
    """Award ``total`` points in all, spread over users of at most ``per_user`` each."""
    i = 0
    while total > 0:
        xp = min(per_user, total)
        reward(client, auth, f"{prefix}{i}", xp, **extra)
        total -= xp
        i += 1
    return i


def points(client, auth, pid=PID, **q):
    return ok(client.get("/api/v1/campaign/points", query_string={"pid": pid, **q}, headers=auth))


def stats(client, auth, pid=PID, **q):
    return ok(client.get("/api/v1/campaign/stats", query_string={"pid": pid, **q}, headers=auth))


# -- GET /campaign/points ---------------------------------------------------------------------------

def test_points_of_a_new_campaign_are_in_the_first_season(client, auth, summer):
    assert points(client, auth) == {
        "id": PID, "name": "Summer Gaming Challenge", "total_points": 0, "season_points": 0,
        "season_index": 0, "season": {"name": "Season 1: Rookies", "max_xp": 1000},
    }


def test_2500_points_are_350_into_the_third_season(client, auth, summer):
    assert award(client, auth, 2500) > 1  # several users
    assert points(client, auth) == {
        "id": PID, "name": "Summer Gaming Challenge", "total_points": 2500, "season_points": 350,
        "season_index": 2, "season": {"name": "Season 3: Masters", "max_xp": 1000},
    }


@pytest.mark.parametrize("total,index,season_points", [
    (1, 0, 1), (999, 0, 999),
    (1000, 1, 0),  # a boundary reached exactly starts the next season at 0
    (1001, 1, 1), (2149, 1, 1149), (2150, 2, 0), (3149, 2, 999),
    (3150, 2, 1000), (3151, 2, 1000), (4000, 2, 1000),  # past the last: stays there, capped
])
def test_season_boundaries(client, auth, summer, total, index, season_points):
    award(client, auth, total)
    data = points(client, auth)
    name, max_xp = SEASONS[index]
    assert (data["total_points"], data["season_index"], data["season_points"]) == (total, index, season_points)
    assert data["season"] == {"name": name, "max_xp": max_xp}


def test_points_awarded_count_every_kind_and_ignore_withdrawals(client, auth, summer):
    reward(client, auth, "a", 100)
    reward(client, auth, "a", 50, rid="u", kind="ugc")
    ok(client.post("/api/v1/action/value", json=user("a", aid="daily_login"), headers=auth))  # 75
    ok(client.get("/api/v1/token", query_string={"account": "a", "platform": "discord"}, headers=auth))
    ok(client.post("/api/v1/user/referrer", json=user("b", ref_account="a", ref_platform="discord"),
                   headers=auth))  # 25 + 50
    assert points(client, auth)["total_points"] == 100 + 50 + 75 + 75
    ok(client.post("/api/v1/user/withdraw", json=user("a", id="w", xp=120), headers=auth))
    assert points(client, auth)["total_points"] == 300  # awarded, not held
    reward(client, auth, "a", 100)  # a repeated reward id pays nothing
    assert points(client, auth)["total_points"] == 300


def test_points_of_a_campaign_without_seasons(client, auth):
    push(client, auth, {"id": "plain", "name": "Plain"})
    reward(client, auth, "a", 70, pid="plain")
    data = points(client, auth, pid="plain")
    assert (data["total_points"], data["season_points"]) == (70, 70)
    assert data["season"] is None


def test_points_in_dev_count_the_sandbox_against_the_draft_seasons(client, auth, summer):
    award(client, auth, 1200)
    draft = dict(summer, seasons=[{"name": "Only", "max_xp": 100}])
    push(client, auth, draft, publish=False)
    award(client, auth, 50, env="dev")
    assert points(client, auth)["total_points"] == 1200
    data = points(client, auth, env="dev")
    assert data == {"id": PID, "name": "Summer Gaming Challenge", "total_points": 50, "season_points": 50,
                    "season_index": 0, "season": {"name": "Only", "max_xp": 100}}


# -- GET /campaign/stats -----------------------------------------------------------------------------

def test_stats_of_a_new_campaign(client, auth, summer):
    assert stats(client, auth) == {
        "id": PID, "name": "Summer Gaming Challenge", "total_points": 0, "total_users": 0,
        "active_users": 0, "stats": {"stats": {"pcn": 0, "ecn": 0, "acn": 0}},
    }


def test_stats_count_points_users_and_users_active_in_the_last_7_days(client, auth, clock, summer):
    for name, xp in (("a", 100), ("b", 200), ("c", 30)):
        reward(client, auth, name, xp)
    data = stats(client, auth)
    assert (data["total_points"], data["total_users"], data["active_users"]) == (330, 3, 3)
    assert data["stats"]["stats"] == {"pcn": 330, "ecn": 3, "acn": 3}

    clock.advance(days=8)
    data = stats(client, auth)
    assert (data["total_users"], data["active_users"]) == (3, 0)
    ok(client.post("/api/v1/action/value", json=user("b", aid="daily_login"), headers=auth))
    data = stats(client, auth)
    assert data == {"id": PID, "name": "Summer Gaming Challenge", "total_points": 405 + 20,  # + bronze_250, crossed on the way
                    "total_users": 3,
                    "active_users": 1, "stats": {"stats": {"pcn": 405 + 20, "ecn": 3, "acn": 1}}}
    # an event that pays nothing is activity too, and a new user is a participant
    ok(client.post("/api/v1/event", json=user("d", name="Login"), headers=auth))
    data = stats(client, auth)
    assert (data["total_users"], data["active_users"], data["total_points"]) == (4, 2, 405 + 20)
    # exactly 7 days later b still counts as active; a second later not
    clock.advance(days=7)
    assert stats(client, auth)["active_users"] == 2
    clock.advance(seconds=1)
    assert stats(client, auth)["active_users"] == 0


def test_stats_of_other_campaigns_and_envs_are_separate(client, auth, summer):
    reward(client, auth, "a", 10)
    reward(client, auth, "a", 20, pid="default")
    reward(client, auth, "z", 5, env="dev")
    assert stats(client, auth)["stats"]["stats"] == {"pcn": 10, "ecn": 1, "acn": 1}
    assert stats(client, auth, env="dev")["stats"]["stats"] == {"pcn": 5, "ecn": 1, "acn": 1}
    assert stats(client, auth, pid="default")["stats"]["stats"] == {"pcn": 20, "ecn": 1, "acn": 1}


def test_reads_create_nothing(app, client, auth, summer):
    before = row_counts(app)
    points(client, auth)
    stats(client, auth)
    assert row_counts(app) == before


# -- bad input and tenant isolation ---------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/campaign/points", "/api/v1/campaign/stats"])
def test_bad_parameters_are_400(client, auth, summer, path):
    assert "pid" in err(client.get(path, headers=auth), 400)
    assert "env" in err(client.get(path, query_string={"pid": PID, "env": "qa"}, headers=auth), 400)


@pytest.mark.parametrize("path", ["/api/v1/campaign/points", "/api/v1/campaign/stats"])
def test_unknown_unpublished_or_foreign_campaign_is_404(app, client, auth, summer, path):
    assert "unknown campaign" in err(client.get(path, query_string={"pid": "nope"}, headers=auth), 404)
    client.put("/api/v1/admin/campaigns/draft_only", json={"id": "draft_only", "name": "D"}, headers=auth)
    err(client.get(path, query_string={"pid": "draft_only"}, headers=auth), 404)
    ok(client.get(path, query_string={"pid": "draft_only", "env": "dev"}, headers=auth))
    _, key_b = make_org(app, "globex")
    r = client.get(path, query_string={"pid": PID}, headers={"Authorization": f"Bearer {key_b}"})
    assert "unknown campaign" in err(r, 404)
