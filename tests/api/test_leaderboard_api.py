"""GET /leaderboard: v1 (top 100) and v2 (paginated, needs the caller, around=N)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import User
from tests.conftest import make_org

from .quest_helpers import PID, err, ok, push, push_example, reward, row_counts, user

V1 = {"id": "ladder", "name": "Ladder",
      "actions": [{"id": "go", "name": "Go", "type": "api_call", "xp": 10}]}


@pytest.fixture
def summer(client, auth):
    return push_example(client, auth)


@pytest.fixture
def ladder(client, auth):
    push(client, auth, V1)
    return V1


def board(client, auth, pid=PID, status=200, **q):
    r = client.get("/api/v1/leaderboard", query_string={"pid": pid, **q}, headers=auth)
    if status != 200:
        return err(r, status)
    return ok(r)


def me(account="u00", platform="discord"):
    return {"account": account, "platform": platform}


def ranks(data):
    return [(row["rank"], row["user"]["id"], row["score"]) for row in data["leaderboard"]]


def seed(client, auth, n, pid=PID, step=1):
    """u00..u(n-1) with totals step*(n - i): u00 first."""
    for i in range(n):
        reward(client, auth, f"u{i:02d}" if n <= 100 else f"u{i:03d}", step * (n - i), pid=pid)


# -- v1 ------------------------------------------------------------------------------------------

def test_v1_is_the_top_100_with_the_rank_of_the_account(client, auth, ladder):
    seed(client, auth, 105, pid="ladder")
    data = board(client, auth, pid="ladder")
    assert set(data) == {"live", "leaderboard"} and data["live"] is True
    rows = ranks(data)
    assert len(rows) == 100
    assert rows[0] == (1, "u000", 105) and rows[-1] == (100, "u099", 6)
    assert [r[0] for r in rows] == list(range(1, 101))
    data = board(client, auth, pid="ladder", account="u104", platform="discord")
    assert data["rank"] == 105 and len(data["leaderboard"]) == 100
    # v1 ignores paging: always the top 100
    assert ranks(board(client, auth, pid="ladder", offset=50, limit=5)) == rows


def test_v1_needs_no_account_but_account_and_platform_go_together(client, auth, ladder):
    reward(client, auth, "u00", 5, pid="ladder")
    assert "rank" not in board(client, auth, pid="ladder")
    board(client, auth, pid="ladder", status=400, account="u00")
    board(client, auth, pid="ladder", status=400, platform="discord")
    assert board(client, auth, pid="ladder", **me())["rank"] == 1
    assert board(client, auth, pid="ladder", **me("ghost"))["rank"] is None


def test_v1_user_fields(app, client, auth, ladder):
    ok(client.get("/api/v1/token", query_string={"account": "p1", "platform": "steam", "name": "Player One"},
                  headers=auth))
    reward(client, auth, "p1", 30, platform="steam", pid="ladder")
    reward(client, auth, "p2", 20, platform="steam", pid="ladder")
    with app.app_context():
        u = db.session.scalars(select(User).where(User.account == "p2")).one()
        u.avatar = "https://example.com/p2.png"
        db.session.commit()
    assert board(client, auth, pid="ladder")["leaderboard"] == [
        {"rank": 1, "score": 30, "user": {"id": "p1", "name": "Player One", "avatar": None}},
        {"rank": 2, "score": 20, "user": {"id": "p2", "name": "p2", "avatar": "https://example.com/p2.png"}},
    ]


# -- v2 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("q", [{}, {"account": "u00"}, {"platform": "discord"}])
def test_v2_needs_account_and_platform(client, auth, summer, q):
    reward(client, auth, "u00", 5)
    assert "account" in board(client, auth, status=400, **q)


@pytest.mark.parametrize("q,message", [
    ({"limit": 101}, "limit"), ({"limit": 0}, "limit"), ({"limit": -1}, "limit"), ({"limit": "ten"}, "limit"),
    ({"offset": -1}, "offset"), ({"offset": "x"}, "offset"), ({"offset": 1.5}, "offset"),
    ({"around": 0}, "around"), ({"around": 51}, "around"), ({"around": "y"}, "around"),
    ({"env": "qa"}, "env"),
    # ASCII digits only: int() reads each of these as a number
    ({"limit": "\u0661\u0660"}, "limit"), ({"limit": "1_0"}, "limit"), ({"limit": " 7 "}, "limit"),
    ({"limit": "+7"}, "limit"), ({"offset": "\u0663"}, "offset"), ({"around": "\uff13"}, "around"),
])
def test_v2_bad_paging_is_400(client, auth, summer, q, message):
    assert message in board(client, auth, status=400, **me(), **q)


def test_v2_pages_with_offset_and_limit_and_ranks_the_caller(client, auth, summer):
    seed(client, auth, 30)
    data = board(client, auth, **me("u07"))
    assert data["live"] is True and data["rank"] == 8
    assert len(data["leaderboard"]) == 30  # default page: up to 100
    page = board(client, auth, **me("u07"), offset=10, limit=5)
    assert ranks(page) == [(11, "u10", 20), (12, "u11", 19), (13, "u12", 18), (14, "u13", 17), (15, "u14", 16)]
    assert page["rank"] == 8  # the caller's rank, wherever the page is
    assert ranks(board(client, auth, **me(), offset=28, limit=100)) == [(29, "u28", 2), (30, "u29", 1)]
    assert board(client, auth, **me(), offset=30)["leaderboard"] == []
    assert len(board(client, auth, **me(), limit=100)["leaderboard"]) == 30


def test_v2_caller_without_points_has_no_rank(app, client, auth, summer):
    seed(client, auth, 3)
    before = row_counts(app)
    assert board(client, auth, **me("ghost"))["rank"] is None
    assert row_counts(app) == before  # reading creates nothing
    # a user whose total went back to zero is not ranked
    reward(client, auth, "broke", 10)
    ok(client.post("/api/v1/user/withdraw", json={"account": "broke", "platform": "discord", "pid": PID,
                                                  "id": "w", "xp": 10}, headers=auth))
    data = board(client, auth, **me("broke"))
    assert data["rank"] is None and "broke" not in [r["user"]["id"] for r in data["leaderboard"]]


def test_v2_around_returns_the_n_above_and_below(client, auth, summer):
    seed(client, auth, 10, step=10)  # u00: 100 ... u09: 10
    data = board(client, auth, **me("u04"), around=2)
    assert data["rank"] == 5
    assert ranks(data) == [(3, "u02", 80), (4, "u03", 70), (5, "u04", 60), (6, "u05", 50), (7, "u06", 40)]
    assert [r[1] for r in ranks(board(client, auth, **me("u00"), around=2))] == ["u00", "u01", "u02"]
    assert [r[1] for r in ranks(board(client, auth, **me("u09"), around=3))] == ["u06", "u07", "u08", "u09"]
    assert len(board(client, auth, **me("u04"), around=50)["leaderboard"]) == 10
    # a caller who is not ranked has no neighbours
    data = board(client, auth, **me("ghost"), around=2)
    assert data["leaderboard"] == [] and data["rank"] is None


def test_ties_go_to_whoever_reached_the_total_first(client, auth, clock, summer):
    reward(client, auth, "late", 60, rid="a")
    clock.advance(minutes=1)
    reward(client, auth, "early", 100, rid="a")
    clock.advance(minutes=1)
    reward(client, auth, "late", 40, rid="b")  # late reaches 100 after early
    clock.advance(minutes=1)
    reward(client, auth, "third", 100, rid="a")
    assert ranks(board(client, auth, **me("third"))) == [(1, "early", 100), (2, "late", 100), (3, "third", 100)]
    assert board(client, auth, **me("late"))["rank"] == 2
    # early drops and comes back: it reached 100 again last
    clock.advance(minutes=1)
    ok(client.post("/api/v1/user/withdraw", json={"account": "early", "platform": "discord", "pid": PID,
                                                  "id": "w", "xp": 10}, headers=auth))
    clock.advance(minutes=1)
    reward(client, auth, "early", 10, rid="b")
    assert ranks(board(client, auth, **me("early"))) == [(1, "late", 100), (2, "third", 100), (3, "early", 100)]
    assert board(client, auth, **me("early"))["rank"] == 3
    assert [r[1] for r in ranks(board(client, auth, **me("third"), around=1))] == ["late", "third", "early"]


def test_the_score_is_the_total_of_xp_ref_xp_and_ugc_xp(client, auth, summer):
    reward(client, auth, "mix", 10)
    reward(client, auth, "mix", 5, rid="u", kind="ugc")
    ok(client.get("/api/v1/token", query_string={"account": "mix", "platform": "discord"}, headers=auth))
    ok(client.post("/api/v1/user/referrer", json={"account": "friend", "platform": "discord", "pid": PID,
                                                  "ref_account": "mix", "ref_platform": "discord"},
                   headers=auth))
    assert ranks(board(client, auth, **me("mix"))) == [(1, "mix", 65), (2, "friend", 25)]


def test_email_looking_names_are_masked(client, auth, summer):
    ok(client.get("/api/v1/token", query_string={"account": "a1", "platform": "discord",
                                                 "name": "jane.doe@example.com"}, headers=auth))
    reward(client, auth, "a1", 30)
    reward(client, auth, "bob@mail.example.org", 20, platform="email")
    ok(client.get("/api/v1/token", query_string={"account": "c1", "platform": "discord", "name": "Not @ email"},
                  headers=auth))
    reward(client, auth, "c1", 10)
    rows = board(client, auth, **me("a1"))["leaderboard"]
    names = [r["user"]["name"] for r in rows]
    assert names == ["j***@example.com", "b***@mail.example.org", "Not @ email"]
    assert "jane.doe@example.com" not in str(rows)


def test_leaderboard_in_dev_is_the_sandbox(client, auth, summer):
    reward(client, auth, "live_user", 10)
    reward(client, auth, "dev_user", 10, env="dev")
    assert [r[1] for r in ranks(board(client, auth, **me("live_user")))] == ["live_user"]
    assert [r[1] for r in ranks(board(client, auth, **me("dev_user"), env="dev"))] == ["dev_user"]


def test_dev_uses_the_draft_version_setting(client, auth, summer):
    draft = dict(summer)
    draft["leaderboard"] = {"version": 1}
    push(client, auth, draft, publish=False)
    reward(client, auth, "u00", 10, env="dev")
    assert board(client, auth, env="dev")["leaderboard"][0]["user"]["id"] == "u00"  # v1: no account needed
    board(client, auth, status=400)  # live is still v2


def test_unknown_or_foreign_campaign_is_404(app, client, auth, summer):
    reward(client, auth, "u00", 10)
    board(client, auth, pid="nope", status=404, **me())
    _, key_b = make_org(app, "globex")
    b = {"Authorization": f"Bearer {key_b}"}
    assert "unknown campaign" in board(client, b, status=404, **me())
    assert "unknown campaign" in board(client, b, status=404)


def test_missing_pid_is_400(client, auth, summer):
    assert "pid" in err(client.get("/api/v1/leaderboard", query_string=me(), headers=auth), 400)


BIG = {"id": "big", "name": "Big", "leaderboard": {"version": 2}}


def test_ranks_across_score_buckets_and_moves_between_them(client, auth, clock):
    push(client, auth, BIG)
    totals = {"a": 1, "b": 63, "c": 64, "d": 65, "e": 127, "f": 128, "g": 129, "h": 1000, "i": 1001,
              "j": 1010, "k": 70000, "l": 70001, "m": 10**9}
    for account, xp in totals.items():
        clock.advance(seconds=1)
        reward(client, auth, account, xp, pid="big")
    # ties inside a wide bucket, reached later than h
    clock.advance(seconds=1)
    reward(client, auth, "h2", 1000, pid="big")
    totals["h2"] = 1000
    # moves: down a bucket, to zero (unranked), below zero, and up past everyone
    moves = [("g", -100), ("b", -63), ("a", -5), ("c", 10**9)]
    for account, delta in moves:
        clock.advance(seconds=1)
        path = "/api/v1/user/withdraw" if delta < 0 else "/api/v1/user/reward"
        ok(client.post(path, json=user(account, pid="big", id=f"m-{account}", xp=abs(delta)), headers=auth))
        totals[account] += delta
    ranked = [a for a, t in sorted(totals.items(), key=lambda kv: -kv[1]) if t > 0]
    # c reached 10**9 + 64 last but is alone there; m and c differ
    assert ranked[:2] == ["c", "m"]
    full = board(client, auth, pid="big", **me("m"), limit=100)
    assert [r["user"]["id"] for r in full["leaderboard"]] == ranked
    assert [r["score"] for r in full["leaderboard"]] == [totals[a] for a in ranked]
    for position, account in enumerate(ranked, start=1):
        data = board(client, auth, pid="big", **me(account), around=2)
        assert data["rank"] == position, account
        lo = max(0, position - 3)
        assert [r["user"]["id"] for r in data["leaderboard"]] == ranked[lo:position + 2], account
        assert [r["rank"] for r in data["leaderboard"]] == list(range(lo + 1, min(len(ranked), position + 2) + 1))
    for account in ("a", "b"):
        assert board(client, auth, pid="big", **me(account))["rank"] is None
