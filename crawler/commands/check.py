"""``scrapy check [SITE] [-a base_url=…]``: the profiles' contracts (crawler/contracts.py), recording
nothing in the store."""

from __future__ import annotations

from scrapy.commands.check import Command as ScrapyCheckCommand

from crawler.commands._readonly import LookOnly


class Command(LookOnly, ScrapyCheckCommand):
    pass
