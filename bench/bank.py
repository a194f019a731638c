"""The bank test at length: tests/system/bank.py for 60 s (by default) on PostgreSQL.

Three gunicorn servers and two webhook workers on one database, 50 client
threads, one server and one worker killed with SIGKILL a third of the way in
and restarted; then every invariant of tests/system/bank.py is checked and
the figures printed. Needs a PostgreSQL server (scripts/pg start prints its URL):

    .venv/bin/python bench/bank.py --url "$(scripts/pg start)" [--seconds 60] [--clients 50]

It works in a scratch database beside the URL's and drops it afterwards.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("TEST_DATABASE_URL"),
                        help="a PostgreSQL URL (default: $TEST_DATABASE_URL)")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not args.url or not args.url.startswith("postgresql"):
        parser.error("give a PostgreSQL URL with --url (scripts/pg start prints one)")
    os.environ["TEST_DATABASE_URL"] = args.url
    from tests.conftest import scratch_database
    from tests.system.bank import run

    with tempfile.TemporaryDirectory() as tmp, scratch_database("bankbench") as url:
        report = run(url, Path(tmp), seconds=args.seconds, clients=args.clients, seed=args.seed)
    print("\n".join(report.lines()))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
