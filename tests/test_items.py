"""``item_dict`` (the item path's shortcut for its two dataclass items) returns what
``ItemAdapter(item).asdict()`` returns: stored documents and journal records stay the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from itemadapter import ItemAdapter

from crawler.items import Article, FeedSnippet, field_names, item_dict


@dataclass
class Nested:  # an item inside an item: asdict converts it, so item_dict must too
    name: str
    values: list[int]


_TEXT = st.text(max_size=40)
_WHEN = st.none() | st.datetimes(timezones=st.just(UTC))
_SCALAR = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT | _WHEN
_VALUE = st.recursive(
    _SCALAR | st.builds(Nested, _TEXT, st.lists(st.integers(), max_size=3)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3)
    | st.tuples(inner, inner),
    max_leaves=12,
)
_TOPICS = st.lists(st.dictionaries(_TEXT, _VALUE, max_size=4), max_size=3)

_ARTICLES = st.builds(
    Article, url=_TEXT, fetched_url=_TEXT, site=_TEXT, title=_TEXT, body=_TEXT,
    section=st.none() | _TEXT, authors=st.lists(_TEXT, max_size=3), published=_WHEN, modified=_WHEN,
    tags=st.lists(_TEXT, max_size=3), confidence=st.dictionaries(_TEXT, st.floats(allow_nan=False), max_size=3),
    topics=_TOPICS, fetched_at=_WHEN,
)
_SNIPPETS = st.builds(
    FeedSnippet, site=_TEXT, headline=_TEXT, text=_TEXT, published=_WHEN, time_shown=_TEXT,
    url=st.none() | _TEXT, seen_on=st.lists(_TEXT, max_size=3), fetched_at=_WHEN, fingerprint=_TEXT,
    topics=_TOPICS,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_ARTICLES, _SNIPPETS))
def test_item_dict_equals_itemadapter_asdict(item: Article | FeedSnippet) -> None:
    expected = ItemAdapter(item).asdict()
    got = item_dict(item)
    assert got == expected
    assert list(got) == list(expected)  # the same field order (a document's key order)


def test_item_dict_copies_containers_and_converts_nested_items() -> None:
    item = FeedSnippet(site="demo", headline="h", text="t", published=datetime(2024, 1, 1, tzinfo=UTC),
                       time_shown="9:00", seen_on=["https://a.test/"],
                       topics=[{"slug": "x", "terms": [Nested("kazakh", [1, 2])]}])
    doc = item_dict(item)
    assert doc["topics"] == [{"slug": "x", "terms": [{"name": "kazakh", "values": [1, 2]}]}]
    doc["seen_on"].append("https://b.test/")
    doc["topics"][0]["slug"] = "y"
    assert item.seen_on == ["https://a.test/"] and item.topics[0]["slug"] == "x"


def test_item_dict_leaves_out_a_deleted_field_as_itemadapter_does() -> None:
    item = FeedSnippet(site="demo", headline="h", text="t", published=None, time_shown="")
    del item.headline  # no class default to fall back on (fingerprint would read "")
    assert item_dict(item) == ItemAdapter(item).asdict()
    assert "headline" not in item_dict(item)


def test_field_names_are_the_adapters() -> None:
    for cls in (Article, FeedSnippet):
        assert list(field_names(cls)) == list(ItemAdapter.get_field_names_from_class(cls) or [])
