"""CPU timers in the stats: ``newsmon/time/<stage>_ms`` adds up the calling thread's CPU time per stage.

Thread CPU time (not wall time), so a stage timed on the reactor thread is not charged for what
other threads did meanwhile, and the store thread's calls are charged to the store thread only.
``bench/crawl.py`` divides them by the articles stored; a crawl's stats show them too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["cpu_timer"]


@contextmanager
def cpu_timer(stats: Any, stage: str) -> Iterator[None]:
    """Add the CPU milliseconds this thread spends in the block to ``newsmon/time/<stage>_ms``."""
    start = time.thread_time_ns()
    try:
        yield
    finally:
        if stats is not None:
            stats.inc_value(f"newsmon/time/{stage}_ms", (time.thread_time_ns() - start) / 1e6)
