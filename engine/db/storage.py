"""Database plumbing the engine relies on, for SQLite and PostgreSQL alike.

SQLite: WAL, a busy timeout, and for requests that write, ``BEGIN IMMEDIATE``
so the write lock is taken when the transaction starts (writers wait in line
for it: engine/db/write_queue.py). A deferred
transaction that reads and then writes can fail at once with
SQLITE_BUSY_SNAPSHOT when another writer committed in between; taking the
lock up front makes writers queue on busy_timeout instead. Reads keep plain
``BEGIN`` so they never wait for writers.

PostgreSQL: READ COMMITTED plus explicit row locks (``SELECT ... FOR UPDATE``
on the balance row) where a check-then-write must be atomic.
"""
from __future__ import annotations

import contextvars
import functools
import time
from contextlib import contextmanager

from sqlalchemy import bindparam, event, exc, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine.db import statements, write_queue

# Set by the request layer before the first query of a request that writes.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


@contextmanager
def writing(flag: bool = True):
    """Mark the transactions begun inside as writers (BEGIN IMMEDIATE on SQLite)."""
    token = write_intent.set(flag)
    try:
        yield
    finally:
        write_intent.reset(token)


def configure_engine(engine: Engine, busy_timeout_ms: int = 30_000) -> None:
    """Install the per-dialect connection setup described in the module doc."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let us emit BEGIN ourselves (pysqlite's own BEGIN is always deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        # NORMAL is durable across application crashes in WAL mode.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    # Writers to a file wait in line (engine/db/write_queue.py); an in-memory
    # database has one connection and nobody to queue behind.
    queue = None
    if engine.url.database and engine.url.database != ":memory:":
        queue = write_queue.for_database(engine.url.database)

    def begin_immediate(conn) -> None:
        raw = id(conn.connection.dbapi_connection)
        queued = queue is not None and queue.enter(raw, busy_timeout_ms / 1000)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if queued:
                queue.leave(raw)
            raise

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if not write_intent.get():
            conn.exec_driver_sql("BEGIN")
            return
        begin_immediate(conn)

    if queue is not None:
        _leave_after_the_transaction(engine, queue)


def _leave_after_the_transaction(engine: Engine, queue: write_queue.WriteQueue) -> None:
    """Give the write queue's seat up once the transaction has ended.

    The engine's "commit" and "rollback" events fire before SQLAlchemy has
    the DB-API connection commit or roll back, and the next writer would
    find SQLite's lock still taken. So these listeners end the transaction
    themselves (pysqlite runs with isolation_level=None: its own commit()
    and rollback() then find no transaction open and do nothing) and leave
    the queue after it. A connection returned to the pool, invalidated or
    closed ends its transaction too. A savepoint's rollback fires
    "rollback_savepoint", not "rollback": the seat stays.
    """
    dbapi_error = engine.dialect.loaded_dbapi.Error

    def end(dbapi_conn, sql: str) -> None:
        try:
            if dbapi_conn.in_transaction:
                dbapi_conn.execute(sql)
        finally:  # a ROLLBACK that fails leaves no transaction to wait for
            queue.leave(id(dbapi_conn))

    @event.listens_for(engine, "commit")
    def _on_commit(conn):
        dbapi_conn = conn.connection.dbapi_connection
        try:
            dbapi_conn.execute("COMMIT")
        except dbapi_error as e:  # still in the transaction: its rollback leaves
            raise exc.DBAPIError.instance("COMMIT", (), e, dbapi_error, dialect=conn.dialect) from e
        queue.leave(id(dbapi_conn))

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn):
        if conn.invalidated:
            return  # the connection is gone, and "invalidate" left the queue
        try:
            end(conn.connection.dbapi_connection, "ROLLBACK")
        except dbapi_error as e:
            raise exc.DBAPIError.instance("ROLLBACK", (), e, dbapi_error, dialect=conn.dialect) from e

    @event.listens_for(engine, "reset")
    def _on_reset(dbapi_conn, _record, _state):
        end(dbapi_conn, "ROLLBACK")

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_conn, _record, _exception):
        if dbapi_conn is not None:
            try:
                end(dbapi_conn, "ROLLBACK")
            except dbapi_error:
                pass  # the connection is closed next, which ends its transaction

    @event.listens_for(engine, "close")
    def _on_close(dbapi_conn, _record):
        try:
            end(dbapi_conn, "ROLLBACK")
        except dbapi_error:
            pass  # closing ends the transaction anyway


def held_locks(session: Session) -> dict:
    """Rows this session's current transaction has locked, by key.

    Saves a second SELECT ... FOR UPDATE when one request posts several
    entries for the same user. Emptied whenever a transaction or savepoint
    ends: after a rolled-back savepoint the cached rows may be gone, and
    forgetting a lock still held only costs one more SELECT.
    """
    return session.info.setdefault("qk_locks", {})


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction_state(session: Session, transaction) -> None:
    # Every flush runs in a subtransaction of its own, which ends here too;
    # the locks are still held then.
    if transaction.parent is not None and not transaction.nested:
        return
    for key in _PER_TRANSACTION:
        session.info.pop(key, None)


# What session.info holds for one transaction: the locked rows (held_locks),
# and the hooks engine.outbox.webhooks read.
_PER_TRANSACTION = ("qk_locks", "qk_hooks")


def is_retryable(exc: BaseException) -> bool:
    """A transient lock/serialization failure worth running the request again for."""
    if not isinstance(exc, OperationalError):
        return False
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return (
        "database is locked" in text
        or "database table is locked" in text
        or "busy" in text
        or "deadlock detected" in text
        or "could not serialize" in text
    )


def retrying(fn, attempts: int = 8, first_delay: float = 0.01):
    """Run ``fn()`` again after a transient lock failure; re-raise anything else."""
    delay = first_delay
    for attempt in range(attempts):
        try:
            return fn()
        except OperationalError as exc:
            if attempt == attempts - 1 or not is_retryable(exc):
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


# Statements built once per model (functools.cache): building one costs
# about as much as running it, and these run on every new user, balance,
# score bucket and counter.

def _insert(session: Session):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


@functools.cache
def _insert_ignore_stmt(insert, model, conflict_cols: tuple[str, ...]):
    return (
        insert(model.__table__).on_conflict_do_nothing(index_elements=list(conflict_cols)))


@functools.cache
def _upsert_add_stmt(insert, model, key: tuple[str, ...], column: str):
    table = model.__table__
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(key), set_={column: table.c[column] + stmt.excluded[column]})


def insert_ignore(session: Session, model, values: dict, conflict_cols: list[str]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: creating a row two requests race for.

    Pending changes are flushed first, as any query would (the new row may
    refer to them). A Core statement (engine/db/statements.py), not the
    ORM's unit of work.
    """
    stmt = _insert_ignore_stmt(_insert(session), model, tuple(conflict_cols))
    session.flush()
    statements.execute(session, stmt, values)


