"""The re-crawl service: every site on its interval, one child process per crawl, never overlapping.

APScheduler 3.x runs one interval job per site (``max_instances=1``, missed runs coalesced, a
misfire grace time). A job starts ``newsmon crawl SITE`` as a child process, because a Twisted
reactor cannot be restarted and a crash in one crawl must not take the service down. The parent
records the run in ``crawl_runs`` before it starts the child and completes it afterwards, so a
crawl that crashes or hangs is recorded too:

    finished   the child exited 0 (its own recorder wrote the stats)
    failed     the child exited non-zero
    timed_out  the child outlived RUN_TIMEOUT: SIGINT (Scrapy's graceful stop), SIGKILL after the grace
    killed     the service was stopped during the crawl, or the child died of a signal

With a Redis URL (``queue``, from ``REDIS_URL``) the service starts no child itself: each due crawl
is queued for ``newsmon worker`` processes (crawler/distributed.py), which run it the same way
under a per-site lock; a site whose job a dead worker took is queued again by the next tick.

Job state lives in MongoDB (APScheduler's MongoDBJobStore) when ``MONGO_URI`` is set, else in a
SQLite file beside the embedded store, so a restart neither re-runs every site at once nor forgets
when each site last ran.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from crawler.distributed import RedisConfig, enqueue_crawl, use_config
from crawler.errors import ConfigError
from pipelines.storage.config import StoreConfig
from pipelines.identity import SCHEMA_VERSION

__all__ = ["CrawlLauncher", "ScheduleConfig", "ScheduledJob", "run_due_once", "run_scheduled_crawl",
           "scheduled_jobs", "serve"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduleConfig:
    """How the service runs crawls (command-line options and settings, validated once)."""

    sites: tuple[str, ...]
    intervals: dict[str, float]  # site -> seconds between runs
    run_timeout: float = 3600.0  # wall-clock limit of one crawl, seconds
    stop_grace: float = 30.0  # SIGINT -> SIGKILL
    jitter: float = 0.0  # seconds of random delay added to each run
    misfire_grace: float = 300.0
    crawl_args: tuple[str, ...] = ()  # extra `newsmon crawl` arguments (-a/-s pairs)
    store: StoreConfig | None = None
    metrics_port: int | None = None  # METRICS_PORT: Prometheus /metrics served while it runs (None = off)
    metrics_address: str = "127.0.0.1"
    metrics_poll: float = 15.0  # queued mode: seconds between reads of the runs workers recorded
    queue: RedisConfig | None = None  # REDIS_URL set: due crawls go to workers through Redis

    def __post_init__(self) -> None:
        if self.run_timeout <= 0 or self.stop_grace < 0 or self.jitter < 0:
            raise ConfigError("--timeout must be > 0, --grace and --jitter >= 0")
        for site, seconds in self.intervals.items():
            if seconds <= 0:
                raise ConfigError(f"interval of {site} must be > 0 seconds")


@dataclass
class CrawlLauncher:
    """Starts crawl child processes and remembers the running ones, so shutdown can stop them."""

    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def stop_all(self, grace: float) -> None:
        """SIGINT every running crawl (Scrapy stops gracefully), SIGKILL what outlives ``grace``."""
        self.stopping.set()
        with self.lock:
            children = list(self.running.values())
        for child in children:
            _signal(child, signal.SIGINT)
        deadline = time.monotonic() + grace
        for child in children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(child, signal.SIGKILL)
                child.wait()


# One launcher per service process: APScheduler calls jobs by reference ("module:function") with
# picklable arguments only, so the running children are found through this module attribute.
LAUNCHER = CrawlLauncher()
# The service's Prometheus metrics while `serve` runs with a metrics port (crawler/metrics.py).
METRICS: Any = None


def _signal(child: subprocess.Popen[bytes], signum: int) -> None:
    try:
        child.send_signal(signum)
    except ProcessLookupError:
        pass


def _crawl_command(site: str, crawl_args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "crawler.cli", "crawl", site, *crawl_args]


def run_scheduled_crawl(site: str, run_timeout: float, stop_grace: float,
                        crawl_args: Sequence[str] = (), trigger: str = "schedule", run_id: str | None = None,
                        preexec_fn: Callable[[], None] | None = None) -> str:
    """Run one crawl of ``site`` in a child process and record it; returns the outcome.

    A queued crawl passes its ``run_id`` (kept in its RQ job, so a dead worker's run can be ended)
    and a ``preexec_fn`` that makes the child die with the worker."""
    config = StoreConfig.from_settings(_settings())
    run_id = run_id or uuid.uuid4().hex
    store = config.create()
    store.open()
    try:
        store.insert_run({
            "_id": run_id, "schema_version": SCHEMA_VERSION, "site": site, "trigger": trigger,
            "started_at": datetime.now(UTC), "finished_at": None, "outcome": "running",
        })
        env = dict(os.environ, NEWSMON_RUN_ID=run_id, NEWSMON_RUN_TRIGGER=trigger)
        launcher = LAUNCHER
        if launcher.stopping.is_set():
            outcome, code = "killed", None
        else:
            child = subprocess.Popen(_crawl_command(site, crawl_args), env=env, preexec_fn=preexec_fn,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            with launcher.lock:
                launcher.running[run_id] = child
            logger.info("Started crawl of %s (run %s, pid %d)", site, run_id, child.pid)
            outcome, code = _wait(child, run_timeout, stop_grace, launcher)
            with launcher.lock:
                launcher.running.pop(run_id, None)
        fields: dict[str, Any] = {"exit_code": code, "finished_at": datetime.now(UTC)}
        current = next(iter(store.find("crawl_runs", {"_id": run_id}, limit=1)), {})
        recorded = current.get("outcome") if current.get("finish_reason") else None
        if (recorded and outcome != "timed_out") or outcome == "finished":
            # The child recorded how its crawl ended (finished, degraded, failed; a stop signal
            # may still have reached it while it was exiting); a child that exited 0 without
            # recording simply finished.
            outcome = recorded or outcome
        fields["outcome"] = outcome
        store.update_run(run_id, fields)
        if METRICS is not None:
            METRICS.observe(next(iter(store.find("crawl_runs", {"_id": run_id}, limit=1)), {**current, **fields}))
        logger.info("Crawl of %s (run %s): %s, exit code %s", site, run_id, outcome, code)
        return outcome
    finally:
        store.close()


def _wait(child: subprocess.Popen[bytes], run_timeout: float, stop_grace: float,
          launcher: CrawlLauncher) -> tuple[str, int | None]:
    """Wait for the child within its time limit; stop it cleanly when it overruns."""
    try:
        _, stderr = child.communicate(timeout=run_timeout)
    except subprocess.TimeoutExpired:
        logger.warning("Crawl pid %d exceeded %.0fs: stopping it", child.pid, run_timeout)
        _signal(child, signal.SIGINT)
        try:
            child.communicate(timeout=stop_grace)
        except subprocess.TimeoutExpired:
            _signal(child, signal.SIGKILL)
            child.communicate()
        return "timed_out", child.returncode
    code = child.returncode
    if code:
        tail = (stderr or b"").decode("utf-8", "replace").strip().splitlines()[-5:]
        logger.warning("Crawl pid %d exited with %s: %s", child.pid, code, " | ".join(tail))
    if launcher.stopping.is_set() and code != 0:
        return "killed", code
    if code == 0:
        return "finished", code
    return ("killed" if code < 0 else "failed"), code


def _settings() -> Any:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.utils.project import get_project_settings

    return get_project_settings()


def _last_started(config: StoreConfig, site: str) -> datetime | None:
    store = config.create()
    store.open()
    try:
        last = next(iter(store.find("crawl_runs", {"site": site}, sort=[("started_at", -1)], limit=1)), None)
    finally:
        store.close()
    return last["started_at"] if last else None


def run_due_once(config: ScheduleConfig) -> dict[str, str]:
    """``--once``: crawl each site whose interval has passed since its last run; returns outcomes."""
    assert config.store is not None
    LAUNCHER.stopping.clear()
    if config.queue is not None:
        use_config(config.queue)  # the -s REDIS_* overrides of this command, not only the settings
    outcomes = {}
    now = datetime.now(UTC)
    for site in config.sites:
        last = _last_started(config.store, site)
        if last is not None and now - last < timedelta(seconds=config.intervals[site]):
            outcomes[site] = "not_due"
            continue
        dispatch = enqueue_crawl if config.queue else run_scheduled_crawl
        outcomes[site] = dispatch(site, config.run_timeout, config.stop_grace, config.crawl_args)
    return outcomes


def _job_store(store: StoreConfig) -> Any:
    if store.mongo_uri:
        from apscheduler.jobstores.mongodb import MongoDBJobStore
        from pymongo import MongoClient

        client: MongoClient[Any] = MongoClient(store.mongo_uri, serverSelectionTimeoutMS=5000)
        return MongoDBJobStore(database=store.mongo_database, collection="scheduler_jobs", client=client)
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    store.data_dir.mkdir(parents=True, exist_ok=True)
    return SQLAlchemyJobStore(url=f"sqlite:///{store.data_dir / 'scheduler.sqlite3'}")


@dataclass(frozen=True)
class ScheduledJob:
    """What the service has on record for one site: its interval and next run (None = paused)."""

    interval: timedelta
    next_run: datetime | None


def scheduled_jobs(store: StoreConfig) -> dict[str, ScheduledJob]:
    """The service's jobs by site, read from its job store without creating or changing it.

    ``newsmon status`` reads them so "next due" is the time and interval the service runs with
    (``--interval`` or the profile's ``recrawl_minutes``); no job store yet gives ``{}``.
    """
    import pickle

    rows: list[tuple[str, float | None, bytes]] = []
    if store.mongo_uri:
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        try:
            with MongoClient(store.mongo_uri, serverSelectionTimeoutMS=5000) as client:
                for doc in client[store.mongo_database]["scheduler_jobs"].find():
                    rows.append((doc["_id"], doc.get("next_run_time"), doc["job_state"]))
        except PyMongoError:
            return {}
    else:
        import sqlite3

        path = store.data_dir / "scheduler.sqlite3"
        if not path.exists():
            return {}
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                rows = db.execute("SELECT id, next_run_time, job_state FROM apscheduler_jobs").fetchall()
        except sqlite3.Error:
            return {}
    jobs = {}
    for job_id, next_run, state in rows:
        if not job_id.startswith("crawl:"):
            continue
        interval = getattr(pickle.loads(state).get("trigger"), "interval", None)
        if isinstance(interval, timedelta):
            jobs[job_id.removeprefix("crawl:")] = ScheduledJob(
                interval, datetime.fromtimestamp(next_run, UTC) if next_run is not None else None)
    return jobs


def serve(config: ScheduleConfig, stop: threading.Event | None = None,
          ready: threading.Event | None = None) -> int:
    """Run the scheduler until SIGTERM/SIGINT (or ``stop`` is set); returns the exit status.

    ``ready`` is set once every job is scheduled (tests and embedding programs wait on it)."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    assert config.store is not None
    stop = stop or threading.Event()
    LAUNCHER.stopping.clear()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    scheduler = BackgroundScheduler(
        # "local": the service's own housekeeping, not persisted (it holds a function and a config).
        jobstores={"default": _job_store(config.store), "local": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=max(1, len(config.sites))),
                   "local": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": int(config.misfire_grace)},
        timezone=UTC,
    )
    if config.queue is not None:
        config.queue.connect()  # an unreachable Redis is one line now, not a failed job per run
        use_config(config.queue)
    dispatch = enqueue_crawl if config.queue else run_scheduled_crawl
    metrics = _start_metrics(config)
    scheduler.start(paused=True)
    wanted = {f"crawl:{site}" for site in config.sites}
    for job in scheduler.get_jobs():
        if job.id.startswith("crawl:") and job.id not in wanted:
            job.remove()  # a site no longer scheduled by this service
    for site in config.sites:
        seconds = config.intervals[site]
        trigger = IntervalTrigger(seconds=seconds, jitter=int(config.jitter) or None, timezone=UTC)
        kwargs = {"site": site, "run_timeout": config.run_timeout, "stop_grace": config.stop_grace,
                  "crawl_args": list(config.crawl_args)}
        job = scheduler.get_job(f"crawl:{site}")
        if job is not None and getattr(job.trigger, "interval", None) == timedelta(seconds=seconds):
            # Known site, same interval: keep its next run time from before the restart.
            job.modify(func=dispatch, kwargs=kwargs)
            logger.info("Resuming %s: next run %s", site, job.next_run_time)
            continue
        last = _last_started(config.store, site)
        first = datetime.now(UTC) if last is None else max(datetime.now(UTC), last + timedelta(seconds=seconds))
        scheduler.add_job(dispatch, trigger, id=f"crawl:{site}", name=f"crawl {site}",
                          kwargs=kwargs, next_run_time=first, replace_existing=True)
        logger.info("Scheduled %s every %.0fs, first run %s", site, seconds, first)
    if metrics is not None and config.queue is not None:
        # The workers end the crawls: count the runs they record, read from the store they share.
        scheduler.add_job(_follow_worker_runs, IntervalTrigger(seconds=config.metrics_poll, timezone=UTC),
                          id="metrics:worker-runs", jobstore="local", executor="local",
                          kwargs={"config": config, "started": datetime.now(UTC)},
                          next_run_time=datetime.now(UTC))
    scheduler.resume()
    if ready is not None:
        ready.set()
    print(f"newsmon schedule: {len(config.sites)} site(s), store {config.store.create().describe()}; "
          "Ctrl-C or SIGTERM stops", file=sys.stderr, flush=True)
    stop.wait()
    print("newsmon schedule: stopping (running crawls get "
          f"{config.stop_grace:.0f}s to finish)", file=sys.stderr, flush=True)
    scheduler.pause()
    LAUNCHER.stop_all(config.stop_grace)
    scheduler.shutdown(wait=True)
    if metrics is not None:
        metrics.stop()
    return 0


def _follow_worker_runs(config: ScheduleConfig, started: datetime) -> None:
    """Queued mode: count in /metrics the runs of this service's sites that workers completed."""
    from crawler.errors import StorageError
    from crawler.metrics import FOLLOW_WINDOW

    metrics = METRICS
    if metrics is None or config.store is None:
        return
    since = max(started, datetime.now(UTC) - FOLLOW_WINDOW)
    store = config.store.create()
    try:
        store.open()
        runs = list(store.find("crawl_runs", {"site": {"$in": list(config.sites)}, "finished_at": {"$gte": since}}))
    except StorageError as exc:  # the next poll reads them; nothing is lost by waiting
        logger.warning("Could not read the workers' runs for /metrics: %s", exc)
        return
    finally:
        store.close()
    counted = metrics.follow(runs, since)
    if counted:
        logger.info("Metrics: counted %d run(s) completed by workers", counted)


def _start_metrics(config: ScheduleConfig) -> Any:
    """The metrics exporter when ``metrics_port`` is set, its per-site gauges seeded from the store."""
    global METRICS
    if config.metrics_port is None:
        METRICS = None
        return None
    from crawler.metrics import SchedulerMetrics

    assert config.store is not None
    metrics = SchedulerMetrics()
    store = config.store.create()
    store.open()
    try:
        metrics.seed(store.find("crawl_runs", {"site": {"$in": list(config.sites)}}, sort=[("started_at", -1)],
                                limit=20 * max(1, len(config.sites))))
    finally:
        store.close()
    port = metrics.start(config.metrics_port, config.metrics_address)
    print(f"newsmon schedule: metrics on http://{config.metrics_address}:{port}/metrics", file=sys.stderr,
          flush=True)
    METRICS = metrics
    return metrics
