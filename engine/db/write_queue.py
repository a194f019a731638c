"""A line for SQLite's writers, across the threads and processes of one server.

SQLite admits one writer at a time. A writer that finds the lock taken
sleeps in SQLite's busy handler (1, 2, 5, 10, 15 ... ms between polls),
and a lock freed meanwhile stays idle until someone wakes: with gunicorn's
workers writing one file, the lock sits idle for most of those sleeps.
Here writers wait in line instead: first on a thread lock within the
process, then on flock(2) of a file beside the database, polled at a fine
grain, so the next writer starts within a fraction of a millisecond of the
last commit.

A writer is in line from its BEGIN IMMEDIATE until its COMMIT, ROLLBACK or
close (engine.db.storage wires both ends). Waiting is bounded: after
``timeout`` the writer goes on unqueued and SQLite's own busy timeout
decides alone (so a writer behind a stuck one waits at most twice the
busy timeout before "database is locked"). A process that dies drops its
flock with its files.
"""
from __future__ import annotations

import fcntl
import os
import threading
import time

# Between polls of the file lock: short, since the holder's whole
# transaction takes about a millisecond.
FIRST_POLL = 0.00005
LAST_POLL = 0.0005


_QUEUES: dict[str, "WriteQueue"] = {}
_QUEUES_LOCK = threading.Lock()


def for_database(path: str) -> "WriteQueue":
    """The one queue of this process for the database file at ``path``: two
    engines on one file (a CLI command beside the app, tests) share it."""
    path = os.path.abspath(path) + "-writers"
    with _QUEUES_LOCK:
        queue = _QUEUES.get(path)
        if queue is None:
            queue = _QUEUES[path] = WriteQueue(path)
        return queue


class WriteQueue:
    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None
        self._owner: int | None = None  # the thread in the writer's seat
        self._holder: int | None = None  # id() of the DB-API connection it writes on

    def _file(self) -> int | None:
        """The lock file's descriptor, or None when it cannot be opened (a
        directory another OS user created it in, say): writers then go
        unqueued (SQLite's busy timeout alone decides) rather than fail."""
        # Opened per process: a forked worker sharing its parent's open file
        # would share its flock too, and the two would not exclude each other.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            try:
                # 0o666 less the umask, like any new file (not 0o600): another
                # OS user allowed to write the database may queue beside us.
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError:
                self._fd = None
        return self._fd

    def enter(self, conn_id: int, timeout: float) -> bool:
        """Wait for the writer's seat; False when not queued (then SQLite's
        busy handler decides). A thread already seated (a second connection
        inside one request) is not queued: it would wait for itself."""
        me = threading.get_ident()
        if self._owner == me:
            return False
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            return False
        fd = self._file()
        if fd is None:
            self._lock.release()
            return False
        delay = FIRST_POLL
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._lock.release()
                    return False
                time.sleep(delay)
                delay = min(delay * 2, LAST_POLL)
        self._owner, self._holder = me, conn_id
        return True

    def leave(self, conn_id: int) -> None:
        """Give the seat up if ``conn_id`` holds it (called on every commit,
        rollback and close, queued or not)."""
        if self._holder != conn_id:
            return
        self._owner = self._holder = None
        fcntl.flock(self._file(), fcntl.LOCK_UN)
        self._lock.release()
