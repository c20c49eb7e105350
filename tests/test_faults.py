"""Fault injection: one real crawl of a site that misbehaves in every way newsmon has met.

The site (``tests/faultsite.py``, 127.0.0.1, port 0) serves one hostile or broken case per path:
oversized and bomb bodies, binary as HTML, deep nesting, broken JSON-LD, extreme dates, markup in
titles, NULs and control bytes, wrong charsets, corrupt gzip, redirect loops and off-site
redirects, 429/503 with Retry-After, resets, short bodies, a slow drip, empty pages, huge link
lists, a malformed feed and sitemap. The crawl runs as a user runs it (``scrapy crawl`` in a child
process, the profile in a temp ``NEWSMON_SITES_DIR``, the embedded store in a temp
``NEWSMON_DATA_DIR``), with the webhook sink pointed at an endpoint that always fails and whose
URL carries secrets. One crawl, many assertions: the fixture runs it once for the module.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, StoreTier
from tests.faultsite import PROFILE, FailingWebhook, FaultSite

SECRET_TOKEN = "s3cr3t-t0ken-4242"
SECRET_PASSWORD = "hunter2-pw"
MAX_BODY_CHARS = 300_000  # crawler/settings.py CLEAN_MAX_BODY_CHARS default
RSS_LIMIT_MB = 500
MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>|alert\(|\bx\(\)|\bc\(\)|p\{\}")


@dataclass
class Crawl:
    returncode: int
    log: str
    seconds: float
    max_rss_mb: float
    stats: dict[str, Any]
    summary: dict[str, int]
    articles: dict[str, dict[str, Any]]  # by case name
    snippets: list[dict[str, Any]]
    site: FaultSite
    hook: FailingWebhook


def _run(args: list[str], env: dict[str, str], log_path: Path, timeout: float) -> tuple[int, float, float]:
    """Run the crawl; return (exit status, seconds, peak RSS of that child in MB via wait4)."""
    started = time.monotonic()
    with log_path.open("w") as log:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, time.monotonic() - started, usage.ru_maxrss / 1024  # ru_maxrss: KiB on Linux


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    tmp = tmp_path_factory.mktemp("faults")
    site, hook = FaultSite(), FailingWebhook()
    sites = tmp / "sites"
    sites.mkdir()
    (sites / "faults.toml").write_text(PROFILE.format(base=site.base_url), encoding="utf-8")
    tier = StoreTier("embedded", tmp / "data")
    env = tier.env()
    env["NEWSMON_SITES_DIR"] = str(sites)
    webhook = f"http://alerts:{SECRET_PASSWORD}@127.0.0.1:{hook.port}/hook?token={SECRET_TOKEN}&team=ops"
    settings = {
        "DOWNLOAD_TIMEOUT": "5",  # the slow drip times out soon (3 attempts), a busy CI box does not
        "RETRY_BACKOFF_BASE": "0.25",
        "ALERT_SINKS": "log,webhook",
        "ALERT_WEBHOOK_URL": webhook,
        "ALERT_WEBHOOK_RETRIES": "1",
        "ALERT_WEBHOOK_BACKOFF": "0.1",
        "ALERT_WEBHOOK_TIMEOUT": "2",
    }
    args = [sys.executable, "-m", "scrapy", "crawl", "faults"]
    for name, value in settings.items():
        args += ["-s", f"{name}={value}"]
    try:
        code, seconds, rss = _run(args, env, tmp / "crawl.log", timeout=120)
        store = tier.open()
        try:
            docs = list(store.find("articles", {"site": "faults"}))
            snippets = list(store.find("feed_snippets", {"site": "faults"}))
            (run,) = store.find("crawl_runs", {"site": "faults"})
        finally:
            store.close()
        articles = {doc["fetched_url"].rstrip("/").rsplit("/", 1)[-1]: doc for doc in docs}
        yield Crawl(code, (tmp / "crawl.log").read_text(encoding="utf-8", errors="replace"), seconds, rss,
                    run["stats"], run["summary"], articles, snippets, site, hook)
    finally:
        site.close()
        hook.close()


def test_crawl_finishes_bounded_and_nothing_escapes(crawl: Crawl) -> None:
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert "Traceback" not in crawl.log, crawl.log[crawl.log.index("Traceback") - 500:][:3000]
    assert "spider_exceptions/count" not in crawl.stats
    assert "log_count/CRITICAL" not in crawl.stats
    assert crawl.stats["finish_reason"] == "finished"
    print(f"fault crawl: {crawl.seconds:.1f} s, peak RSS {crawl.max_rss_mb:.0f} MB")  # shown by pytest -s
    assert crawl.max_rss_mb < RSS_LIMIT_MB, f"peak RSS {crawl.max_rss_mb:.0f} MB"
    assert crawl.seconds < 60, f"the fault crawl took {crawl.seconds:.1f} s"


def test_size_bounds(crawl: Crawl) -> None:
    stats = crawl.stats
    # 20 MB page, with Content-Length and streamed without it: cancelled at DOWNLOAD_MAXSIZE, not retried
    assert stats["newsmon/errors/DownloadCancelledError"] == 2
    assert len(crawl.site.hits["/a/big/"]) == 1
    # 1 GB gzip bomb: decompression stops at DOWNLOAD_MAXSIZE
    assert stats["newsmon/errors/DecompressedTooLarge"] == 1
    assert stats.get("httpcompression/response_bytes", 0) < 11 * 2**20
    # 400,000 characters of text, under the size limit: stored, capped at CLEAN_MAX_BODY_CHARS
    assert stats["newsmon/clean/body_truncated"] == 2  # long-body, huge-word
    assert 0.9 * MAX_BODY_CHARS < len(crawl.articles["long-body"]["body"]) <= MAX_BODY_CHARS
    assert max(len(doc["body"]) for doc in crawl.articles.values()) <= MAX_BODY_CHARS


def test_binary_pages_are_skipped_by_kind(crawl: Crawl) -> None:
    stats = crawl.stats
    assert stats["newsmon/sniff/png"] == 1
    assert stats["newsmon/sniff/binary"] == 1
    assert stats["newsmon/drop/not_text"] == 2
    assert crawl.summary["dropped"] >= 2
    assert not {"binary-png", "binary-random"} & set(crawl.articles)


def test_broken_encodings_are_counted_by_name(crawl: Crawl) -> None:
    assert crawl.stats["newsmon/errors/CorruptEncoding"] == 1
    assert "newsmon/errors/error" not in crawl.stats


def test_hard_pages_are_still_extracted(crawl: Crawl) -> None:
    got = crawl.articles
    for case in ("ok", "deep", "bad-jsonld", "date-9999", "date-garbage", "markup", "nul",
                 "control-chars", "wrong-charset", "undeclared-charset", "many-links", "long-body",
                 "huge-word", "cjk", "offsite-base"):
        assert case in got, f"{case}: not stored; stored: {sorted(got)}"
    assert got["deep"]["title"] == "Deep nesting still extracts"
    assert got["bad-jsonld"]["title"] == "Bad JSON-LD still extracts"
    assert got["cjk"]["title"] == "基辅电网修复工作继续进行" and "変電所" in got["cjk"]["body"]
    assert len(got["huge-word"]["body"]) <= MAX_BODY_CHARS
    # an off-site <base> moves neither the article's URL nor the crawl off the site
    assert got["offsite-base"]["url"].startswith(crawl.site.base_url)
    for case in ("wrong-charset", "undeclared-charset"):
        assert "Енергетики відновили живлення" in got[case]["body"], got[case]["body"][:200]
        assert "\ufffd" not in got[case]["body"]
    # The year-9999 date overflows in UTC: no date rather than a lost article
    published = got["date-9999"].get("published")
    assert published is None or 1990 <= published.year <= 2100


def test_no_markup_or_control_characters_in_any_stored_text(crawl: Crawl) -> None:
    def texts(doc: dict[str, Any], keys: tuple[str, ...]) -> Iterator[tuple[str, str]]:
        for key in keys:
            value = doc.get(key)
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str):
                    yield key, text

    bad = []
    for case, doc in crawl.articles.items():
        for key, text in texts(doc, ("title", "summary", "body", "authors", "tags", "image_caption",
                                     "image_credit", "section")):
            if MARKUP.search(text) or re.search(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", text):
                bad.append((case, key, text[:120]))
    for doc in crawl.snippets:
        for key, text in texts(doc, ("headline", "text")):
            if MARKUP.search(text) or "&amp;" in text:
                bad.append(("snippet", key, text))
    assert not bad, bad
    markup = crawl.articles["markup"]
    # The <h1> and the <title> agree ("Markup &lt;b&gt;title&lt;/b&gt;", markup as text in both);
    # og:title stands alone (the JSON-LD headline's "</script>" ends its script early), so the
    # title is the agreed one, its markup gone.
    assert markup["title"] == "Markup title"
    assert markup["summary"] == "Bold summary & more"
    # (The byline reader also takes the next block's first word: "Olena Test Winter", as on main.)
    assert markup["authors"] and all(a.startswith("Olena Test") for a in markup["authors"])
    assert {s["headline"] for s in crawl.snippets} >= {"Hostile snippet headline."}


def test_retry_after_is_honoured_and_bounded(crawl: Crawl) -> None:
    stats, hits = crawl.stats, crawl.site.hits
    first, retry = hits["/a/rate-limited/"]
    assert retry - first >= 2.0, f"retried {retry - first:.2f} s after a 429 with Retry-After: 2"
    first, retry = hits["/a/unavailable/"]
    assert retry - first >= 1.0
    assert stats["newsmon/retry/retry_after/429"] == 1
    assert stats["newsmon/retry/retry_after/503"] == 1
    assert {"rate-limited", "unavailable"} <= set(crawl.articles)
    # Retry-After: 86400 is beyond RETRY_AFTER_MAX: not retried in this crawl, counted
    assert len(hits["/a/unavailable-long/"]) == 1
    assert stats["newsmon/retry/retry_after_too_long"] == 1
    assert stats["newsmon/errors/http_503"] == 1


def test_network_faults_are_retried_with_backoff_then_counted(crawl: Crawl) -> None:
    stats, hits = crawl.stats, crawl.site.hits
    for path in ("/a/reset/", "/a/short-body/", "/a/slow-drip/"):
        times = hits[path]
        assert len(times) == 3, (path, times)  # RETRY_TIMES = 2
        # backoff: 0.25 s, then 0.5 s (plus the time each attempt took)
        assert times[1] - times[0] >= 0.25 and times[2] - times[1] >= 0.5, (path, times)
    assert stats["newsmon/errors/DownloadFailedError"] == 1  # reset: Scrapy's name for a lost connection
    assert stats["newsmon/errors/ResponseDataLossError"] == 1
    assert stats["newsmon/errors/DownloadTimeoutError"] == 1
    assert stats["newsmon/retry/backoff"] >= 6
    assert sum(v for k, v in stats.items() if k.startswith("newsmon/errors/")) == crawl.summary["errors"]


def test_redirects_empty_pages_feeds_and_sitemaps(crawl: Crawl) -> None:
    stats, hits = crawl.stats, crawl.site.hits
    assert len(hits["/a/redirect-loop/"]) == 1 and len(hits["/a/redirect-loop-2/"]) == 1
    assert stats["dupefilter/filtered"] >= 1  # the loop closes on a URL already fetched
    assert stats["offsite/filtered"] >= 1  # the off-site redirect target is never requested
    # empty, whitespace only, and the two binary pages the sniffer turned into non-text responses
    assert stats["newsmon/pages/not_article/empty"] == 4
    assert stats["newsmon/pages/feed"] == 1 and stats["newsmon/pages/sitemap"] == 1
    assert "newsmon/errors/bad_feed" not in stats  # the malformed feed is recovered
    assert stats["newsmon/pages/listing"] == 3  # /news/, the 10,000-link /links/, /bad-links/


def test_an_exception_in_a_callback_is_a_counted_drop(crawl: Crawl) -> None:
    # /bad-links/ has an href "http://[bad/": the spider's response.urljoin raises ValueError
    # (Invalid IPv6 URL) in parse_listing. The page is dropped, counted and logged in one line.
    assert crawl.stats["newsmon/drop/page_error/ValueError"] == 1
    lines = [line for line in crawl.log.splitlines() if "Dropped page" in line]
    assert len(lines) == 1 and "/bad-links/: ValueError: Invalid IPv6 URL" in lines[0]


def test_failed_webhook_leaks_no_secret(crawl: Crawl) -> None:
    # Twisted's client refuses a URL with userinfo ("invalid hostname: alerts:<password>@…"), so
    # the alert fails before any POST; that error message is where the password used to leak.
    assert crawl.stats["newsmon/alerts/webhook/failed"] >= 1
    assert SECRET_TOKEN not in crawl.log and SECRET_PASSWORD not in crawl.log
    assert SECRET_TOKEN not in str(crawl.stats)
    assert "token=***" in crawl.log  # the masked URL is what the operator sees
