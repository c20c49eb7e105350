"""newsmon's storage layer: one interface (``Store``), two backends, and the factory picking one.

``MongoStore`` talks to a MongoDB server (or FerretDB) when a URI is configured; ``SqliteStore`` is
the embedded fallback, one SQLite file under the data directory. Importing this package does no
I/O: clients and files are opened by ``Store.open()``.
"""

from __future__ import annotations

from pathlib import Path

from crawler import settings as defaults  # the settings' defaults, written once there
from pipelines.storage.base import COLLECTIONS, Store, WriteSummary
from pipelines.storage.mongo import MongoStore, mask_uri
from pipelines.storage.sqlite import SqliteStore

__all__ = [
    "COLLECTIONS",
    "MongoStore",
    "SqliteStore",
    "Store",
    "WriteSummary",
    "mask_uri",
    "open_store",
]

SQLITE_FILENAME = "newsmon.sqlite3"


def open_store(
    *,
    mongo_uri: str | None,
    mongo_database: str,
    data_dir: str | Path,
    seen_on_max: int = defaults.SNIPPET_SEEN_ON_MAX,
    sqlite_busy_timeout: float = defaults.SQLITE_BUSY_TIMEOUT,
    mongo_server_selection_timeout: float = defaults.MONGO_SERVER_SELECTION_TIMEOUT,
) -> Store:
    """The configured store, not yet opened: MongoDB if ``mongo_uri`` is set, else SQLite.

    The caller opens it (``store.open()`` or ``with store:``) where it holds resources, e.g. in
    ``open_spider``, so nothing connects at import or configuration time.
    """
    if mongo_uri:
        return MongoStore(mongo_uri, mongo_database, seen_on_max=seen_on_max,
                          server_selection_timeout_ms=round(mongo_server_selection_timeout * 1000))
    return SqliteStore(Path(data_dir) / SQLITE_FILENAME, seen_on_max=seen_on_max,
                       busy_timeout=sqlite_busy_timeout)
