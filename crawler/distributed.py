"""Crawls handed to workers through Redis: the scheduler queues them, ``newsmon worker`` runs them.

With ``REDIS_URL`` (env ``NEWSMON_REDIS_URL``) set, ``newsmon schedule`` starts no crawl itself:
each due site becomes a job on the RQ queue ``REDIS_QUEUE``. RQ was picked over Celery because a
job here is one function call that starts a child process: RQ needs only Redis and a function
path, no broker configuration or result backend. Two guards make a due crawl run once, on one
worker:

    queued   the job id is ``crawl-<site>``, enqueued with RQ's ``unique=True``: a site already
             waiting in the queue is not queued twice (``already_queued``)
    running  the worker takes the site's lock (``newsmon:lock:crawl:<site>``, a redis-py lock
             expiring after ``REDIS_LOCK_SECONDS`` and renewed every third of that while the crawl
             runs); a job whose site is locked elsewhere returns ``skipped_running`` at once

A worker that dies is recovered by the scheduler's next tick, not by RQ's ten-minute registry
clean-up: when the site's job is still ``started`` but RQ's heartbeat of its worker is gone, or
nobody holds the site's lock although the job started more than ``REDIS_LOCK_SECONDS`` ago (a live
holder renews it every third of that), the job is deleted, its run marked ``killed`` and the site
queued again (``requeued_dead_worker``). The dead worker's processes do not run on unsupervised: the
work horse RQ forks is told when the worker dies (Linux ``PR_SET_PDEATHSIG``) and SIGKILLs its
process group: itself, the crawl child and the crawl's extraction processes (a crawl child whose
horse died alone gets SIGKILL too); the run is marked ``killed`` by the tick (or ``reap_dead_runs``).
The crawl itself is the scheduler's (``scheduler.run_scheduled_crawl``: a child process, recorded in
``crawl_runs`` by the store every worker shares, so the workers need MongoDB when they run on more
than one machine).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crawler.deadworker import child_dies_with_parent, horse_dies_with_worker, recover_dead_job
from crawler.errors import QueueError

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["RedisConfig", "enqueue_crawl", "job_id", "lock_key", "run_queued_crawl", "run_worker", "site_lock",
           "use_config"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RedisConfig:
    """REDIS_* settings, read once (``from_settings`` gives None when REDIS_URL is unset)."""

    url: str
    queue: str = "newsmon"
    lock_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Any) -> RedisConfig | None:
        """Environment first (``NEWSMON_REDIS_URL``), then settings; validated by crawler/checks.py."""
        from crawler.checks import check_setting

        url = check_setting(settings, "REDIS_URL")
        if not url:
            return None
        return cls(url=url, queue=check_setting(settings, "REDIS_QUEUE"),
                   lock_seconds=check_setting(settings, "REDIS_LOCK_SECONDS"))

    def connect(self) -> Redis:
        """A client checked with PING, so an unreachable Redis is one line, not a traceback later."""
        from redis import Redis
        from redis.exceptions import RedisError

        client = Redis.from_url(self.url, socket_connect_timeout=5)
        try:
            client.ping()
        except RedisError as exc:
            from pipelines.storage.mongo import mask_uri

            raise QueueError(f"Redis at {mask_uri(self.url)} is unreachable: {exc}") from exc
        return client


# The configuration the running command was given (`schedule`/`worker` with their -s overrides):
# the scheduler's jobs run in its process and RQ's work horses are forks of the worker, so both
# see it; read from the project settings only when no command set it.
_COMMAND_CONFIG: RedisConfig | None = None


def use_config(config: RedisConfig) -> None:
    """Make ``config`` the one this process's queueing and queued crawls use."""
    global _COMMAND_CONFIG
    _COMMAND_CONFIG = config


def _config() -> RedisConfig:
    from crawler.scheduler import _settings

    if _COMMAND_CONFIG is not None:
        return _COMMAND_CONFIG
    config = RedisConfig.from_settings(_settings())
    if config is None:
        raise QueueError("REDIS_URL (or NEWSMON_REDIS_URL) is not set")
    return config


def job_id(site: str) -> str:
    """The RQ job id of a site's crawl: one id per site is what makes a queued site unique."""
    return f"crawl-{site}"


def lock_key(site: str) -> str:
    """The Redis key of a site's crawl lock (held by the worker running its crawl)."""
    return f"newsmon:lock:crawl:{site}"


