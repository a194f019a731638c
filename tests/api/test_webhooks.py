"""Webhooks end to end (SPEC §6, §11; claimr's POST/DELETE /hook), against a real
HTTP receiver on 127.0.0.1 (tests/api/webhook_receiver.py).

The app here allows private addresses (WEBHOOK_ALLOW_PRIVATE=1), as a local
receiver needs; tests of the refusal build a second app on the same database
without it. The worker runs in-process (engine.outbox.webhook_delivery.deliver_due, with the
settings the CLI builds), through `flask webhooks work --once` (the CLI runner),
or as a real subprocess for the SIGKILL test. Time is the movable ``clock``;
only webhook-timestamp is wall-clock time.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app import create_app
from engine.outbox import webhook_delivery, webhooks
from engine.access import users
from engine.errors import Conflict
from extensions import db
from models import Hook, Message
from tests.conftest import PG_URL, app_settings, make_org

from .quest_helpers import err, ok, push_example, user
from .quest_helpers import example as example_doc
from .webhook_receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PLAIN = "my-secret-key"  # claimr's example secret
PID = "summer_games"


# -- fixtures ------------------------------------------------------------------------------

@pytest.fixture
def app_config():
    """Private webhook addresses allowed (a local receiver); a 30 s lease."""
    return {"WEBHOOK_ALLOW_PRIVATE": "1", "WEBHOOK_LEASE_SECONDS": "30"}


@pytest.fixture
def strict_app(app, db_url, clock, tmp_path):
    """The same database and clock, run without WEBHOOK_ALLOW_PRIVATE (production)."""
    strict = create_app(app_settings(db_url, clock, tmp_path, WEBHOOK_ALLOW_PRIVATE="0",
                                     WEBHOOK_LEASE_SECONDS="30"))
    yield strict
    with strict.app_context():
        db.engine.dispose()


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(status: int = 204, up: bool = True) -> Receiver:
        r = Receiver(status)
        made.append(r)
        return r.up() if up else r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def receiver(receivers):
    return receivers()


# -- helpers -------------------------------------------------------------------------------

def register(client, auth, uri, hook_id="prod", secret=PLAIN, pids=None, scope="user_activity"):
    body = {"scope": scope, "uri": uri, "secret": secret, "hook_id": hook_id}
    if pids is not None:
        body["pids"] = pids
    return client.post("/api/v1/hook", json=body, headers=auth)


def unregister(client, auth, hook_id="prod", scope="user_activity"):
    return client.delete("/api/v1/hook", json={"scope": scope, "hook_id": hook_id}, headers=auth)


def reward(client, auth, account, xp, rid, pid="default", platform="discord", **extra):
    body = {"account": account, "platform": platform, "pid": pid, "id": rid, "xp": xp, **extra}
    return ok(client.post("/api/v1/user/reward", json=body, headers=auth))


def work(app, rounds: int = 100) -> int:
    """Run the delivery worker in-process until nothing is due now; attempts made."""
    settings = webhook_delivery.Settings(
        allow_private=str(app.config.get("WEBHOOK_ALLOW_PRIVATE")) == "1",
        lease=timedelta(seconds=float(app.config["WEBHOOK_LEASE_SECONDS"])))
    total = 0
    with app.app_context():
        for _ in range(rounds):
            n = webhook_delivery.deliver_due(db.session, app.extensions["questkit"].clock.now(), settings)
            total += n
            if n == 0:
                return total
    raise AssertionError("the worker never ran dry")


def cli_work(app) -> int:
    """`flask --app app webhooks work --once` through the CLI runner; attempts made."""
    result = app.test_cli_runner().invoke(args=["webhooks", "work", "--once"])
    assert result.exit_code == 0, (result.output, result.exception)
    return int(re.search(r"(\d+) delivery attempts", result.output).group(1))


def log(client, auth, hook_id="prod", **q):
    return ok(client.get(f"/api/v1/admin/hooks/{hook_id}/messages", query_string=q, headers=auth))


def count(app, model, **where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def verify_plain(secret: str, headers: dict, body: bytes) -> bool:
    """SPEC §6 from scratch: v1, + base64 HMAC-SHA256 over id.timestamp.body, key = UTF-8 secret."""
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split(" "))


def bodies(received) -> list[dict]:
    return [r.json() for r in received]


class AnyDigits:
    def __eq__(self, other):
        return isinstance(other, str) and other.isdigit()

    def __repr__(self):
        return "<digits>"


# -- signatures and headers -------------------------------------------------------------------

def test_whsec_secret_verifies_with_the_standardwebhooks_library(app, client, auth, receiver):
    ok(register(client, auth, receiver.url("/in?src=qk"), secret=WHSEC))
    reward(client, auth, "alice", 5, "r1")
    assert receiver.received() == []  # written to the outbox, not sent by the request
    assert work(app) == 1
    [got] = receiver.received()
    assert (got.method, got.path) == ("POST", "/in?src=qk")
    payload = Webhook(WHSEC).verify(got.body, got.headers)
    assert payload == {"type": "points.rewarded", "timestamp": "2026-11-22T12:00:00Z",
                       "data": {"pid": "default", "account": "alice", "platform": "discord",
                                "amount": 5, "balance": 5, "kind": "reward", "id": "r1"}}
    assert got.headers["content-type"].startswith("application/json")
    # wall-clock unix seconds of the attempt, not the app's (moved) clock
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 10
    assert re.fullmatch(r"\d+", got.headers["webhook-timestamp"])
    [msg] = log(client, auth)["messages"]
    assert got.webhook_id == msg["id"] and msg["status"] == "delivered"
    # a tampered body or another key does not verify
    with pytest.raises(WebhookVerificationError):
        Webhook(WHSEC).verify(got.body.replace(b"5", b"6"), got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"another key 1234").decode()).verify(got.body, got.headers)


def test_a_hook_without_a_secret_gets_a_generated_whsec_secret_shown_once(app, client, auth, receiver):
    body = {"scope": "user_activity", "uri": receiver.url(), "hook_id": "prod", "pids": []}
    answer = ok(client.post("/api/v1/hook", json=body, headers=auth))
    secret = answer["secret"]
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]+={0,2}", secret)
    assert len(base64.b64decode(secret[len("whsec_"):])) >= 24
    reward(client, auth, "alice", 5, "r1")
    assert work(app) == 1
    [got] = receiver.received()
    assert Webhook(secret).verify(got.body, got.headers)["data"]["id"] == "r1"
    # shown once: the hook's log does not show it, and another registration gets another secret
    assert secret not in json.dumps(log(client, auth))
    again = ok(client.post("/api/v1/hook", json={**body, "hook_id": "other"}, headers=auth))
    assert again["secret"] != secret
    # a given secret is used as given and not echoed
    assert "secret" not in ok(client.post("/api/v1/hook", json={**body, "secret": WHSEC}, headers=auth))


def test_a_null_secret_is_bad_input(client, auth):
    body = {"scope": "user_activity", "uri": "http://127.0.0.1:9/hook", "hook_id": "prod", "secret": None}
    err(client.post("/api/v1/hook", json=body, headers=auth), 400)


def test_plain_secret_signs_with_its_utf8_bytes(app, client, auth, receiver):
    ok(register(client, auth, receiver.url(), secret=PLAIN))
    reward(client, auth, "alice", 7, "r1")
    assert cli_work(app) == 1
    [got] = receiver.received()
    assert got.headers["webhook-signature"].startswith("v1,")
    assert verify_plain(PLAIN, got.headers, got.body)
    assert not verify_plain("my-secret-keY", got.headers, got.body)
    assert not verify_plain(PLAIN, {**got.headers, "webhook-id": "msg_other"}, got.body)
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 10


def test_non_ascii_plain_secret_is_keyed_by_its_utf8_bytes(app, client, auth, receiver):
    secret = "clé-secrète-ünïcode"
    ok(register(client, auth, receiver.url(), secret=secret))
    reward(client, auth, "zoë", 1, "r-ü")
    work(app)
    [got] = receiver.received()
    assert verify_plain(secret, got.headers, got.body)
    assert got.json()["data"]["account"] == "zoë"


# -- every change type that exists ---------------------------------------------------------------

def test_each_change_type_sends_its_message_with_the_documented_fields(app, client, auth, receiver):
    push_example(client, auth)
    ok(register(client, auth, receiver.url(), secret=WHSEC))
    for account in ("alice", "bob"):
        ok(client.get("/api/v1/token", query_string={"account": account, "platform": "discord"},
                      headers=auth))
    # task.completed outside a quest
    ok(client.post("/api/v1/action/value", json=user("alice", aid="daily_login"), headers=auth))
    # task.completed x2 and quest.completed: the 5th dice event completes dice_master
    game = user("gamer", "wowhaus", name="GameSession", category="dices")
    for i in range(5):
        ok(client.post("/api/v1/event", json={**game, "id": f"e{i}", "data": {"bet": 100}}, headers=auth))
    # referral.created, and both referral bonuses
    ok(client.post("/api/v1/user/referrer", json=user("bob", ref_account="alice", ref_platform="discord"),
                   headers=auth))
    # invite_code.used, and the vip_code task it completes
    [code] = ok(client.post(f"/api/v1/admin/campaigns/{PID}/codes", json={"count": 1}, headers=auth),
                201)["codes"]
    ok(client.post("/api/v1/code", json={"code": code, "pid": PID, "used_by": "carol", "platform": "discord"},
                   headers=auth))
    # points.rewarded / points.withdrawn through the points endpoints, in default
    reward(client, auth, "dave", 30, "order-1")
    reward(client, auth, "dave", 30, "order-1")  # a repeat: no entry, no message
    reward(client, auth, "dave", 4, "ugc-1", kind="ugc")
    ok(client.post("/api/v1/user/withdraw", json={"account": "dave", "platform": "discord", "pid": "default",
                                                  "id": "order-1", "xp": 10}, headers=auth))
    assert receiver.received() == []
    work(app)
    got = receiver.received()
    for r in got:
        Webhook(WHSEC).verify(r.body, r.headers)
    assert len({r.webhook_id for r in got}) == len(got)
    assert {b["timestamp"] for b in bodies(got)} == {"2026-11-22T12:00:00Z"}

    def d(account, platform="discord", pid=PID, **rest):
        return {"pid": pid, "account": account, "platform": platform, **rest}

    expected = [
        ("task.completed", d("alice", cid=None, aid="daily_login", xp=75)),  # 50 + xp_mul 50%
        ("points.rewarded", d("alice", amount=75, balance=75, kind="task", id=AnyDigits())),
        ("task.completed", d("gamer", "wowhaus", cid="dice_master", aid="roll_5", xp=105)),
        ("points.rewarded", d("gamer", "wowhaus", amount=105, balance=105, kind="task", id=AnyDigits())),
        ("task.completed", d("gamer", "wowhaus", cid="dice_master", aid="bet_500", xp=105)),
        ("points.rewarded", d("gamer", "wowhaus", amount=105, balance=210, kind="task", id=AnyDigits())),
        ("quest.completed", d("gamer", "wowhaus", cid="dice_master")),
        ("referral.created", d("bob", ref_account="alice", ref_platform="discord")),
        ("points.rewarded", d("bob", amount=25, balance=25, kind="referral", id=AnyDigits())),
        ("points.rewarded", d("alice", amount=50, balance=125, kind="referral", id=AnyDigits())),
        ("invite_code.used", d("carol", code=code)),
        ("task.completed", d("carol", cid="pro_player", aid="vip_code", xp=40)),
        ("points.rewarded", d("carol", amount=40, balance=40, kind="task", id=AnyDigits())),
        ("points.rewarded", d("dave", pid="default", amount=30, balance=30, kind="reward", id="order-1")),
        ("points.rewarded", d("dave", pid="default", amount=4, balance=34, kind="ugc", id="ugc-1")),
        ("points.withdrawn", d("dave", pid="default", amount=-10, balance=24, kind="withdraw", id="order-1")),
    ]
    actual = [(b["type"], b["data"]) for b in bodies(got)]

    def key(item):
        return json.dumps(item, sort_keys=True, default=str)

    # One message per change, no more, no less (order across users is not promised).
    assert len(actual) == len(expected), actual
    remaining = list(actual)
    for item in expected:
        assert item in remaining, (item, remaining)
        remaining.remove(item)
    assert sorted(map(key, remaining)) == []
    # Within one user the order of the changes is kept (the worker sends oldest first).
    gamer = [t for t, data in actual if data["account"] == "gamer"]
    assert gamer[-1] == "quest.completed"
    # The ledger-entry ids of task payouts are distinct.
    task_ids = [data["id"] for t, data in actual if t == "points.rewarded" and data["kind"] != "reward"
                and data["pid"] == PID]
    assert len(set(task_ids)) == len(task_ids)


def test_instant_win_sends_instant_win_won_with_its_win_code(app, client, auth, receiver):
    mechanics = copy.deepcopy(example_doc()["mechanics"])
    mechanics["instant_win"]["tiers"] = [{"name": "Gold", "probability": 1.0, "points": 500}]
    push_example(client, auth, mechanics=mechanics)
    ok(register(client, auth, receiver.url()))
    r = client.post("/v1/campaigns/summer-promo/events", json={"userId": "u1", "eventType": "purchase"},
                    headers={"X-API-Secret": auth["Authorization"].removeprefix("Bearer ")})
    assert r.status_code == 200, r.get_json()
    win = r.get_json()["data"]["instantWin"]
    assert win["won"] is True
    work(app)
    got = [(b["type"], b["data"]) for b in bodies(receiver.received())]
    base = {"pid": PID, "account": "u1", "platform": "internal"}
    assert ("instant_win.won", {**base, "prize_tier": "Gold", "points": 500, "win_code": win["winCode"]}) in got
    # each ledger entry of the event has its own points.rewarded: the rule, the prize, the milestone
    assert sorted((d["kind"], d["amount"]) for t, d in got if t == "points.rewarded") == [
        ("event", 100), ("instant_win", 500), ("milestone", 20)]
    assert len(got) == 4


def test_the_sandbox_env_dev_sends_nothing(app, client, auth, receiver):
    push_example(client, auth)
    ok(register(client, auth, receiver.url()))
    reward(client, auth, "alice", 5, "r1", pid=PID, env="dev")
    ok(client.post("/api/v1/action/value", json=user("alice", aid="daily_login", env="dev"), headers=auth))
    ok(client.post("/api/v1/user/withdraw", json=user("alice", id="w1", xp=1, env="dev"), headers=auth))
    assert count(app, Message) == 0
    assert work(app) == 0
    assert receiver.received() == []
    reward(client, auth, "alice", 5, "r1", pid=PID)  # the same thing live does send
    work(app)
    assert [b["type"] for b in bodies(receiver.received())] == ["points.rewarded"]


# -- retries ---------------------------------------------------------------------------------

def test_receiver_down_during_100_changes_then_up_gets_each_exactly_once(app, client, auth, clock, receivers):
    rx = receivers(up=False)  # the port is bound, nothing listens: connection refused
    ok(register(client, auth, rx.url(), secret=WHSEC))
    for i in range(100):
        reward(client, auth, f"user{i % 7}", i + 1, f"r{i}")
    assert count(app, Message, status="pending") == 100
    t0 = clock.now()

    # 1st attempt: refused, nothing arrives
    assert cli_work(app) == 100
    assert rx.received() == []
    # the next try is 5 s later (jitter only delays): nothing at 4 s
    clock.set(t0 + timedelta(seconds=4))
    assert work(app) == 0 and cli_work(app) == 0
    # the receiver comes up, but answers 503 for now; at 6 s all 100 are tried
    rx.status = 503
    rx.up()
    clock.set(t0 + timedelta(seconds=6))
    assert work(app) == 100
    failed_round = rx.received()
    assert len(failed_round) == 100
    # the 3rd try waits 5 min (at most +10%) after the 2nd: nothing at 6 s + 4 min 59 s
    clock.set(t0 + timedelta(minutes=4, seconds=65))
    assert cli_work(app) == 0
    assert len(rx.received()) == 100
    rx.status = 204
    clock.set(t0 + timedelta(seconds=6 + 1, minutes=5.5))
    assert cli_work(app) == 100
    got = rx.received()
    assert len(got) == 200
    delivered_round = got[100:]
    # every change exactly once with a 2xx, the same webhook-id as its failed try
    assert sorted(b["data"]["id"] for b in bodies(delivered_round)) == sorted(f"r{i}" for i in range(100))
    assert {r.webhook_id: r.body for r in failed_round} == {r.webhook_id: r.body for r in delivered_round}
    for r in delivered_round:
        Webhook(WHSEC).verify(r.body, r.headers)
    assert count(app, Message, status="delivered") == 100
    # and never again
    clock.set(t0 + timedelta(days=3))
    assert work(app) == 0
    assert len(rx.received()) == 200
    messages = log(client, auth)["messages"]
    assert len(messages) == 100
    for m in messages:
        assert m["status"] == "delivered" and m["attempts"] == 3
        first, second, third = m["log"]
        assert first["status_code"] is None and "refused" in first["error"].lower()
        assert second["status_code"] == 503 and third["status_code"] == 204


def test_a_message_failing_10_times_is_failed_then_redelivered(app, client, auth, clock, receiver):
    receiver.status = 500
    ok(register(client, auth, receiver.url()))
    reward(client, auth, "alice", 5, "r1")
    assert work(app) == 1
    waits = [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
             timedelta(hours=5), timedelta(hours=10), timedelta(hours=14), timedelta(hours=20),
             timedelta(hours=24)]
    for n, wait in enumerate(waits, start=2):
        before = clock.now()
        clock.set(before + wait - timedelta(seconds=1))
        assert work(app) == 0, f"attempt {n} came before its time"
        clock.set(before + wait * 1.1 + timedelta(seconds=1))
        assert work(app) == 1, f"attempt {n} did not come"
    [msg] = log(client, auth)["messages"]
    assert msg["status"] == "failed" and msg["attempts"] == 10 and msg["next_attempt_at"] is None
    assert [a["status_code"] for a in msg["log"]] == [500] * 10
    clock.advance(days=30)
    assert work(app) == 0  # failed is final...
    assert len(receiver.received()) == 10
    assert len({r.webhook_id for r in receiver.received()}) == 1
    # ...until an operator redelivers it
    receiver.status = 204
    r = client.post(f"/api/v1/admin/messages/{msg['id']}/redeliver", headers=auth)
    assert ok(r)["id"] == msg["id"] and ok(r)["status"] == "pending"
    assert work(app) == 1
    got = receiver.received()
    assert len(got) == 11 and got[-1].webhook_id == msg["id"]
    [msg] = log(client, auth)["messages"]
    assert msg["status"] == "delivered" and len(msg["log"]) == 11 and msg["log"][-1]["status_code"] == 204


def test_a_redirect_is_a_failure_not_followed_and_retried(app, client, auth, clock, receivers):
    target = receivers()
    rx = receivers()
    rx.script = [(302, {"Location": target.url("/elsewhere")}, b""),
                 (307, {"Location": target.url("/elsewhere")}, b"")]
    ok(register(client, auth, rx.url()))
    reward(client, auth, "alice", 5, "r1")
    assert work(app) == 1
    clock.advance(seconds=6)
    assert work(app) == 1  # the 307 too
    assert target.received() == []
    [msg] = log(client, auth)["messages"]
    assert msg["status"] == "pending" and [a["status_code"] for a in msg["log"]] == [302, 307]
    clock.advance(minutes=6)
    assert work(app) == 1
    assert target.received() == []
    got = rx.received()
    assert len(got) == 3 and len({r.webhook_id for r in got}) == 1
    assert log(client, auth)["messages"][0]["status"] == "delivered"


def test_3xx_and_4xx_answers_are_retried_only_2xx_delivers(app, client, auth, clock, receiver):
    receiver.script = [304, 400, 404, 429, 200]
    ok(register(client, auth, receiver.url()))
    reward(client, auth, "alice", 5, "r1")
    for _ in range(5):
        work(app)
        clock.advance(hours=3)
    [msg] = log(client, auth)["messages"]
    assert [a["status_code"] for a in msg["log"]] == [304, 400, 404, 429, 200]
    assert msg["status"] == "delivered"


# -- a worker killed with SIGKILL --------------------------------------------------------------

def _worker(db_url, tmp_path, log_name):
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "test-secret-key",
           "WEBHOOK_ALLOW_PRIVATE": "1", "WEBHOOK_LEASE_SECONDS": "1",
           "QUESTKIT_INSTANCE": str(tmp_path / "worker-instance"), "PYTHONUNBUFFERED": "1"}
    with open(tmp_path / log_name, "wb") as out:
        return subprocess.Popen([str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", "webhooks", "work",
                                 "--interval", "0.1"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(10)


@pytest.mark.slow
def test_worker_killed_with_sigkill_mid_batch_then_restarted_delivers_everything(
        app, client, auth, clock, db_url, tmp_path, receiver):
    # The subprocess runs on real time: changes are stamped now, so they are due for it.
    clock.set(datetime.now(UTC) - timedelta(seconds=1))
    n = 40
    ok(register(client, auth, receiver.url(), secret=WHSEC))
    for i in range(n):
        reward(client, auth, f"user{i}", 1, f"r{i}")
    assert count(app, Message, status="pending") == n

    worker = {}
    killed_at = []

    def kill_on_tenth(index, rec):
        # The 10th request is in flight when its sender dies: it cannot have been recorded.
        if index == 9:
            worker["proc"].send_signal(signal.SIGKILL)
            killed_at.append(rec.webhook_id)

    receiver.delay = 0.05
    receiver.on_request = kill_on_tenth
    first = worker["proc"] = _worker(db_url, tmp_path, "worker1.log")
    try:
        assert first.wait(20) == -signal.SIGKILL, (tmp_path / "worker1.log").read_text()
        assert killed_at, "the receiver never saw the 10th request"
        assert len({r.webhook_id for r in receiver.received()}) == 10
        pending = count(app, Message, status="pending")
        assert n - 10 <= pending <= n - 9  # the 10th at most was recorded; the batch was cut short
        second = worker["proc"] = _worker(db_url, tmp_path, "worker2.log")
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and count(app, Message, status="delivered") < n:
                assert second.poll() is None, (tmp_path / "worker2.log").read_text()
                time.sleep(0.1)
        finally:
            _stop(second)
    finally:
        _stop(first)

    assert count(app, Message, status="delivered") == n, (tmp_path / "worker2.log").read_text()
    got = receiver.received()
    by_body: dict[bytes, set] = {}
    for r in got:
        Webhook(WHSEC).verify(r.body, r.headers)
        by_body.setdefault(r.body, set()).add(r.webhook_id)
    # every message at least once; a duplicate carries the same webhook-id
    assert sorted(json.loads(b)["data"]["id"] for b in by_body) == sorted(f"r{i}" for i in range(n))
    assert all(len(ids) == 1 for ids in by_body.values())
    ids = [r.webhook_id for r in got]
    assert ids.count(killed_at[0]) == 2, "the request in flight at the kill was sent again"
    assert len(got) == n + 1


@pytest.mark.slow
def test_two_workers_with_a_short_lease_never_send_a_message_twice(
        app, client, auth, clock, db_url, tmp_path, receiver):
    """A lease shorter than a batch takes to send must not let a second worker take
    messages the first one is still working through (no crash here: no duplicate)."""
    clock.set(datetime.now(UTC) - timedelta(seconds=1))
    n = 60
    ok(register(client, auth, receiver.url()))
    for i in range(n):
        reward(client, auth, f"user{i}", 1, f"r{i}")
    receiver.delay = 0.05  # a batch of 50 takes 2.5 s; the lease is 1 s
    workers = [_worker(db_url, tmp_path, f"worker{k}.log") for k in range(2)]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and count(app, Message, status="delivered") < n:
            time.sleep(0.1)
        time.sleep(1.5)  # anything sent twice would arrive by now
    finally:
        for w in workers:
            _stop(w)
    logs = "".join((tmp_path / f"worker{k}.log").read_text() for k in range(2))
    assert count(app, Message, status="delivered") == n, logs
    ids = [r.webhook_id for r in receiver.received()]
    assert len(set(ids)) == n
    assert len(ids) == n, f"{len(ids) - n} messages were sent twice"


def test_a_late_result_does_not_undo_what_another_worker_settled(app, client, auth, clock, receiver):
    """A worker whose lease ran out records its attempt, but the message another
    worker delivered meanwhile stays delivered (and its attempt count is not bumped)."""
    ok(register(client, auth, receiver.url()))
    reward(client, auth, "alice", 5, "r1")
    settings = webhook_delivery.Settings(allow_private=True, lease=timedelta(seconds=1))
    with app.app_context():
        [(slow, _hook)] = webhook_delivery.claim(db.session, clock.now(), settings)
        pk = slow.id
    clock.advance(seconds=2)  # the lease runs out; another worker takes and delivers it
    assert work(app) == 1
    with app.app_context():
        webhook_delivery.record(db.session, pk, webhook_delivery.Result(410, 15000, None, "gone"), clock.now())
    data = log(client, auth)
    [m] = data["messages"]
    assert m["status"] == "delivered" and [a["status_code"] for a in m["log"]] == [204, 410]
    assert data["hook"]["active"] is False  # the receiver did say Gone
    clock.advance(days=2)
    assert work(app) == 0 and len(receiver.received()) == 1


# -- outbox and transactions ------------------------------------------------------------------------

def test_a_change_rolled_back_in_its_request_sends_nothing(app, client, auth, receiver, monkeypatch):
    ok(register(client, auth, receiver.url()))
    real_emit = webhooks.emit

    def emit_then_fail(session, **kw):
        real_emit(session, **kw)
        session.flush()  # the message row is written...
        raise Conflict("injected failure after the change")  # ...and the request fails

    monkeypatch.setattr(webhooks, "emit", emit_then_fail)
    r = client.post("/api/v1/user/reward", json={"account": "alice", "platform": "discord", "pid": "default",
                                                 "id": "r1", "xp": 5}, headers=auth)
    err(r, 409)
    monkeypatch.setattr(webhooks, "emit", real_emit)
    assert count(app, Message) == 0
    assert work(app) == 0
    assert receiver.received() == []
    reward(client, auth, "alice", 5, "r1")  # the same request, not failing, does send
    work(app)
    assert len(receiver.received()) == 1


def test_a_message_emitted_in_a_rolled_back_session_is_never_sent(app, client, auth, clock, receiver):
    ok(register(client, auth, receiver.url()))
    reward(client, auth, "alice", 5, "r1")
    work(app)
    receiver.clear()
    with app.app_context():
        hook = db.session.scalars(select(Hook)).one()
        alice = users.find_user(db.session, hook.org_id, "alice", "discord")
        from models import Campaign
        campaign = db.session.scalars(select(Campaign).where(Campaign.org_id == hook.org_id,
                                                             Campaign.pid == "default")).one()
        assert webhooks.emit(db.session, campaign_id=campaign.id, env="live", user_id=alice.id,
                             type="points.rewarded", data={"amount": 1}, now=clock.now()) == 1
        db.session.flush()
        assert db.session.scalar(select(func.count()).select_from(Message)) == 2
        db.session.rollback()
    assert count(app, Message) == 1
    assert work(app) == 0
    assert receiver.received() == []


def test_the_worker_holds_no_transaction_while_it_sends(app, client, auth, db_url, receiver):
    """Sending waits on the network (up to 15 s): no snapshot or lock is held meanwhile."""
    ok(register(client, auth, receiver.url()))
    reward(client, auth, "alice", 5, "r1")
    reward(client, auth, "bob", 5, "r2")
    seen = []
    probe_engine = create_engine(db_url)

    def probe(index, rec):
        with probe_engine.connect() as conn:
            if PG_URL:
                seen.append(conn.execute(text(
                    "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")).all())
            else:
                # (busy, wal frames, checkpointed): busy when a reader holds an old snapshot
                seen.append(conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").all()[0][0])

    receiver.on_request = probe
    try:
        assert work(app) == 2
    finally:
        probe_engine.dispose()
    assert seen == ([[], []] if PG_URL else [0, 0])


# -- subscriptions ---------------------------------------------------------------------------------

def test_pids_limit_a_hook_to_those_campaigns(app, client, auth, receivers):
    push_example(client, auth)
    everything, summer = receivers(), receivers()
    ok(register(client, auth, everything.url(), hook_id="all", pids=[]))
    ok(register(client, auth, summer.url(), hook_id="summer", pids=["summer_games"]))
    reward(client, auth, "alice", 5, "d1", pid="default")
    reward(client, auth, "alice", 6, "s1", pid=PID)
    work(app)
    assert sorted(b["data"]["pid"] for b in bodies(everything.received())) == ["default", "summer_games"]
    assert [b["data"]["pid"] for b in bodies(summer.received())] == ["summer_games"]
    assert len(log(client, auth, "summer")["messages"]) == 1


def test_delete_hook_stops_deliveries_even_of_pending_messages(app, client, auth, clock, receiver):
    ok(register(client, auth, receiver.url()))
    reward(client, auth, "alice", 5, "r1")
    reward(client, auth, "alice", 6, "r2")
    assert ok(unregister(client, auth)) == {}
    assert work(app) == 2  # each is settled without a request
    assert receiver.received() == []
    data = log(client, auth)
    assert data["hook"]["active"] is False
    for m in data["messages"]:
        assert m["status"] == "failed"
        assert m["log"][-1]["status_code"] is None and m["log"][-1]["error"]
    reward(client, auth, "alice", 7, "r3")  # later changes queue nothing for it
    assert count(app, Message) == 2
    clock.advance(days=2)
    assert work(app) == 0 and receiver.received() == []
    # registering it again starts over with new changes only
    ok(register(client, auth, receiver.url()))
    reward(client, auth, "alice", 8, "r4")
    work(app)
    assert [b["data"]["id"] for b in bodies(receiver.received())] == ["r4"]
    assert count(app, Hook) == 1


def test_posting_the_same_hook_id_again_updates_the_hook(app, client, auth, receivers):
    old, new = receivers(), receivers()
    ok(register(client, auth, old.url(), secret=PLAIN, pids=["nope"]))
    reward(client, auth, "alice", 5, "r1")  # pids excludes default: nothing queued
    ok(register(client, auth, new.url("/v2"), secret="second-secret", pids=[]))
    assert count(app, Hook) == 1
    reward(client, auth, "alice", 6, "r2")
    work(app)
    assert old.received() == []
    [got] = new.received()
    assert got.path == "/v2" and verify_plain("second-secret", got.headers, got.body)
    assert not verify_plain(PLAIN, got.headers, got.body)
    hook = log(client, auth)["hook"]
    assert (hook["uri"], hook["pids"], hook["active"]) == (new.url("/v2"), [], True)


def test_same_hook_id_in_two_organizations_are_two_hooks(app, client, auth, receivers):
    mine, theirs = receivers(), receivers()
    _, other_key = make_org(app, "globex")
    other = {"Authorization": f"Bearer {other_key}"}
    ok(register(client, auth, mine.url()))
    ok(register(client, other, theirs.url()))
    reward(client, auth, "alice", 5, "a1")
    reward(client, other, "alice", 6, "b1")
    work(app)
    assert [b["data"]["id"] for b in bodies(mine.received())] == ["a1"]
    assert [b["data"]["id"] for b in bodies(theirs.received())] == ["b1"]
    assert [json.loads(m["body"])["data"]["id"] for m in log(client, other)["messages"]] == ["b1"]


def test_410_gone_disables_the_hook(app, client, auth, clock, receiver):
    receiver.status = 410
    ok(register(client, auth, receiver.url()))
    for i in range(3):
        reward(client, auth, "alice", 5, f"r{i}")
    work(app)
    assert len(receiver.received()) == 1  # the others are not sent to a receiver that is gone
    data = log(client, auth)
    assert data["hook"]["active"] is False and "410" in data["hook"]["disabled_reason"]
    assert {m["status"] for m in data["messages"]} == {"failed"}
    assert sorted(m["log"][0]["status_code"] or 0 for m in data["messages"]) == [0, 0, 410]
    reward(client, auth, "alice", 5, "later")
    assert count(app, Message) == 3  # later changes queue nothing for it
    clock.advance(days=3)
    assert work(app) == 0
    assert len(receiver.received()) == 1


def test_a_slow_receiver_is_logged_with_its_latency_and_answer(app, client, auth, clock, receiver):
    receiver.script = [(500, {}, b"boom: " + b"x" * 5000), (200, {}, b"thanks")]
    receiver.delay = 0.06
    ok(register(client, auth, receiver.url()))
    reward(client, auth, "alice", 5, "r1")
    work(app)
    clock.advance(seconds=6)
    work(app)
    data = log(client, auth)
    assert data["hook"] == {"hook_id": "prod", "scope": "user_activity", "uri": receiver.url(), "pids": [],
                            "active": True, "disabled_reason": None}
    [m] = data["messages"]
    assert m["type"] == "points.rewarded" and m["status"] == "delivered" and m["attempts"] == 2
    assert json.loads(m["body"])["data"]["id"] == "r1"
    assert m["delivered_at"] == "2026-11-22T12:00:06Z" and m["created_at"] == "2026-11-22T12:00:00Z"
    first, second = m["log"]
    assert first["status_code"] == 500 and first["response"].startswith("boom: xxx")
    assert 10 <= len(first["response"]) <= 1024  # an excerpt
    assert second["status_code"] == 200 and second["response"] == "thanks" and second["error"] is None
    assert first["latency_ms"] >= 50 and second["latency_ms"] >= 50
    assert first["at"] == "2026-11-22T12:00:00Z" and second["at"] == "2026-11-22T12:00:06Z"


def test_another_organization_gets_404_for_the_hook_and_for_redelivery(app, client, auth, receiver):
    ok(register(client, auth, receiver.url()))
    reward(client, auth, "alice", 5, "r1")
    [msg] = log(client, auth)["messages"]
    _, other_key = make_org(app, "globex")
    other = {"Authorization": f"Bearer {other_key}"}
    err(client.get("/api/v1/admin/hooks/prod/messages", headers=other), 404)
    err(client.post(f"/api/v1/admin/messages/{msg['id']}/redeliver", headers=other), 404)
    err(client.post("/api/v1/admin/messages/msg_unknown/redeliver", headers=auth), 404)
    err(client.get("/api/v1/admin/hooks/nope/messages", headers=auth), 404)
    err(unregister(client, other), 404)
    assert log(client, auth)["hook"]["active"] is True
    err(client.get("/api/v1/admin/hooks/prod/messages"), 401)
    work(app)
    assert len(receiver.received()) == 1


# -- addresses --------------------------------------------------------------------------------------

@pytest.mark.parametrize("uri", [
    "http://127.0.0.1:{port}/hook",  # http and loopback
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "https://172.16.5.4/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://2130706433/hook",  # 127.0.0.1 in decimal
    "http://93.184.216.34/hook",  # public, but http
])
def test_private_addresses_and_http_are_refused_without_the_setting(strict_app, auth, uri, receiver):
    client = strict_app.test_client()
    r = register(client, auth, uri.format(port=receiver.port))
    assert "uri" in err(r, 400)
    assert count(strict_app, Hook) == 0


def test_a_public_https_address_is_accepted_without_the_setting(strict_app, auth):
    client = strict_app.test_client()
    ok(register(client, auth, "https://93.184.216.34/hook"))  # a literal: no DNS needed
    assert count(strict_app, Hook) == 1


def test_a_private_hook_is_refused_at_delivery_when_the_app_runs_without_the_setting(
        app, strict_app, client, auth, clock, receiver):
    ok(register(client, auth, receiver.url()))  # allowed when registered
    reward(client, auth, "alice", 5, "r1")
    assert cli_work(strict_app) == 1
    assert work(strict_app) == 0
    assert receiver.received() == []  # no request reached it
    [m] = log(client, auth)["messages"]
    assert m["status"] == "pending"  # a failure like any other: retried
    [attempt] = m["log"]
    assert attempt["status_code"] is None and attempt["error"].startswith("refused")
    clock.advance(seconds=6)
    assert cli_work(strict_app) == 1 and receiver.received() == []
    assert work(app) == 0  # nothing due before the next retry
    clock.advance(minutes=6)
    assert work(app) == 1  # run with the setting again, it goes through
    assert len(receiver.received()) == 1


NEVER_AN_ENDPOINT = [
    "https://224.0.0.1/h", "https://239.255.255.250/h", "https://[ff02::1]/h", "https://[ff0e::1]/h",
    "https://0.0.0.0/h", "https://[::]/h", "https://255.255.255.255/h", "https://240.0.0.1/h",
    "https://[::ffff:224.0.0.1]/h", "https://3758096385/h",  # 224.0.0.1 in decimal
    "http://224.0.0.1:9/h", "http://0.0.0.0:9/h", "http://[ff02::1]:9/h",
]
NOT_AS_SENT = [
    "https://93.184.216.34/h\r\nX-Injected: 1", "https://93.184.216.34/h\n", "https://93.184.216.34/h\r",
    "https://93.184.216.34/a\tb", "https://93.184.216.34/a b", " https://93.184.216.34/h",
    "https://93.184.216.34/h\x0b", "https://93.184.216.34/h\x7f", "https://93.184.216.34/h\u2028",
    "http://127.0.0.1:9/h\r\nX-Injected: 1", "http://127.0.0.1:9/a\tb", "http://127.0.0.1:9/\u00a0",
]


@pytest.mark.parametrize("uri", NEVER_AN_ENDPOINT + NOT_AS_SENT)
def test_multicast_broadcast_reserved_and_control_characters_are_refused_with_or_without_the_setting(
        app, strict_app, client, auth, uri):
    for c in (client, strict_app.test_client()):  # WEBHOOK_ALLOW_PRIVATE=1, then 0
        assert "uri" in err(register(c, auth, uri), 400)
    assert count(app, Hook) == 0


@pytest.mark.parametrize("uri", ["https://224.0.0.1/h", "https://[ff02::1]/h", "http://0.0.0.0:9/h",
                                 "http://127.0.0.1:9/h\r\nX-Injected: 1"])
def test_a_stored_hook_to_such_an_address_is_refused_at_delivery(app, client, auth, uri):
    ok(register(client, auth, "http://127.0.0.1:9/hook"))
    with app.app_context():  # a row written before these checks existed, or by hand
        db.session.execute(Hook.__table__.update().values(uri=uri))
        db.session.commit()
    reward(client, auth, "alice", 5, "r1")
    assert work(app) == 1  # the setting is on: only the address itself is refused
    [m] = log(client, auth)["messages"]
    [attempt] = m["log"]
    assert attempt["status_code"] is None and attempt["error"].startswith("refused")


@pytest.mark.parametrize("literal", ["224.0.0.1", "ff02::1", "ff0e::1", "0.0.0.0", "::", "255.255.255.255",
                                  "240.0.0.1", "::ffff:224.0.0.1", "2002:e000:1::", "0.1.2.3"])
def test_multicast_unspecified_broadcast_and_reserved_addresses_are_not_public(literal):
    address = ipaddress.ip_address(literal)
    assert webhooks.is_public(address) is False and webhooks.is_unreachable(address) is True


def test_loopback_and_private_addresses_are_not_unreachable_only_private():
    for literal in ("127.0.0.1", "10.1.2.3", "::1", "::ffff:127.0.0.1", "8.8.8.8", "2001:4860:4860::8888"):
        assert webhooks.is_unreachable(ipaddress.ip_address(literal)) is False


def test_the_address_checked_is_the_address_connected_to(strict_app, auth, monkeypatch):
    """DNS rebinding: a name that resolves to a public address when checked must not reach
    loopback through a second lookup when the worker connects (SPEC §11)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    real_getaddrinfo, real_create_connection = socket.getaddrinfo, socket.create_connection
    answers = []

    def getaddrinfo(host, port_, *args, **kw):
        if host != "rebind.test":
            return real_getaddrinfo(host, port_, *args, **kw)
        ip = "93.184.216.34" if len(answers) < 2 else "127.0.0.1"  # public for the two checks
        answers.append(ip)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, int(port_ or 443)))]

    def create_connection(address, *args, **kw):
        try:
            public = ipaddress.ip_address(address[0]).is_global
        except ValueError:
            public = False
        if public:  # keep the test off the internet
            raise ConnectionRefusedError("test: no connections to public addresses")
        return real_create_connection(address, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(webhook_delivery, "TIMEOUT_S", 1)
    client = strict_app.test_client()
    try:
        ok(register(client, auth, f"https://rebind.test:{port}/hook"))
        reward(client, auth, "alice", 5, "r1")
        assert work(strict_app) == 1
        with pytest.raises(socket.timeout):
            conn, _ = listener.accept()
            conn.close()
    finally:
        listener.close()
    [m] = log(client, auth)["messages"]
    assert m["status"] == "pending" and m["log"][0]["status_code"] is None and m["log"][0]["error"]
    assert answers[:2] == ["93.184.216.34", "93.184.216.34"]


# -- bad input ---------------------------------------------------------------------------------------

GOOD = {"scope": "user_activity", "uri": "http://127.0.0.1:9/hook", "secret": PLAIN, "hook_id": "prod",
        "pids": []}


@pytest.mark.parametrize("change", [
    {"scope": None}, {"uri": None}, {"hook_id": None},
    {"scope": "all_activity"}, {"scope": ""}, {"scope": 1}, {"scope": ["user_activity"]},
    {"uri": "not a url"}, {"uri": "ftp://127.0.0.1/hook"}, {"uri": "https://"}, {"uri": ""},
    {"uri": "//127.0.0.1/hook"}, {"uri": "http://user:pw@127.0.0.1/hook"}, {"uri": "http://127.0.0.1:99999/"},
    {"uri": 5}, {"uri": "https://example.com/" + "x" * 2100},
    {"secret": "whsec_!!!not-base64!!!"}, {"secret": "whsec_abc"}, {"secret": ""}, {"secret": 123},
    {"hook_id": ""}, {"hook_id": 7}, {"hook_id": "x" * 300},
    {"pids": "summer_games"}, {"pids": [1]}, {"pids": [""]}, {"pids": {"a": 1}},
])
def test_bad_hook_registration_is_400_and_writes_nothing(app, client, auth, change):
    ok(register(client, auth, "http://127.0.0.1:9/existing", hook_id="prod", secret="s1", pids=["a"]))
    body = {**GOOD, **change}
    body = {k: v for k, v in body.items() if v is not None}
    r = client.post("/api/v1/hook", json=body, headers=auth)
    err(r, 400)
    hook = log(client, auth)["hook"]
    assert (hook["uri"], hook["pids"], hook["active"]) == ("http://127.0.0.1:9/existing", ["a"], True)
    assert count(app, Hook) == 1


def test_malformed_or_unauthenticated_hook_requests_write_nothing(app, client, auth):
    for r in (
        client.post("/api/v1/hook", data="{not json", headers={**auth, "Content-Type": "application/json"}),
        client.post("/api/v1/hook", json=["scope"], headers=auth),
        client.delete("/api/v1/hook", data="{", headers={**auth, "Content-Type": "application/json"}),
    ):
        err(r, 400)
    err(client.post("/api/v1/hook", json=GOOD), 401)
    err(client.post("/api/v1/hook", json=GOOD, headers={"Authorization": "Bearer qk_live_nope"}), 401)
    assert count(app, Hook) == 0


@pytest.mark.parametrize("body", [
    {"hook_id": "prod"}, {"scope": "user_activity"}, {},
    {"scope": "all_activity", "hook_id": "prod"}, {"scope": "user_activity", "hook_id": ""},
    {"scope": "user_activity", "hook_id": 1}, {"scope": 1, "hook_id": "prod"},
])
def test_bad_hook_deletion_is_400_and_changes_nothing(app, client, auth, body):
    ok(register(client, auth, "http://127.0.0.1:9/hook"))
    err(client.delete("/api/v1/hook", json=body, headers=auth), 400)
    assert log(client, auth)["hook"]["active"] is True


def test_deleting_an_unknown_hook_is_404(app, client, auth):
    err(unregister(client, auth, "nope"), 404)
    assert count(app, Hook) == 0



@pytest.mark.parametrize("text,public", [
    ("8.8.8.8", True), ("127.0.0.1", False), ("10.1.2.3", False), ("2001:4860:4860::8888", True),
    ("::ffff:127.0.0.1", False), ("::127.0.0.1", False), ("64:ff9b::a00:1", False),
    ("64:ff9b::808:808", True), ("2002:7f00:1::", False), ("2002:808:808::", True), ("::1", False),
    ("4000::1", False), ("::ffff:8.8.8.8", True),
])
def test_ipv6_forms_that_carry_a_private_ipv4_address_are_not_public(text, public):
    import ipaddress

    from engine.outbox.webhooks import is_public
    assert is_public(ipaddress.ip_address(text)) is public
