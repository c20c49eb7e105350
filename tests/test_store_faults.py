"""The store fails during a real crawl of the demo site, then comes back: nothing is lost.

- Server tier (FerretDB in CI): a FerretDB of the test's own is killed (SIGKILL) after 50 requests
  of the crawl and started again on the same port and data after 120 (once something was
  journaled); or it is down for the whole
  crawl. The run is ``degraded`` (``failed`` when the store was never reachable), its summary says
  how many items were journaled, and the next crawl replays the journal: the store then holds
  every article and snippet exactly once, and every topic flag names a stored document.
- Embedded tier: another process holds the SQLite file's write lock from request 50 to request
  120 or later (a backup tool, a second writer): writes fail after ``SQLITE_BUSY_TIMEOUT`` and are
  journaled, with the same outcome and the same end state.

The fault points are request counts of the demo server (``DemoServer.on_request``), so nothing
waits on a clock.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from tests.conftest import SERVER_KIND, SERVER_URI, StoreTier, assert_flags_name_stored_documents, run_newsmon


def _outage_window(n_articles: int) -> tuple[int, int]:
    """The requests after which the store goes down and may come back: a third and three
    quarters of the way through the articles, so the crawl goes on well past both."""
    return n_articles * 5 // 16, n_articles * 3 // 4


FERRETDB_BIN = Path(os.environ.get("NEWSMON_CACHE_DIR") or Path.home() / ".cache" / "newsmon") / "ferretdb" / "newsmon-ferretdb"


class FerretDB:
    """A FerretDB server of the test's own, to kill and restart on the same port and data."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([str(FERRETDB_BIN), "-listen", f"127.0.0.1:{self.port}", "-dir",
                                      str(self.data_dir)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "ready 127.0.0.1:PORT" once the listener is bound
        assert line.startswith("ready "), line
        self.port = int(line.rsplit(":", 1)[1])

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"


@pytest.fixture(params=["embedded", "server"], ids=lambda p: p if p == "embedded" else SERVER_KIND)
def fault_tier(request, tmp_path):
    """(tier, outage) where ``outage.begin()``/``outage.end()`` break and repair the store."""
    if request.param == "server":
        if not SERVER_URI or SERVER_KIND != "ferretdb" or not FERRETDB_BIN.exists():
            pytest.skip("needs the FerretDB test binary (bash deploy/dev.sh test builds it) to kill and "
                        "restart a server of the test's own")
        server = FerretDB(tmp_path / "ferretdb")
        server.start()
        tier = StoreTier("ferretdb", tmp_path / "data", server.uri, f"faults_{uuid.uuid4().hex[:8]}")
        yield tier, _ServerOutage(server)
        server.kill()
    else:
        tier = StoreTier("embedded", tmp_path / "data")
        yield tier, _LockOutage(tier.data_dir / "newsmon.sqlite3")


class _ServerOutage:
    def __init__(self, server: FerretDB) -> None:
        self.server = server
        self.engaged = False

    def begin(self) -> None:
        self.server.kill()
        self.engaged = True

    def end(self) -> None:
        if self.server.proc is None or self.server.proc.poll() is not None:
            self.server.start()


