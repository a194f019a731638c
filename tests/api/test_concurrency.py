"""Money-like invariants under concurrent requests, on SQLite and PostgreSQL.

Threads share one app (one connection pool); processes each build their own
app, so they race through separate connections and, on SQLite, separate
file locks.
"""
from __future__ import annotations

import multiprocessing

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Balance, LedgerEntry

from .quest_helpers import run_in_threads

USER = {"account": "alice", "platform": "discord", "pid": "default"}


def fund(client, auth, xp=100):
    r = client.post("/api/v1/user/reward", json={**USER, "id": "fund", "xp": xp}, headers=auth)
    assert r.status_code == 200


def check_ledger(app, expected_total):
    with app.app_context():
        from engine.ledger import sum_entries
        row = db.session.scalars(select(Balance)).one()
        assert row.total == expected_total
        assert sum_entries(db.session, row.campaign_id, row.user_id, "live").total == expected_total



def test_50_concurrent_strict_withdrawals_from_threads(app, client, auth):
    fund(client, auth)
    body = {**USER, "xp": 10, "strict": True}

    def withdraw(i):
        return client.post("/api/v1/user/withdraw", json={**body, "id": f"w{i}"}, headers=auth).status_code

    codes = run_in_threads(50, withdraw)
    assert codes.count(200) == 10 and codes.count(409) == 40, codes
    check_ledger(app, 0)
    _assert_never_negative(app)


def _assert_never_negative(app):
    """Replay the ledger in commit order: the running total never dips below 0."""
    with app.app_context():
        running = 0
        for amount in db.session.scalars(select(LedgerEntry.amount).order_by(LedgerEntry.id)):
            running += amount
            assert running >= 0


def _process_withdrawals(url, secret, key, start_event, n, first, results):
    from app import create_app
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret, "TESTING": True})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    start_event.wait()
    for i in range(first, first + n):
        r = client.post("/api/v1/user/withdraw",
                        json={**USER, "id": f"p{i}", "xp": 10, "strict": True}, headers=headers)
        results.put(r.status_code)


@pytest.mark.slow
def test_50_concurrent_strict_withdrawals_from_processes(app, client, auth, db_url):
    fund(client, auth)
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_process_withdrawals,
                         args=(db_url, "test-secret-key", auth["Authorization"][7:], start, 10, p * 10,
                               results))
             for p in range(5)]
    for p in procs:
        p.start()
    start.set()
    codes = [results.get(timeout=120) for _ in range(50)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert codes.count(200) == 10 and codes.count(409) == 40, codes
    check_ledger(app, 0)
    _assert_never_negative(app)


def test_20_concurrent_rewards_with_one_id_write_one_entry(app, client, auth):
    def reward(i):
        r = client.post("/api/v1/user/reward", json={**USER, "id": "same", "xp": 7}, headers=auth)
        return r.status_code, r.json["data"]["duplicate"]

    results = run_in_threads(20, reward)
    assert all(code == 200 for code, _ in results)
    assert sum(1 for _, dup in results if not dup) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1
    check_ledger(app, 7)


def test_concurrent_requests_with_one_idempotency_key_pay_once(app, client, auth):
    def reward(i):
        r = client.post("/api/v1/user/reward", json={**USER, "id": "ik", "xp": 3},
                        headers={**auth, "Idempotency-Key": "one-key"})
        return r.status_code, r.get_data(as_text=True)

    results = run_in_threads(20, reward)
    assert {code for code, _ in results} == {200}
    assert len({body for _, body in results}) == 1  # every caller got the first response
    check_ledger(app, 3)


def test_concurrent_first_requests_create_one_user_and_one_balance(app, client, auth):
    def reward(i):
        return client.post("/api/v1/user/reward", json={**USER, "id": f"r{i}", "xp": 1},
                           headers=auth).status_code

    assert set(run_in_threads(20, reward)) == {200}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Balance)) == 1
    check_ledger(app, 20)
