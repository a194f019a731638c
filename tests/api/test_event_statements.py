"""What one POST /event costs the database, counted statement by statement.

Not a timing (bench/ measures speed): these pin the shape of the event
path, so a change that brings back a repeated lookup or a flush per lookup
fails here instead of quietly halving the throughput.
"""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event as sa_event

from extensions import db

from .quest_helpers import ok, push_example, user

GAME = {"name": "GameSession", "category": "dices"}


@pytest.fixture
def summer(client, auth):
    return push_example(client, auth)


@contextmanager
def statements(app):
    """The SQL sent to the database inside the block, in order."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)


def post_event(client, auth, bet=1):
    return ok(client.post("/api/v1/event", json=user("gamer", "wowhaus", **GAME, data={"bet": bet}),
                          headers=auth))


def reads_of(seen, table):
    return [s for s in seen if re.match(rf"SELECT .* FROM {table}\b", s)]


def writes_of(seen, table):
    return [s for s in seen if re.match(rf"(UPDATE {table}\b|INSERT INTO {table}\b)", s)]


def balance_locks(seen):
    """Statements that lock the balance row: the UPDATE ... RETURNING that
    also marks the user active, or a SELECT (FOR UPDATE on PostgreSQL)."""
    return [s for s in seen if re.match(r"UPDATE balances SET last_active_at=.* WHERE .* RETURNING ", s)
            or re.match(r"SELECT .* FROM balances\b", s)]


def test_an_event_that_pays_nothing_reads_each_row_once_and_writes_each_once(app, client, auth,
                                                                             summer, clock):
    post_event(client, auth)  # the user, their balance and their counters exist from here
    clock.advance(seconds=30)  # so the balance's last_active_at changes and must be written
    with statements(app) as seen:
        data = post_event(client, auth)
    assert data["paid"] == 0
    # The run locks the balance row and marks the user active in one
    # statement; the milestone check at the end reuses the lock, and nothing
    # else writes the row.
    assert len(balance_locks(seen)) == 1
    assert writes_of(seen, "balances") == balance_locks(seen)
    for table in ("api_keys", "campaigns", "users", "action_states", "referrals"):
        assert len(reads_of(seen, table)) == 1, table
    # Both dice counters in one UPDATE (executemany) and the event once.
    assert len(writes_of(seen, "action_states")) == 1
    assert len(writes_of(seen, "events")) == 1
    # BEGIN (BEGIN IMMEDIATE on SQLite) and COMMIT are transaction control,
    # not queries.
    queries = [s for s in seen if not s.startswith(("BEGIN", "COMMIT"))]
    assert len(queries) == 8, queries


def test_an_event_that_pays_counts_each_counter_in_one_statement(app, client, auth, summer):
    for _ in range(4):
        post_event(client, auth)
    with statements(app) as seen:
        data = post_event(client, auth)  # the 5th roll pays roll_5
    assert data["paid"] > 0 and [c["aid"] for c in data["completed"]] == ["roll_5"]
    # Paying flushes the ledger entry; the lock is remembered across that
    # flush, not taken again by the milestone check, and the new amounts are
    # written once.
    assert len(balance_locks(seen)) == 1
    amounts = [s for s in writes_of(seen, "balances") if s not in balance_locks(seen)]
    assert len(amounts) == 1 and "total_earned=" in amounts[0]
    assert len(reads_of(seen, "hooks")) <= 1  # read once per transaction, however many entries
    # The points awarded and each score bucket the user leaves or enters move
    # with one upsert each (no insert-then-update pair).
    counters = writes_of(seen, "campaign_counters")
    assert len(counters) == 1 and "ON CONFLICT" in counters[0]
    buckets = writes_of(seen, "score_buckets")
    assert 1 <= len(buckets) <= 2 and all("ON CONFLICT" in s for s in buckets)
    assert len(writes_of(seen, "ledger_entries")) == 1


def test_a_new_users_first_event_creates_their_counters_in_one_insert(app, client, auth, summer):
    with statements(app) as seen:
        data = post_event(client, auth)
    assert data["paid"] == 0
    counters = writes_of(seen, "action_states")
    # roll_5 and bet_500, both new: one INSERT (executemany), no UPDATE.
    assert len(counters) == 1 and counters[0].startswith("INSERT INTO action_states")
    assert len(writes_of(seen, "events")) == 1
