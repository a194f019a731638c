"""The participant widget (SPEC §7, §11) through the test client: the page and
its fragments, the actions and their out-of-band updates, invite codes, games,
widget sessions, security headers, escaping and the embed frame.

Campaigns are published from examples/*.json through the Management API and
users are funded through the Campaign API, as an integrator would.
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.access import tokens
from extensions import db
from models import Campaign, InviteClaim, LedgerEntry, Play, RefCode, User
from tests.api.quest_helpers import example, push, summer_doc
from tests.conftest import START, change_settings, make_org
from tests.web.html_tree import Node, parse

STATIC = Path(__file__).resolve().parents[2] / "static"
SECRET = "test-secret-key"
SEED = 424242
SUMMER = "summer_games"
DEFAULT = "default"
PARTNER = "https://partner.example.com"
EVIL = "<script>alert(1)</script>"
PARTS = {"header": "qk-header", "quests": "qk-quests", "referral": "qk-referral", "invite": "qk-invite",
         "leaderboard": "qk-leaderboard", "activity": "qk-activity", "games": "qk-games"}


@pytest.fixture
def app_config():
    """A seeded random source: game draws are reproducible."""
    return {"RNG": random.Random(SEED)}


# -- a small DOM, enough to look at fragments by structure rather than by substring ------------

def dom(html: str) -> Node:
    return parse(html)


def html_of(r) -> str:
    return r.get_data(as_text=True)


def tops(r) -> list[Node]:
    """The top-level elements of a fragment response."""
    return dom(html_of(r)).elements


def top_ids(r) -> list[str]:
    return [n.attrs.get("id") for n in tops(r)]


def oob(node: Node) -> bool:
    return node.attrs.get("hx-swap-oob") == "true"


# -- publishing, users, points -------------------------------------------------------------------

@pytest.fixture
def summer(client, auth):
    """examples/campaign-example.json (allowed_origins: the partner) published."""
    doc = summer_doc()
    push(client, auth, doc)
    return doc


@pytest.fixture
def acme(client, auth):
    """examples/default-example.json (games, no allowed_origins) published as the default campaign."""
    doc = example("default-example.json")
    push(client, auth, doc)
    return doc


def user_token(client, auth, account: str, name: str | None = None, platform: str = "discord") -> str:
    q = {"account": account, "platform": platform, **({"name": name} if name is not None else {})}
    r = client.get("/api/v1/token", query_string=q, headers=auth)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["data"]["token"]


def fund(client, auth, account: str, xp: int, pid: str, platform: str = "discord", env: str = "live"):
    body = {"account": account, "platform": platform, "pid": pid, "id": f"fund-{account}-{xp}-{env}",
            "xp": xp, "env": env}
    r = client.post("/api/v1/user/reward", json=body, headers=auth)
    assert r.status_code == 200, r.get_json()


def xp_of(client, auth, account: str, pid: str, platform: str = "discord", env: str = "live") -> int:
    r = client.get("/api/v1/user/balance", headers=auth,
                   query_string={"account": account, "platform": platform, "pid": pid, "env": env})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["data"]["xp"]


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def user_id(app, account: str, platform: str = "discord") -> int:
    with app.app_context():
        return db.session.scalars(select(User.id).where(User.account == account,
                                                        User.platform == platform)).one()


# -- opening the widget -----------------------------------------------------------------------

def open_widget(client, pid: str, token: str, **query):
    return client.get(f"/widget/{pid}", query_string={"user_token": token, **query})


def session_of(r) -> str:
    """The widget session the page put in <body hx-headers>."""
    assert r.status_code == 200, html_of(r)
    body = dom(html_of(r)).one("body")
    headers = json.loads(body.attrs["hx-headers"])
    assert set(headers) == {"X-Widget-Session"}
    return headers["X-Widget-Session"]


def hx(session: str | None) -> dict:
    h = {"HX-Request": "true"}
    if session is not None:
        h["X-Widget-Session"] = session
    return h


def sign_in(client, auth, pid: str, account: str = "alice", name: str | None = None, **query) -> str:
    return session_of(open_widget(client, pid, user_token(client, auth, account, name), **query))


def assert_toast(r, status: int, needle: str):
    """An error told in a toast alone, swapped out of band; the target is left as it is."""
    assert r.status_code == status, html_of(r)
    [toast] = tops(r)
    assert toast.attrs["id"] == "qk-toasts" and oob(toast)
    assert needle in toast.text
    assert r.headers.get("HX-Reswap") == "none"


def assert_full_page(r):
    text = html_of(r)
    assert text.startswith("<!DOCTYPE html>")
    assert r.mimetype == "text/html"
    root = dom(text)
    assert [e.tag for e in root.elements] == ["html"]
    return root


# == 1. page or fragment ========================================================================

def test_preview_url_renders_the_full_page_with_pinned_htmx_and_the_session_in_hx_headers(
        app, client, auth, summer):
    token = user_token(client, auth, "alice", "Alice")
    r = open_widget(client, SUMMER, token)
    assert r.status_code == 200
    root = assert_full_page(r)
    scripts = [s.attrs.get("src") for s in root.all("script")]
    assert "/static/js/htmx-2.0.11.min.js" in scripts
    assert (STATIC / "js" / "htmx-2.0.11.min.js").is_file()
    assert client.get("/static/js/htmx-2.0.11.min.js").status_code == 200
    body = root.one("body")
    assert body.elements[0].attrs["id"] == "qk-body"
    assert root.by_id("qk-balance").attrs["data-balance"] == "0"
    assert root.one("span", "qk-name").text == "Alice"
    # The session names this user, this campaign, live.
    ws = tokens.read_widget_session([SECRET], session_of(r), START.timestamp())
    with app.app_context():
        campaign_id = db.session.scalars(select(Campaign.id).where(Campaign.pid == SUMMER)).one()
    assert (ws.user_id, ws.campaign_id, ws.env) == (user_id(app, "alice"), campaign_id, "live")
    assert "HX-Request" in r.headers["Vary"]
    # The token is not echoed anywhere in the page.
    assert token not in html_of(r)


def test_htmx_request_with_the_session_gets_only_the_body_fragment(client, auth, summer):
    session = sign_in(client, auth, SUMMER)
    r = client.get(f"/widget/{SUMMER}", headers=hx(session))
    assert r.status_code == 200
    text = html_of(r)
    assert text.startswith('<main id="qk-body"')
    assert "<html" not in text and "<!DOCTYPE" not in text and "<script" not in text
    [main] = tops(r)
    assert main.attrs["id"] == "qk-body"
    for part in ("qk-header", "qk-quests", "qk-referral", "qk-leaderboard", "qk-activity"):
        main.by_id(part)
    assert "HX-Request" in r.headers["Vary"]


def test_history_restore_request_is_answered_with_the_full_page(client, auth, summer):
    token = user_token(client, auth, "alice")
    session = session_of(open_widget(client, SUMMER, token))
    r = client.get(f"/widget/{SUMMER}", query_string={"user_token": token},
                   headers={**hx(session), "HX-History-Restore-Request": "true"})
    assert r.status_code == 200
    assert_full_page(r)
    assert "HX-Request" in r.headers["Vary"]


# == 2. parts ===================================================================================

@pytest.fixture
def everything(client, auth, acme):
    """summer_games, invite-only, with the default example's games added: every part is shown."""
    doc = summer_doc(games=acme["games"], invite_only=True)
    push(client, auth, doc)
    return doc


