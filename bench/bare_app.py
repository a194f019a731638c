"""The baseline of bench/event_throughput.py: a bare Flask endpoint that
parses the same JSON body and inserts one row into SQLite, nothing else.

Served by gunicorn exactly like Questkit, so the ratio of the two
throughputs isolates what the engine costs per event.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading

from flask import Flask, request

_local = threading.local()


def thread_connection(path: str, *setup: str) -> sqlite3.Connection:
    """This thread's connection to ``path``, set up as Questkit's are (WAL,
    busy timeout, synchronous=NORMAL, autocommit unless BEGIN), then ``setup``.
    bench/floor_app.py opens its connections here too."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for sql in ("PRAGMA journal_mode=WAL", "PRAGMA busy_timeout=30000",
                    "PRAGMA synchronous=NORMAL", *setup):
            conn.execute(sql)
        _local.conn = conn
    return conn


def _db() -> sqlite3.Connection:
    return thread_connection(os.environ["BARE_DB"], "CREATE TABLE IF NOT EXISTS events ("
                             "id INTEGER PRIMARY KEY, account TEXT, name TEXT, category TEXT, data TEXT)")


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/api/v1/event")
    def event():
        body = json.loads(request.get_data())
        _db().execute("INSERT INTO events (account, name, category, data) VALUES (?, ?, ?, ?)",
                      (body["account"], body["name"], body.get("category"), json.dumps(body.get("data"))))
        return {"success": True, "data": {}}

    return app
