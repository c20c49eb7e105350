"""Repeated News Feed sightings, gathered: one batched store update instead of an item each.

The widget shows the same ~10 snippets on every page, so most snippet sightings of a crawl repeat
one already sent through the item path. As an item each, a repeat costs Scrapy's per-item
machinery (spider middleware, the ``item_scraped`` signal, the "Scraped from" record, stats) and
four pipelines, to end as an ``unchanged`` decision whose only effect is on the stored document's
``seen_on``, ``times_seen``, ``first_seen`` and ``last_seen``. With ``SNIPPET_REPEATS_GATHERED``:

- the spider sends the first sighting of a snippet (every field the same but the page and the
  fetch time: :func:`repeat_key`) as an item, tagged with its key, and hands each later identical
  sighting to :meth:`Repeats.gather` (its page and fetch time, nothing else differs);
- once the store stage has written the first sighting's document (``doc_id``, whatever identity
  decided: new, a revision of another, a duplicate), the gathered sightings become one snippet
  document each in one ``upsert_snippets`` call, whose snippet plan merges them by the same rules
  as one item each (``pipelines/storage/sightings.py``: pages joined, ``times_seen`` + n,
  ``last_seen`` max, ``first_seen`` min), when ``STORE_BATCH_SIZE`` wait, at the store's flush timer
  and at spider close;
- a first sighting that was journaled or whose write failed: its gathered sightings are journaled
  (one snippet record each, replayed through identity like any item) and its key forgotten, so the
  next sighting takes the full path; one that was dropped: its key forgotten, the sightings
  gathered meanwhile counted as ``newsmon/drop/repeat_of_dropped``.

A changed snippet (a corrected text, another time or link) has another key: the full path
(identity -> versions, topics, flags). Counted: ``newsmon/snippets/repeats/gathered`` (taken off
the item path), and the written ones as their items would have been (``newsmon/items/snippet``,
``newsmon/dedupe/snippets/unchanged``, ``newsmon/store/feed_snippets/<outcome>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler.items import FeedSnippet

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = ["Repeats", "repeat_key"]

_KEY = "_newsmon_repeat_key"  # an attribute of the first sighting's item, never stored
_ATTRIBUTE = "_newsmon_repeats"  # the crawl's Repeats, on its crawler

RepeatKey = tuple[Any, ...]


def repeat_key(snippet: FeedSnippet) -> RepeatKey:
    """Every field a sighting brings but its page (``seen_on``) and time (``fetched_at``)."""
    return (snippet.site, snippet.headline, snippet.text, snippet.time_shown, snippet.published, snippet.url)


@dataclass
class _Snippet:
    """One snippet sent through the item path, and its later sightings not yet written."""

    record: dict[str, Any] | None = None  # the first sighting's item record, once its document landed
    doc_id: str = ""  # the document it landed as
    pages: list[tuple[str, datetime | None]] = field(default_factory=list)  # (page, fetched_at)


class Repeats:
    """The crawl's gathered repeat sightings (one per crawler, installed by the store stage)."""

    def __init__(self) -> None:
        self._snippets: dict[RepeatKey, _Snippet] = {}
        self.ready = 0  # gathered sightings whose first sighting has landed: writable now

    @classmethod
    def install(cls, crawler: Crawler) -> Repeats:
        repeats = cls()
        setattr(crawler, _ATTRIBUTE, repeats)
        return repeats

    @staticmethod
    def of(crawler: Crawler) -> Repeats | None:
        """The crawl's Repeats, None when sightings are not gathered (no store stage, or off)."""
        return getattr(crawler, _ATTRIBUTE, None)

    # --- the spider's side -------------------------------------------------------------------------

    def gather(self, snippet: FeedSnippet) -> bool:
        """True if ``snippet`` repeats one already sent (gathered here: do not send it); False for
        the first sighting, tagged so the store stage can tell where it landed."""
        key = repeat_key(snippet)
        state = self._snippets.get(key)
        if state is None:
            self._snippets[key] = _Snippet()
            setattr(snippet, _KEY, key)
            return False
        state.pages.extend((page, snippet.fetched_at) for page in snippet.seen_on)
        if state.record is not None:
            self.ready += len(snippet.seen_on)
        return True

    # --- the store stage's side --------------------------------------------------------------------

    def landed(self, item: Any, doc_id: str, record: dict[str, Any]) -> None:
        """The first sighting's document was written as ``doc_id``; ``record`` is its item record."""
        state = self._state(item)
        if state is not None and state.record is None:
            state.record, state.doc_id = record, doc_id
            self.ready += len(state.pages)

    def missed(self, item: Any, record: dict[str, Any]) -> list[dict[str, Any]]:
        """The first sighting was journaled or not written: the journal records of the sightings
        gathered for it (``record`` is its own); its key is forgotten (the next takes the path)."""
        state = self._forget(item)
        return [] if state is None else [_sighting(record, page, at) for page, at in state.pages]

    def dropped(self, item: Any) -> int:
        """The first sighting was dropped: its key is forgotten; how many were gathered for it."""
        state = self._forget(item)
        return 0 if state is None else len(state.pages)

    def take(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(snippet documents to upsert, their journal records) for every writable sighting."""
        docs, records = [], []
        for state in self._snippets.values():
            if state.record is None or not state.pages:
                continue
            for page, at in state.pages:
                record = _sighting(state.record, page, at)
                records.append(record)
                doc = dict(record, _id=state.doc_id)
                doc.pop("fingerprint", None)  # it is the _id of its own document (identity.snippet_document)
                docs.append(doc)
            state.pages = []
        self.ready = 0
        return docs, records

    def pending(self) -> int:
        """Gathered sightings not written yet (whatever their first sighting's state)."""
        return sum(len(s.pages) for s in self._snippets.values())

    def _state(self, item: Any) -> _Snippet | None:
        key = getattr(item, _KEY, None)
        return None if key is None else self._snippets.get(key)

    def _forget(self, item: Any) -> _Snippet | None:
        key = getattr(item, _KEY, None)
        if key is None:
            return None
        state = self._snippets.pop(key, None)
        if state is not None and state.record is not None:
            self.ready -= len(state.pages)
        return state


def _sighting(record: dict[str, Any], page: str, at: datetime | None) -> dict[str, Any]:
    return dict(record, seen_on=[page], fetched_at=at)