@pytest.mark.parametrize("name", list(PARTS))
def test_each_part_is_a_fragment_whose_root_id_is_its_own(client, auth, everything, name):
    session = sign_in(client, auth, SUMMER)
    r = client.get(f"/widget/{SUMMER}/part/{name}", headers=hx(session))
    assert r.status_code == 200, html_of(r)
    assert "<html" not in html_of(r)
    [root] = tops(r)
    assert root.attrs["id"] == PARTS[name]
    assert not oob(root)
    assert "HX-Request" in r.headers["Vary"]


def test_parts_show_the_current_state(client, auth, acme):
    push(client, auth, summer_doc(games=acme["games"]))
    session = sign_in(client, auth, SUMMER, "alice", "Alice")
    fund(client, auth, "alice", 60, SUMMER)
    header = dom(html_of(client.get(f"/widget/{SUMMER}/part/header", headers=hx(session))))
    assert header.by_id("qk-balance").attrs["data-balance"] == "60"
    games = dom(html_of(client.get(f"/widget/{SUMMER}/part/games", headers=hx(session))))
    assert [a.attrs["data-game"] for a in games.all("article", "qk-game")] == ["NEON_WHEEL", "COSMIC_SLOTS"]
    board = dom(html_of(client.get(f"/widget/{SUMMER}/part/leaderboard", headers=hx(session))))
    assert board.by_id("qk-my-rank").text == "#1"
    assert board.one("li", "qk-me-row").one("span", "qk-board-score").text == "60"


def ranks_shown(board: Node) -> list[str]:
    return [li.text if "qk-gap" in li.attrs.get("class", "") else li.one("span", "qk-board-rank").text
            for li in board.one("ol", "qk-board").all("li")]


@pytest.mark.parametrize("mine,rank,shown", [
    (150, 10, ["#1", "#2", "#3", "#4", "#5", "…", "#8", "#9", "#10", "#11"]),
    (450, 7, ["#1", "#2", "#3", "#4", "#5", "#6", "#7", "#8", "#9"]),  # no gap: no rank left out
])
def test_leaderboard_shows_the_top_and_the_users_own_rank_below_it(client, auth, summer, mine, rank, shown):
    for i in range(1, 11):
        fund(client, auth, f"u{i:02}", 100 * i, SUMMER)
    fund(client, auth, "alice", mine, SUMMER)
    session = sign_in(client, auth, SUMMER, "alice", "Alice")
    board = dom(html_of(client.get(f"/widget/{SUMMER}/part/leaderboard", headers=hx(session))))
    assert board.by_id("qk-my-rank").text == f"#{rank}"
    assert ranks_shown(board) == shown
    me = board.one("li", "qk-me-row")
    assert me.attrs["aria-current"] == "true"
    assert me.one("span", "qk-board-rank").text == f"#{rank}"
    assert me.one("span", "qk-board-name").text == "Alice (you)"
    # (bronze_250 adds 20 to whoever crosses 250)
    assert me.one("span", "qk-board-score").text == str(xp_of(client, auth, "alice", SUMMER))


