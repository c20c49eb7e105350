"""Extraction in worker processes (``EXTRACT_WORKERS``, crawler/workers.py): the same items as
in process, and a SIGTERM mid-crawl leaves no worker behind and loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, StoreTier, run_newsmon
from tests.test_scheduler import wait_for


def _stored(tier: StoreTier) -> tuple[dict, set]:
    store = tier.open()
    try:
        articles = {doc["url"].split("/", 3)[3]: (doc["title"], doc["body"], doc["authors"], doc["published"],
                                                  doc["section"], doc["content_hash"])
                    for doc in store.find("articles", {"site": "demo"})}
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
         "-a", f"base_url={demo_server.base_url}/", "-s", "EXTRACT_WORKERS=2", "-s", "DOWNLOAD_DELAY=0.05"],
        cwd=ROOT, env=tier.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # Workers start at the first article page: SIGTERM once both run (the crawl is mid-way).
        workers = wait_for(lambda: len(_descendants(crawl.pid)) >= 3 and _descendants(crawl.pid), timeout=60)
        crawl.send_signal(signal.SIGTERM)
        _, stderr = crawl.communicate(timeout=120)
    finally:
        if crawl.poll() is None:
            crawl.kill()
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
