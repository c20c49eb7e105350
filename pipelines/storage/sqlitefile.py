"""Open newsmon's SQLite file: WAL mode and a schema, safe when several openers race on a new file.

A crawl opens the embedded store once (``pipelines.storage.service``), but a scheduler, its crawls
and CLI commands open the same file from several processes, and tests open it from several
threads. Switching a fresh file to WAL and creating tables takes SQLite's exclusive lock, and
``PRAGMA journal_mode`` does not wait on a busy handler: two openers racing on a new file made one
fail with "database is locked" (seen in ~1 of 5 crawls into a fresh directory). Within a process
the opening is serialised by a lock; against other processes a "locked" answer is retried until
the timeout.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["open_sqlite"]

_OPEN_LOCK = threading.Lock()


def open_sqlite(path: Path, schema: str = "", *, timeout: float = 30.0,
                before_schema: Callable[[sqlite3.Connection], None] | None = None) -> sqlite3.Connection:
    """A connection to ``path`` (created if needed) in WAL mode with ``schema`` applied.

    ``isolation_level=None``: callers issue BEGIN/COMMIT themselves; ``check_same_thread=False``:
    opened on one thread, used by a component's worker thread. Raises ``sqlite3.Error``/``OSError``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with _OPEN_LOCK:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=timeout)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                    if str(mode).lower() != "wal":
                        raise sqlite3.OperationalError(f"cannot enable WAL (got {mode})")
                    conn.execute("PRAGMA synchronous=NORMAL")
                    if before_schema is not None:
                        before_schema(conn)
                    if schema:
                        conn.executescript(schema)
                    return conn
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)  # another process holds the lock; runs on a worker thread
        except BaseException:
            conn.close()
            raise