def test_parts_the_page_leaves_out_are_404(client, auth, summer, acme):
    # The default example has no referrals section and is not invite-only.
    session = sign_in(client, auth, DEFAULT)
    page = dom(html_of(client.get(f"/widget/{DEFAULT}", headers=hx(session))))
    assert page.all(id="qk-referral") == [] and page.all(id="qk-invite") == []
    assert_toast(client.get(f"/widget/{DEFAULT}/part/referral", headers=hx(session)), 404, "referral")
    assert_toast(client.get(f"/widget/{DEFAULT}/part/invite", headers=hx(session)), 404, "invite")
    # summer_games has referrals but is open to all.
    session = sign_in(client, auth, SUMMER)
    assert client.get(f"/widget/{SUMMER}/part/referral", headers=hx(session)).status_code == 200
    assert_toast(client.get(f"/widget/{SUMMER}/part/invite", headers=hx(session)), 404, "invite")


def test_unknown_part_is_404(client, auth, summer):
    session = sign_in(client, auth, SUMMER)
    assert_toast(client.get(f"/widget/{SUMMER}/part/secrets", headers=hx(session)), 404, "secrets")
    assert_toast(client.get(f"/widget/{SUMMER}/part/body", headers=hx(session)), 404, "body")


# == 3. actions =================================================================================

def test_visit_pays_and_returns_quests_with_header_activity_leaderboard_and_toast_out_of_band(
        client, auth, summer):
    session = sign_in(client, auth, SUMMER, "alice", "Alice")
    r = client.post(f"/widget/{SUMMER}/visit/join_discord", headers=hx(session))
    assert r.status_code == 200, html_of(r)
    nodes = tops(r)
    assert [n.attrs["id"] for n in nodes] == ["qk-quests", "qk-header", "qk-activity", "qk-leaderboard",
                                              "qk-toasts"]
    quests, header, activity, board, toast = nodes
    assert not oob(quests) and all(oob(n) for n in nodes[1:])
    assert quests.one("li", data_action="join_discord").attrs["data-status"] == "completed"
    assert quests.one("li", data_action="join_discord").all("a", "qk-visit") == []  # nothing left to click
    assert header.by_id("qk-balance").attrs["data-balance"] == "20"
    [item] = activity.all("li")
    assert item.text == "Join our Discord +20"
    assert board.by_id("qk-my-rank").text == "#1"
    assert board.one("li", "qk-me-row").one("span", "qk-board-score").text == "20"
    assert "+20 points" in toast.text
    assert xp_of(client, auth, "alice", SUMMER) == 20


def test_visit_button_posts_to_the_visit_route(client, auth, summer):
    page = dom(html_of(open_widget(client, SUMMER, user_token(client, auth, "alice"))))
    link = page.one("li", data_action="join_discord").one("a", "qk-visit")
    assert link.attrs["hx-post"] == f"/widget/{SUMMER}/visit/join_discord"
    assert link.attrs["href"] == "https://example.com/discord"
    assert link.attrs["rel"] == "noopener noreferrer"


def test_a_once_visit_pays_once(client, auth, summer):
    session = sign_in(client, auth, SUMMER)
    assert client.post(f"/widget/{SUMMER}/visit/join_discord", headers=hx(session)).status_code == 200
    again = client.post(f"/widget/{SUMMER}/visit/join_discord", headers=hx(session))
    assert again.status_code == 200, html_of(again)
    assert dom(html_of(again)).by_id("qk-toasts").text == "Done!"  # nothing paid, nothing claimed
    assert xp_of(client, auth, "alice", SUMMER) == 20


def test_visiting_an_action_that_is_not_a_visit_is_400_with_a_toast_and_no_swap(app, client, auth, summer):
    session = sign_in(client, auth, SUMMER)
    entries = count(app, LedgerEntry)
    assert_toast(client.post(f"/widget/{SUMMER}/visit/daily_login", headers=hx(session)), 400,
                 "not a visit action")
    assert_toast(client.post(f"/widget/{SUMMER}/visit/score_update", headers=hx(session)), 400,
                 "not a visit action")
    assert count(app, LedgerEntry) == entries
    assert xp_of(client, auth, "alice", SUMMER) == 0


def test_visiting_an_unknown_action_is_404(client, auth, summer):
    session = sign_in(client, auth, SUMMER)
    r = client.post(f"/widget/{SUMMER}/visit/no_such_action", headers=hx(session))
    assert r.status_code == 404
    assert r.headers.get("HX-Reswap") == "none"


def test_visiting_a_locked_visit_action_is_409_and_pays_nothing(app, client, auth):
    doc = summer_doc()
    doc["actions"].append({"id": "follow_x", "name": "Follow us", "type": "visit",
                           "url": "https://example.com/x", "xp": 30, "recurrence": "once",
                           "deps": ["join_discord"]})
    push(client, auth, doc)
    session = sign_in(client, auth, SUMMER)
    page = dom(html_of(client.get(f"/widget/{SUMMER}/part/quests", headers=hx(session))))
    locked = page.one("li", data_action="follow_x")
    assert locked.attrs["data-status"] == "locked"
    assert locked.all("a") == [] and locked.all("button") == []
    assert "Complete Join our Discord first" in locked.one("p", "qk-lock").text
    entries = count(app, LedgerEntry)
    assert_toast(client.post(f"/widget/{SUMMER}/visit/follow_x", headers=hx(session)), 409, "locked")
    assert count(app, LedgerEntry) == entries
    # Once its dependency is done it opens and pays.
    assert client.post(f"/widget/{SUMMER}/visit/join_discord", headers=hx(session)).status_code == 200
    r = client.post(f"/widget/{SUMMER}/visit/follow_x", headers=hx(session))
    assert r.status_code == 200 and "+30 points" in html_of(r)
    assert xp_of(client, auth, "alice", SUMMER) == 50


