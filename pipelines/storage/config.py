"""Which store a crawl or a CLI command uses, read once from settings and the environment."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.errors import ConfigError

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from pipelines.storage.base import Store

__all__ = ["StoreConfig", "default_data_dir"]

_DB_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/newsmon``, i.e. ``~/.local/share/newsmon`` on most systems."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "newsmon"


@dataclass(frozen=True)
class StoreConfig:
    """MongoDB when a URI is configured, else the embedded SQLite store under ``data_dir``."""

    mongo_uri: str | None
    mongo_database: str
    data_dir: Path
    seen_on_max: int = 100
    sqlite_busy_timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> StoreConfig:
        """Environment first (``NEWSMON_MONGO_URI``, ``NEWSMON_MONGO_DATABASE``,
        ``NEWSMON_DATA_DIR``), then the settings of the same meaning, then defaults."""
        uri = os.environ.get("NEWSMON_MONGO_URI") or settings.get("MONGO_URI") or None
        if uri and not uri.startswith(("mongodb://", "mongodb+srv://")):
            raise ConfigError("MONGO_URI must start with mongodb:// or mongodb+srv://")
        database = os.environ.get("NEWSMON_MONGO_DATABASE") or settings.get("MONGO_DATABASE") or "newsmon"
        if not _DB_NAME.match(database):
            raise ConfigError(f"MONGO_DATABASE {database!r}: use 1-63 letters, digits, '_' or '-'")
        data_dir = os.environ.get("NEWSMON_DATA_DIR") or settings.get("NEWSMON_DATA_DIR")
        seen_on_max = settings.getint("SNIPPET_SEEN_ON_MAX", 100)
        if seen_on_max < 1:
            raise ConfigError("SNIPPET_SEEN_ON_MAX must be at least 1")
        busy = settings.getfloat("SQLITE_BUSY_TIMEOUT", 30.0)
        if busy <= 0:
            raise ConfigError("SQLITE_BUSY_TIMEOUT must be > 0 seconds")
        return cls(
            mongo_uri=uri,
            mongo_database=database,
            data_dir=Path(data_dir).expanduser() if data_dir else default_data_dir(),
            seen_on_max=seen_on_max,
            sqlite_busy_timeout=busy,
        )

    @property
    def journal_dir(self) -> Path:
        """Where whatever could not be written is journaled until it is (``pipelines.journal``)."""
        return self.data_dir / "journal"

    @property
    def spool_dir(self) -> Path:
        """Where earlier versions kept refused batches (``newsmon import-spool`` still reads it)."""
        return self.data_dir / "spool"

    def create(self) -> Store:
        """A new, not yet opened store for this configuration."""
        from pipelines.storage import open_store

        return open_store(
            mongo_uri=self.mongo_uri,
            mongo_database=self.mongo_database,
            data_dir=self.data_dir,
            seen_on_max=self.seen_on_max,
            sqlite_busy_timeout=self.sqlite_busy_timeout,
        )
