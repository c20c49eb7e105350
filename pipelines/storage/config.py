"""Which store a crawl or a CLI command uses, read once from settings and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from crawler import settings as defaults  # the settings' defaults, written once there

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from pipelines.storage.base import Store

__all__ = ["StoreConfig", "default_data_dir"]

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
    seen_on_max: int = defaults.SNIPPET_SEEN_ON_MAX
    sqlite_busy_timeout: float = defaults.SQLITE_BUSY_TIMEOUT
    mongo_server_selection_timeout: float = defaults.MONGO_SERVER_SELECTION_TIMEOUT

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> StoreConfig:
        """Environment first (``NEWSMON_MONGO_URI``, ``NEWSMON_MONGO_DATABASE``,
        ``NEWSMON_DATA_DIR``), then the settings of the same meaning, then defaults."""
        from crawler.checks import check_setting  # the rules and defaults, written once

        data_dir = check_setting(settings, "NEWSMON_DATA_DIR")
        return cls(
            mongo_uri=check_setting(settings, "MONGO_URI") or None,
            mongo_database=check_setting(settings, "MONGO_DATABASE"),
            data_dir=Path(data_dir).expanduser() if data_dir else default_data_dir(),
            seen_on_max=check_setting(settings, "SNIPPET_SEEN_ON_MAX"),
            sqlite_busy_timeout=check_setting(settings, "SQLITE_BUSY_TIMEOUT"),
            mongo_server_selection_timeout=check_setting(settings, "MONGO_SERVER_SELECTION_TIMEOUT"),
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
            mongo_server_selection_timeout=self.mongo_server_selection_timeout,
        )
