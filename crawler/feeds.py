"""Feed exports (``scrapy crawl SITE -O items.jsonl`` / ``-O items.csv``) that read like the store.

A News Feed widget sits on every page, so a crawl sees each snippet dozens of times; the store
keeps one document per snippet, and so do these exporters: a snippet is exported once per crawl
(its first sighting). Every item carries ``doc_id`` (the stored document's ``_id``) and
``identity`` (new, unchanged, revision, exact_duplicate, near_duplicate) from the identity stage.
CSV gets one header for both item kinds (a ``type`` column, then every field of either), lists
joined with ``"; "`` and objects as JSON, so no article field is lost because the first row was a
snippet. For the stored documents themselves use ``newsmon export``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from scrapy.exporters import CsvItemExporter, JsonLinesItemExporter

from crawler.items import Article, FeedSnippet

__all__ = ["CSV_FIELDS", "CsvExporter", "JsonLinesExporter"]

CSV_FIELDS = ["type", *dict.fromkeys([f.name for f in dataclasses.fields(Article)]
                                     + [f.name for f in dataclasses.fields(FeedSnippet)])]


class _OncePerSnippet:
    """Skips a snippet whose fingerprint this export has written already."""

    def _first_sighting(self, item: Any) -> bool:
        if not isinstance(item, FeedSnippet):
            return True
        seen: set[str] = self.__dict__.setdefault("_snippets_seen", set())
        if item.fingerprint in seen:
            return False
        seen.add(item.fingerprint)
        return True


class JsonLinesExporter(_OncePerSnippet, JsonLinesItemExporter):
    def export_item(self, item: Any) -> None:
        if self._first_sighting(item):
            super().export_item(item)


def _flat(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return "; ".join(v if isinstance(v, str) else json.dumps(v, default=str, ensure_ascii=False)
                         for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str, ensure_ascii=False)
    return value


class CsvExporter(_OncePerSnippet, CsvItemExporter):
    def __init__(self, file: Any, **kwargs: Any) -> None:
        if not kwargs.get("fields_to_export"):  # Scrapy passes FEED_EXPORT_FIELDS, None by default
            kwargs["fields_to_export"] = CSV_FIELDS
        super().__init__(file, **kwargs)

    def export_item(self, item: Any) -> None:
        if not self._first_sighting(item):
            return
        row = {"type": "article" if isinstance(item, Article) else "snippet"}
        row.update({k: _flat(v) for k, v in dataclasses.asdict(item).items()})
        super().export_item(row)
