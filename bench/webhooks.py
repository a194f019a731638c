"""Webhook delivery: one worker's steady rate, and how long a burst takes to drain.

Everything runs on this machine, on a SQLite file in a temporary directory:

- the receiver: a threaded http.server on 127.0.0.1 answering 204 to every
  POST, in a process of its own, counting arrivals and their times;
- the worker: the real CLI, `flask --app app webhooks work --interval 0.05`,
  as ONE subprocess (so the figures include the claim / send / record
  transactions and a new TCP connection per message, as in production);
- the changes: rewards in the `default` campaign with one hook registered, so
  one message per change. By default (--via engine) they are written by direct
  engine calls (engine.participation.credits.reward), one transaction per change as a request
  would (--per-transaction N groups them; on SQLite a writer that never lets
  go of the write lock starves the worker's claims until it stops); --via api
  posts them as POST /api/v1/user/reward through the Flask test client in this
  process. Either way one writer's speed bounds how fast a burst arrives.

(1) steady state: the outbox is filled with --steady messages while the worker
is stopped; then it starts, and the rate is measured between the 10th and the
90th percentile of arrivals (startup and tail excluded).
(2) burst: with the worker running and idle, --burst changes are written as
fast as one writer can; the drain time runs from the first change to the last
arrival at the receiver.

    .venv/bin/python bench/webhooks.py [--steady 3000] [--burst 10000] [--via engine|api]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _servers import ROOT, VENV_BIN, free_port, wait_for

# -- the receiver, in its own process -------------------------------------------------------------

def _serve(port: int, count, times) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(204)
            self.end_headers()
            now = time.time()
            with count.get_lock():
                i = count.value
                count.value = i + 1
                if i < len(times):
                    times[i] = now

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    server.serve_forever()


def wait_count(count, target: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while count.value < target:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {count.value} of {target} messages arrived in {timeout:.0f} s")
        time.sleep(0.02)


# -- the application ----------------------------------------------------------------------------------

def prepare(tmp: Path, receiver_port: int):
    from app import create_app
    from extensions import db

    env = {"DATABASE_URL": f"sqlite:///{tmp / 'questkit.sqlite3'}", "SECRET_KEY": "bench",
           "WEBHOOK_ALLOW_PRIVATE": "1", "QUESTKIT_INSTANCE": str(tmp / "instance")}
    app = create_app({"DATABASE_URL": env["DATABASE_URL"], "SECRET_KEY": "bench",
                      "WEBHOOK_ALLOW_PRIVATE": "1", "INSTANCE_PATH": env["QUESTKIT_INSTANCE"]})
    with app.app_context():
        db.create_all()
    key = app.test_cli_runner().invoke(args=["key", "create", "bench"]).output.strip().splitlines()[-1]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    r = client.post("/api/v1/hook", json={"scope": "user_activity", "uri": f"http://127.0.0.1:{receiver_port}/hook",
                                          "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                          "hook_id": "bench", "pids": []}, headers=headers)
    assert r.status_code == 200, r.get_json()
    return env, app, client, headers


def engine_changes(app, n: int, tag: str, per_transaction: int = 1) -> None:
    from sqlalchemy import select

    from engine.definitions import campaigns
    from engine.participation import credits
    from engine.access import users
    from engine.db.storage import writing
    from extensions import db
    from models import Organization

    with app.app_context():
        org_id = db.session.scalars(select(Organization.id).where(Organization.name == "bench")).one()
        db.session.rollback()  # end the read, so each batch begins as a writer (BEGIN IMMEDIATE)
        for first in range(0, n, per_transaction):
            now = app.extensions["questkit"].clock.now()
            with writing():
                view = campaigns.view(campaigns.get_campaign(db.session, org_id, "default"), "live")
                for i in range(first, min(n, first + per_transaction)):
                    user = users.ensure_user(db.session, org_id, f"user{i % 500}", "bench", now)
                    credits.reward(db.session, view, user, reward_id=f"{tag}-{i}", xp=1, kind=None, now=now)
                db.session.commit()


def api_changes(client, headers, n: int, tag: str) -> None:
    for i in range(n):
        r = client.post("/api/v1/user/reward", json={"account": f"user{i % 500}", "platform": "bench",
                                                     "pid": "default", "id": f"{tag}-{i}", "xp": 1},
                        headers=headers)
        if r.status_code != 200:
            raise RuntimeError(f"reward failed: {r.status_code} {r.get_data(as_text=True)}")


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([str(VENV_BIN / "flask"), "--app", "app", "webhooks", "work",
                                 "--interval", "0.05"], cwd=ROOT, env={**os.environ, **env},
                                stdout=out, stderr=subprocess.STDOUT)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steady", type=int, default=3000, help="messages for the steady-state rate")
    p.add_argument("--burst", type=int, default=10000, help="changes in the burst")
    p.add_argument("--via", choices=("engine", "api"), default="engine",
                   help="write the changes by engine calls or API requests")
    p.add_argument("--per-transaction", type=int, default=1, help="changes per transaction (--via engine)")
    p.add_argument("--timeout", type=float, default=900, help="give up after this many seconds per phase")
    args = p.parse_args()

    port = free_port()
    count = mp.Value("q", 0)
    times = mp.Array("d", args.steady + args.burst, lock=False)
    receiver = mp.Process(target=_serve, args=(port, count, times), daemon=True)
    receiver.start()
    worker = None
    try:
        wait_for(port)
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            env, app, client, headers = prepare(tmp, port)

            def changes(n, tag):
                if args.via == "engine":
                    engine_changes(app, n, tag, args.per_transaction)
                else:
                    api_changes(client, headers, n, tag)

            # (1) steady state: a full outbox, one worker
            t = time.perf_counter()
            changes(args.steady, "steady")
            print(f"outbox filled with {args.steady} messages in {time.perf_counter() - t:.1f} s",
                  file=sys.stderr, flush=True)
            worker = start_worker(env, tmp / "worker.log")
            wait_count(count, args.steady, args.timeout)
            lo, hi = int(args.steady * 0.1), int(args.steady * 0.9)
            rate = (hi - lo) / (times[hi] - times[lo])
            print(f"steady state: {rate:.0f} messages/s", file=sys.stderr, flush=True)

            # (2) a burst while the worker runs
            start = time.time()
            changes(args.burst, "burst")
            written = time.time() - start
            print(f"burst of {args.burst} changes written in {written:.1f} s "
                  f"({args.burst / written:.0f}/s); {count.value - args.steady} delivered by then",
                  file=sys.stderr, flush=True)
            wait_count(count, args.steady + args.burst, args.timeout)
            drained = times[args.steady + args.burst - 1] - start
            if worker.poll() is not None:
                raise RuntimeError("the worker died:\n" + (tmp / "worker.log").read_text())
            worker.send_signal(signal.SIGTERM)
            worker.wait(10)
            worker = None
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait(10)
        receiver.terminate()
        receiver.join(5)

    print(f"webhooks (one CLI worker, SQLite, changes via {args.via}): steady state {rate:.0f} messages/s; "
          f"burst of {args.burst} changes drained in {drained:.1f} s from its first change "
          f"(written in {written:.1f} s, drained {drained - written:.1f} s after the last)")


if __name__ == "__main__":
    main()
