"""The demo that `flask demo` and scripts/serve set up: an organization with
both example campaigns published, an API key, a dashboard operator, and a
few days of activity so the dashboard, the boards and the widget have
something to show.

The key, the operator's password and the demo webhook's secret are kept in
the instance folder (``instance/demo.json``, readable by its owner only), so
a restart prints the same ones; ``reset`` makes new ones (the old key is
revoked). The activity goes through the public API in-process (the app's own
test client), with the app's clock set back a few days: the same engine
functions and checks as any partner's calls, never raw inserts.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from markupsafe import escape

from engine.clock import MovableClock
from settings import origin_of

EXAMPLES = Path(__file__).parent / "examples"
DEMO_ORG = "demo"
DEMO_OPERATOR = "demo@questkit.local"
DEMO_PLAYER = "demo_player"
DEMO_CAMPAIGN = "summer_games"
DEMO_HOOK = "demo"
STATE_FILE = "demo.json"
SEED_DAYS = 4


@dataclass
class DemoState:
    key: str
    password: str
    hook_secret: str = ""
    seeded: bool = False


def state_path(instance_path: str | Path) -> Path:
    return Path(instance_path) / STATE_FILE


def read_state(instance_path: str | Path) -> DemoState | None:
    try:
        raw = json.loads(state_path(instance_path).read_text(encoding="utf-8"))
        return DemoState(**{k: raw[k] for k in ("key", "password", "hook_secret", "seeded") if k in raw})
    except (OSError, ValueError, TypeError, KeyError):
        return None


def write_state(instance_path: str | Path, state: DemoState) -> None:
    path = state_path(instance_path)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(state), fh, indent=2)
    os.replace(tmp, path)


def example_campaigns(public_url: str) -> list[dict]:
    """The two example campaigns; the widget one also lets the server's own
    origin frame it, so the /demo page can embed it."""
    docs = [json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
            for name in ("default-example.json", "campaign-example.json")]
    own = origin_of(public_url)
    for doc in docs:
        widget = doc.get("widget")
        if own and widget and widget.get("allowed_origins") and own not in widget["allowed_origins"]:
            widget["allowed_origins"] = [*widget["allowed_origins"], own]
    return docs


def embed_snippet(base: str, token: str, pid: str = DEMO_CAMPAIGN) -> str:
    """The one embed snippet: printed by `flask demo` and placed on /demo."""
    base, pid, token = escape(base), escape(pid), escape(token)
    return f'<script src="{base}/embed.js" data-campaign="{pid}" data-user-token="{token}" async></script>'


# -- a few days of activity ----------------------------------------------------


def register_hook(app, key: str, hook_uri: str | None, hook_secret: str) -> list[str]:
    """The demo hook: summer_games' activity, delivered to the server's own /demo/webhook."""
    if not hook_uri:
        return []
    resp = app.test_client().post("/api/v1/hook", headers={"Authorization": f"Bearer {key}"}, json={
        "scope": "user_activity", "hook_id": DEMO_HOOK, "uri": hook_uri, "secret": hook_secret,
        "pids": [DEMO_CAMPAIGN]})
    if resp.status_code != 200:
        return [f"POST /api/v1/hook: {resp.status_code} {resp.get_data(as_text=True)[:200]}"]
    return []


# Campaign API users of summer_games: (account, display name); all on one platform.
PLATFORM = "wowhaus"
PLAYERS = [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol"), ("dave", "Dave"),
           ("erin", "Erin"), ("frank", "Frank"), ("grace", "Grace")]
# Rewards and Participants API users of the default campaign.
MEMBERS = [("user_1001", "Mia"), ("user_1002", "Noah"), ("user_1003", "Olivia"), ("user_1004", "Liam")]


def seed_activity(app, key: str, hook_uri: str | None, hook_secret: str) -> list[str]:
    """Days of activity through the public API; answers what went wrong (empty: nothing)."""
    services = app.extensions["questkit"]
    real_clock = services.clock
    now = real_clock.now()
    clock = MovableClock(now - timedelta(days=SEED_DAYS))
    problems: list[str] = []
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {key}"}
    secret_h = {"X-API-Secret": key}
    participants_h = {"X-API-Key": key}

    def call(method: str, path: str, headers: dict, body: dict | None = None, ok=(200, 201)):
        resp = client.open(path, method=method, headers=headers, json=body)
        if resp.status_code not in ok:
            problems.append(f"{method} {path}: {resp.status_code} {resp.get_data(as_text=True)[:200]}")
        return resp

    services.clock = clock
    try:
        problems += register_hook(app, key, hook_uri, hook_secret)
        for day in range(SEED_DAYS + 1):
            clock.set(now - timedelta(days=SEED_DAYS - day, hours=3))
            active = PLAYERS[: 3 + day] if day < SEED_DAYS else PLAYERS
            for n, (account, name) in enumerate(active):
                who = {"account": account, "platform": PLATFORM, "pid": DEMO_CAMPAIGN}
                call("GET", f"/api/v1/token?account={account}&platform={PLATFORM}&name={name}", bearer)
                if (n + day) % 2 == 0:
                    call("POST", "/api/v1/action/value", bearer, {**who, "aid": "daily_login"}, ok=(200, 409))
                for i in range((n + day) % 6):
                    call("POST", "/api/v1/event", bearer, {
                        **who, "name": "GameSession", "category": "dices", "id": f"demo-{day}-{i}",
                        "data": {"bet": 40 + 30 * ((n + i) % 5)}})
                if (n + day) % 3 == 0:
                    call("POST", "/api/v1/stream/value", bearer,
                         {**who, "stream": "player_score", "value": 800 + 150 * n})
            if day == 1:
                # Bob and Carol were referred by Alice, Erin by Bob.
                for friend, referrer in (("bob", "alice"), ("carol", "alice"), ("erin", "bob")):
                    call("POST", "/api/v1/user/referrer", bearer, {
                        "account": friend, "platform": PLATFORM, "pid": DEMO_CAMPAIGN,
                        "ref_account": referrer, "ref_platform": PLATFORM}, ok=(200, 409))
                call("POST", "/api/v1/action/value", bearer, {
                    "account": "alice", "platform": PLATFORM, "pid": DEMO_CAMPAIGN, "cid": "pro_player",
                    "aid": "score_update", "value": 1250})
            # The default campaign: sign-ups, logins and orders.
            for n, (user_id, name) in enumerate(MEMBERS[: 2 + day // 2]):
                call("POST", "/v1/points/award", secret_h, {
                    "userId": user_id, "eventType": "signup", "displayName": name,
                    "email": f"{name.lower()}@example.com", "reference": f"demo-signup-{user_id}"},
                    ok=(200, 201, 409))
                call("POST", "/api/v1/gamify/events", participants_h,
                     {"participant_id": user_id, "event_type": "daily_login", "id": f"demo-login-{day}"})
                if (n + day) % 2 == 0:
                    call("POST", "/api/v1/gamify/events", participants_h, {
                        "participant_id": user_id, "event_type": "order_paid", "id": f"demo-order-{day}",
                        "properties": {"amount": 40 + 25 * n}})
        clock.set(now - timedelta(hours=1))
        # The demo player (the widget's user) has a little of everything.
        player = {"account": DEMO_PLAYER, "platform": "internal", "pid": DEMO_CAMPAIGN}
        call("POST", "/api/v1/action/value", bearer, {**player, "aid": "daily_login"}, ok=(200, 409))
        call("POST", "/api/v1/action/value", bearer, {**player, "cid": "pro_player", "aid": "score_update",
                                                       "value": 1100})
        call("POST", "/api/v1/stream/value", bearer, {**player, "stream": "player_score", "value": 4200})
        call("POST", "/api/v1/user/referrer", bearer, {
            "account": "grace", "platform": PLATFORM, "pid": DEMO_CAMPAIGN,
            "ref_account": DEMO_PLAYER, "ref_platform": "internal"}, ok=(200, 409))
        for i in range(3):
            call("POST", "/api/v1/event", bearer, {**player, "name": "GameSession", "category": "dices",
                                                   "id": f"demo-player-{i}", "data": {"bet": 100}})
        call("POST", "/v1/points/award", secret_h, {
            "userId": DEMO_PLAYER, "eventType": "signup", "displayName": "Demo Player",
            "reference": "demo-signup-player"}, ok=(200, 201, 409))
        token = client.get(f"/api/v1/token?account={DEMO_PLAYER}&platform=internal",
                           headers=bearer).get_json()["data"]["token"]
        call("POST", "/v1/games/NEON_WHEEL/play", {"Authorization": f"Bearer {token}"}, ok=(200, 201))
    finally:
        services.clock = real_clock
    return problems