def upsert_add(session: Session, model, key: dict, column: str, delta: int) -> None:
    """Add ``delta`` to ``column`` of the row with ``key``, creating the row
    at ``delta`` when missing: one race-free statement (INSERT ... ON
    CONFLICT DO UPDATE) instead of an insert and an update.

    For counter rows nothing else in the session writes (score buckets,
    campaign counters): no flush first.
    """
    stmt = _upsert_add_stmt(_insert(session), model, tuple(key), column)
    statements.execute(session, stmt, {**key, column: delta})


@functools.cache
def _entity_by_key(model, names: tuple[str, ...]):
    return select(*statements.entity_columns(model)).where(
        *(getattr(model, n) == bindparam(n) for n in names))


def get_or_insert(session: Session, model, key: dict, defaults: dict):
    """The row with ``key``, inserted with ``defaults`` if missing; race-free.
    Read as a Core statement (statements.load): this runs on every event."""
    names = tuple(key)
    row = statements.load(session, model, _entity_by_key(model, names), key)
    if row is not None:
        return row
    insert_ignore(session, model, {**key, **defaults}, list(key))
    # Read again whoever inserted it; refresh: a copy the session held is brought up to date.
    return statements.entity(session, model, statements.first(session, _entity_by_key(model, names), key),
                             refresh=True)

