"""CPU time per POST /api/v1/event inside one process (Flask test client).

No HTTP server and no wrk: the figure is the process's CPU time per event,
so it moves less with the machine's load than a rate does. The events are
those of bench/event.lua (1,000 users, the example campaign's dice tasks);
``--warm`` events first create the users, balances and counters, then
``--events`` are timed. Compare two versions of the code by running each
in turn, alternating, and quote medians.

    .venv/bin/python bench/event_cpu.py [--warm 2000] [--events 2000]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from event_throughput import prepare_questkit  # noqa: E402


def body(rnd: random.Random) -> str:
    return json.dumps({"account": f"player{rnd.randint(1, 1000)}", "platform": "wowhaus",
                       "pid": "summer_games", "name": "GameSession", "category": "dices",
                       "data": {"bet": rnd.randint(1, 50)}})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--warm", type=int, default=2000)
    p.add_argument("--events", type=int, default=2000)
    args = p.parse_args()
    from app import create_app

    with tempfile.TemporaryDirectory() as d:
        env, key = prepare_questkit(Path(d))
        app = create_app({"DATABASE_URL": env["DATABASE_URL"], "SECRET_KEY": "bench",
                          "INSTANCE_PATH": env["QUESTKIT_INSTANCE"]})
        client = app.test_client()
        headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
        rnd = random.Random(1)
        for _ in range(args.warm):
            r = client.post("/api/v1/event", data=body(rnd), headers=headers)
            assert r.status_code < 300, r.get_data(as_text=True)
        bodies = [body(rnd) for _ in range(args.events)]
        start = time.process_time()
        for b in bodies:
            client.post("/api/v1/event", data=b, headers=headers)
        spent = time.process_time() - start
    print(f"POST /api/v1/event in-process: {spent / args.events * 1000:.3f} ms CPU per event "
          f"({args.events} events after {args.warm})")


if __name__ == "__main__":
    main()
