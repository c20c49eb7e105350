"""``scrapy parse URL --spider SITE``: Scrapy's own command, recording nothing in the store.

Without ``-c`` the spider's ``parse`` routes the page to the right callback (article, listing,
feed or sitemap), so an article URL prints its Article and a listing URL its article requests.
"""

from __future__ import annotations

from scrapy.commands.parse import Command as ScrapyParseCommand

from crawler.commands._readonly import LookOnly


class Command(LookOnly, ScrapyParseCommand):
    pass
