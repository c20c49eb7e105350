"""``scrapy parse URL --spider SITE``: Scrapy's own command, recording nothing in the store.

Without ``-c`` the spider's ``parse`` routes the page to the right callback (article, listing,
feed or sitemap), so an article URL prints its Article and a listing URL its article requests.
"""

from __future__ import annotations

import argparse
import warnings

from scrapy.commands.parse import Command as ScrapyParseCommand
from scrapy.exceptions import ScrapyDeprecationWarning

from crawler.commands._readonly import LookOnly


class Command(LookOnly, ScrapyParseCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        # Scrapy's own parse command wraps the callback in one that returns a Deferred, and
        # Scrapy 2.19 then warns about the spider's callback ("returned a Deferred"): not ours to fix.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*returned a Deferred", category=ScrapyDeprecationWarning)
            super().run(args, opts)
