"""Extraction in worker processes (``EXTRACT_WORKERS``, crawler/workers.py): the same items as
in process, and a SIGTERM mid-crawl leaves no worker behind and loses nothing."""

from __future__ import annotations

import functools
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler.items import Article, attach_precomputed
from crawler.topics.matcher import item_fields
from crawler.workers import Ahead, precompute
from pipelines.dedupe import SIGNED, DedupeConfig, Deduper
from pipelines.identity import article_document, signed_ahead
from tests.conftest import ROOT, StoreTier, run_newsmon
from tests.hostile import PROPERTY, fragments, words
from tests.test_scheduler import wait_for


def _stored(tier: StoreTier) -> tuple[dict, set]:
    store = tier.open()
    try:
        articles = {doc["url"].split("/", 3)[3]: (doc["title"], doc["body"], doc["authors"], doc["published"],
                                                  doc["section"], doc["content_hash"], doc["word_count"],
                                                  doc["topics"])
                    for doc in store.find("articles", {"site": "demo"})}
        # The flags the topics stage raised (from the worker's matches when EXTRACT_WORKERS > 0)
        flags = sorted((f["item_id"], f["topic"], f["score"]) for f in store.find("topic_flags", {}))
        articles["flags"] = flags
        snippets = {(doc["headline"], doc["text"], doc["published"]) for doc in store.find("feed_snippets", {})}
        runs = list(store.find("crawl_runs", {"site": "demo"}))
    finally:
        store.close()
    assert runs and runs[-1]["outcome"] == "finished", runs
    return articles, snippets


def test_workers_store_what_in_process_extraction_stores(tmp_path, demo_server) -> None:
    results = []
    for workers in ("0", "2"):
        tier = StoreTier("embedded", tmp_path / f"data-{workers}")
        done = run_newsmon(["crawl", "demo", "-a", f"base_url={demo_server.base_url}/",
                            "-s", f"EXTRACT_WORKERS={workers}"], tier.env())
        assert done.returncode == 0, done.stderr[-3000:]
        results.append(_stored(tier))
    (articles, snippets), (pooled_articles, pooled_snippets) = results
    assert articles and snippets
    assert articles["flags"]  # topics matched in the worker (crawler.items.Precomputed) and in process
    assert pooled_articles == articles
    assert pooled_snippets == snippets


