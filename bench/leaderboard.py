"""GET /leaderboard figures with 1,000,000 users in one campaign.

Builds the users and their balances with bulk inserts, then times the two
queries behind every leaderboard (engine.reads.leaderboard): the top 100, and the
rank of one user, for users at the top, in the middle and at the bottom.
Always live: the queries read the balances as they are, no rebuild.

    .venv/bin/python bench/leaderboard.py [--users 1000000] [--url postgresql+psycopg://...]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from engine.ledger import buckets
from engine.definitions import campaigns
from engine.reads import leaderboard
from engine.access import organizations
from engine.db.storage import configure_engine
from models import Balance, Base, User  # noqa: E402


def build(s: Session, n: int, now: datetime):
    org = organizations.create_organization(s, "bench", now)
    campaign = campaigns.put_draft(s, org.id, "board", {"id": "board", "name": "Board",
                                                          "leaderboard": {"version": 2}}, now)
    campaigns.publish(s, org.id, "board", now)
    s.commit()
    rnd = random.Random(7)
    batch = 20_000
    for start in range(0, n, batch):
        users = [{"org_id": org.id, "account": f"user{i}", "platform": "internal",
                  "created_at": now, "attributes": {}} for i in range(start, min(n, start + batch))]
        s.execute(insert(User), users)
        ids = s.scalars(select(User.id).where(User.org_id == org.id).order_by(User.id.desc())
                        .limit(len(users))).all()
        rows = []
        for uid in ids:
            total = rnd.randint(1, 1_000_000)
            rows.append({"campaign_id": campaign.id, "user_id": uid, "env": "live", "xp": total,
                         "ref_xp": 0, "ugc_xp": 0, "total": total, "total_earned": total,
                         "total_spent": 0, "first_seen_at": now, "last_active_at": now,
                         "total_reached_at": now - timedelta(seconds=rnd.randint(0, 10**7))})
        s.execute(insert(Balance), rows)
        s.commit()
    buckets.rebuild(s, campaign.id, "live")
    s.commit()
    return campaign


def timeit(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--users", type=int, default=1_000_000)
    p.add_argument("--url")
    p.add_argument("--repeat", type=int, default=30)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        engine = create_engine(args.url or f"sqlite:///{d}/board.sqlite3")
        configure_engine(engine)
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        now = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
        with Session(engine) as s:
            t = time.perf_counter()
            campaign = build(s, args.users, now)
            if engine.dialect.name == "postgresql":
                s.execute(text("ANALYZE"))
                s.commit()
            print(f"{engine.dialect.name}: {args.users} users built in {time.perf_counter() - t:.0f} s",
                  file=sys.stderr)
            view = campaigns.view(campaign, "live")
            top = timeit(lambda: leaderboard.standings(s, view, limit=100), args.repeat)
            order = [u for u in s.scalars(select(Balance.user_id).where(Balance.campaign_id == campaign.id)
                                          .order_by(*leaderboard.ORDER))]
            picks = {"top": order[5], "middle": order[len(order) // 2], "bottom": order[-1]}
            ranks = {}
            for label, uid in picks.items():
                ranks[label] = timeit(lambda uid=uid: leaderboard.rank_of(s, view, uid), args.repeat)
                assert leaderboard.rank_of(s, view, uid) == order.index(uid) + 1
            near = timeit(lambda: leaderboard.around(s, view, picks["bottom"], 5), args.repeat)
            assert [x.user_id for x in leaderboard.around(s, view, picks["middle"], 5)] == \
                order[len(order) // 2 - 5: len(order) // 2 + 6]
            s.rollback()
        engine.dispose()
    print(f"leaderboard ({engine.dialect.name}, {args.users} users): top-100 median {top:.1f} ms; "
          + ", ".join(f"rank of a user at the {k} {v:.1f} ms" for k, v in ranks.items())
          + f"; around=5 at the bottom {near:.1f} ms (target < 20 ms each)")


if __name__ == "__main__":
    main()
