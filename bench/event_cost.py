"""Per-event cost after 10 and after 100,000 earlier events of the same user.

Drives the engine directly (no HTTP) on SQLite: one user of the example
campaign (the veteran) accumulates history through the real record_event
path; then events of a second user with 10 earlier events (the newcomer)
and of the veteran are timed alternately, so a machine that speeds up or
slows down during the run weighs on both alike. The figure is the ratio of
the medians (target <= 1.2: the cost of an event must not grow with history).

    .venv/bin/python bench/event_cost.py [--history 100000] [--samples 500]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from engine.definitions import campaigns
from engine.participation import events
from engine.access import organizations, users
from engine.db.storage import configure_engine, writing
from models import Base  # noqa: E402

EVENT = {"name": "GameSession", "category": "dices"}


def timed_event(session, view, user, now) -> float:
    """Seconds for one event in its own committed transaction, as a request would."""
    t = time.perf_counter()
    with writing():
        events.record_event(session, view, user, now=now, data={"bet": 7}, **EVENT)
        session.commit()
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--history", type=int, default=100_000)
    p.add_argument("--samples", type=int, default=500)
    p.add_argument("--url", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        engine = create_engine(args.url or f"sqlite:///{d}/cost.sqlite3")
        configure_engine(engine)
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        now = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
        with Session(engine) as s:
            org = organizations.create_organization(s, "bench", now)
            doc = json.loads((ROOT / "examples" / "campaign-example.json").read_text())
            campaigns.put_draft(s, org.id, doc["id"], doc, now)
            campaign, _ = campaigns.publish(s, org.id, doc["id"], now)
            veteran = users.ensure_user(s, org.id, "player1", "wowhaus", now)
            newcomer = users.ensure_user(s, org.id, "player2", "wowhaus", now)
            s.commit()
            view = campaigns.view(campaign, "live")
            # The veteran's history, spread over days so daily counters and payouts keep coming.
            start = time.perf_counter()
            grown = 0
            while grown < args.history:
                batch = min(1000, args.history - grown)
                with writing():
                    for i in range(batch):
                        t = now + timedelta(seconds=(grown + i) * 60)
                        events.record_event(s, view, veteran, now=t, data={"bet": 7}, **EVENT)
                    s.commit()
                grown += batch
            print(f"history of {grown} events built in {time.perf_counter() - start:.0f} s",
                  file=sys.stderr)
            late_now = now + timedelta(seconds=grown * 60)
            for _ in range(10):
                timed_event(s, view, newcomer, late_now)
            early, late = [], []
            for _ in range(args.samples):
                early.append(timed_event(s, view, newcomer, late_now))
                late.append(timed_event(s, view, veteran, late_now))
        engine.dispose()
    e, l = statistics.median(early), statistics.median(late)
    print(f"per-event cost: median {e * 1000:.2f} ms after 10 earlier events, "
          f"{l * 1000:.2f} ms after {args.history}; ratio {l / e:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
