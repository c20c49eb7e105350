"""Feed exports (``scrapy crawl SITE -O items.jsonl`` / ``-O items.csv``) that read like the store.

A News Feed widget sits on every page, so a crawl sees each snippet dozens of times; the store
keeps one document per snippet, and so do these exporters: a snippet is exported once per crawl
(the sighting that decided its identity, or the first one when every sighting found it stored
already). Items reach the exporter in the order their pipeline work ends, not the order the
identity stage decided them, so snippets are held until the export finishes and written then,
one per fingerprint; there are a few hundred per crawl, so holding them costs little. Every item carries ``doc_id`` (the stored document's ``_id``) and
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
    """Holds one sighting per snippet fingerprint and writes them when the export finishes.

    The sighting kept is the first whose identity is not ``unchanged`` (the one the identity stage
    decided as new or revised), else the first: a later sighting of a new snippet may reach the
    exporter before the new one does.
    """

    def _hold(self, item: Any) -> bool:
        """True if ``item`` is a snippet (held here), False if it is to be written now."""
        if not isinstance(item, FeedSnippet):
            return False
        held: dict[str, Any] = self.__dict__.setdefault("_snippets_held", {})
        kept = held.get(item.fingerprint)
        if kept is None or (kept.identity == "unchanged" and item.identity != "unchanged"):
            held[item.fingerprint] = item
        return True

    def _held(self) -> list[Any]:
        return list(self.__dict__.pop("_snippets_held", {}).values())


class JsonLinesExporter(_OncePerSnippet, JsonLinesItemExporter):
    def export_item(self, item: Any) -> None:
        if not self._hold(item):
            super().export_item(item)

    def finish_exporting(self) -> None:
        for item in self._held():
            super().export_item(item)
        super().finish_exporting()


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
        if not self._hold(item):
            self._write_row(item)

    def finish_exporting(self) -> None:
        for item in self._held():
            self._write_row(item)
        super().finish_exporting()

    def _write_row(self, item: Any) -> None:
        row = {"type": "article" if isinstance(item, Article) else "snippet"}
        row.update({k: _flat(v) for k, v in dataclasses.asdict(item).items()})
        super().export_item(row)
