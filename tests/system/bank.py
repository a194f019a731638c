"""A bank test across processes on PostgreSQL, in the style of Jepsen's.

Three gunicorn servers and two webhook workers share one PostgreSQL
database. Client threads send rewards, strict withdrawals, events that pay,
catalog claims, game plays and repeats of earlier ids to the servers in
turn, while one server and one worker are killed with SIGKILL (their whole
process group) and started again. Every answer is recorded; a request whose
answer never came (the server died under it) may or may not have taken
effect, one that was answered 2xx must have taken effect exactly once.

Afterwards, with every process stopped and the outbox drained:
- no balance is negative and every balance equals the sum of its ledger entries;
- every answered reward, withdrawal and event is in the ledger or the event
  table exactly once; claims and plays are there as often as they were
  answered 2xx, plus at most the number of unanswered ones;
- every outbox message was delivered, and the receiver saw each webhook-id
  at least once, every copy with the same body.

``run(url, seconds=...)`` is used by tests/system/test_bank.py (short) and
bench/bank.py (at length); both print the figures of ``Report``.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench._servers import free_port, wait_for
from tests.api.webhook_receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLES = ROOT / "examples"
SECRET = "bank-test-secret"


# -- processes ----------------------------------------------------------------------------

class Process:
    """A command in a process group of its own, so SIGKILL reaches all of it."""

    def __init__(self, args: list[str], env: dict, log: Path, port: int | None = None):
        self.args, self.env, self.log, self.port = args, env, log, port
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Process":
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=out, stderr=out,
                                         start_new_session=True)
        if self.port is not None:
            wait_for(self.port, timeout=60)
        return self

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill9()


def server(env: dict, log: Path) -> Process:
    port = free_port()
    return Process([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                    "--threads", "4", "--log-level", "warning", "app:create_app()"], env, log, port)


def worker(env: dict, log: Path) -> Process:
    return Process([str(BIN / "flask"), "--app", "app", "webhooks", "work", "--interval", "0.2"],
                   env, log)


# -- clients --------------------------------------------------------------------------------

@dataclass
class Call:
    op: str
    user: str
    ref: str | None  # the id sent (reward, withdrawal, event), None for claims and plays
    status: int | None  # None: no answer (connection refused or cut)
    body: dict | None


@dataclass
class History:
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)


def request(port: int, method: str, path: str, headers: dict, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw or b"null")
        except ValueError:
            return e.code, None
    except (OSError, ValueError, http.client.HTTPException):  # refused, reset, cut short: no answer
        return None, None


class Client:
    """One simulated partner thread; its users are its own, so repeats are its own too."""

    def __init__(self, n: int, ports: list[int], key: str, tokens: dict[str, str],
                 history: History, rng: random.Random):
        self.n, self.ports, self.key, self.tokens = n, ports, key, tokens
        self.history, self.rng = history, rng
        self.sent: list[tuple[str, str, str]] = []  # (op, user, ref) of ids sent, for repeats
        self.seq = 0

    def port(self) -> int:
        return self.rng.choice(self.ports)

    def step(self) -> None:
        rng = self.rng
        user = f"c{self.n}u{rng.randrange(3)}"
        op = rng.choices(["reward", "withdraw", "event", "claim", "play", "repeat"],
                         [30, 25, 20, 8, 10, 7])[0]
        if op == "repeat" and self.sent:
            op, user, ref = rng.choice(self.sent)
        else:
            if op == "repeat":
                op = "reward"
            self.seq += 1
            ref = f"c{self.n}-{self.seq}"
        bearer = {"Authorization": f"Bearer {self.key}"}
        if op == "reward":
            status, body = request(self.port(), "POST", "/api/v1/user/reward", bearer, {
                "account": user, "platform": "internal", "pid": "default", "id": ref,
                "xp": rng.randrange(50, 400)})
        elif op == "withdraw":
            status, body = request(self.port(), "POST", "/api/v1/user/withdraw", bearer, {
                "account": user, "platform": "internal", "pid": "default", "id": ref,
                "xp": rng.randrange(20, 300), "strict": True})
        elif op == "event":
            status, body = request(self.port(), "POST", "/api/v1/gamify/events", {"X-API-Key": self.key}, {
                "participant_id": user, "event_type": "order_paid", "id": ref,
                "properties": {"amount": rng.randrange(1, 200)}})
        elif op == "claim":
            ref = None
            status, body = request(self.port(), "POST", f"/api/v1/gamify/participants/{user}/rewards",
                                   {"X-API-Key": self.key}, {"code": "coffee"})
        else:
            ref = None
            status, body = request(self.port(), "POST", "/v1/games/NEON_WHEEL/play",
                                   {"Authorization": f"Bearer {self.tokens[user]}"}, {})
        if ref is not None and (op, user, ref) not in self.sent:
            self.sent.append((op, user, ref))
        self.history.add(Call(op, user, ref, status, body))


# -- the run --------------------------------------------------------------------------------

@dataclass
class Report:
    seconds: float
    requests: int
    answered: dict  # status -> count
    unanswered: int
    users: int
    ledger_entries: int
    messages: int
    deliveries: int  # requests the receiver got (retries and duplicates included)
    drain_seconds: float
    problems: list[str]

    def lines(self) -> list[str]:
        return [
            f"run: {self.seconds:.0f} s, {self.requests} requests "
            f"({self.requests / self.seconds:.0f}/s), {self.unanswered} unanswered",
            "answers: " + ", ".join(f"{k} x{v}" for k, v in sorted(self.answered.items())),
            f"state: {self.users} users, {self.ledger_entries} ledger entries, {self.messages} outbox messages",
            f"webhooks: {self.deliveries} deliveries received, outbox drained "
            f"{self.drain_seconds:.1f} s after the clients stopped",
            f"problems: {len(self.problems)}",
            *("  " + p for p in self.problems[:20]),
        ]


def _cli(env: dict, *args: str) -> str:
    out = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True)
    return out.stdout


def _setup(env: dict, port: int, hook_url: str, users: list[str]) -> tuple[str, dict[str, str]]:
    """An organization with the default example published, a key, a hook and the users'
    widget tokens, made as an operator would: the CLI, then the API."""
    _cli(env, "org", "create", "bank")
    key = _cli(env, "key", "create", "bank").strip().splitlines()[-1]
    _cli(env, "campaign", "push", "bank", str(EXAMPLES / "default-example.json"), "--publish")
    bearer = {"Authorization": f"Bearer {key}"}
    status, body = request(port, "POST", "/api/v1/hook", bearer, {
        "scope": "user_activity", "uri": hook_url, "secret": "bank-hook-secret", "hook_id": "bank", "pids": []})
    assert status == 200, (status, body)
    tokens = {}
    for user in users:
        status, body = request(port, "GET", f"/api/v1/token?account={user}&platform=internal&name={user}",
                               bearer)
        assert status == 200, (status, body)
        tokens[user] = body["data"]["token"]
    return key, tokens


def _check(url: str, history: History, receiver: Receiver, instance: Path) -> tuple[list[str], dict]:
    from sqlalchemy import func, select

    from app import create_app
    from engine import ledger
    from extensions import db
    from models import Balance, CatalogClaim, Event, LedgerEntry, Message, Play, User

    problems: list[str] = []
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "INSTANCE_PATH": str(instance)})
    with app.app_context():
        s = db.session
        ids = dict(s.execute(select(User.account, User.id)).all())
        for b in s.scalars(select(Balance)):
            if b.total < 0:
                problems.append(f"user {b.user_id}: negative total {b.total}")
            summed = ledger.sum_entries(s, b.campaign_id, b.user_id, b.env)
            if (summed.xp, summed.ref_xp, summed.ugc_xp) != (b.xp, b.ref_xp, b.ugc_xp):
                problems.append(f"user {b.user_id}: balance {b.xp}/{b.ref_xp}/{b.ugc_xp} but ledger "
                                f"{summed.xp}/{summed.ref_xp}/{summed.ugc_xp}")
        idem = Counter(s.execute(select(LedgerEntry.user_id, LedgerEntry.idem_key)).all())
        events = Counter(s.execute(select(Event.user_id, Event.client_id)).all())
        claims = Counter(s.scalars(select(CatalogClaim.user_id)))
        plays = Counter(s.scalars(select(Play.user_id).where(Play.source == "game")))
        play_ids = set(s.scalars(select(Play.play_id)))

        answered_ok = defaultdict(int)
        unanswered = defaultdict(int)
        refused: set[tuple] = set()
        ok_refs: set[tuple] = set()
        for c in history.calls:
            uid = ids.get(c.user)
            if c.status is None:
                unanswered[(c.op, uid)] += 1
                continue
            if 200 <= c.status < 300:
                answered_ok[(c.op, uid)] += 1
                if c.ref is not None:
                    ok_refs.add((c.op, uid, c.ref))
                if c.op == "play" and c.body and c.body.get("data", {}).get("playId") not in play_ids:
                    problems.append(f"play answered 2xx is missing: {c.body}")
            elif c.ref is not None and c.status == 409:
                refused.add((c.op, uid, c.ref))
            if c.status >= 500:
                problems.append(f"{c.op} for {c.user} answered {c.status}: {c.body}")
        for op, uid, ref in ok_refs:
            if op == "event":
                n = events[(uid, ref)]
            else:
                n = idem[(uid, f"{op}:{ref}")]
            if n != 1:
                problems.append(f"{op} {ref} of user {uid} answered 2xx but is present {n} times")
        for op, uid, ref in refused - ok_refs:
            if op == "withdraw" and idem[(uid, f"withdraw:{ref}")] != 0:
                problems.append(f"withdrawal {ref} of user {uid} answered 409 but is in the ledger")
        for op, present in (("claim", claims), ("play", plays)):
            for uid in {u for (o, u) in list(answered_ok) + list(unanswered) if o == op} | set(present):
                low, extra = answered_ok[(op, uid)], unanswered[(op, uid)]
                if not low <= present[uid] <= low + extra:
                    problems.append(f"user {uid}: {present[uid]} {op}s stored, {low} answered 2xx, "
                                    f"{extra} unanswered")
        bodies: dict[str, set[bytes]] = defaultdict(set)
        for r in receiver.received():
            bodies[r.webhook_id].add(r.body)
        messages = s.execute(select(Message.msg_id, Message.status, Message.body)).all()
        for msg_id, status, body in messages:
            if status != "delivered":
                problems.append(f"message {msg_id} is {status}")
            seen = bodies.get(msg_id)
            if not seen:
                problems.append(f"message {msg_id} never reached the receiver")
            elif seen != {body.encode()}:
                problems.append(f"message {msg_id} arrived with {len(seen)} different bodies")
        figures = {"users": s.scalar(select(func.count()).select_from(Balance)),
                   "ledger_entries": s.scalar(select(func.count()).select_from(LedgerEntry)),
                   "messages": len(messages)}
        db.engine.dispose()
    return problems, figures


def _pending(url: str) -> int:
    from sqlalchemy import create_engine, func, select

    from models import Message
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Message).where(Message.status != "delivered"))
    finally:
        engine.dispose()


def run(url: str, workdir: Path, *, seconds: float = 60, clients: int = 50, seed: int = 1,
        lease_seconds: int = 5, drain_timeout: float = 120) -> Report:
    """Run the scenario against the empty PostgreSQL database at ``url``."""
    instance = workdir / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    receiver = Receiver().up()  # answers 204 and records every request
    history = History()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "QUESTKIT_INSTANCE": str(instance),
           "WEBHOOK_ALLOW_PRIVATE": "1", "WEBHOOK_LEASE_SECONDS": str(lease_seconds)}
    _cli(env, "db", "upgrade")
    servers = [server(env, workdir / f"server{i}.log") for i in range(3)]
    workers = [worker(env, workdir / f"worker{i}.log") for i in range(2)]
    stop = threading.Event()
    try:
        for p in servers + workers:
            p.start()
        ports = [p.port for p in servers]
        key, tokens = _setup(env, ports[0], f"http://127.0.0.1:{receiver.port}/hook",
                             [f"c{c}u{u}" for c in range(clients) for u in range(3)])

        def client(n: int) -> None:
            c = Client(n, ports, key, tokens, history, random.Random(seed * 1000 + n))
            while not stop.is_set():
                c.step()

        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
        started = time.time()
        for t in threads:
            t.start()
        # Kill one server and one worker a third of the way in; bring them back a moment later.
        time.sleep(seconds / 3)
        servers[0].kill9()
        workers[0].kill9()
        time.sleep(min(3.0, seconds / 10))
        servers[0].start()
        workers[0].start()
        time.sleep(max(0.0, started + seconds - time.time()))
        stop.set()
        for t in threads:
            t.join(60)
        ran = time.time() - started
        # Deliveries go on after the clients stop: leases of the killed worker expire first.
        drained_from = time.time()
        while _pending(url) and time.time() - drained_from < drain_timeout:
            time.sleep(0.5)
        drained = time.time() - drained_from
    finally:
        stop.set()
        for p in servers + workers:
            p.stop()
    problems, figures = _check(url, history, receiver, instance)
    receiver.close()
    statuses = Counter(c.status for c in history.calls if c.status is not None)
    return Report(seconds=ran, requests=len(history.calls), answered=dict(statuses),
                  unanswered=sum(1 for c in history.calls if c.status is None),
                  users=figures["users"], ledger_entries=figures["ledger_entries"],
                  messages=figures["messages"], deliveries=len(receiver.received()), drain_seconds=drained,
                  problems=problems)
