"""The one exception tree of newsmon.

    NewsmonError                 base: a user-facing problem, printed as one line by the CLI
    ├── ConfigError              a bad setting, argument or environment variable
    │   └── ProfileError         a site profile that does not validate (names file and key)
    ├── StorageError             the store is unreachable or refused a whole operation
    │   └── CircuitOpenError     a call not tried: the store was found down moments ago
    └── QueueError               Redis (REDIS_URL: job queue, locks, shared frontier) is unreachable

Third-party errors (pymongo, redis, sqlite3, tomllib) are wrapped once, at the boundary that calls them,
with ``raise ... from exc`` so the cause stays in the traceback for debugging.
"""

from __future__ import annotations

__all__ = ["CircuitOpenError", "ConfigError", "NewsmonError", "ProfileError", "QueueError", "StorageError"]


class NewsmonError(Exception):
    """Base of every error newsmon raises on purpose."""


class ConfigError(NewsmonError):
    """A setting, argument or environment variable has a bad value."""


class ProfileError(ConfigError):
    """A site profile failed validation."""

    def __init__(self, path: str, key: str, problem: str,
                 more: tuple[tuple[str, str], ...] = ()) -> None:
        self.path, self.key, self.problem = path, key, problem
        self.more = more  # further (key, problem) pairs found in the same file
        text = "; ".join(f"{k}: {p}" for k, p in ((key, problem), *more))
        super().__init__(f"{path}: {text}")

    @property
    def problems(self) -> list[tuple[str, str]]:
        """Every (key, problem) of the file, the first one first."""
        return [(self.key, self.problem), *self.more]

    @classmethod
    def combine(cls, errors: list[ProfileError]) -> ProfileError:
        """One error (one line) carrying every problem of one file, in the order found."""
        pairs = [pair for error in errors for pair in error.problems]
        (key, problem), *more = pairs
        return cls(errors[0].path, key, problem, tuple(more))


class StorageError(NewsmonError):
    """The store cannot be reached or refused an operation as a whole."""


class CircuitOpenError(StorageError):
    """A store call not even tried: the store was found unusable moments ago and its back-off
    window is still open (``pipelines.storage.service``). The outage itself was logged once, when
    the window opened; callers journal their items without logging each refusal."""


class QueueError(NewsmonError):
    """Redis, which holds the crawl queue, the site locks and the shared frontier, failed."""