class _LockOutage:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None
        self.engaged = False

    def begin(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Waits for a write the crawl has in flight, then holds the write lock (WAL: readers go on).
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
        self.conn.execute("BEGIN EXCLUSIVE")
        self.engaged = True

    def end(self) -> None:
        if self.conn is not None:  # idempotent: called on every later request too
            self.conn.execute("ROLLBACK")
            self.conn.close()
            self.conn = None


def _crawl(tier: StoreTier, server, *extra: str):
    # Short waits so the outage window always meets writes: a lock or a server waited for at most
    # 0.5 s, a decided batch written after at most 0.2 s.
    # Every new flag is announced to a jsonl file; an alert not confirmed is due again at once.
    return run_newsmon(["crawl", "demo", "-a", f"base_url={server.base_url}/", "-s", "SQLITE_BUSY_TIMEOUT=0.5",
                        "-s", "MONGO_SERVER_SELECTION_TIMEOUT=0.5", "-s", "STORE_FLUSH_SECONDS=0.2",
                        "-s", "ALERT_SINKS=jsonl", "-s", f"ALERT_JSONL_PATH={_alerts_file(tier)}",
                        "-s", "ALERT_OUTBOX_BACKOFF=0", *extra],
                       tier.env(), timeout=600)


def _alerts_file(tier: StoreTier) -> Path:
    return tier.data_dir / "alerts.jsonl"


def _assert_every_flag_alerted(tier: StoreTier, flags: list) -> None:
    """Each stored flag reached the sink (at least once: a delivery whose confirmation the outage
    swallowed is sent again, by design) and the outbox holds it as sent; no alert without a flag."""
    assert flags, "the demo site has Central Asia stories: a crawl of it flags some"
    path = _alerts_file(tier)
    sent = [json.loads(line)["_id"] for line in path.read_text(encoding="utf-8").splitlines()] \
        if path.exists() else []
    assert set(sent) == {f["_id"] for f in flags}
    store = tier.open()
    try:
        outbox = {d["flag_id"]: d["status"] for d in store.find("alert_outbox")}
    finally:
        store.close()
    assert outbox == {f["_id"]: "sent" for f in flags}


def _state(tier: StoreTier) -> tuple[list, list, list, dict]:
    store = tier.open()
    try:
        articles = list(store.find("articles"))
        snippets = list(store.find("feed_snippets"))
        flags = list(store.find("topic_flags"))
        runs = {r["_id"]: r for r in store.find("crawl_runs")}
        assert_flags_name_stored_documents(store)
    finally:
        store.close()
    return articles, snippets, flags, runs


def _summary_value(stdout: str, label: str) -> int:
    line = next(line for line in stdout.splitlines() if label in line)
    return int(line.split("│")[-2].strip())


def _repeated_errors(stderr: str) -> list[str]:
    """newsmon's ERROR lines that say again what an earlier one said, numbers aside: an outage is
    reported once per consequence (store down, items journaled per kind, state not saved), not
    once per batch, or the log buries what happened (the counts are in the stats and summary)."""
    seen: set[tuple[str, str]] = set()
    repeated = []
    for line in stderr.splitlines():
        match = re.search(r"\[((?:pipelines|crawler)\.[\w.]+)\] ERROR: (.*)", line)
        if match:
            key = (match.group(1), re.sub(r"\d+(?:\.\d+)?", "N", match.group(2)))
            if key in seen:
                repeated.append(line)
            seen.add(key)
    return repeated


def _assert_complete(tier: StoreTier, demo_site) -> list:
    articles, snippets, flags, _ = _state(tier)
    assert len(articles) == len(demo_site.articles) == len({a["url"] for a in articles}), "no story twice"
    assert len(snippets) == len(demo_site.snippets)
    return flags


def test_store_killed_mid_crawl_loses_nothing(fault_tier, demo_site, demo_server) -> None:
    tier, outage = fault_tier
    lock = threading.Lock()

    journal = tier.data_dir / "journal" / "demo.jsonl"
    before = demo_server.requests  # the server is the session's: count this crawl's requests

    kill_at, back_at = _outage_window(len(demo_site.articles))
    restored: list[int] = []

    def come_back_if_due() -> None:
        # The store comes back after request back_at, once the crawl has journaled something
        # (a condition, not a clock: on a loaded machine the window may hold few writes).
        count = demo_server.requests - before
        with lock:
            if count >= back_at and outage.engaged and not restored and journal.exists() \
                    and journal.stat().st_size:
                outage.end()
                restored.append(count)

    def inject(total: int) -> None:
        if total - before == kill_at:
            with lock:
                outage.begin()
        come_back_if_due()

    # Downloads may run ahead of the item path (the scraper holds fetched pages), so the first
    # journal write can come after the last request: the condition is also watched between them.
    crawl_done = threading.Event()

    def watch() -> None:
        while not restored and not crawl_done.wait(0.05):
            come_back_if_due()

    watcher = threading.Thread(target=watch, daemon=True)
    demo_server.on_request = inject
    watcher.start()
    try:
        first = _crawl(tier, demo_server)
    finally:
        crawl_done.set()
        watcher.join()
        demo_server.on_request = None
        outage.end()
    assert outage.engaged, "the outage never began"
    assert restored, "the store never came back during the crawl"
    assert first.returncode == 3, first.stdout[-3000:] + first.stderr[-3000:]  # degraded
    journaled = _summary_value(first.stdout, "journaled")
    assert journaled > 0 and "crawl of demo: degraded" in first.stdout
    assert not _repeated_errors(first.stderr), _repeated_errors(first.stderr)
    _, _, _, runs = _state(tier)
    (first_id,) = runs

    second = _crawl(tier, demo_server, "-s", "INCREMENTAL_ENABLED=False")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert _summary_value(second.stdout, "replayed from the journal") > 0
    # The first run's record says degraded, with its journaled count; if the store was still down
    # when that crawl closed, the record itself was journaled and the second crawl wrote it.
    _, _, _, runs = _state(tier)
    assert runs[first_id]["outcome"] == "degraded"
    # (fewer than the crawl's own summary when the fetch state and the run record, written as the
    # crawl closes, were journaled after the record's summary was taken)
    assert 0 < runs[first_id]["summary"]["journaled"] <= journaled
    _assert_outage_cost_few_timeouts(runs[first_id]["stats"])
    flags = _assert_complete(tier, demo_site)
    reference = _reference_flags(demo_site, demo_server, tier.data_dir.parent / "reference")
    assert sorted(f["_id"] for f in flags) == reference
    _assert_every_flag_alerted(tier, flags)
    assert not list((tier.data_dir / "journal").glob("*.jsonl")), "the journal is empty again"


def test_store_down_for_the_whole_crawl_loses_nothing(fault_tier, demo_site, demo_server) -> None:
    tier, outage = fault_tier
    if tier.kind == "embedded":
        # The crawl opens (creates) the file itself; hold its lock from the first request on.
        store = tier.open()
        store.close()
    outage.begin()
    try:
        first = _crawl(tier, demo_server)
    finally:
        outage.end()
    assert first.returncode in (1, 3), first.stdout[-3000:] + first.stderr[-3000:]
    assert "Traceback" not in first.stderr
    assert _summary_value(first.stdout, "journaled") > 0
    # Every batch is journaled, and said once per kind of record (a line each buried the log):
    # the summary and the stats count them all.
    journaled = re.findall(r"ERROR: Journaled \d+ (\w+) records", first.stderr)
    assert journaled and len(journaled) == len(set(journaled)), journaled
    assert not _repeated_errors(first.stderr), _repeated_errors(first.stderr)
    second = _crawl(tier, demo_server, "-s", "INCREMENTAL_ENABLED=False")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    flags = _assert_complete(tier, demo_site)
    reference = _reference_flags(demo_site, demo_server, tier.data_dir.parent / "reference")
    assert sorted(f["_id"] for f in flags) == reference
    _assert_every_flag_alerted(tier, flags)
    _, _, _, runs = _state(tier)
    assert len(runs) == 2, "the first crawl's run record was journaled and written by the second"
    outcomes = sorted(r["outcome"] for r in runs.values())
    assert outcomes[0] in ("degraded", "failed") and outcomes[1] == "finished", outcomes
    (down,) = [r for r in runs.values() if r["outcome"] != "finished"]
    _assert_outage_cost_few_timeouts(down["stats"])


def _assert_outage_cost_few_timeouts(stats: dict) -> None:
    """The store circuit (pipelines.storage.service), from the crawl's stats: calls that reached
    the unusable store (each waited the busy/selection timeout), whether they failed to open it
    or found it open but unusable, are one per opening or probe, and fewer than the calls sent to
    the journal without trying. Without it every batch waits."""
    def get(key: str) -> int:
        return int(stats.get(f"newsmon/store/{key}", 0))

    waited = get("unavailable") + get("open_failed")
    assert get("circuit/refused") > waited > 0, stats
    assert get("circuit/opened") >= 1, stats
    assert waited == get("circuit/opened") + get("circuit/probes") - get("circuit/closed"), stats


_REFERENCE: dict[str, list[str]] = {}


def _reference_flags(demo_site, demo_server, data_dir: Path) -> list[str]:
    """The flags of a crawl without faults (embedded store), to compare with."""
    if "flags" not in _REFERENCE:
        tier = StoreTier("embedded", data_dir)
        result = _crawl(tier, demo_server)
        assert result.returncode == 0, result.stderr[-3000:]
        _, _, flags, _ = _state(tier)
        _REFERENCE["flags"] = sorted(f["_id"] for f in flags)
    return _REFERENCE["flags"]


# --- the circuit: an unusable store is left alone, then probed ----------------------------------


class _Clock:
    """The service's clock, stepped by the test (no sleeps)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _service(tier: StoreTier, clock: _Clock):
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    from pipelines.storage.config import StoreConfig
    from pipelines.storage.service import StoreService

    config = StoreConfig(tier.mongo_uri, tier.database or "newsmon", tier.data_dir,
                         sqlite_busy_timeout=0.2, mongo_server_selection_timeout=0.3)
    stats = MemoryStatsCollector(get_crawler())
    return StoreService(config, stats, reopen_seconds=4.0, max_backoff=10.0, clock=clock), stats


def _write(n: int):
    def write(store, n=n):
        return store.replace_documents("fetch_state", [{"_id": f"https://x.test/{n}", "etag": str(n)}])
    return write


def test_an_unusable_store_is_probed_once_per_window_and_writing_resumes(fault_tier) -> None:
    """The first call that times out opens the circuit; calls then fail at once without reaching
    the store until the window is over; a failed probe doubles the window (up to the cap); the
    probe that finds the store usable closes it, and the writes land."""
    from crawler.errors import StorageError

    tier, outage = fault_tier
    clock = _Clock()
    service, stats = _service(tier, clock)
    reached = {"n": 0}

    def counted(n: int):
        inner = _write(n)

        def write(store):
            reached["n"] += 1
            return inner(store)
        return write

    try:
        service.call_blocking(counted(0))  # opens the store: it is usable
        outage.begin()
        with pytest.raises(StorageError):
            service.call_blocking(counted(1))
        assert stats.get_value("newsmon/store/unavailable") == 1
        assert stats.get_value("newsmon/store/circuit/opened") == 1
        for n in range(2, 12):  # a crawl's worth of batches inside the window: none waits
            with pytest.raises(StorageError, match="not tried again"):
                service.call_blocking(counted(n))
        assert stats.get_value("newsmon/store/circuit/refused") == 10
        assert stats.get_value("newsmon/store/unavailable") == 1, "refused calls never reached the store"
        assert reached["n"] == 2
        clock.now += 4.0  # the window is over: one probe, still unusable
        with pytest.raises(StorageError):
            service.call_blocking(counted(12))
        assert stats.get_value("newsmon/store/circuit/probes") == 1
        assert stats.get_value("newsmon/store/unavailable") == 2
        clock.now += 4.0  # the window doubled to 8 s: still refused
        with pytest.raises(StorageError, match="not tried again"):
            service.call_blocking(counted(13))
        clock.now += 4.0
        with pytest.raises(StorageError):
            service.call_blocking(counted(14))  # second probe: the window is now capped at 10 s
        assert service.circuit.window == 10.0
        outage.end()
        clock.now += 9.0
        with pytest.raises(StorageError, match="not tried again"):
            service.call_blocking(counted(15))
        clock.now += 1.0
        service.call_blocking(counted(16))  # the probe finds it usable: closed
        service.call_blocking(counted(17))
        assert stats.get_value("newsmon/store/circuit/closed") == 1
        assert stats.get_value("newsmon/store/circuit/opened") == 1
        assert stats.get_value("newsmon/store/unavailable") == 3
        assert reached["n"] == 6
    finally:
        outage.end()
        if service._open:
            service.store.close()
    store = tier.open()
    try:
        stored = {d["_id"] for d in store.find("fetch_state")}
    finally:
        store.close()
    assert stored == {f"https://x.test/{n}" for n in (0, 16, 17)}


def test_a_refused_call_that_is_not_an_outage_leaves_the_circuit_closed(embedded) -> None:
    """A call whose data the store refuses says nothing about the store: the next one is tried."""
    from crawler.errors import StorageError

    service, stats = _service(embedded, _Clock())

    def bad(store):
        raise StorageError("crawl run 'x': duplicate _id")

    try:
        for _ in range(3):
            with pytest.raises(StorageError, match="duplicate"):
                service.call_blocking(bad)
        service.call_blocking(_write(1))
    finally:
        service.store.close()
    assert stats.get_value("newsmon/store/circuit/opened") is None
    assert stats.get_value("newsmon/store/unavailable") is None
