"""Every page of the three dev sets: extract_article never raises, and never returns an empty
body where trafilatura finds an article (at least 50 words) and the page is no listing.

The sets live in ../shared/data/ beside the clone (as CI lays it out); without them the test
skips. trafilatura's word counts are cached in pytest's cache (keyed by its version), so a
second run costs only newsmon's extraction (under a minute on 2 cores; the first, two).
"""

from __future__ import annotations

import gzip
import json
from importlib.metadata import version
from pathlib import Path

import pytest

from crawler.extraction import extract_article, word_count

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = ("extraction-dev", "extraction-readability", "extraction-trafilatura")
MIN_TRAFILATURA_WORDS = 50


def _pages() -> list[tuple[str, str, Path]]:
    """(set, url, path) of every dev page present."""
    out = []
    for name in SETS:
        truth_file = DATA / name / "ground_truth.json"
        if not truth_file.is_file():
            continue
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        for path in sorted((DATA / name / "html").glob("*.gz")):
            entry = truth.get(path.name) or truth.get(path.name[:-3]) or \
                truth.get(path.name[:-3].removesuffix(".html")) or {}
            url = entry.get("url")
            out.append((name, url if url and url != "None" else "https://example.org/article", path))
    return out


PAGES = _pages()


def _trafilatura_words(cache: pytest.Cache | None, pages: list[tuple[str, str, Path]]) -> dict[str, int]:
    import trafilatura

    key = f"newsmon/trafilatura-words/{version('trafilatura')}"
    known: dict[str, int] = cache.get(key, {}) if cache is not None else {}
    missing = [p for p in pages if f"{p[0]}/{p[2].name}" not in known]
    for name, url, path in missing:
        text = trafilatura.extract(gzip.decompress(path.read_bytes()), url=url) or ""
        known[f"{name}/{path.name}"] = word_count(text)
    if missing and cache is not None:  # pytest -p no:cacheprovider has none
        cache.set(key, known)
    return known


@pytest.mark.skipif(not PAGES, reason=f"no dev set under {DATA} (shared/data/extraction-*)")
def test_every_dev_page_extracts_and_holds_a_body(request: pytest.FixtureRequest) -> None:
    traf_words = _trafilatura_words(getattr(request.config, "cache", None), PAGES)
    raised, empty = [], []
    for name, url, path in PAGES:
        try:
            r = extract_article(gzip.decompress(path.read_bytes()), url)
        except Exception as exc:  # noqa: BLE001 - the failure is what the test reports
            raised.append(f"{name}/{path.name}: {type(exc).__name__}: {exc}")
            continue
        if (traf_words[f"{name}/{path.name}"] >= MIN_TRAFILATURA_WORDS and r["reason"] != "listing"
                and not r["body"].strip()):
            empty.append(f"{name}/{path.name}")
    assert not raised, raised[:5]
    assert not empty, f"{len(empty)} empty bodies where trafilatura has an article: {empty[:10]}"
