"""Scrapy's MemoryStatsCollector without its per-attribute-access deprecation machinery.

Scrapy 2.13+ gives ``StatsCollector`` a ``__getattribute__`` that, on every attribute access
(``self._stats`` inside ``inc_value`` included), first looks for a cached wrapper that warns about
the deprecated ``spider`` argument, catching an ``AttributeError`` when there is none: several
microseconds per ``inc_value``, which the item path calls a few times per item. Stats are the
monitoring contract here (README "Stats"), so they stay; the lookups go. Nothing in newsmon
passes the ``spider`` argument, so the warnings it would miss are none of its own.
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector

__all__ = ["StatsCollector"]


class StatsCollector(MemoryStatsCollector):
    __getattribute__ = object.__getattribute__