# == 4. invite codes ============================================================================

@pytest.fixture
def invite_only(client, auth):
    doc = summer_doc(invite_only=True)
    push(client, auth, doc)
    return doc


def make_codes(client, auth, n: int = 1, max_uses: int = 1) -> list[str]:
    r = client.post(f"/api/v1/admin/campaigns/{SUMMER}/codes", json={"count": n, "max_uses": max_uses},
                    headers=auth)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["data"]["codes"]


def claim(client, session: str, code: str):
    return client.post(f"/widget/{SUMMER}/invite", data={"code": code}, headers=hx(session))


def invite_error(r, status: int, *, form: bool = True) -> str:
    """A refused code: the invite fragment itself comes back, with the error inside it
    (and the form again, marked invalid, unless the user is already in)."""
    assert r.status_code == status, html_of(r)
    assert "HX-Reswap" not in r.headers  # the fragment replaces the form
    [section] = tops(r)
    assert section.attrs["id"] == "qk-invite" and not oob(section)
    if form:
        assert section.by_id("qk-code").attrs.get("aria-invalid") == "true"
    else:
        assert section.all("form") == []
    error = section.by_id("qk-code-error")
    assert error.attrs["role"] == "alert"
    return error.text


def test_invite_only_page_shows_the_code_form_and_locks_the_visit(client, auth, invite_only):
    session = sign_in(client, auth, SUMMER)
    page = dom(html_of(client.get(f"/widget/{SUMMER}", headers=hx(session))))
    form = page.by_id("qk-invite").one("form")
    assert form.attrs["hx-post"] == f"/widget/{SUMMER}/invite"
    assert page.one("li", data_action="join_discord").attrs["data-status"] == "locked"
    assert_toast(client.post(f"/widget/{SUMMER}/visit/join_discord", headers=hx(session)), 409,
                 "invite")


def test_unknown_invite_code_is_404_with_the_error_inside_the_invite_fragment(app, client, auth, invite_only):
    make_codes(client, auth)
    session = sign_in(client, auth, SUMMER)
    assert "don't know this code" in invite_error(claim(client, session, "NOPE-1234"), 404)
    assert count(app, InviteClaim) == 0


def test_a_refused_code_stays_in_the_field_escaped(client, auth, invite_only):
    session = sign_in(client, auth, SUMMER)
    nasty = '"><script>alert(1)</script>'
    r = claim(client, session, nasty)
    invite_error(r, 404)
    assert "<script>" not in html_of(r)
    assert dom(html_of(r)).by_id("qk-code").attrs["value"] == nasty


def test_empty_invite_code_is_400_inside_the_fragment(client, auth, invite_only):
    session = sign_in(client, auth, SUMMER)
    assert "Enter your invite code" in invite_error(claim(client, session, "   "), 400)


def test_invite_code_accepted_updates_invite_quests_and_balance(app, client, auth, invite_only):
    [code] = make_codes(client, auth)
    session = sign_in(client, auth, SUMMER)
    r = claim(client, session, code)
    assert r.status_code == 200, html_of(r)
    nodes = {n.attrs["id"]: n for n in tops(r)}
    assert list(nodes) == ["qk-invite", "qk-header", "qk-activity", "qk-leaderboard", "qk-toasts",
                           "qk-quests"]
    assert not oob(nodes["qk-invite"]) and all(oob(n) for k, n in nodes.items() if k != "qk-invite")
    assert "accepted" in nodes["qk-invite"].text and code in nodes["qk-invite"].text
    assert nodes["qk-invite"].all("form") == []
    assert "accepted" in nodes["qk-toasts"].text
    # The gate is open: the visit is no longer locked, and now it pays.
    assert nodes["qk-quests"].one("li", data_action="join_discord").attrs["data-status"] != "locked"
    assert count(app, InviteClaim) == 1
    before = xp_of(client, auth, "alice", SUMMER)
    assert client.post(f"/widget/{SUMMER}/visit/join_discord", headers=hx(session)).status_code == 200
    assert xp_of(client, auth, "alice", SUMMER) == before + 20


def test_used_up_invite_code_is_409(app, client, auth, invite_only):
    [code] = make_codes(client, auth, max_uses=1)
    assert claim(client, sign_in(client, auth, SUMMER, "alice"), code).status_code == 200
    bob = sign_in(client, auth, SUMMER, "bob")
    assert "used up" in invite_error(claim(client, bob, code), 409)
    assert count(app, InviteClaim) == 1


def test_a_second_invite_code_for_the_same_user_is_409_already_claimed(app, client, auth, invite_only):
    first, second = make_codes(client, auth, n=2)
    session = sign_in(client, auth, SUMMER)
    assert claim(client, session, first).status_code == 200
    # What a stale form (another tab) would send.
    assert "already claimed" in invite_error(claim(client, session, second), 409, form=False)
    assert "already claimed" in invite_error(claim(client, session, first), 409, form=False)
    assert count(app, InviteClaim) == 1


# == 5. games ===================================================================================

def wheel_labels(svg: Node) -> list[str]:
    return [t.text for t in svg.all("text", "qk-seg-label")]


