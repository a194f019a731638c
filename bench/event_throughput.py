"""POST /api/v1/event requests per second, next to a bare Flask insert.

Both are served by gunicorn (2 workers x 4 threads unless told) on SQLite and loaded by
wrk with the same bodies (bench/event.lua: 1,000 users, events that match
the example campaign's dice tasks). Rounds alternate between the two so
machine noise hits both; the figure is the ratio of the medians.

Beside the rates it prints each server's CPU time per request (all its
processes, from /proc): with both servers CPU-bound on a small machine the
ratio of the rates follows the ratio of these, and they swing less than the
rates do when the machine's speed changes between rounds.

    .venv/bin/python bench/event_throughput.py [--rounds 3] [--seconds 10]
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _servers import ROOT, gunicorn, load, median  # noqa: E402


def prepare_questkit(tmp: Path) -> tuple[dict, str]:
    """A fresh SQLite database with the example campaign published and a key."""
    from app import create_app
    from engine.definitions import campaigns
    from engine.access import keys, organizations
    from extensions import db

    env = {"DATABASE_URL": f"sqlite:///{tmp / 'questkit.sqlite3'}", "SECRET_KEY": "bench",
           "QUESTKIT_INSTANCE": str(tmp / "instance")}
    app = create_app({k: v for k, v in env.items() if k != "QUESTKIT_INSTANCE"}
                     | {"INSTANCE_PATH": env["QUESTKIT_INSTANCE"]})
    with app.app_context():
        db.create_all()
        now = app.extensions["questkit"].clock.now()
        org = organizations.create_organization(db.session, "bench", now)
        doc = json.loads((ROOT / "examples" / "campaign-example.json").read_text())
        campaigns.put_draft(db.session, org.id, doc["id"], doc, now)
        campaigns.publish(db.session, org.id, doc["id"], now)
        _, key = keys.create_key(db.session, org.id, now)
        db.session.commit()
    return env, key


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (both servers)")
    p.add_argument("--threads", type=int, default=4, help="threads per worker (both servers)")
    p.add_argument("--floor", action="store_true",
                   help="also load bench/floor_app.py: the event's statements on raw sqlite3")
    args = p.parse_args()
    script = Path(__file__).with_name("event.lua")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        qk_env, key = prepare_questkit(tmp)
        bare_env = {"BARE_DB": str(tmp / "bare.sqlite3")}
        load_env = {"QK_KEY": key}
        servers = {"questkit": ("app:create_app()", qk_env, ROOT),
                   "bare": ("bare_app:create_app()", bare_env, ROOT / "bench")}
        if args.floor:
            copy_database(tmp / "questkit.sqlite3", tmp / "floor.sqlite3")
            servers["floor"] = ("floor_app:create_app()", {"FLOOR_DB": str(tmp / "floor.sqlite3")},
                                ROOT / "bench")
        results = {name: [] for name in servers}
        with ExitStack() as stack:
            running = {name: stack.enter_context(gunicorn(spec, env, args.workers, args.threads, cwd=cwd))
                       for name, (spec, env, cwd) in servers.items()}
            for server in running.values():  # warm up (imports, caches, page cache)
                load(server, script, 2, args.connections, load_env)
            for r in range(args.rounds):
                for name, server in running.items():
                    results[name].append(load(server, script, args.seconds, args.connections, load_env))
                print(f"round {r + 1}: " + ", ".join(f"{name} {v[-1].rate:.0f} req/s ({v[-1].cpu_ms:.2f} ms CPU)"
                                                     for name, v in results.items()), flush=True)
    rate = {name: median([x.rate for x in v]) for name, v in results.items()}
    cpu = {name: median([x.cpu_ms for x in v]) for name, v in results.items()}
    qk, bare = rate["questkit"], rate["bare"]
    if args.floor:
        print(f"floor (the event's statements on raw sqlite3) median {rate['floor']:.0f} req/s, "
              f"ratio {rate['floor'] / bare:.2f} to bare; {cpu['floor']:.2f} ms CPU per request")
    print(f"CPU per request (server processes, medians): questkit {cpu['questkit']:.2f} ms, "
          f"bare {cpu['bare']:.2f} ms, ratio bare/questkit {cpu['bare'] / cpu['questkit']:.2f}")
    print(f"POST /api/v1/event: questkit median {qk:.0f} req/s, bare insert median {bare:.0f} req/s, "
          f"ratio {qk / bare:.2f} (target >= 0.5)")


def copy_database(src: Path, dst: Path) -> None:
    """A consistent copy of a SQLite database in WAL mode (the -wal file included)."""
    with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")


if __name__ == "__main__":
    main()
