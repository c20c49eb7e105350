"""What the Scrapy commands that only look at pages (``parse``, ``check``) switch off."""

from __future__ import annotations

import argparse
from typing import Any

from scrapy.settings import SETTINGS_PRIORITIES

__all__ = ["LookOnly"]

# They fetch what they are told, every time, and record nothing: no crawl_runs document, no
# conditional GET from (or fetch state written to) the store, no item pipelines (which would open
# the store only to be handed nothing).
LOOK_ONLY_SETTINGS: dict[str, Any] = {"CRAWL_RUNS_ENABLED": False, "INCREMENTAL_ENABLED": False}


class LookOnly:
    """Mixin for a Scrapy command: the settings above, over the project's, under ``-s``."""

    settings: Any

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)  # type: ignore[misc]
        # As Scrapy's check command sets ITEM_PIPELINES: above project and spider settings, below
        # the command line, which can set them back.
        priority = (SETTINGS_PRIORITIES["spider"] + SETTINGS_PRIORITIES["cmdline"]) // 2
        for name, value in LOOK_ONLY_SETTINGS.items():
            self.settings.set(name, value, priority=priority)
        if not getattr(opts, "pipelines", False):  # `scrapy parse --pipelines` wants them
            self.settings.set("ITEM_PIPELINES", {}, priority=priority)
