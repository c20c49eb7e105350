"""The LogFormatter (crawler/logformatter.py): the per-item "Scraped from" record only when seen."""

from __future__ import annotations

import logging

from scrapy import Spider

from crawler.logformatter import LogFormatter


def test_scraped_record_built_only_when_a_handler_takes_debug() -> None:
    root, spider = logging.getLogger(), Spider("demo")
    handlers, level = root.handlers[:], root.level
    try:
        root.handlers[:] = [logging.NullHandler(logging.INFO)]
        root.setLevel(logging.DEBUG)
        assert LogFormatter().scraped({"a": 1}, None, spider) is None
        root.handlers.append(logging.NullHandler(logging.DEBUG))
        assert LogFormatter().scraped({"a": 1}, None, spider)["level"] == logging.DEBUG
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
