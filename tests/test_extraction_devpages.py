"""Every page of the three dev sets: extract_article never raises, and never returns an empty
body where trafilatura finds an article (at least 50 words) and the page is no listing.

The sets live in ../shared/data/ beside the clone (as CI lays it out); without them the test
skips. trafilatura runs only on the pages where newsmon's body is empty (the only pages where its
word count can fail the test), and the pages are spread over a process per core: the whole test
costs about one newsmon extraction per page divided by the cores.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from crawler.extraction import extract_article, word_count

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = ("extraction-dev", "extraction-readability", "extraction-trafilatura")
MIN_TRAFILATURA_WORDS = 50
#: dev pages (all articles) rejected as not one, at most (a regression bound, not a goal)
MAX_REJECTED_SHARE = 0.02
Page = tuple[str, str, Path]  # (set, url, path)


def _pages() -> list[Page]:
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


def _check(page: Page) -> str | None:
    """None if the page passes, else what is wrong with it (run in a worker process): "raised",
    "empty" (no body, no listing), "rejected" (a body, but not taken for an article: a crawl
    would not store it)."""
    name, url, path = page
    html = gzip.decompress(path.read_bytes())
    try:
        r = extract_article(html, url)
    except Exception as exc:  # noqa: BLE001 - the failure is what the test reports
        return f"raised: {name}/{path.name}: {type(exc).__name__}: {exc}"
    if r["is_article"]:
        return None
    import trafilatura

    if word_count(trafilatura.extract(html, url=url) or "") < MIN_TRAFILATURA_WORDS:
        return None
    if r["body"].strip() or r["reason"] == "listing":
        return f"rejected ({r['reason']}): {name}/{path.name}"
    return f"empty: {name}/{path.name}"


@pytest.mark.skipif(not PAGES, reason=f"no dev set under {DATA} (shared/data/extraction-*)")
def test_every_dev_page_extracts_and_holds_a_body() -> None:
    # forkserver: a clean interpreter per worker, not a fork of pytest's threads.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context) as pool:
        failures = [f for f in pool.map(_check, PAGES, chunksize=16) if f]
    raised = [f for f in failures if f.startswith("raised")]
    empty = [f for f in failures if f.startswith("empty")]
    assert not raised, raised[:5]
    assert not empty, f"{len(empty)} empty bodies where trafilatura has an article: {empty[:10]}"
    # Every dev page is an article: one not taken for one is an article a crawl loses. A few
    # remain (a forum thread, pages of a paragraph or two among many headline links: 15 of
    # 1,155 when this was written, 55 before the card rule looked at where the text is).
    rejected = [f for f in failures if f.startswith("rejected")]
    assert len(rejected) <= MAX_REJECTED_SHARE * len(PAGES), \
        f"{len(rejected)} of {len(PAGES)} articles not taken for one: {rejected[:20]}"
