"""Core statements run on the session's connection, in its transaction.

The engine's hot statements (the key, campaign and user lookups, the run's
counters, the event, the balance row, ledger entries) are Core constructs
built once at import (building one costs about as much as running it) and
run here on the session's connection with ``Connection.execute``:
SQLAlchemy compiles each once and keeps it in the engine's compiled cache,
and the ORM's execution layer (entity loading, the identity map,
autoflush) is skipped. Nothing autoflushes here: flush first when pending
ORM objects matter. Cursor listeners, type conversion, Python-side defaults and the
DB-API error wrapping are SQLAlchemy's own.
"""
from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy.orm import Session


def rows(session: Session, stmt, params: dict | None = None) -> list:
    """Every result row of ``stmt``; also what an INSERT, UPDATE or DELETE
    ... RETURNING returns."""
    return session.connection().execute(stmt, params or {}).all()


def first(session: Session, stmt, params: dict | None = None):
    """The first result row of ``stmt``, or None."""
    return session.connection().execute(stmt, params or {}).first()


def execute(session: Session, stmt, params: dict) -> int:
    """Run a statement that returns no rows; its rowcount."""
    return session.connection().execute(stmt, params).rowcount


def execute_many(session: Session, stmt, param_list: list[dict]) -> None:
    """Run ``stmt`` once per parameter set (every set has the same keys)."""
    if param_list:
        session.connection().execute(stmt, param_list)


def insert_returning(session: Session, stmt, params: dict):
    """Run an INSERT ... RETURNING; the returned row."""
    return session.connection().execute(stmt, params).one()


# An UPDATE sets columns under their own names, so the row's key is bound
# under other ones (key_<column>).

def where_key(table, columns) -> list:
    """``table.<column> == :key_<column>`` for each key column."""
    return [table.c[c] == bindparam("key_" + c) for c in columns]


def key_params(key: dict) -> dict:
    """The parameters of where_key() for ``key`` (column -> value)."""
    return {"key_" + c: v for c, v in key.items()}


# A user's rows in one campaign and environment: the key of every per-user table.
OWNER = ("campaign_id", "env", "user_id")
OWNER_PARAMS = {k: bindparam(k) for k in OWNER}
