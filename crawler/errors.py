"""The one exception tree of newsmon.

    NewsmonError                 base: a user-facing problem, printed as one line by the CLI
    ├── ConfigError              a bad setting, argument or environment variable
    │   └── ProfileError         a site profile that does not validate (names file and key)
    └── StorageError             the store is unreachable or refused a whole operation

Third-party errors (pymongo, sqlite3, tomllib) are wrapped once, at the boundary that calls them,
with ``raise ... from exc`` so the cause stays in the traceback for debugging.
"""

from __future__ import annotations

__all__ = ["ConfigError", "NewsmonError", "ProfileError", "StorageError"]


class NewsmonError(Exception):
    """Base of every error newsmon raises on purpose."""


class ConfigError(NewsmonError):
    """A setting, argument or environment variable has a bad value."""


class ProfileError(ConfigError):
    """A site profile failed validation."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        super().__init__(f"{path}: {key}: {problem}")


class StorageError(NewsmonError):
    """The store cannot be reached or refused an operation as a whole."""
