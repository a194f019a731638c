"""The floor of bench/event_throughput.py (``--floor``): the statements one
non-paying Questkit event runs, on raw sqlite3 against Questkit's own schema
and data, with none of the engine around them.

Not an engine: it does not decide anything (it always counts the two dice
counters and pays nothing). It answers one question: what do the event's
SQL statements cost on this stack? Measured next to the bare insert, that
is the best any Questkit event path on Flask + SQLite could do; what the
real engine loses below it is Python around the statements.

The statements mirror tests/api/test_event_statements.py: the key, the
campaign and the user read in one transaction; then, under BEGIN IMMEDIATE,
the balance row locked and marked active, the event inserted, the counters
and the referral read, the counters written back.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
from datetime import datetime, timezone

from flask import Flask, request

from bare_app import thread_connection

COUNTERS = ("bet_500", "roll_5")


def _db() -> sqlite3.Connection:
    return thread_connection(os.environ["FLOOR_DB"])


def _event(db: sqlite3.Connection, body: dict, raw_key: str) -> dict:
    now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    db.execute("BEGIN")
    key = db.execute("SELECT id, org_id, kind, digest, revoked_at FROM api_keys WHERE prefix = ?",
                     (raw_key[:20],)).fetchone()
    if key is None or not hmac.compare_digest(key[3], hashlib.sha256(raw_key.encode()).hexdigest()):
        raise PermissionError("bad key")
    org_id = key[1]
    campaign = db.execute("SELECT id, version FROM campaigns WHERE org_id = ? AND pid = ?",
                          (org_id, body["pid"])).fetchone()
    who = (org_id, body["account"], body["platform"])
    user = db.execute("SELECT id FROM users WHERE org_id = ? AND account = ? AND platform = ?",
                      who).fetchone()
    db.execute("COMMIT")
    db.execute("BEGIN IMMEDIATE")
    if user is None:
        db.execute("INSERT OR IGNORE INTO users (org_id, account, platform, attributes, created_at) "
                   "VALUES (?, ?, ?, '{}', ?)", (*who, now))
        user = db.execute("SELECT id FROM users WHERE org_id = ? AND account = ? AND platform = ?",
                          who).fetchone()
    owner = (campaign[0], "live", user[0])
    locked = db.execute("UPDATE balances SET last_active_at = ? WHERE campaign_id = ? AND env = ? "
                        "AND user_id = ? RETURNING total_earned", (now, *owner)).fetchone()
    if locked is None:
        db.execute("INSERT OR IGNORE INTO balances (campaign_id, env, user_id, xp, ref_xp, ugc_xp, "
                   "total, total_earned, total_spent, first_seen_at, last_active_at) "
                   "VALUES (?, ?, ?, 0, 0, 0, 0, 0, 0, ?, ?)", (*owner, now, now))
    db.execute("INSERT INTO events (campaign_id, env, user_id, name, category, data, client_id, ts, "
               "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (*owner, body["name"], body.get("category"), json.dumps(body.get("data")),
                body.get("id"), body.get("ts"), now))
    states = {row[0]: row for row in db.execute(
        "SELECT action_id, progress FROM action_states WHERE campaign_id = ? AND env = ? "
        "AND user_id = ?", owner)}
    db.execute("SELECT referrer_id FROM referrals WHERE campaign_id = ? AND env = ? AND user_id = ?",
               owner).fetchone()
    new = [(*owner, aid, now) for aid in COUNTERS if aid not in states]
    db.executemany("INSERT INTO action_states (campaign_id, env, user_id, action_id, action_type, "
                   "recurrence, period, progress, paid_in_period, completions, updated_at) "
                   "VALUES (?, ?, ?, ?, 'events_count', 'once', '', 1, 0, 0, ?)", new)
    db.executemany("UPDATE action_states SET progress = ?, updated_at = ? WHERE campaign_id = ? "
                   "AND env = ? AND user_id = ? AND action_id = ?",
                   [(states[aid][1] + 1, now, *owner, aid) for aid in COUNTERS if aid in states])
    db.execute("COMMIT")
    return {"duplicate": False, "paid": 0, "completed": [], "quests_completed": []}


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/api/v1/event")
    def event():
        db = _db()
        try:
            data = _event(db, json.loads(request.get_data()),
                          request.headers.get("Authorization", "").partition(" ")[2])
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return {"success": True, "data": data}

    return app
