"""The re-crawl service: real child crawls on short intervals, recorded in crawl_runs.

Intervals are seconds, and the tests wait on conditions in the store (polled every 0.1 s, bounded),
never for fixed times.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from crawler.scheduler import ScheduleConfig, run_due_once, serve
from pipelines.storage.config import StoreConfig
from tests.conftest import ROOT, StoreTier

SMALL_CRAWL = ("-a", "max_articles=3", "-a", "max_pages=1")


def wait_for(condition: Callable[[], Any], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.fixture
def tier(tmp_path, monkeypatch) -> StoreTier:
    tier = StoreTier("embedded", tmp_path / "data")
    for key, value in tier.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("NEWSMON_MONGO_URI", raising=False)
    return tier


def _runs(tier: StoreTier, site: str) -> list[dict]:
    store = tier.open()
    try:
        return list(store.find("crawl_runs", {"site": site}, sort=[("started_at", 1)]))
    finally:
        store.close()


def _config(tier: StoreTier, sites: dict[str, float], args: tuple[str, ...], **kw: Any) -> ScheduleConfig:
    store = StoreConfig(None, "newsmon", tier.data_dir)
    return ScheduleConfig(sites=tuple(sites), intervals=sites, crawl_args=args, store=store, **kw)


def _serving(config: ScheduleConfig) -> Iterator[threading.Event]:
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=serve, args=(config, stop, ready), daemon=True)
    thread.start()
    try:
        assert ready.wait(60), "the scheduler did not start"
        yield stop
    finally:
        stop.set()
        thread.join(timeout=120)
        assert not thread.is_alive()


def test_runs_repeat_and_never_overlap(tier, demo_server) -> None:
    # Each crawl takes longer than the 1 s interval (a download delay), so overlapping runs
    # would show if max_instances did not hold.
    args = (*SMALL_CRAWL, "-a", f"base_url={demo_server.base_url}/", "-s", "DOWNLOAD_DELAY=0.2")
    config = _config(tier, {"demo": 1.0}, args)
    for _ in _serving(config):
        wait_for(lambda: len([r for r in _runs(tier, "demo") if r["outcome"] != "running"]) >= 2)
    runs = [r for r in _runs(tier, "demo") if r.get("finished_at")]
    assert len(runs) >= 2
    # The service was stopped during a later run: that one is "killed", the first two finished.
    assert [r["outcome"] for r in runs[:2]] == ["finished", "finished"], [(r["outcome"], r["started_at"], r["finished_at"], r.get("finish_reason"), r.get("exit_code")) for r in runs]
    assert all(r["trigger"] == "schedule" for r in runs)
    assert all(r["outcome"] in ("finished", "killed") for r in runs)
    assert runs[0]["summary"]["articles_new"] == 3
    for before, after in zip(runs, runs[1:]):
        assert after["started_at"] >= before["finished_at"], "two crawls of one site overlapped"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers: a crawl against it hangs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(50)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    stop.set()
    thread.join()
    for conn in conns:
        conn.close()
    sock.close()


def test_hanging_crawl_is_stopped_at_its_limit(tier, silent_server) -> None:
    config = _config(tier, {"demo": 3600.0}, ("-a", f"base_url={silent_server}", "-s", "DOWNLOAD_TIMEOUT=600",
                                              "-s", "ROBOTSTXT_OBEY=False"),
                     run_timeout=4, stop_grace=5)
    started = time.monotonic()
    outcomes = run_due_once(config)
    assert outcomes == {"demo": "timed_out"}
    assert time.monotonic() - started < 60
    (run,) = _runs(tier, "demo")
    assert run["outcome"] == "timed_out" and run["finished_at"] is not None


def test_crashing_crawl_is_recorded_and_the_next_run_happens(tier, demo_server) -> None:
    broken = json.dumps({"no.such.module.Pipeline": 1})
    config = _config(tier, {"demo": 1.0}, (*SMALL_CRAWL, "-a", f"base_url={demo_server.base_url}/",
                                           "-s", f"ITEM_PIPELINES={broken}"))
    for _ in _serving(config):
        wait_for(lambda: len([r for r in _runs(tier, "demo") if r["outcome"] == "failed"]) >= 2)
    failed = [r for r in _runs(tier, "demo") if r["outcome"] == "failed"]
    assert all(r["exit_code"] not in (0, None) for r in failed)


def test_once_runs_only_due_sites(tier, demo_server) -> None:
    config = _config(tier, {"demo": 3600.0}, (*SMALL_CRAWL, "-a", f"base_url={demo_server.base_url}/"))
    assert run_due_once(config) == {"demo": "finished"}
    assert run_due_once(config) == {"demo": "not_due"}
    assert len(_runs(tier, "demo")) == 1


def test_sigterm_during_a_crawl_exits_cleanly_and_loses_nothing(tier, demo_server) -> None:
    service = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "schedule", "demo", "--interval", "3600", "--grace", "60",
         "-a", f"base_url={demo_server.base_url}/", "-s", "DOWNLOAD_DELAY=0.02"],
        cwd=ROOT, env=tier.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # SIGTERM once the crawl has stored something, while it is still running.
        def crawling() -> bool:
            runs = _runs(tier, "demo")
            if not runs or runs[-1]["outcome"] != "running":
                return False
            store = tier.open()
            try:
                return store.count("articles") > 0
            finally:
                store.close()

        wait_for(crawling)
        service.send_signal(signal.SIGTERM)
        _, stderr = service.communicate(timeout=120)
    finally:
        if service.poll() is None:
            service.kill()
    assert service.returncode == 0, stderr[-2000:]
    (run,) = _runs(tier, "demo")
    assert run["outcome"] in ("killed", "finished")
    stats = run["stats"]
    store = tier.open()
    try:
        articles, snippets = store.count("articles"), store.count("feed_snippets")
    finally:
        store.close()
    # Every item that passed the pipelines was written: nothing was left in a buffer.
    assert stats["newsmon/items/article"] == articles
    written = sum(stats.get(f"newsmon/store/feed_snippets/{k}", 0)
                  for k in ("inserted", "updated", "unchanged"))
    assert written == stats["newsmon/items/snippet"] and snippets > 0, sorted(
        (k, v) for k, v in stats.items() if k.startswith("newsmon/") and "/pages/" not in k)
    assert articles < 160, "the crawl should have been stopped early"


def _next_run_time(config: ScheduleConfig):
    from crawler.scheduler import _job_store

    store = _job_store(config.store)
    store.start(None, "default")  # type: ignore[arg-type]
    try:
        return store.lookup_job("crawl:demo").next_run_time
    finally:
        store.shutdown()


def test_restart_keeps_each_sites_next_run_time(tier, demo_server) -> None:
    from datetime import UTC, datetime, timedelta

    config = _config(tier, {"demo": 3600.0}, (*SMALL_CRAWL, "-a", f"base_url={demo_server.base_url}/"))
    for _ in _serving(config):
        wait_for(lambda: any(r["outcome"] == "finished" for r in _runs(tier, "demo")))
    before = _next_run_time(config)
    assert before > datetime.now(UTC) + timedelta(minutes=55)
    for _ in _serving(config):  # a restart: nothing is due, nothing runs
        assert _next_run_time(config) == before
    assert len(_runs(tier, "demo")) == 1


def test_job_state_and_runs_on_each_store(store_tier, demo_server, monkeypatch) -> None:
    """The same restart guarantee with the MongoDB job store (FerretDB in CI) and the SQLite one."""
    from datetime import UTC, datetime, timedelta

    for key in ("NEWSMON_MONGO_URI", "NEWSMON_MONGO_DATABASE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in store_tier.env().items():
        monkeypatch.setenv(key, value)
    store = StoreConfig(store_tier.mongo_uri, store_tier.database or "newsmon", store_tier.data_dir)
    config = ScheduleConfig(sites=("demo",), intervals={"demo": 3600.0}, store=store,
                            crawl_args=(*SMALL_CRAWL, "-a", f"base_url={demo_server.base_url}/"))
    for _ in _serving(config):
        wait_for(lambda: any(r["outcome"] == "finished" for r in _runs(store_tier, "demo")))
    before = _next_run_time(config)
    assert before > datetime.now(UTC) + timedelta(minutes=55)
    for _ in _serving(config):
        assert _next_run_time(config) == before
    (run,) = _runs(store_tier, "demo")
    assert run["summary"]["articles_new"] == 3 and run["trigger"] == "schedule"
