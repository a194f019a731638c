"""SQLite writers wait in line (engine/db/write_queue.py): the seat is taken by
BEGIN IMMEDIATE and given up by every way a transaction ends."""
from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine.db import write_queue
from engine.db.storage import configure_engine, writing
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="the queue is for SQLite files")


@pytest.fixture
def db_file(tmp_path):
    return str(tmp_path / "q.sqlite3")


def make_engine(path, busy_timeout_ms=30_000, sqlite_busy_ms=None):
    """An engine set up as the app's. ``busy_timeout_ms`` is also how long a
    writer waits in the queue; ``sqlite_busy_ms`` then overrides SQLite's own
    busy timeout alone, so a test can tell the queue's waiting from SQLite's."""
    engine = create_engine(f"sqlite:///{path}")
    configure_engine(engine, busy_timeout_ms=busy_timeout_ms)
    if sqlite_busy_ms is not None:
        @event.listens_for(engine, "connect")  # runs after configure_engine's own
        def _busy(dbapi_conn, _record):
            dbapi_conn.execute(f"PRAGMA busy_timeout={int(sqlite_busy_ms)}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
    return engine


def seat_taken(path) -> bool:
    """What another process sees: is the flock beside the database held?"""
    fd = os.open(path + "-writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


@pytest.mark.parametrize("end", ["commit", "rollback", "close", "invalidate"])
def test_a_writer_holds_the_seat_from_begin_to_the_end_of_its_transaction(db_file, end):
    engine = make_engine(db_file)
    conn = engine.connect()
    assert not seat_taken(db_file)
    with writing():
        conn.begin()
    conn.execute(text("INSERT INTO t VALUES (1)"))
    assert seat_taken(db_file)
    if end == "commit":
        conn.commit()
    elif end == "rollback":
        conn.rollback()
    elif end == "close":
        conn.close()  # back to the pool: reset by a rollback
    else:
        conn.invalidate()  # the DB-API connection is closed
    assert not seat_taken(db_file)
    conn.close()
    engine.dispose()


def test_readers_never_take_the_seat(db_file):
    engine = make_engine(db_file)
    with engine.connect() as conn:
        conn.begin()
        conn.execute(text("SELECT count(*) FROM t")).scalar()
        assert not seat_taken(db_file)
        conn.rollback()
    engine.dispose()


def test_writers_of_two_engines_on_one_file_take_turns(db_file):
    """Two engines (as two processes would have) and eight threads, with
    SQLite told not to wait at all (busy_timeout 0): only the queue keeps the
    writers from colliding, so none sees the database locked, and every
    increment lands."""
    engines = [make_engine(db_file, sqlite_busy_ms=0), make_engine(db_file, sqlite_busy_ms=0)]
    errors = []

    def work(engine):
        try:
            for _ in range(25):
                with writing(), engine.begin() as conn:
                    n = conn.execute(text("SELECT count(*) FROM t")).scalar()
                    conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(engines[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engines[0].connect() as conn:
        # Each writer read the count under the lock: the values are 0..199, once each.
        assert sorted(r[0] for r in conn.execute(text("SELECT n FROM t"))) == list(range(200))
    assert not seat_taken(db_file)
    for e in engines:
        e.dispose()


def test_a_second_write_in_the_same_thread_is_not_queued_behind_itself(db_file):
    """A thread already in the seat opening another write (another engine on
    the same file) gets SQLite's own answer, "locked", instead of waiting for
    itself."""
    # The second engine would wait 30 s in the queue, SQLite only 50 ms.
    first, second = make_engine(db_file), make_engine(db_file, sqlite_busy_ms=50)
    assert write_queue.for_database(db_file) is write_queue.for_database(db_file)
    with writing():
        outer = first.connect()
        outer.begin()
        outer.execute(text("INSERT INTO t VALUES (1)"))
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            with second.begin() as inner:
                inner.execute(text("INSERT INTO t VALUES (2)"))
        # Not a timing of speed: a thread queued behind itself would sit out
        # the queue's 30 s before SQLite answered.
        assert time.monotonic() - started < 10
        assert seat_taken(db_file)  # still the outer writer's
        outer.commit()
        outer.close()
    assert not seat_taken(db_file)
    first.dispose()
    second.dispose()


def test_writers_go_unqueued_when_the_lock_file_cannot_be_opened(tmp_path):
    """A lock file nobody can open (here a directory stands in its way) must
    not stop writes: they fall back to SQLite's busy handler."""
    path = str(tmp_path / "blocked.sqlite3")
    os.mkdir(path + "-writers")
    engine = make_engine(path)
    with writing(), engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (7)"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [7]
    engine.dispose()


def test_a_rolled_back_savepoint_keeps_the_seat_and_the_sessions_end_gives_it_up(db_file):
    """A savepoint's rollback ends no transaction: the seat and SQLite's write
    lock stay with the session until its own commit or rollback."""
    engine = make_engine(db_file)
    other = make_engine(db_file, sqlite_busy_ms=0)
    for end in ("commit", "rollback"):
        with writing(), Session(engine) as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            with session.begin_nested() as savepoint:
                session.execute(text("INSERT INTO t VALUES (2)"))
                savepoint.rollback()
            assert seat_taken(db_file)
            with pytest.raises(OperationalError, match="locked"):  # SQLite's write lock is ours
                with other.connect() as conn:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
            getattr(session, end)()
            assert not seat_taken(db_file)
            # The lock went with the seat: the next writer starts at once.
            with writing(), other.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (3)"))
    with other.connect() as conn:
        assert sorted(r[0] for r in conn.execute(text("SELECT n FROM t"))) == [1, 3, 3]
    engine.dispose()
    other.dispose()
