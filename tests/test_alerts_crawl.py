"""End to end: crawl the demo site with the webhook sink pointed at a real local HTTP server.

The server (127.0.0.1, port 0) counts POSTs; no mocks. The demo site's ground truth
(``DemoArticle.mentions_central_asia``) says which articles are about Central Asia.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import StoreTier, run_newsmon


class _Hook:
    """A webhook endpoint on 127.0.0.1 that records every JSON body it is POSTed."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []  # accepted (204)
        self.refused: list[dict] = []  # answered 500 while ``failing``
        self.failing = False
        lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length") or 0)
                with lock:
                    body = json.loads(self.rfile.read(length))
                    (hook.refused if hook.failing else hook.bodies).append(body)
                self.send_response(500 if hook.failing else 204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[_Hook]:
    h = _Hook()
    yield h
    h.close()


def _crawl(tier: StoreTier, server, *settings: str, status: int = 0):
    args = ["crawl", "demo", "-a", f"base_url={server.base_url}/"]
    for s in settings:
        args += ["-s", s]
    result = run_newsmon(args, tier.env())
    assert result.returncode == status, result.stdout[-2000:] + result.stderr[-4000:]
    return result


def _flags(tier: StoreTier) -> list[dict]:
    from pipelines.storage.config import StoreConfig
    from pipelines.storage.flags import open_flag_store

    config = StoreConfig(tier.mongo_uri, tier.database or "newsmon", tier.data_dir)
    with open_flag_store(config) as store:
        return store.find()


def _run_stats(tier: StoreTier) -> list[dict]:
    store = tier.open()
    try:
        runs = sorted(store.find("crawl_runs", {"site": "demo"}), key=lambda r: r["started_at"])
    finally:
        store.close()
    return [r["stats"] for r in runs]


def test_webhook_gets_one_alert_per_flagged_item_across_two_crawls(tmp_path: Path, demo_site, demo_server,
                                                                    hook: _Hook) -> None:
    tier = StoreTier("embedded", tmp_path / "data")
    jsonl = tmp_path / "alerts.jsonl"
    sinks = ("ALERT_SINKS=log,jsonl,webhook", f"ALERT_WEBHOOK_URL={hook.url}", f"ALERT_JSONL_PATH={jsonl}")
    _crawl(tier, demo_server, *sinks)
    first = list(hook.bodies)
    _crawl(tier, demo_server, *sinks)

    flags = _flags(tier)
    articles = {d["item_id"] for d in flags if d["kind"] == "article"}
    want = sum(a.mentions_central_asia for a in demo_site.articles)
    assert len(articles) == want > 0
    assert {d["topic"] for d in flags} == {"central-asia"}
    snippet_titles = {d["title"] for d in flags if d["kind"] == "snippet"}
    assert snippet_titles == {s.headline for s in demo_site.snippets if "Kazakhstan" in s.headline}

    # Exactly one POST per flag, all during the first crawl; the second crawl re-alerted nothing.
    ids = [b["_id"] for b in hook.bodies]
    assert len(ids) == len(set(ids)) == len(flags)
    assert len(first) == len(flags)
    assert {b["_id"] for b in hook.bodies} == {d["_id"] for d in flags}
    body = hook.bodies[0]
    assert body["event"] == "topic_flag" and body["topic"] == "central-asia" and body["terms"]
    assert len(jsonl.read_text(encoding="utf-8").splitlines()) == len(flags)

    first_stats, second_stats = _run_stats(tier)
    # A snippet counts once per page it is seen on.
    assert first_stats["newsmon/topics/central-asia"] >= len(flags)
    assert first_stats["newsmon/alerts/webhook/sent"] == len(flags)
    assert "newsmon/alerts/webhook/sent" not in second_stats  # never announced twice

    # The stored article carries its topics; `newsmon flags` lists them.
    store = tier.open()
    try:
        stored = [a for a in store.find("articles", {"site": "demo"}) if a.get("topics")]
    finally:
        store.close()
    assert len(stored) == want
    assert all(t["slug"] == "central-asia" and t["terms"] for a in stored for t in a["topics"])

    from crawler.topics.cli import flags_rows, format_flags
    from pipelines.storage.config import StoreConfig

    rows = flags_rows(StoreConfig(None, "newsmon", tier.data_dir), "central-asia", None, 0)
    assert len(rows) == len(flags)
    assert [r["flagged_at"] for r in rows] == sorted((r["flagged_at"] for r in rows), reverse=True)
    text = format_flags(rows)
    assert "central-asia" in text and "Kazakhstan" in text


def test_a_down_webhook_does_not_fail_the_crawl(tmp_path: Path, demo_site, demo_server) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tier = StoreTier("embedded", tmp_path / "data")
    # Degraded (exit 3): the alerts are not lost, they wait in the outbox for the next crawl.
    _crawl(tier, demo_server, "ALERT_SINKS=webhook", f"ALERT_WEBHOOK_URL=http://127.0.0.1:{port}/hook",
           "ALERT_WEBHOOK_RETRIES=2", "ALERT_WEBHOOK_BACKOFF=0.05", "ALERT_WEBHOOK_TIMEOUT=2", status=3)
    (stats,) = _run_stats(tier)
    flags = _flags(tier)
    assert flags, "the crawl should still record its flags"
    assert stats["newsmon/alerts/webhook/failed"] == len(flags)
    assert "newsmon/alerts/webhook/sent" not in stats


def test_exact_duplicates_under_another_port_raise_no_flag_and_no_alert(store_tier, demo_site, demo_server,
                                                                        hook: _Hook) -> None:
    """Every article of a mirror (the demo site under a second port) is an exact duplicate: identity
    links it to the stored story before topics run, so no flag and no alert is raised again."""
    from crawler.demo import serve

    from tests.conftest import assert_flags_name_stored_documents

    sinks = ("ALERT_SINKS=webhook", f"ALERT_WEBHOOK_URL={hook.url}")
    _crawl(store_tier, demo_server, *sinks)
    alerts, flags = len(hook.bodies), {f["_id"] for f in _flags(store_tier)}
    assert alerts == len(flags) > 0
    mirror = serve(demo_site)
    try:
        _crawl(store_tier, mirror, *sinks)
    finally:
        mirror.close()
    assert len(hook.bodies) == alerts, "the mirror re-alerted"
    assert {f["_id"] for f in _flags(store_tier)} == flags
    store = store_tier.open()
    try:
        articles = list(store.find("articles"))
        assert_flags_name_stored_documents(store)
    finally:
        store.close()
    assert len(articles) == len(demo_site.articles)
    assert all(a["aliases"] and a["aliases"][0]["kind"] == "exact" for a in articles)
    _, mirror_stats = _run_stats(store_tier)
    assert mirror_stats["newsmon/dedupe/exact_duplicate"] == len(demo_site.articles)
    assert "newsmon/topic_flags/new" not in mirror_stats


def test_alerts_a_webhook_missed_are_delivered_once_when_it_recovers(store_tier, demo_server, hook: _Hook) -> None:
    """A webhook answering 500 during a crawl: every alert stays pending in the outbox, the run is
    degraded; the next crawl delivers each exactly once, and a third sends nothing."""
    sinks = ("ALERT_SINKS=webhook", f"ALERT_WEBHOOK_URL={hook.url}?token=s3cr3t-token", "ALERT_WEBHOOK_RETRIES=0",
             "ALERT_OUTBOX_BACKOFF=0")
    hook.failing = True
    first = _crawl(store_tier, demo_server, *sinks, status=3)
    flags = {f["_id"] for f in _flags(store_tier)}
    assert flags and {b["_id"] for b in hook.refused} == flags and not hook.bodies
    assert "s3cr3t-token" not in first.stderr + first.stdout
    listed = run_newsmon(["alerts", "--json"], store_tier.env())
    pending = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {p["flag_id"] for p in pending} == flags and all(p["status"] == "pending" for p in pending)

    hook.failing = False
    _crawl(store_tier, demo_server, *sinks)
    delivered = [b["_id"] for b in hook.bodies]
    assert sorted(delivered) == sorted(flags), "each alert delivered exactly once"
    _crawl(store_tier, demo_server, *sinks)
    assert len(hook.bodies) == len(flags), "a delivered alert is never sent again"
    listed = run_newsmon(["alerts", "--status", "sent", "--json"], store_tier.env())
    assert len(listed.stdout.splitlines()) == len(flags)
    store = store_tier.open()
    try:
        outcomes = [r["outcome"] for r in sorted(store.find("crawl_runs"), key=lambda r: r["started_at"])]
    finally:
        store.close()
    assert outcomes == ["degraded", "finished", "finished"]
