"""``pipelines.storage.jsondoc``: the hot path (dumps_doc / loads_doc) gives exactly what the full
walk (encode + dumps / decode) gives, text and errors alike, on every kind of value."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.storage.jsondoc import (
    DocumentError,
    decode,
    dumps_doc,
    encode,
    encode_datetime,
    encode_doc,
    loads_doc,
)

# Values meant to hit every branch of both walks: markers, NUL, escapes, int64 edges, NaN,
# nested arrays, dates, subclasses, odd keys.
_EDGE = [
    "", "plain", "\x01x", "x\x01y", "\x01D2024", "nul\x00", "back\\u0001slash", "back\\u0000slash",
    0, -(2**63), 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 1.5, -0.0, math.nan, math.inf, True, False, None,
    datetime(2024, 5, 1, 12, 30, 1, 123456, tzinfo=UTC), datetime(2024, 5, 1, 12, 30),
    datetime(999, 1, 2, tzinfo=timezone(timedelta(hours=3))), date(2024, 5, 1),
    (1, 2), [1, [2]], [1, (2,)], {"$set": 1}, {"a.b": 1}, {"": 1}, {1: 2}, {"k\x00": 1}, {"\x01k": 1},
]


class _Str(str):
    pass


_EDGE += [_Str("sub"), b"bytes"]

_keys = st.sampled_from(["title", "body", "seen_on", "dedupe_keys", "published", "confidence", "x"])
_scalars = st.one_of(st.sampled_from(_EDGE), st.text(max_size=8), st.integers(), st.floats(),
                     st.datetimes(timezones=st.just(UTC)))
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=12,
)
_docs = st.dictionaries(st.one_of(_keys, st.sampled_from(["_id", "$bad", "a.b", ""])), _values, max_size=6)


def _full_walk(doc: dict[str, Any]) -> bytes | str:
    try:
        return orjson.dumps(encode_doc(doc))
    except (DocumentError, TypeError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _hot_path(doc: dict[str, Any]) -> bytes | str:
    try:
        return dumps_doc(doc)
    except (DocumentError, TypeError) as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=150, deadline=None)
@given(_docs)
def test_dumps_doc_equals_the_full_walk(doc: dict[str, Any]) -> None:
    expected = _hot_path(doc)
    assert expected == _full_walk(doc)
    if isinstance(expected, bytes):
        assert loads_doc(expected) == decode(orjson.loads(expected))
        assert loads_doc(expected.decode()) == decode(orjson.loads(expected))


def test_a_document_round_trips() -> None:
    when = datetime(2024, 5, 1, 12, 30, 1, 123456, tzinfo=UTC)
    doc = {"_id": "a", "title": "\x01starts with the marker", "published": when,
           "seen_on": ["https://x/1", "https://x/2"], "dedupe_keys": [-(2**63), 2**63 - 1],
           "aliases": [{"url": "https://y/", "first_seen": when}], "n": None}
    back = loads_doc(dumps_doc(doc))
    assert back == {**{k: v for k, v in doc.items() if k != "_id"},
                    "published": when.replace(microsecond=123000),
                    "aliases": [{"url": "https://y/", "first_seen": when.replace(microsecond=123000)}]}
    assert loads_doc(dumps_doc(doc), {"title", "n"}) == {"title": doc["title"], "n": None}


@pytest.mark.parametrize("when", [
    datetime(2024, 5, 1, 12, 30, 1, 999999, tzinfo=UTC),
    datetime(2024, 5, 1, 12, 30),  # naive = UTC
    datetime(2024, 5, 1, 15, 30, tzinfo=timezone(timedelta(hours=3))),
    datetime(7, 1, 1, tzinfo=UTC),
])
def test_encode_datetime_is_the_fixed_millisecond_form(when: datetime) -> None:
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    assert encode_datetime(when) == (f"\x01D{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:"
                                     f"{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z")
    assert encode(when) == encode_datetime(when)


def test_errors_name_the_place() -> None:
    with pytest.raises(DocumentError, match=r"^aliases\[1\]\.when: a date without time"):
        dumps_doc({"aliases": [{"when": datetime(2024, 1, 1, tzinfo=UTC)}, {"when": date(2024, 1, 1)}]})
