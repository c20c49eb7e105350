"""The two kinds of item a crawl yields, read and written through ``ItemAdapter``.

Field names are the stored document's field names (README.md, "Schema"), except ``doc_id`` and
``identity``, which tell what the identity stage decided and are not stored; the store adds
``_id``, ``schema_version``, ``first_seen``, ``last_seen`` and ``times_seen``. The item path's
own stages, which know these two classes, read them with ``field_names``/``item_dict`` (the same
answers as ``ItemAdapter``'s, without its per-value type checks).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Article", "FeedSnippet", "Precomputed", "attach_precomputed", "field_names", "item_dict", "precomputed"]


@dataclass
class Article:
    """One news article, extracted from its page."""

    url: str  # canonical URL
    fetched_url: str  # the URL the page was fetched from (after redirects)
    site: str  # profile name
    title: str
    body: str  # paragraphs separated by one blank line, boilerplate removed
    section: str | None = None
    authors: list[str] = field(default_factory=list)  # person names only
    byline_org: list[str] = field(default_factory=list)  # desk/staff/agency bylines ("Reuters")
    published: datetime | None = None  # UTC
    modified: datetime | None = None  # UTC
    summary: str | None = None
    image_url: str | None = None
    image_caption: str | None = None
    image_credit: str | None = None
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    word_count: int = 0
    fetched_at: datetime | None = None  # UTC
    content_hash: str = ""  # sha256 of the normalized title + body
    confidence: dict[str, float] = field(default_factory=dict)
    topics: list[dict[str, Any]] = field(default_factory=list)  # [{slug, score, terms}], pipelines/topics.py
    # Set by the identity stage (pipelines/identity.py), never stored in the document:
    doc_id: str = ""  # _id of the stored document this item is (another URL's, for a duplicate)
    identity: str | None = None  # new | unchanged | revision | exact_duplicate | near_duplicate


@dataclass
class FeedSnippet:
    """One timed item of a site's News Feed widget."""

    site: str
    headline: str
    text: str
    published: datetime | None  # the time shown, resolved to a full UTC datetime
    time_shown: str  # as printed on the page, e.g. "5:29 PM"
    url: str | None = None  # the linked article, if any
    seen_on: list[str] = field(default_factory=list)  # pages the snippet was seen on
    fetched_at: datetime | None = None  # UTC
    fingerprint: str = ""  # hash of site + normalized headline and text
    topics: list[dict[str, Any]] = field(default_factory=list)  # [{slug, score, terms}], pipelines/topics.py
    doc_id: str = ""  # set by the identity stage, as for Article
    identity: str | None = None


# --- reading an item whose class is known --------------------------------------------------------
# ItemAdapter answers for any item type by asking each adapter class in turn, for the item and,
# in asdict, for every value inside it: most of its cost, paid ~11 times per page. For these
# dataclasses the answers are known; the results are the same (tests/test_items.py pins them).

# Values ItemAdapter.asdict returns as they are (bool is an int).
_PLAIN = (str, int, float, datetime, type(None))
_MISSING = object()


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def field_names(cls: type) -> tuple[str, ...]:
    """The field names of a dataclass item class, in order (ItemAdapter's ``field_names()``)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _copied(value: Any) -> Any:
    """``ItemAdapter._asdict(value)``, with the common cases answered first."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, dict):
        return {key: _copied(v) for key, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return value.__class__(_copied(v) for v in value)
    from itemadapter import ItemAdapter

    return ItemAdapter._asdict(value)  # a nested item, or a type only asdict knows


def item_dict(item: Any) -> dict[str, Any]:
    """``ItemAdapter(item).asdict()`` of a dataclass item: lists and dicts copied, nested items
    converted, fields deleted from the instance left out."""
    values = ((name, getattr(item, name, _MISSING)) for name in field_names(type(item)))
    return {name: _copied(value) for name, value in values if value is not _MISSING}


# --- work done ahead, in the extraction worker ------------------------------------------------------


@dataclass(frozen=True)
class Precomputed:
    """An article's clean and topics results, computed in the extraction worker by the stages'
    own functions (``crawler/workers.py``). Each stage uses one only when the item's fields equal
    what it was computed from, so an item changed on the way is cleaned and matched afresh."""

    cap: int  # the CLEAN_MAX_BODY_CHARS the body was cut to
    body_source: str  # the body clean_body was given (the extracted body, controls stripped)
    body: str  # clean_body's result
    truncated: bool
    title: str  # the cleaned title
    content_hash: str  # of (title, body)
    word_count: int  # of body
    topics_source: Any = None  # the TOPICS_FILE value the matches were made with
    topic_fields: dict[str, str] | None = None  # item_fields the matcher was given; None: not matched
    matches: list[Any] | None = None  # TopicMatcher.match(topic_fields)
    # Signer.sign of "title\nbody" (identity's MinHash signature, shingle count, band keys), made
    # with the DedupeConfig.article_signing in signed_with; None: not signed (dedupe off)
    signed_with: tuple[int, int, float] | None = None
    signed: tuple[str, int, tuple[int, ...]] | None = None


_PRECOMPUTED = "_newsmon_precomputed"  # an attribute, not a field: never stored or exported


def precomputed(item: Any) -> Precomputed | None:
    """The worker's results attached to ``item``, if any."""
    return getattr(item, _PRECOMPUTED, None)


def attach_precomputed(item: Any, pre: Precomputed | None) -> None:
    if pre is not None:
        setattr(item, _PRECOMPUTED, pre)
