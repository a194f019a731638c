"""The bank test (tests/system/bank.py), short: 50 clients for 20 s against three
servers and two webhook workers on PostgreSQL, one of each killed with SIGKILL
and restarted mid-run. bench/bank.py runs the same for longer."""
from __future__ import annotations

import pytest

from tests.conftest import PG_URL, scratch_database

from .bank import run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PG_URL, reason="several servers share one database only on PostgreSQL"),
]


def test_killed_servers_and_workers_lose_no_answered_effect_and_no_webhook(tmp_path):
    with scratch_database("bank") as url:
        report = run(url, tmp_path, seconds=20, clients=50)
    print("\n".join(report.lines()))
    assert report.problems == []
    # The run did what it claims: money moved, both outcomes of strict withdrawals
    # happened, the kill cut requests off, and webhooks went out.
    assert report.answered.get(200, 0) > 100 and report.answered.get(409, 0) > 0
    assert report.unanswered > 0
    assert report.messages > 0 and report.deliveries >= report.messages
