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


def _db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ["BARE_DB"], isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, account TEXT, "
                     "name TEXT, category TEXT, data TEXT)")
        _local.conn = conn
    return conn


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/api/v1/event")
    def event():
        body = json.loads(request.get_data())
        _db().execute("INSERT INTO events (account, name, category, data) VALUES (?, ?, ?, ?)",
                      (body["account"], body["name"], body.get("category"), json.dumps(body.get("data"))))
        return {"success": True, "data": {}}

    return app
