"""Per-event cost after 10 and after 100,000 earlier events of the same user.

Drives the engine directly (no HTTP) on SQLite: one user of the example
campaign accumulates history through the real record_event path, and the
cost of further events is timed at both points. The figure is the ratio of
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

from engine import campaigns, events, organizations, users  # noqa: E402
from engine.storage import configure_engine, writing  # noqa: E402
from models import Base  # noqa: E402

EVENT = {"name": "GameSession", "category": "dices"}


def timed_events(session, view, user, now, n) -> list[float]:
    """Seconds per event, each in its own committed transaction, as a request would."""
    out = []
    for i in range(n):
        t = time.perf_counter()
        with writing():
            events.record_event(session, view, user, now=now, data={"bet": 7}, **EVENT)
            session.commit()
        out.append(time.perf_counter() - t)
    return out


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
            user = users.ensure_user(s, org.id, "player1", "wowhaus", now)
            s.commit()
            view = campaigns.view(campaign, "live")
            timed_events(s, view, user, now, 10)
            early = timed_events(s, view, user, now, args.samples)
            # Grow the history: spread over days so daily counters and payouts keep coming.
            start = time.perf_counter()
            grown = 10 + args.samples
            while grown < args.history:
                batch = min(1000, args.history - grown)
                with writing():
                    for i in range(batch):
                        t = now + timedelta(seconds=(grown + i) * 60)
                        events.record_event(s, view, user, now=t, data={"bet": 7}, **EVENT)
                    s.commit()
                grown += batch
            print(f"history of {grown} events built in {time.perf_counter() - start:.0f} s",
                  file=sys.stderr)
            late_now = now + timedelta(seconds=grown * 60)
            late = timed_events(s, view, user, late_now, args.samples)
        engine.dispose()
    e, l = statistics.median(early), statistics.median(late)
    print(f"per-event cost: median {e * 1000:.2f} ms after 10 earlier events, "
          f"{l * 1000:.2f} ms after {args.history}; ratio {l / e:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