def test_wheel_play_spends_the_cost_and_lands_on_the_servers_outcome(app, client, auth, acme, api_key):
    tiers = [t["name"] for t in acme["mechanics"]["instant_win"]["tiers"]]
    fund(client, auth, "alice", 1000, DEFAULT, platform="internal")
    token = user_token(client, auth, "alice", platform="internal")
    session = session_of(open_widget(client, DEFAULT, token))
    uid = user_id(app, "alice", "internal")
    # 1000 crosses the first_1000 milestone (+50) at once: no later play can pay another.
    balance, outcomes = xp_of(client, auth, "alice", DEFAULT, platform="internal"), []
    assert balance == 1050
    for i in range(8):
        entries = count(app, LedgerEntry)
        r = client.post(f"/widget/{DEFAULT}/games/NEON_WHEEL/play", headers=hx(session))
        assert r.status_code == 200, html_of(r)
        nodes = {n.attrs["id"]: n for n in tops(r)}
        assert list(nodes) == ["qk-games", "qk-header", "qk-activity", "qk-leaderboard"]  # no toast
        # What the server drew, from the database and from the Rewards API.
        with app.app_context():
            play = db.session.scalars(select(Play).where(Play.user_id == uid).order_by(Play.id.desc())).first()
            tier, won, spent = play.tier, play.points_won, play.points_spent
        [record] = client.get("/v1/users/alice/plays", query_string={"limit": 1},
                              headers={"X-API-Secret": api_key}).get_json()["data"][:1]
        assert record["rewardTier"] == (tier or "NONE")
        assert spent == 50 and record["pointsSpent"] == 50
        svg = nodes["qk-games"].one("svg", "qk-wheel")
        labels = wheel_labels(svg)
        assert len(labels) == int(svg.attrs["data-segments"]) == 8
        assert set(labels) == set(tiers) | {"Try again"}
        land = int(svg.attrs["data-land"])
        assert labels[land] == (tier or "Try again")
        result = nodes["qk-games"].one("article", data_game="NEON_WHEEL").one("p", "qk-result")
        assert result.attrs["data-outcome"] == (tier or "Try again")
        if tier:
            assert f"You won {tier}: +{won} points!" == result.attrs["data-text"]
        # The cost and the prize went through the ledger; the header shows the new balance.
        balance += won - 50
        assert nodes["qk-header"].by_id("qk-balance").attrs["data-balance"] == str(balance)
        assert count(app, LedgerEntry) == entries + (2 if won else 1)
        outcomes.append(tier)
    assert xp_of(client, auth, "alice", DEFAULT, platform="internal") == balance
    # The seed gives both a prize and no prize, so both landings were checked.
    assert any(outcomes) and not all(outcomes), outcomes


def test_a_play_without_enough_points_is_409_and_changes_nothing(app, client, auth, acme):
    fund(client, auth, "bob", 49, DEFAULT, platform="internal")
    session = session_of(open_widget(client, DEFAULT, user_token(client, auth, "bob", platform="internal")))
    entries, plays = count(app, LedgerEntry), count(app, Play)
    assert_toast(client.post(f"/widget/{DEFAULT}/games/NEON_WHEEL/play", headers=hx(session)), 409,
                 "enough points")
    assert (count(app, LedgerEntry), count(app, Play)) == (entries, plays)
    assert xp_of(client, auth, "bob", DEFAULT, platform="internal") == 49


def test_play_buttons_are_disabled_below_each_games_cost(client, auth, acme):
    def buttons(balance: int) -> dict:
        account = f"user{balance}"
        if balance:
            fund(client, auth, account, balance, DEFAULT)
        page = dom(html_of(open_widget(client, DEFAULT, user_token(client, auth, account))))
        return {a.attrs["data-game"]: "disabled" in a.one("button", "qk-play").attrs
                for a in page.by_id("qk-games").all("article", "qk-game")}

    assert buttons(0) == {"NEON_WHEEL": True, "COSMIC_SLOTS": True}
    assert buttons(49) == {"NEON_WHEEL": True, "COSMIC_SLOTS": True}
    assert buttons(50) == {"NEON_WHEEL": False, "COSMIC_SLOTS": True}
    assert buttons(100) == {"NEON_WHEEL": False, "COSMIC_SLOTS": False}


def test_inactive_and_unknown_games_cannot_be_played(client, auth, acme):
    fund(client, auth, "alice", 500, DEFAULT)
    session = sign_in(client, auth, DEFAULT)
    assert_toast(client.post(f"/widget/{DEFAULT}/games/ENIGMA_BOXES/play", headers=hx(session)), 409,
                 "not active")
    assert_toast(client.post(f"/widget/{DEFAULT}/games/PINBALL/play", headers=hx(session)), 404, "PINBALL")
    assert xp_of(client, auth, "alice", DEFAULT) == 500


# == 6. sessions ================================================================================

def test_missing_garbage_or_expired_session_is_401(client, auth, summer, clock):
    session = sign_in(client, auth, SUMMER)
    for bad in (None, "", "garbage", session[:-3] + ("AAA" if not session.endswith("AAA") else "BBB")):
        assert_toast(client.get(f"/widget/{SUMMER}/part/header", headers=hx(bad)), 401, "session")
        assert_toast(client.get(f"/widget/{SUMMER}", headers=hx(bad)), 401, "session")
        assert_toast(client.post(f"/widget/{SUMMER}/visit/join_discord", headers=hx(bad)), 401, "session")
    clock.advance(hours=11)
    assert client.get(f"/widget/{SUMMER}/part/header", headers=hx(session)).status_code == 200
    clock.advance(hours=2)
    assert_toast(client.get(f"/widget/{SUMMER}/part/header", headers=hx(session)), 401, "session")
    assert_toast(client.post(f"/widget/{SUMMER}/visit/join_discord", headers=hx(session)), 401, "session")
    assert xp_of(client, auth, "alice", SUMMER) == 0


