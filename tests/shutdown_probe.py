"""Used by tests/test_shutdown.py: a crawl whose close is hit by a stop signal. An item pipeline
placed before the store sends SIGINT to its own process when the spider begins to close, so the
signal lands while the store's last batch is being written. Run as a module, it is one
`newsmon crawl`; `scrapy crawl` gets the same pipelines and settings on its command line."""

from __future__ import annotations

import os
import signal
import sys

# one batch for the whole crawl: the last write is the only one, and it happens in the close;
# INFO: the test reads what the signal handlers logged
PROBE_SETTINGS = {"LOG_LEVEL": "INFO", "STORE_BATCH_SIZE": 100000, "STORE_FLUSH_SECONDS": 3600}


class SignalAtClose:
    """Sends SIGINT to this process at the start of the spider's close."""

    def process_item(self, item):
        return item

    def close_spider(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)


def probe_pipelines() -> dict[str, int]:
    """The project's item pipelines, with SignalAtClose first."""
    from scrapy.utils.project import get_project_settings

    return {**get_project_settings().getdict("ITEM_PIPELINES"), f"{__name__}.SignalAtClose": 1}


def main(base_url: str) -> None:
    from crawler.cli import _crawl_settings, _run_crawl, _settings

    settings = _settings()
    _crawl_settings(settings, "manual")
    settings.setdict({**PROBE_SETTINGS, "ITEM_PIPELINES": probe_pipelines()}, priority="cmdline")
    _run_crawl("demo", {"base_url": base_url}, settings)


if __name__ == "__main__":
    main(sys.argv[1])
