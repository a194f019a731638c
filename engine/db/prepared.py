"""Statements compiled once and run straight on the DB-API connection.

Measured on the event path (2026-12), SQLAlchemy's execution machinery cost
about 15 µs per Core statement and 60 µs per ORM one, against 2 µs for
sqlite3 to run the statement itself; with a dozen statements an event, that
overhead was most of a request. A :class:`Prepared` statement is a Core
construct compiled once per dialect (SQL text, parameter order, the types'
bind and result processors) and then run on the session's own DB-API
connection, inside the session's transaction: same SQL, same types, same
locks, a tenth of the cost.

What SQLAlchemy would have done and this keeps:
- the transaction: ``session.connection()`` begins it (BEGIN IMMEDIATE on
  SQLite writers, engine/storage.py) and the session commits or rolls back;
  the connection is then kept in ``session.info`` until the transaction ends
  (:func:`connection`);
- type conversion, through the column types' own processors;
- errors: DB-API exceptions come out as ``sqlalchemy.exc.DBAPIError``
  subclasses (OperationalError, IntegrityError ...), which the request
  pipeline retries or turns into statuses;
- ``before_cursor_execute`` / ``after_cursor_execute`` listeners on the
  engine (statement counters in tests, tracing), called with ``context``
  set to a plain object that has none of ExecutionContext's attributes.

What it does not do, so callers must not need it: no autoflush (the ORM does
not know these statements ran; flush first when pending objects matter), no
Python-side column defaults (compiling refuses an INSERT or UPDATE that
would need one: give every value), no expanding IN parameters, no identity
map (rows are named tuples, not entities).
"""
from __future__ import annotations

import collections
import threading
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import bindparam, exc
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class _Form:
    """A statement as one dialect runs it."""

    sql: str
    names: tuple[str, ...]  # every bind, in positional order for qmark dialects
    positional: bool
    defaults: dict[str, Any]  # binds that carry their own value
    binds: tuple[tuple[str, Callable], ...]  # (name, bind processor)
    results: tuple[Callable | None, ...]  # per result column
    row: type | None  # named tuple of the result columns, None without any


class _NoContext:
    """Stands for the ExecutionContext that cursor listeners receive."""


class Prepared:
    """A Core statement compiled once per dialect (and per set of value
    columns, for INSERT and UPDATE built on a bare table)."""

    def __init__(self, stmt):
        self.stmt = stmt
        # INSERT and UPDATE set the columns they are given values for.
        self._dml = bool(stmt.is_dml)
        self._forms: dict[tuple, _Form] = {}
        self._lock = threading.Lock()

    def form(self, dialect, params: dict) -> _Form:
        keys = tuple(params) if self._dml else ()
        cache_key = (dialect.name, dialect.driver, keys)
        found = self._forms.get(cache_key)
        if found is None:
            with self._lock:
                found = self._forms[cache_key] = _compile(self.stmt, dialect, keys)
        return found


def _compile(stmt, dialect, keys: tuple[str, ...]) -> _Form:
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys) if keys else None)
    if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
        missing = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
        raise ValueError(f"prepared statements take no Python-side defaults; give {missing}")
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup) if positional else tuple(compiled.bind_names.values())
    defaults = {name: bp.effective_value for bp, name in compiled.bind_names.items()
                if not bp.required and bp.callable is None}
    processors = compiled._bind_processors
    binds = tuple((name, processors[name]) for name in dict.fromkeys(names)
                  if callable(processors.get(name)))
    columns = compiled._result_columns or []
    results = tuple(col.type._cached_result_processor(dialect, None) for col in columns)
    row = collections.namedtuple("Row", [col.keyname for col in columns], rename=True) \
        if columns else None
    return _Form(compiled.string, names, positional, defaults, binds, results, row)


def _parameters(form: _Form, params: dict):
    values = {**form.defaults, **params} if form.defaults else dict(params)
    for name, process in form.binds:
        values[name] = process(values[name])
    if form.positional:
        return tuple(values[name] for name in form.names)
    return values


def _run(conn: Connection, form: _Form, parameters, many: bool):
    dbapi_conn = conn.connection.dbapi_connection
    cursor = dbapi_conn.cursor()
    listen = bool(conn.dispatch.before_cursor_execute or conn.dispatch.after_cursor_execute)
    context = _NoContext() if listen else None
    try:
        if listen:
            for fn in conn.dispatch.before_cursor_execute:
                fn(conn, cursor, form.sql, parameters, context, many)
        if many:
            cursor.executemany(form.sql, parameters)
        else:
            cursor.execute(form.sql, parameters)
        if listen:
            for fn in conn.dispatch.after_cursor_execute:
                fn(conn, cursor, form.sql, parameters, context, many)
    except conn.dialect.loaded_dbapi.Error as e:
        cursor.close()
        raise exc.DBAPIError.instance(form.sql, parameters, e, conn.dialect.loaded_dbapi.Error,
                                      dialect=conn.dialect, ismulti=many) from e
    return cursor


def _rows(form: _Form, cursor) -> list:
    try:
        raw = cursor.fetchall()
    finally:
        cursor.close()
    make = form.row._make
    results = form.results
    if not any(results):
        return [make(r) for r in raw]
    return [make([v if p is None else p(v) for p, v in zip(results, r)]) for r in raw]


# Where connection() keeps the session's connection for the transaction.
CONNECTION_KEY = "qk_conn"


def connection(session: Session) -> Connection:
    """The session's connection in its current transaction, which this begins
    if there is none (storage's BEGIN hooks run).

    Asked of the session once per transaction: ``session.connection()`` goes
    through the scoped session's registry, Flask-SQLAlchemy's bind lookup and
    the transaction's state checks, which cost more than running a statement
    here. engine.db.storage drops the kept connection when a savepoint begins
    (the session emits SAVEPOINT when asked for the connection inside it) and
    when the transaction or a savepoint ends.
    """
    info = session.info
    conn = info.get(CONNECTION_KEY)
    if conn is None:
        conn = info[CONNECTION_KEY] = session.connection()
    return conn


def rows(session: Session, stmt: Prepared, params: dict | None = None) -> list:
    """Every result row of ``stmt`` (named tuples, values converted by type);
    also what an INSERT, UPDATE or DELETE ... RETURNING returns."""
    params = params or {}
    conn = connection(session)
    form = stmt.form(conn.dialect, params)
    return _rows(form, _run(conn, form, _parameters(form, params), False))


def first(session: Session, stmt: Prepared, params: dict | None = None):
    """The first result row of ``stmt``, or None."""
    found = rows(session, stmt, params)
    return found[0] if found else None


def execute(session: Session, stmt: Prepared, params: dict) -> int:
    """Run a statement that returns no rows; its rowcount."""
    conn = connection(session)
    form = stmt.form(conn.dialect, params)
    cursor = _run(conn, form, _parameters(form, params), False)
    count = cursor.rowcount
    cursor.close()
    return count


def execute_many(session: Session, stmt: Prepared, param_list: list[dict]) -> None:
    """Run ``stmt`` once per parameter set (every set has the same keys)."""
    if not param_list:
        return
    conn = connection(session)
    form = stmt.form(conn.dialect, param_list[0])
    _run(conn, form, [_parameters(form, p) for p in param_list], True).close()


def insert_returning(session: Session, stmt: Prepared, params: dict):
    """Run an INSERT ... RETURNING; the returned row."""
    return rows(session, stmt, params)[0]


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