def test_a_session_signed_with_another_key_is_401(app, client, auth, summer):
    session = sign_in(client, auth, SUMMER)
    ws = tokens.read_widget_session([SECRET], session, START.timestamp())
    forged = tokens.make_widget_session(["another-secret"], ws, START.timestamp())
    assert_toast(client.get(f"/widget/{SUMMER}/part/header", headers=hx(forged)), 401, "session")
    # A widget *token* is not a session either (its own salt).
    token = user_token(client, auth, "alice")
    assert_toast(client.get(f"/widget/{SUMMER}/part/header", headers=hx(token)), 401, "session")


def test_a_session_for_one_campaign_is_401_on_another(client, auth, summer, acme):
    session = sign_in(client, auth, SUMMER)
    assert client.get(f"/widget/{SUMMER}/part/header", headers=hx(session)).status_code == 200
    assert_toast(client.get(f"/widget/{DEFAULT}/part/header", headers=hx(session)), 401, "session")
    assert_toast(client.get(f"/widget/{DEFAULT}", headers=hx(session)), 401, "session")
    assert_toast(client.post(f"/widget/{DEFAULT}/games/NEON_WHEEL/play", headers=hx(session)), 401, "session")


def test_a_token_of_one_organization_cannot_open_another_organizations_campaign(app, client, auth):
    _, other_key = make_org(app, "globex")
    push(client, {"Authorization": f"Bearer {other_key}"}, summer_doc())  # only globex has summer_games
    acme_token = user_token(client, auth, "alice")
    r = open_widget(client, SUMMER, acme_token)
    assert r.status_code == 404
    root = assert_full_page(r)
    assert "not found" in root.one("h1").text
    assert "hx-headers" not in html_of(r)
    # The same pid in the token's own organization opens.
    globex_token = user_token(client, {"Authorization": f"Bearer {other_key}"}, "alice")
    assert open_widget(client, SUMMER, globex_token).status_code == 200


def test_a_token_signed_with_another_secret_key_gets_the_401_page(app, client, auth, summer):
    user_token(client, auth, "alice")
    with app.app_context():
        u = db.session.scalars(select(User)).one()
        forged = tokens.make_widget_token(["not-our-secret"], u.org_id, u.id)
        genuine = tokens.make_widget_token([SECRET], u.org_id, u.id)
    assert open_widget(client, SUMMER, genuine).status_code == 200
    for bad in (forged, "garbage", ""):
        r = open_widget(client, SUMMER, bad)
        assert r.status_code == 401, bad
        assert "could not sign you in" in assert_full_page(r).one("h1").text
        assert "hx-headers" not in html_of(r)
    r = client.get(f"/widget/{SUMMER}")
    assert r.status_code == 401


def test_env_dev_opens_the_draft_in_the_sandbox(client, auth, summer):
    push(client, auth, summer_doc(name="Winter Draft"), publish=False)
    token = user_token(client, auth, "alice")
    dev = open_widget(client, SUMMER, token, env="dev")
    page = dom(html_of(dev))
    assert page.one("title").text == "Winter Draft"
    assert "Sandbox" in page.one("p", "qk-sandbox").text
    live = dom(html_of(open_widget(client, SUMMER, token)))
    assert live.one("title").text == "Summer Gaming Challenge"
    assert live.all("p", "qk-sandbox") == []
    # The dev session pays into the sandbox, not into live.
    r = client.post(f"/widget/{SUMMER}/visit/join_discord", headers=hx(session_of(dev)))
    assert r.status_code == 200
    assert dom(html_of(r)).by_id("qk-balance").attrs["data-balance"] == "20"
    assert xp_of(client, auth, "alice", SUMMER, env="dev") == 20
    assert xp_of(client, auth, "alice", SUMMER) == 0


def test_env_dev_opens_a_campaign_that_was_never_published(client, auth):
    push(client, auth, summer_doc(), publish=False)
    token = user_token(client, auth, "alice")
    assert open_widget(client, SUMMER, token).status_code == 404
    r = open_widget(client, SUMMER, token, env="dev")
    assert r.status_code == 200
    assert dom(html_of(r)).all("p", "qk-sandbox")


def test_a_bogus_env_is_a_400_page(client, auth, summer):
    r = open_widget(client, SUMMER, user_token(client, auth, "alice"), env="bogus")
    assert r.status_code == 400
    root = assert_full_page(r)
    assert "env" in root.one("p").text
    assert "hx-headers" not in html_of(r)


# == 7. security headers ========================================================================

def frame_ancestors(r) -> str:
    csp = r.headers["Content-Security-Policy"]
    [directive] = [d.strip() for d in csp.split(";") if d.strip().startswith("frame-ancestors")]
    return directive


