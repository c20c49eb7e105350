"""Replay the site's journal at the start of its crawl, through the whole item path.

A spider middleware: before the spider's own start requests, it yields the articles and News Feed
snippets journaled by earlier crawls of the site (``pipelines.journal``), rebuilt as items, so they
are cleaned, decided by identity, matched by topics and stored exactly like fresh ones. The
journal's other records (flags, fetch state, run documents) are written by the store stage when it
opens. With ``NEWSMON_REPLAY_ONLY`` the crawl replays and fetches nothing (``newsmon import-spool``).

Counters: ``newsmon/journal/replayed/<kind>``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from crawler.checks import check_setting
from crawler.items import Article, FeedSnippet
from crawler.stages import stores_items
from pipelines.identity import REPLAYED_ATTRIBUTE
from pipelines.storage.service import StoreService

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = ["JournalReplay", "item_from_record"]

logger = logging.getLogger(__name__)

_TYPES: dict[str, type[Article] | type[FeedSnippet]] = {"article": Article, "snippet": FeedSnippet}


def item_from_record(kind: str, record: dict[str, Any]) -> Article | FeedSnippet:
    """The item a journal record was written from (unknown fields ignored)."""
    cls = _TYPES[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in record.items() if k in names})


class JournalReplay:
    def __init__(self, crawler: Crawler, service: StoreService, replay_only: bool) -> None:
        self.crawler = crawler
        self.service = service
        self.replay_only = replay_only

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JournalReplay:
        settings = crawler.settings
        if not stores_items(settings):  # replayed into nothing, the journal would be deleted
            raise NotConfigured("the crawl stores no items: the journal waits for one that does")
        return cls(crawler, StoreService.of(crawler), check_setting(settings, "NEWSMON_REPLAY_ONLY"))

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        self.service.take_replay(self.crawler.spider.name)
        items = self.service.replay_items
        for kind, record in items:
            try:
                item = item_from_record(kind, record)
            except TypeError as exc:  # a record missing a required field: say so, keep going
                logger.error("Journal record of %s cannot be replayed: %s", kind, exc)
                self.crawler.stats.inc_value("newsmon/journal/unreadable")
                continue
            setattr(item, REPLAYED_ATTRIBUTE, True)
            self.crawler.stats.inc_value(f"newsmon/journal/replayed/{kind}")
            yield item
        self.service.replay_done = True
        if self.replay_only:
            return
        async for output in start:
            yield output
