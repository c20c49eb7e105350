"""Titles, authors and dates on 42 fixture pages in many markup styles, zones and charsets.

The pages and ``expected.json`` are made by ``tests/fixtures/extraction/make_fixtures.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.extraction import extract_article

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "extraction"
EXPECTED: dict[str, dict] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
FETCHED = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def test_fixture_count() -> None:
    assert len(EXPECTED) >= 40


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_fields(name: str) -> None:
    want = EXPECTED[name]
    result = extract_article((FIXTURES / name).read_bytes(), want["url"], timezone=want["timezone"],
                             headers_encoding=want["headers_encoding"], locale=want["locale"],
                             fetched_at=FETCHED)
    got = {"title": result["title"], "authors": result["authors"],
           "published": _iso(result["published"])}
    expected = {"title": want["title"], "authors": want["authors"], "published": want["published"]}
    if "byline_org" in want:
        got["byline_org"], expected["byline_org"] = result["byline_org"], want["byline_org"]
    if want.get("modified"):
        got["modified"], expected["modified"] = _iso(result["modified"]), want["modified"]
    assert got == expected
    assert result["is_article"], result["reason"]
    assert all(result["published"] is None or result["published"].tzinfo is not None for _ in [0])
    for junk in ("Ghost Writer", "Script Person", "© 2024"):
        assert junk not in result["body"]