def test_widget_may_be_framed_only_by_the_campaigns_allowed_origins(client, auth, summer):
    assert summer["widget"]["allowed_origins"] == [PARTNER]
    token = user_token(client, auth, "alice")
    page = open_widget(client, SUMMER, token)
    session = session_of(page)
    for r in (page, client.post(f"/widget/{SUMMER}", data={"user_token": token}),
              client.get(f"/widget/{SUMMER}", headers=hx(session)),
              client.get(f"/widget/{SUMMER}/part/quests", headers=hx(session)),
              client.post(f"/widget/{SUMMER}/visit/join_discord", headers=hx(session))):
        assert r.status_code == 200
        assert frame_ancestors(r) == f"frame-ancestors {PARTNER}"
        assert "X-Frame-Options" not in r.headers
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert "no-store" in r.headers["Cache-Control"]


def test_several_allowed_origins_are_all_listed(client, auth):
    push(client, auth, summer_doc(widget={"allowed_origins": [PARTNER, "https://shop.example.org"]}))
    r = open_widget(client, SUMMER, user_token(client, auth, "alice"))
    assert frame_ancestors(r) == f"frame-ancestors {PARTNER} https://shop.example.org"


def test_widget_may_be_framed_by_anyone_by_default(client, auth, acme):
    assert "widget" not in acme
    r = open_widget(client, DEFAULT, user_token(client, auth, "alice"))
    assert r.status_code == 200
    assert frame_ancestors(r) == "frame-ancestors *"
    assert "X-Frame-Options" not in r.headers


def test_widget_csp_allows_only_own_and_nonced_scripts(client, auth, summer):
    r = open_widget(client, SUMMER, user_token(client, auth, "alice"))
    csp = r.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "default-src 'none'" in csp and "script-src 'self' 'nonce-" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    root = dom(html_of(r))
    for s in root.all("script"):
        assert s.attrs.get("src", "").startswith("/static/") or s.attrs.get("nonce") == nonce
    for s in root.all("style"):
        assert s.attrs.get("nonce") == nonce
    # A fresh nonce per response.
    again = open_widget(client, SUMMER, user_token(client, auth, "alice"))
    assert re.search(r"'nonce-([^']+)'", again.headers["Content-Security-Policy"]).group(1) != nonce


def test_api_responses_and_the_play_start_page_may_not_be_framed(app, client, auth, api_key, acme):
    change_settings(app, smtp_host="")  # the play link's e-mail goes to the outbox folder
    api = client.get("/api/v1/token", query_string={"account": "alice", "platform": "discord"}, headers=auth)
    assert api.status_code == 200 and api.is_json
    rewards = client.post("/v1/points/award", headers={"X-API-Secret": api_key},
                          json={"userId": "carol", "eventType": "signup", "email": "carol@example.com",
                                "sendPlayLink": True})
    assert rewards.status_code == 201 and rewards.is_json
    url = rewards.get_json()["data"]["playLink"]["url"]
    start = client.get("/play", query_string={"token": re.search(r"token=([^&]+)", url).group(1)})
    assert start.status_code == 200 and "Start playing" in html_of(start)
    for r in (api, rewards, client.get("/api/v1/campaign/info", query_string={"pid": SUMMER}, headers=auth),
              start):
        assert frame_ancestors(r) == "frame-ancestors 'none'", r.request.path
        assert r.headers["X-Frame-Options"] == "DENY", r.request.path


def test_embed_js_is_served_as_javascript(client):
    r = client.get("/embed.js")
    assert r.status_code == 200
    assert r.mimetype in ("text/javascript", "application/javascript")
    body = html_of(r)
    assert "questkit:token" in body and "/frame" in body
    assert "public" in r.headers["Cache-Control"]


# == 8. escaping ================================================================================

def test_a_users_html_name_is_escaped_in_the_page_and_on_the_leaderboard(client, auth, summer):
    token = user_token(client, auth, "mallory", EVIL)
    fund(client, auth, "mallory", 100, SUMMER)
    r = open_widget(client, SUMMER, token)
    text = html_of(r)
    assert EVIL not in text and "<script>alert" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    page = dom(text)
    assert page.one("span", "qk-name").text == EVIL  # shown as text, not markup
    assert page.by_id("qk-leaderboard").one("li", "qk-me-row").one("span", "qk-board-name").text == \
        f"{EVIL} (you)"
    assert [s.attrs.get("src") for s in page.all("script")] == ["/static/js/htmx-2.0.11.min.js",
                                                                "/static/js/widget.js"]
    # Another user sees the name on the leaderboard, escaped as well.
    viewer = sign_in(client, auth, SUMMER, "alice", "Alice")
    board = client.get(f"/widget/{SUMMER}/part/leaderboard", headers=hx(viewer))
    assert EVIL not in html_of(board) and "&lt;script&gt;alert(1)&lt;/script&gt;" in html_of(board)
    assert dom(html_of(board)).all("script") == []
    # And after an action, in the out-of-band header and leaderboard.
    session = session_of(r)
    after = client.post(f"/widget/{SUMMER}/visit/join_discord", headers=hx(session))
    assert after.status_code == 200
    assert EVIL not in html_of(after) and html_of(after).count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2


def test_an_email_like_name_is_masked_on_the_leaderboard(client, auth, summer):
    fund(client, auth, "eve", 100, SUMMER)
    user_token(client, auth, "eve", "eve.smith@example.com")
    viewer = sign_in(client, auth, SUMMER, "alice", "Alice")
    board = html_of(client.get(f"/widget/{SUMMER}/part/leaderboard", headers=hx(viewer)))
    assert "eve.smith@example.com" not in board
    assert "e***@example.com" in board