def enqueue_crawl(site: str, run_timeout: float, stop_grace: float, crawl_args: Sequence[str] = (),
                  trigger: str = "schedule") -> str:
    """Queue one crawl of ``site`` for a worker: ``queued``, or ``already_queued`` when it waits already.

    The scheduler's job function when REDIS_URL is set; it reads the URL from the environment and
    settings, so no credential is written into the scheduler's job store."""
    from redis.exceptions import RedisError
    from rq import Queue
    from rq.exceptions import DuplicateJobError

    config = _config()
    queue = Queue(config.queue, connection=config.connect())

    def enqueue() -> None:
        queue.enqueue_call(run_queued_crawl, job_id=job_id(site), unique=True,
                           kwargs={"site": site, "run_timeout": run_timeout, "stop_grace": stop_grace,
                                   "crawl_args": list(crawl_args), "trigger": trigger},
                           # RQ kills a job that outlives this; the crawl's own limit comes first.
                           timeout=int(run_timeout + stop_grace + 60),
                           # A job id is unique while its job exists: a finished one goes at once,
                           # a failed one a minute later, so it holds up the site's next run no longer.
                           result_ttl=0, failure_ttl=60, description=f"crawl {site}")

    try:
        try:
            enqueue()
        except DuplicateJobError:
            if not recover_dead_job(queue, site, config.lock_seconds):
                logger.info("Crawl of %s is queued already: not queued again", site)
                return "already_queued"
            enqueue()
            return "requeued_dead_worker"
    except DuplicateJobError:  # another scheduler queued it between the clean-up and our enqueue
        return "already_queued"
    except RedisError as exc:
        raise QueueError(f"cannot queue the crawl of {site}: {exc}") from exc
    logger.info("Queued crawl of %s on %s", site, config.queue)
    return "queued"


@contextmanager
def site_lock(client: Redis, site: str, seconds: float) -> Iterator[bool]:
    """Hold the crawl lock of ``site`` while the block runs; yields False when another holds it.

    The lock expires ``seconds`` after its last renewal: a thread renews it every third of that,
    so only a holder that died (or hung past its renewals) loses it."""
    # thread_local=False: redis-py keeps a lock's token per thread by default, and the renewing
    # thread below is not the one that took it (its renewals failed, so the lock lapsed mid-crawl).
    lock = client.lock(lock_key(site), timeout=seconds, blocking=False, thread_local=False)
    if not lock.acquire():
        yield False
        return
    done = threading.Event()

    def renew() -> None:
        from redis.exceptions import RedisError

        while not done.wait(seconds / 3):
            try:
                lock.reacquire()  # back to the full expiry
            except RedisError:
                logger.warning("Could not renew the crawl lock of %s", site, exc_info=True)

    renewer = threading.Thread(target=renew, name=f"lock-{site}", daemon=True)
    renewer.start()
    try:
        yield True
    finally:
        done.set()
        renewer.join()
        from redis.exceptions import LockError

        try:
            lock.release()
        except LockError:  # expired meanwhile (a renewal failed): nothing of ours to release
            logger.warning("The crawl lock of %s had expired before the crawl ended", site)


def run_queued_crawl(site: str, run_timeout: float, stop_grace: float, crawl_args: Sequence[str] = (),
                     trigger: str = "schedule") -> str:
    """The RQ job: run the crawl under the site's lock; ``skipped_running`` when another worker has it."""
    from rq import get_current_job

    from crawler.scheduler import run_scheduled_crawl

    # This runs in RQ's work horse, forked by the worker: it must not outlive the worker (it would
    # crawl on unsupervised, its lock renewed). The fork-to-here window is RQ's and short.
    horse_dies_with_worker()
    config = _config()
    with site_lock(config.connect(), site, config.lock_seconds) as held:
        if not held:
            logger.warning("Crawl of %s is running on another worker: skipped", site)
            return "skipped_running"
        run_id = uuid.uuid4().hex
        job = get_current_job()
        if job is not None:  # so the scheduler can end the run if this worker dies
            job.meta["run_id"] = run_id
            job.save_meta()
        return run_scheduled_crawl(site, run_timeout, stop_grace, crawl_args, trigger=trigger, run_id=run_id,
                                   preexec_fn=child_dies_with_parent())


def run_worker(config: RedisConfig, burst: bool = False, name: str | None = None) -> bool:
    """Run an RQ worker on ``config.queue`` until SIGTERM/SIGINT (``burst``: until the queue is empty).

    RQ forks a work horse per job, so a crawl that crashes does not take the worker down."""
    from rq import Queue, Worker

    use_config(config)
    client = config.connect()
    worker = Worker([Queue(config.queue, connection=client)], connection=client, name=name)
    return bool(worker.work(burst=burst, logging_level="WARNING"))
