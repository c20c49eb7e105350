"""A queued crawl whose worker died: its processes die with it, and the scheduler's tick queues it again.

Without this a SIGKILLed worker (the OOM killer, a lost machine) left its RQ work horse and crawl
child running unsupervised, and the site's job ``started`` until RQ's own clean-up, every ten
minutes, so its next due runs were refused as ``already_queued``:

    dying     the horse asks Linux (``PR_SET_PDEATHSIG``) for a signal when the worker dies and then
              SIGKILLs its process group: itself, the crawl child, the crawl's extraction processes
    recovery  ``recover_dead_job``, called by ``enqueue_crawl`` when the site's job exists: RQ's
              started-registry clean-up first (heartbeat gone), else a started job whose site lock
              nobody renewed for ``REDIS_LOCK_SECONDS``; the job is deleted, its run marked killed
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["child_dies_with_parent", "horse_dies_with_worker", "recover_dead_job"]

logger = logging.getLogger(__name__)


def recover_dead_job(queue: Any, site: str, lock_seconds: float) -> bool:
    """Delete the site's job when the worker that took it is dead; True when it did.

    RQ's own clean-up of the started registry runs first (it fails jobs whose worker stopped
    sending heartbeats, ~90 s after the worker died); the site's lock catches a dead holder
    sooner: a job started more than ``lock_seconds`` ago whose lock nobody renews."""
    from datetime import UTC, datetime

    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus
    from rq.registry import StartedJobRegistry
    from rq.worker import Worker

    from crawler.distributed import job_id, lock_key

    client = queue.connection
    StartedJobRegistry(queue=queue).cleanup()
    try:
        job = Job.fetch(job_id(site), connection=client)
    except NoSuchJobError:
        return False
    status = job.get_status()
    why = None
    if status == JobStatus.FAILED and "AbandonedJobError" in str(job.exc_info or ""):
        why = "RQ found its worker's heartbeat gone"
    elif status == JobStatus.STARTED:
        started = job.started_at.replace(tzinfo=UTC) if job.started_at else None
        if job.worker_name and not client.exists(Worker.redis_worker_namespace_prefix + job.worker_name):
            why = f"worker {job.worker_name} has no heartbeat"
        elif started and not client.exists(lock_key(site)) and \
                (datetime.now(UTC) - started).total_seconds() > lock_seconds:
            why = f"no worker has renewed its lock since it started at {started:%H:%M:%S}"
    if why is None:
        return False
    run_id = job.meta.get("run_id")
    job.delete()
    _mark_killed(run_id)
    logger.warning("Crawl of %s was taken by a dead worker (%s): run %s marked killed, queued again",
                   site, why, run_id)
    return True


def _mark_killed(run_id: str | None) -> None:
    """End a dead worker's ``running`` run as ``killed`` (its crawl child may have done it already)."""
    from datetime import UTC, datetime

    from crawler.scheduler import _settings
    from pipelines.storage.config import StoreConfig

    if not run_id:
        return
    store = StoreConfig.from_settings(_settings()).create()
    store.open()
    try:
        run = next(iter(store.find("crawl_runs", {"_id": run_id}, limit=1)), None)
        if run is not None and run.get("outcome") == "running":
            store.update_run(run_id, {"outcome": "killed", "finish_reason": "worker gone", "exit_code": None,
                                      "finished_at": datetime.now(UTC)})
    finally:
        store.close()


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None  # elsewhere a dead worker's children run on until their own limits
    import ctypes

    return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]


# Sent to the horse when its worker dies; no one else sends it (RQ's own are SIGTERM/SIGKILL/SIGRTMIN).
_WORKER_GONE = signal.SIGUSR2


def horse_dies_with_worker() -> None:
    """When the worker dies, SIGKILL the horse's process group: itself, its crawl child and the
    crawl's extraction processes (RQ puts the horse in a group of its own, as its cold shutdown
    kills it). The crawl child alone would not do: its forkserver helpers outlive a killed crawl."""
    prctl = _prctl()
    if prctl is None or os.getpgrp() != os.getpid():  # only in a horse RQ made a group leader
        return
    signal.signal(_WORKER_GONE, lambda *_: os.killpg(os.getpgrp(), signal.SIGKILL))
    prctl(_PR_SET_PDEATHSIG, _WORKER_GONE, 0, 0, 0)


def child_dies_with_parent(signum: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` giving a child process ``signum`` when its parent dies.

    SIGKILL, not Scrapy's graceful SIGTERM: the supervisor is gone, so nothing would bound a
    graceful stop. (A graceful stop once made the re-queued crawl miss articles: the stopped
    crawl saved the validators of listings whose links it had not all followed. A crawl that
    ends other than ``finished`` keeps none now, ``crawler/incremental.py``.) Killed outright it
    saves no fetch state, and the re-queued crawl fetches every page again (what was stored
    comes back unchanged). This covers a horse killed alone; when the worker dies the horse
    kills its whole group.

    The C function is looked up before the fork, so the child only makes the call; a parent that
    died before it is seen in ``getppid`` and the child ends at once."""
    prctl, parent = _prctl(), os.getpid()
    if prctl is None:
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return preexec