def test_html_in_quest_and_action_names_is_escaped(client, auth):
    doc = summer_doc()
    doc["quests"][0]["name"] = '<img src=x onerror="alert(1)">Dice'
    doc["quests"][0]["description"] = "<b>bold</b> & <i>co</i>"
    doc["actions"][0]["name"] = "<svg onload=alert(2)>Join"
    doc["actions"][0]["button_text"] = "<u>Go</u>"
    doc["name"] = "<em>Brand</em>"
    push(client, auth, doc)
    r = open_widget(client, SUMMER, user_token(client, auth, "alice"))
    text = html_of(r)
    for raw in ('<img src=x', "<b>bold", "<svg onload", "<u>Go", "<em>Brand"):
        assert raw not in text, raw
    page = dom(text)
    assert page.all("img", src="x") == [] and page.all("em") == [] and page.all("u") == []
    dice = page.one("article", data_quest="dice_master")
    assert dice.one("h3").text == '<img src=x onerror="alert(1)">Dice'
    assert dice.one("p", "qk-muted").text == "<b>bold</b> & <i>co</i>"
    join = page.one("li", data_action="join_discord")
    assert join.one("span", "qk-action-name").text == "<svg onload=alert(2)>Join"
    assert join.one("a", "qk-visit").text == "<u>Go</u>"
    assert page.one("title").text == "<em>Brand</em>"
    assert "&lt;img src=x onerror=" in text
    # The activity after the visit names the action, escaped.
    after = client.post(f"/widget/{SUMMER}/visit/join_discord", headers=hx(session_of(r)))
    assert "<svg onload" not in html_of(after)
    assert dom(html_of(after)).by_id("qk-activity").one("li").text == "<svg onload=alert(2)>Join +20"


# == 9. the embed frame =========================================================================

def test_embed_frame_holds_no_token_and_posts_to_the_widget(client, auth, summer):
    token = user_token(client, auth, "alice")
    r = client.get(f"/widget/{SUMMER}/frame")
    assert r.status_code == 200
    text = html_of(r)
    assert token not in text and "hx-headers" not in text and "X-Widget-Session" not in text
    root = assert_full_page(r)
    form = root.by_id("qk-start")
    assert form.attrs["method"] == "post" and form.attrs["action"] == f"/widget/{SUMMER}"
    inputs = {i.attrs["name"]: i.attrs for i in form.all("input")}
    assert set(inputs) == {"user_token", "env", "page"}
    assert all(a.get("value") in (None, "") for a in inputs.values())
    assert frame_ancestors(r) == "frame-ancestors *"  # it holds nothing; the page it posts to is restricted
    nonce = re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
    assert [s.attrs.get("nonce") for s in root.all("script")] == [nonce]


def test_posted_token_renders_the_page_with_referral_links_to_the_embedding_page(app, client, auth, summer):
    token = user_token(client, auth, "alice")
    r = client.post(f"/widget/{SUMMER}", data={"user_token": token, "page": f"{PARTNER}/shop"})
    assert r.status_code == 200, html_of(r)
    root = assert_full_page(r)
    with app.app_context():
        ref_id = db.session.scalars(select(RefCode.ref_id)).one()
    link = root.by_id("qk-ref-link").attrs["value"]
    assert link == f"{PARTNER}/shop?ref={ref_id}"
    assert token not in html_of(r)
    # The session remembers the page: the referral part says the same.
    part = client.get(f"/widget/{SUMMER}/part/referral", headers=hx(session_of(r)))
    assert dom(html_of(part)).by_id("qk-ref-link").attrs["value"] == link
    # A page with a query gets &ref=; the fragment is dropped.
    r = client.post(f"/widget/{SUMMER}", data={"user_token": token, "page": f"{PARTNER}/shop?lang=de#top"})
    assert dom(html_of(r)).by_id("qk-ref-link").attrs["value"] == f"{PARTNER}/shop?lang=de&ref={ref_id}"


def test_posted_env_dev_opens_the_sandbox(client, auth, summer):
    r = client.post(f"/widget/{SUMMER}", data={"user_token": user_token(client, auth, "alice"), "env": "dev"})
    assert r.status_code == 200
    assert dom(html_of(r)).all("p", "qk-sandbox")


def test_without_an_embedding_page_or_with_an_unsafe_one_the_referral_code_is_shown(app, client, auth, summer):
    token = user_token(client, auth, "alice")
    for data in ({"user_token": token}, {"user_token": token, "page": "javascript:alert(1)"}):
        r = client.post(f"/widget/{SUMMER}", data=data)
        assert r.status_code == 200
        with app.app_context():
            ref_id = db.session.scalars(select(RefCode.ref_id)).one()
        assert dom(html_of(r)).by_id("qk-ref-link").attrs["value"] == ref_id
        assert "javascript:" not in html_of(r)


def test_posting_without_a_valid_token_is_the_401_page(client, auth, summer):
    for data in ({}, {"user_token": "nope"}):
        r = client.post(f"/widget/{SUMMER}", data=data)
        assert r.status_code == 401
        assert "could not sign you in" in assert_full_page(r).one("h1").text


def test_the_preview_url_shows_the_referral_code_not_a_link(app, client, auth, summer):
    r = open_widget(client, SUMMER, user_token(client, auth, "alice"))
    assert tokens.read_widget_session([SECRET], session_of(r), START.timestamp()).page == ""
    with app.app_context():
        ref_id = db.session.scalars(select(RefCode.ref_id)).one()
    assert dom(html_of(r)).by_id("qk-ref-link").attrs["value"] == ref_id
