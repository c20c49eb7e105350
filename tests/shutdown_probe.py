"""Run by tests/test_shutdown.py in a child process: one `newsmon crawl` whose close is hit by a
stop signal. An item pipeline placed before the store sends SIGINT to its own process when the
spider begins to close, so the signal lands while the store's last batch is being written."""

from __future__ import annotations

import json
import os
import signal
import sys


class SignalAtClose:
    """Sends SIGINT to this process at the start of the spider's close."""

    def process_item(self, item):
        return item

    def close_spider(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)


def main(base_url: str) -> None:
    from crawler.cli import _crawl_settings, _run_crawl, _settings

    settings = _settings()
    _crawl_settings(settings, "manual")
    settings.set("LOG_LEVEL", "INFO", priority="cmdline")  # the test reads what the handlers logged
    pipelines = dict(settings.getdict("ITEM_PIPELINES"))
    pipelines[f"{__name__}.SignalAtClose"] = 1
    settings.set("ITEM_PIPELINES", pipelines, priority="cmdline")
    # one batch for the whole crawl: the last write is the only one, and it happens in the close
    settings.set("STORE_BATCH_SIZE", 100000, priority="cmdline")
    settings.set("STORE_FLUSH_SECONDS", 3600, priority="cmdline")
    stats = _run_crawl("demo", {"base_url": base_url}, settings)
    print(json.dumps({"finish_reason": stats.get("finish_reason"), "articles": stats.get("newsmon/items/article")}))


if __name__ == "__main__":
    main(sys.argv[1])