def _descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (the forkserver and the workers it forked)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_sigterm_mid_crawl_leaves_no_worker_and_records_the_run(tmp_path, demo_server) -> None:
    tier = StoreTier("embedded", tmp_path / "data")
    crawl = subprocess.Popen(
        [sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "demo",
         "-a", f"base_url={demo_server.base_url}/", "-s", "EXTRACT_WORKERS=2", "-s", "DOWNLOAD_DELAY=0.05",
         "-s", "NEWSMON_PROGRESS_INTERVAL=0.2"],
        cwd=ROOT, env=tier.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    lines: list[str] = []

    def read() -> None:
        for line in crawl.stderr:  # type: ignore[union-attr]
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # Workers start with the crawl: SIGTERM once both run and articles have come through them
        # (the progress line counts cleaned articles), so the crawl is mid-way.
        workers = wait_for(lambda: len(_descendants(crawl.pid)) >= 3 and _descendants(crawl.pid), timeout=60)
        wait_for(lambda: any(re.search(r"\b[1-9]\d* articles?,", line) for line in list(lines)), timeout=60)
        crawl.send_signal(signal.SIGTERM)
        crawl.wait(timeout=120)
        reader.join(timeout=30)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    stderr = "".join(lines)
    assert "Traceback" not in stderr, stderr[-3000:]
    # The workers were joined before the crawl exited; the forkserver exits when it reads EOF
    # from the crawl process's end of its pipe.
    wait_for(lambda: not [pid for pid in workers if _alive(pid)], timeout=10)
    store = tier.open()
    try:
        (run,) = list(store.find("crawl_runs", {"site": "demo"}))
        articles = store.count("articles")
    finally:
        store.close()
    assert run["outcome"] == "killed", run["outcome"]
    stats = run["stats"]
    assert stats["newsmon/items/article"] == articles, "an article was lost on the way to the store"
    assert stats.get("newsmon/time/worker/extract_ms", 0) > 0, "pages were not extracted in the workers"


def test_a_sigkilled_crawl_leaves_no_worker(tmp_path, demo_server) -> None:
    """SIGKILL (the OOM killer) gives the crawl no chance to join its pool: the workers and the
    forkserver must still end with it, not run on for good."""
    tier = StoreTier("embedded", tmp_path / "data")
    crawl = subprocess.Popen(
        [sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "demo",
         "-a", f"base_url={demo_server.base_url}/", "-s", "EXTRACT_WORKERS=1", "-s", "DOWNLOAD_DELAY=0.05"],
        cwd=ROOT, env=tier.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        workers = wait_for(lambda: len(_descendants(crawl.pid)) >= 2 and _descendants(crawl.pid), timeout=60)
        crawl.kill()
        crawl.wait(timeout=30)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    wait_for(lambda: not [pid for pid in workers if _alive(pid)], timeout=20)


# --- clean and topics work done ahead in the worker (crawler.items.Precomputed) -------------------

def _dedupe_config() -> DedupeConfig:
    from scrapy.utils.test import get_crawler

    return DedupeConfig.from_settings(get_crawler().settings)  # the defaults (crawler/settings.py)


_DEDUPE = _dedupe_config()


@functools.lru_cache(maxsize=2)
def _stages(cap: int = 500) -> tuple[Any, Any]:
    from scrapy.utils.test import get_crawler

    from pipelines.clean import CleanPipeline
    from pipelines.topics import TopicsPipeline

    crawler = get_crawler(settings_dict={"CLEAN_MIN_BODY_CHARS": 0, "CLEAN_MAX_BODY_CHARS": cap})
    crawler.spider = None
    return CleanPipeline.from_crawler(crawler), TopicsPipeline.from_crawler(crawler)


def _article(title: str, body: str, summary: str | None) -> Article:
    return Article(url="http://example.test/a", fetched_url="http://example.test/a", site="s",
                   title=title, body=body, summary=summary)


CENTRAL_ASIA = ("Tokayev met Uzbekistan's president in Astana on Tuesday to sign a transit deal "
                "for Kazakhstan's oil, bypassing Russia. " * 8)


@PROPERTY
@given(title=words | fragments(), body=st.lists(words | fragments(), min_size=1, max_size=6),
       summary=st.none() | words | fragments(), topical=st.booleans())
def test_work_done_ahead_equals_the_stages_own(title: str, body: list[str], summary: str | None,
                                                topical: bool) -> None:
    clean, topics = _stages()
    text = "\n\n".join([*body, CENTRAL_ASIA] if topical else body)
    pre = precompute({"is_article": True, "title": title, "body": text, "summary": summary},
                     Ahead(500, True, None, _DEDUPE.article_signing))
    assert pre is not None
    own = _article(title, text, summary)
    try:
        clean.process_item(own)
    except DropItem:
        return
    assert (pre.body, pre.title, pre.content_hash, pre.word_count) == \
        (own.body, own.title, own.content_hash, own.word_count)
    assert pre.topic_fields == item_fields(ItemAdapter(own))
    assert pre.matches == topics.matcher.match(pre.topic_fields)
    # identity takes the worker's MinHash signing, and it is the one its Deduper makes itself
    taken = _article(title, text, summary)
    attach_precomputed(taken, pre)
    assert signed_ahead(clean.process_item(taken), _DEDUPE) == pre.signed
    own_doc = Deduper(_DEDUPE).prepare_article(article_document(own))
    pre_doc = Deduper(_DEDUPE).prepare_article({**article_document(own), SIGNED: pre.signed})
    assert own_doc == pre_doc and SIGNED not in pre_doc


def test_stages_use_work_done_ahead_only_for_the_fields_it_was_done_on() -> None:
    clean, topics = _stages(0)
    body = CENTRAL_ASIA + "\n\n  Second   paragraph.  "
    ahead = precompute({"is_article": True, "title": "Transit deal", "body": body, "summary": None},
                       Ahead(0, True, None))
    assert ahead is not None and ahead.matches and any(m.flagged for m in ahead.matches)
    # Marked results: an item whose fields equal the worker's inputs takes them as they are ...
    marked = replace(ahead, body="MARKED body", content_hash="MARKED", word_count=-1,
                     topic_fields={"title": "Transit deal", "lead": "", "body": "MARKED body"},
                     matches=[replace(ahead.matches[0], slug="marked", score=99.0, threshold=1.0)])
    taken = _article("Transit deal", body, None)
    attach_precomputed(taken, marked)
    topics.process_item(clean.process_item(taken))
    assert (taken.body, taken.content_hash, taken.word_count) == ("MARKED body", "MARKED", -1)
    assert [t["slug"] for t in taken.topics] == ["marked"]
    # ... one changed on the way (another title, another body) is cleaned and matched afresh.
    changed = _article("Another title", body + " Edited.", None)
    attach_precomputed(changed, marked)
    topics.process_item(clean.process_item(changed))
    expected = _article("Another title", body + " Edited.", None)
    topics.process_item(clean.process_item(expected))
    assert changed.body == expected.body != "MARKED body"
    assert (changed.content_hash, changed.word_count) == (expected.content_hash, expected.word_count)
    assert changed.topics == expected.topics and "marked" not in [t["slug"] for t in changed.topics]
    # Other topics than the worker matched with: the stage's own matcher decides.
    other = _article("Transit deal", body, None)
    attach_precomputed(other, replace(marked, topics_source="elsewhere.toml"))
    topics.process_item(clean.process_item(other))
    assert "marked" not in [t["slug"] for t in other.topics]


def test_identity_takes_the_workers_signing_only_for_what_it_signed() -> None:
    clean, _ = _stages(0)
    body = CENTRAL_ASIA + "\n\n  Second   paragraph.  "
    ahead = precompute({"is_article": True, "title": "Transit deal", "body": body, "summary": None},
                       Ahead(0, False, None, _DEDUPE.article_signing))
    assert ahead is not None and ahead.signed is not None
    marked = replace(ahead, signed=("MARKED", 1, (1, 2)))
    taken = _article("Transit deal", body, None)
    attach_precomputed(taken, marked)
    assert signed_ahead(clean.process_item(taken), _DEDUPE) == ("MARKED", 1, (1, 2))
    changed = _article("Transit deal", body + " Edited.", None)  # another body than it signed
    attach_precomputed(changed, marked)
    assert signed_ahead(clean.process_item(changed), _DEDUPE) is None
    # signed with other DEDUPE_* parameters (permutations, shingle size, threshold), or not at all
    for other in (replace(marked, signed_with=(64, 3, 0.85)), replace(marked, signed_with=None, signed=None)):
        item = _article("Transit deal", body, None)
        attach_precomputed(item, other)
        assert signed_ahead(clean.process_item(item), _DEDUPE) is None


def test_work_ahead_that_fails_costs_the_page_nothing(tmp_path) -> None:
    from datetime import UTC, datetime

    from crawler.workers import PageJob, extract_page

    html = f"<html><body><article><h1>Transit deal</h1><p>{CENTRAL_ASIA}</p></article></body></html>"
    now = datetime.now(UTC)
    job = PageJob(html.encode(), "http://example.test/a", "utf-8", {}, "UTC", None, now, None, now,
                  ahead=Ahead(0, True, str(tmp_path / "gone.toml")))  # a topic file removed meanwhile
    result = extract_page(job)
    assert result.article["is_article"] and result.precomputed is None
    assert result.ahead_failed and "paragraphs" not in result.article
