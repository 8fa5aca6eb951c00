"""The SQLite file shared by every process and thread using the embedded backend."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cpe.runtime.backends.local.schema import SCHEMA

Clock = Callable[[], float]

# Long enough that a busy machine with many pollers never surfaces "database is
# locked" to a caller; every transaction we run is short.
BUSY_TIMEOUT_SECONDS = 30.0


@dataclass
class Tx:
    """One write transaction: the connection, the time it runs at, the operation."""

    db: sqlite3.Connection
    now: float
    operation: str
    # When each periodic sweep last ran in this process (by sweep name), so a
    # sweep that need not run on every call can skip cheaply.
    sweeps: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Look:
    """What a read outside a transaction needs: the connection, the time, and
    when this process's periodic sweeps last ran."""

    db: sqlite3.Connection
    now: float
    sweeps: dict[str, float]


class Store:
    """Connections to one database file: one per thread, opened lazily."""

    def __init__(self, path: str | Path, clock: Clock | None = None) -> None:
        self.path = str(Path(path))
        self.clock: Clock = clock or time.time
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._sweeps: dict[str, float] = {}
        # Close what this object opened when it is dropped without close(),
        # so no connection is left to the garbage collector (which newer
        # Pythons report as a ResourceWarning).
        self._finalizer = weakref.finalize(self, _close_all, self._all)
        with self.transaction("Init") as tx:
            for statement in SCHEMA:
                tx.db.execute(statement)

    def _connection(self) -> sqlite3.Connection:
        # A connection must not cross a fork, and sqlite3 objects are bound to
        # their thread; keying on the pid covers both.
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        pid: int | None = getattr(self._local, "pid", None)
        if conn is not None and pid == os.getpid():
            return conn
        # Each connection is used by its own thread only (thread-local);
        # check_same_thread=False just lets close() end them all from one place.
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL makes every acknowledged commit survive power loss too, not only
        # the death of the process.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        self._local.conn = conn
        self._local.pid = os.getpid()
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self, operation: str) -> Iterator[Tx]:
        """A BEGIN IMMEDIATE transaction: read-modify-write without races.

        IMMEDIATE takes the write lock up front, so two pollers can never both
        read a task as free and both claim it.
        """
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            # Read the clock only once the lock is held, so time never runs
            # backwards between consecutive transactions.
            yield Tx(db=db, now=self.clock(), operation=operation, sweeps=self._sweeps)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            db.execute("COMMIT")

    def look(self) -> Look:
        """A read outside any write transaction: it neither waits for the
        write lock nor holds it (WAL readers see the last commit)."""
        return Look(db=self._connection(), now=self.clock(), sweeps=self._sweeps)

    def data_version(self) -> int:
        """A number that changes whenever another connection commits (cheap, no lock)."""
        return int(self._connection().execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        """Close every connection this object opened (in this process)."""
        with self._lock:
            _close_all(self._all)
        self._local = threading.local()


def _close_all(connections: list[sqlite3.Connection]) -> None:
    for conn in connections:
        conn.close()
    connections.clear()
