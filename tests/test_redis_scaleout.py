"""Scale-out on Redis: two workers share one frontier; a killed worker loses nothing; the job queue
runs one crawl per site.

A real ``redis-server`` (Debian's binary; ``bash deploy/dev.sh test`` installs it in CI) runs per
test module on a Unix socket in a temp dir (no port to race for). Workers are ``newsmon crawl
demo --shared`` processes against a small demo site served on a free port; the site's request
counter says what was fetched, the site generator what should be stored, the store what was: the
real server when NEWSMON_TEST_MONGO_URI is set (the store of workers on several machines), else
the embedded one (SQLite in WAL mode, safe for two processes on one machine).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, SERVER_KIND, SERVER_URI, TEST_CRAWL_SETTINGS, StoreTier, run_newsmon

REDIS = shutil.which("redis-server")
EXTERNAL = os.environ.get("NEWSMON_TEST_REDIS_URL")  # a Redis of the test run's own (CI's service), flushed
needs_redis = pytest.mark.skipif(
    REDIS is None and not EXTERNAL,
    reason="redis-server not installed and no NEWSMON_TEST_REDIS_URL (apt-get install redis-server; "
           "bash deploy/dev.sh test installs it when run as root)")
ARTICLES = 40  # a small demo site keeps each crawl to a few seconds
UNRELIABLE = {"/robots.txt", "/kharkiv-metro-live-updates/"}  # per-worker robots; a page that 500s (retried)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of our own, ready when it says so on stdout (no polling); or NEWSMON_TEST_REDIS_URL."""
    if EXTERNAL:
        from redis import Redis

        with Redis.from_url(EXTERNAL) as client:
            client.config_set("notify-keyspace-events", "K$")  # _gate_until_two_workers listens to them
        yield EXTERNAL
        return
    workdir = tmp_path_factory.mktemp("redis")
    sock = workdir / "redis.sock"
    proc = subprocess.Popen([REDIS, "--port", "0", "--unixsocket", str(sock), "--dir", str(workdir),
                             "--save", "", "--appendonly", "no", "--notify-keyspace-events", "K$"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "ready to accept connections" in line.lower():
            break
    else:
        pytest.fail(f"redis-server exited with {proc.wait()}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep its pipe drained
    yield f"unix://{sock}"
    proc.terminate()
    proc.wait()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[object]:
    from redis import Redis

    client = Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="module")
def small_site():
    from crawler.demo import build_site

    return build_site(seed=7, n_articles=ARTICLES)


@pytest.fixture(scope="module")
def expected_urls(small_site) -> set[str]:
    """The generator's article paths: what one crawl of the site stores (the demo crawl tests hold it)."""
    return {article.path for article in small_site.articles}


@pytest.fixture
def shared_tier(tmp_path: Path) -> Iterator[StoreTier]:
    """The store workers on several machines need: the real server when NEWSMON_TEST_MONGO_URI is
    set (FerretDB here, MongoDB on the forge), else the embedded one, which the kill test uses anyway
    (two processes on one machine: SQLite in WAL mode)."""
    if SERVER_URI:
        tier = StoreTier(SERVER_KIND, tmp_path / "data", SERVER_URI, f"newsmon_test_{uuid.uuid4().hex[:12]}")
    else:
        tier = StoreTier("embedded", tmp_path / "data")
    yield tier
    tier.drop()


def _stored_paths(tier: StoreTier) -> set[str]:
    from urllib.parse import urlsplit

    store = tier.open()
    try:
        paths = [urlsplit(doc["url"]).path for doc in store.find("articles")]
    finally:
        store.close()
    assert len(paths) == len(set(paths)), "an article stored twice"
    return set(paths)


def _worker(base_url: str, env: dict[str, str], *settings: str) -> subprocess.Popen[str]:
    # Two requests at a time each: one worker alone cannot drain the queue of a small, fast
    # site, so both take part (an idle worker looks at the queue on Scrapy's 5 s heartbeat).
    # TEST_CRAWL_SETTINGS as for every test crawl (a shorter store flush also shortens the shared
    # frontier's ack delay, 2 x STORE_FLUSH_SECONDS + 1, which still follows the flush).
    extra = [x for s in ("CONCURRENT_REQUESTS=2", *settings) for x in ("-s", s)]
    return subprocess.Popen([sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "demo",
                             *TEST_CRAWL_SETTINGS, "--shared", "-a", f"base_url={base_url}/", *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _gate_until_two_workers(redis_url: str, server) -> threading.Thread:
    """Hold every request of the site until two workers have a heartbeat, so both crawl it:
    Redis keyspace notifications say when a worker's heartbeat key is set."""
    from redis import Redis

    both = threading.Event()
    pubsub = Redis.from_url(redis_url).pubsub()
    pubsub.psubscribe("__keyspace@0__:newsmon:frontier:demo:alive:*")

    def listen() -> None:
        seen = set()
        for message in pubsub.listen():
            if message["type"] == "pmessage":
                seen.add(message["channel"])
                if len(seen) >= 2:
                    both.set()
                    pubsub.close()
                    return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    previous = server.on_request

    def gate(count: int) -> None:
        both.wait(timeout=120)
        if previous is not None:
            previous(count)

    server.on_request = gate
    return thread


@needs_redis
def test_two_workers_fetch_every_page_once_and_store_every_article_once(
        redis_url, redis_client, small_site, expected_urls, shared_tier: StoreTier) -> None:
    from crawler.demo import serve

    tier = shared_tier
    env = dict(tier.env(), NEWSMON_REDIS_URL=redis_url)
    with serve(small_site) as server:
        _gate_until_two_workers(redis_url, server)
        workers = [_worker(server.base_url, env) for _ in range(2)]
        results = [(w.wait(timeout=300), *w.communicate()) for w in workers]
        hits = dict(server.hits)
    for code, _out, err in results:
        assert code == 0, err[-2000:]
    fetched_twice = {path: n for path, n in hits.items() if n > 1 and path not in UNRELIABLE}
    assert fetched_twice == {}
    assert _stored_paths(tier) == expected_urls
    # Both took part (each printed its own summary with pages fetched), and the last one out
    # removed the frontier so the next shared crawl starts from the seeds.
    pages = [int(out.split("pages fetched")[1].split("│")[1]) for _code, out, _err in results]
    assert min(pages) > 0 and sum(pages) >= len(expected_urls)
    assert redis_client.keys("newsmon:frontier:*") == []


@needs_redis
def test_a_worker_killed_mid_crawl_loses_nothing(redis_url, redis_client, small_site, expected_urls,
                                                 tmp_path: Path) -> None:
    from crawler.demo import serve

    tier = StoreTier("embedded", tmp_path / "data")
    env = dict(tier.env(), NEWSMON_REDIS_URL=redis_url)
    with serve(small_site) as server:
        killed = threading.Event()

        def kill_first(count: int) -> None:
            if count >= 20 and not killed.is_set():
                killed.set()
                os.kill(workers[0].pid, signal.SIGKILL)

        server.on_request = kill_first
        _gate_until_two_workers(redis_url, server)
        # A short heartbeat, so the survivor notices the dead worker within seconds.
        workers = [_worker(server.base_url, env, "REDIS_WORKER_TTL=2") for _ in range(2)]
        code, _out, err = workers[1].wait(timeout=300), *workers[1].communicate()
        workers[0].wait(timeout=60)
    assert workers[0].returncode == -signal.SIGKILL
    assert code == 0, err[-2000:]
    assert "requests in flight: re-queued" in err  # the survivor took over the dead one's requests
    assert _stored_paths(tier) == expected_urls


@needs_redis
def test_two_due_crawls_of_one_site_run_once(redis_url, redis_client, small_site, tmp_path: Path) -> None:
    from crawler.demo import serve
    from crawler.distributed import site_lock

    tier = StoreTier("embedded", tmp_path / "data")
    env = dict(tier.env(), NEWSMON_REDIS_URL=redis_url)
    with serve(small_site) as server:
        schedule = ["schedule", "demo", "--once", "-a", f"base_url={server.base_url}/"]
        first, second = run_newsmon(schedule, env), run_newsmon(schedule, env)
        assert (first.returncode, first.stdout) == (0, "demo: queued\n"), first.stderr[-2000:]
        assert second.stdout == "demo: already_queued\n"  # due again while still queued: queued once
        # A crawl of demo holds the site lock elsewhere: the queued one is skipped, not run beside it.
        with site_lock(redis_client, "demo", 30) as held:
            assert held
            result = run_newsmon(["worker", "--burst"], env)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "running on another worker: skipped" in result.stderr
        assert server.requests == 0
        # Lock free: the next due crawl runs on a worker and is recorded once.
        assert run_newsmon(schedule, env).stdout == "demo: queued\n"
        result = run_newsmon(["worker", "--burst"], env)
        assert result.returncode == 0, result.stderr[-2000:]
        assert server.requests > 0
    store = tier.open()
    try:
        runs = list(store.find("crawl_runs", {"site": "demo"}))
    finally:
        store.close()
    assert [(r["outcome"], r["trigger"]) for r in runs] == [("finished", "schedule")]


def test_redis_commands_without_redis_say_so_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in StoreTier("embedded", tmp_path / "data").env().items() if k != "NEWSMON_REDIS_URL"}
    missing = run_newsmon(["worker", "--burst"], env)
    assert missing.returncode == 2 and "needs Redis: set NEWSMON_REDIS_URL" in missing.stderr, missing.stderr
    unreachable = run_newsmon(["crawl", "demo", "--shared"], dict(env, NEWSMON_REDIS_URL=f"unix://{tmp_path}/no.sock"))
    assert unreachable.returncode == 2, unreachable.stderr
    assert unreachable.stderr.startswith("newsmon: error: Redis at unix://") and \
        unreachable.stderr.count("\n") == 1, unreachable.stderr


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid``, read from /proc (the worker's horse, its crawl, its extractors)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name (2nd field) may hold spaces: the parent pid is the 2nd field after ")".
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended while we looked
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def _queued_worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", "from crawler.cli import main; main()", "worker", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _crawl_runs(tier: StoreTier) -> list[dict]:
    store = tier.open()
    try:
        return list(store.find("crawl_runs", {"site": "demo"}, sort=[("started_at", 1)]))
    finally:
        store.close()


@needs_redis
def test_a_worker_stopped_by_sigterm_finishes_its_crawl_and_records_it(
        redis_url, redis_client, small_site, expected_urls, tmp_path: Path) -> None:
    from crawler.demo import serve

    tier = StoreTier("embedded", tmp_path / "data")
    env = dict(tier.env(), NEWSMON_REDIS_URL=redis_url)
    with serve(small_site) as server:
        schedule = ["schedule", "demo", "--once", "-a", f"base_url={server.base_url}/"]
        assert run_newsmon(schedule, env).stdout == "demo: queued\n"
        worker = _queued_worker(env)
        stopped, below = threading.Event(), set()

        def stop_worker(count: int) -> None:
            if count >= 10 and not stopped.is_set():  # mid-crawl: the site has 40 articles
                stopped.set()
                below.update(_descendants(worker.pid))
                worker.send_signal(signal.SIGTERM)  # to the worker alone, as `kill PID` does

        server.on_request = stop_worker
        code, _out, err = worker.wait(timeout=180), *worker.communicate()
    assert stopped.is_set() and len(below) >= 2, "no horse and crawl child under the worker"
    assert code == 0, err[-2000:]
    assert [pid for pid in below if _alive(pid)] == []  # no horse, crawl or extractor left behind
    # RQ's warm shutdown: SIGTERM to the worker waits for the job in hand, and the job's crawl child
    # never saw the signal, so the crawl ran to its end: `finished`, every article stored once.
    runs = _crawl_runs(tier)
    assert [(r["outcome"], r["exit_code"]) for r in runs] == [("finished", 0)]
    assert _stored_paths(tier) == expected_urls


@needs_redis
def test_scheduler_metrics_count_the_runs_workers_record(redis_url, redis_client, demo_server, tmp_path: Path,
                                                         monkeypatch) -> None:
    import re
    from datetime import UTC, datetime, timedelta

    import crawler.scheduler
    from crawler.distributed import RedisConfig
    from tests.test_metrics import scrape
    from tests.test_scheduler import SMALL_CRAWL, _config, _serving, wait_for

    tier = StoreTier("embedded", tmp_path / "data")
    # The service runs in this process: its queueing reads the store and Redis from the environment.
    for key, value in dict(tier.env(), NEWSMON_REDIS_URL=redis_url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("NEWSMON_MONGO_URI", raising=False)
    args = (*SMALL_CRAWL, "-a", f"base_url={demo_server.base_url}/")
    config = _config(tier, {"demo": 3600.0}, args, metrics_port=0, metrics_poll=0.2,
                     queue=RedisConfig(url=redis_url))
    for _ in _serving(config):
        wait_for(lambda: redis_client.exists("rq:job:crawl-demo"), timeout=30)  # the service queued it
        port = crawler.scheduler.METRICS.server.server_address[1]
        assert "newsmon_runs_total{" not in scrape(port)  # queued, not run: nothing counted yet
        worker = run_newsmon(["worker", "--burst"], dict(os.environ))
        assert worker.returncode == 0, worker.stderr[-2000:]
        text = wait_for(lambda port=port: next((t for t in [scrape(port)] if "newsmon_runs_total{" in t), None),
                        timeout=30)
        # The next polls read the same run again (it stays in the window): it is still counted once.
        crawler.scheduler._follow_worker_runs(config, datetime.now(UTC) - timedelta(hours=1))
        again = scrape(port)
    assert re.search(r'^newsmon_runs_total\{outcome="finished",site="demo"\} 1\.0$', text, re.MULTILINE), text
    assert re.search(r'^newsmon_pages_fetched_total\{site="demo"\} [1-9]', text, re.MULTILINE)
    assert re.search(r'^newsmon_run_duration_seconds_count\{site="demo"\} 1\.0$', text, re.MULTILINE)
    assert re.search(r'^newsmon_runs_total\{outcome="finished",site="demo"\} 1\.0$', again, re.MULTILINE), again


@needs_redis
def test_a_worker_killed_during_a_queued_crawl_is_requeued_by_the_next_tick(
        redis_url, redis_client, small_site, expected_urls, tmp_path: Path) -> None:
    from crawler.demo import serve
    from crawler.distributed import lock_key
    from tests.test_scheduler import wait_for

    tier = StoreTier("embedded", tmp_path / "data")
    env = dict(tier.env(), NEWSMON_REDIS_URL=redis_url)
    # A 2 s lock: a dead holder's lock is gone 2 s after its last renewal (60 s by default).
    short_lock = ["-s", "REDIS_LOCK_SECONDS=2"]
    with serve(small_site) as server:
        schedule = ["schedule", "demo", "--once", "--interval", "0.001", "-a", f"base_url={server.base_url}/",
                    *short_lock]
        assert run_newsmon(schedule, env).stdout == "demo: queued\n"
        mid_crawl, go_on = threading.Event(), threading.Event()

        def hold(count: int) -> None:
            if count >= 10:  # mid-crawl: hold its requests until the worker is dead
                mid_crawl.set()
                go_on.wait(timeout=120)

        server.on_request = hold
        first = _queued_worker(env, *short_lock)
        assert mid_crawl.wait(timeout=120), "the crawl never started"
        # A live worker crawling the site: the tick leaves its job alone.
        tick = run_newsmon(schedule, env)
        assert tick.stdout == "demo: already_queued\n", tick.stderr[-2000:]
        below = _descendants(first.pid)
        assert len(below) >= 2, "no horse and crawl child under the worker"
        first.send_signal(signal.SIGKILL)  # the worker alone, as the OOM killer would
        first.wait(timeout=60)
        go_on.set()
        # Its horse and crawl child die with it (and the crawl's helpers after): nothing crawls on unsupervised.
        wait_for(lambda: not [pid for pid in below if _alive(pid)], timeout=60)
        wait_for(lambda: not redis_client.exists(lock_key("demo")), timeout=30)  # renewed by nobody
        tick = run_newsmon(schedule, env)
        assert (tick.returncode, tick.stdout) == (0, "demo: requeued_dead_worker\n"), tick.stderr[-2000:]
        assert "taken by a dead worker" in tick.stderr
        second = run_newsmon(["worker", "--burst", *short_lock], env)
        assert second.returncode == 0, second.stderr[-2000:]
    runs = _crawl_runs(tier)
    # The first ends `killed` by the tick (its crawl child was SIGKILLed, so it recorded nothing).
    assert [(r["outcome"], r.get("finish_reason")) for r in runs] == [("killed", "worker gone"),
                                                                       ("finished", "finished")], runs
    assert _stored_paths(tier) == expected_urls  # every article stored, once
