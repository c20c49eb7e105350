"""The journal: whatever could not be written to the store, kept on disk until it can be.

One append-only JSON-lines file per site, ``NEWSMON_DATA_DIR/journal/<site>.jsonl``; every append
is flushed and ``fsync``'d before the caller counts it as journaled, so a crash right after loses
nothing. A line is ``{"kind": ..., "record": ...}``:

- ``article`` / ``snippet``: an item as it left cleaning (its fields), replayed through the whole
  item path (identity → topics → store) so it is deduplicated and flagged like a fresh one;
- ``flags``: topic flags of documents that were stored (their write failed after them);
- ``fetch_state``: fetch-state documents; ``run``: a crawl_runs document.

Replay happens automatically at the start of the site's next crawl (and through
``newsmon import-spool``): ``take()`` renames the live file to ``<site>.<time>.replay.jsonl`` so
new failures go to a fresh file, the crawl replays every replay file of the site in order, and
``finish()`` removes them once the crawl has closed (what failed again is in the live file by
then). A crawl killed while replaying leaves its replay files; the next one replays them again,
which changes nothing: identity decides a replayed item ``unchanged`` (and a sighting no newer than
the stored one is not counted twice), flags and fetch state are keyed writes.

Values are JSON, with datetimes written as ``{"$date": "<ISO 8601 UTC>"}``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.errors import ConfigError

__all__ = ["KINDS", "Journal", "decode_value", "encode_value", "journal_sites", "read_journal"]

logger = logging.getLogger(__name__)

KINDS = ("article", "snippet", "flags", "fetch_state", "run")
_SITE = re.compile(r"^[A-Za-z0-9_-]+$")


def encode_value(value: Any) -> Any:
    """``value`` with datetimes as ``{"$date": iso}`` (JSON has no datetime)."""
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return {"$date": value.astimezone(UTC).isoformat()}
    if isinstance(value, Mapping):
        return {k: encode_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_value(v) for v in value]
    return value


def decode_value(value: Any) -> Any:
    """Invert ``encode_value``."""
    if isinstance(value, dict):
        if len(value) == 1 and "$date" in value and isinstance(value["$date"], str):
            return datetime.fromisoformat(value["$date"])
        return {k: decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    return value


def read_journal(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind, record) of every line of a journal file; a torn last line (crash mid-write) is
    skipped with a warning, any other bad line is a ``ConfigError`` naming file and line."""
    with path.open(encoding="utf-8") as handle:
        lines = handle.readlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            kind, record = entry["kind"], decode_value(entry["record"])
        except (ValueError, KeyError, TypeError) as exc:
            if number == len(lines) and not line.endswith("\n"):
                logger.warning("%s:%d: skipping a torn last line (the writer was killed)", path, number)
                continue
            raise ConfigError(f"{path}:{number}: not a journal line ({exc})") from exc
        if kind not in KINDS:
            raise ConfigError(f"{path}:{number}: unknown journal kind {kind!r}")
        yield kind, record


class Journal:
    """One site's journal files under ``directory``."""

    def __init__(self, directory: Path, site: str) -> None:
        if not _SITE.match(site):
            raise ConfigError(f"site name {site!r} cannot name a journal file")
        self.directory = directory
        self.site = site
        self.path = directory / f"{site}.jsonl"

    def append(self, kind: str, records: Iterable[Mapping[str, Any]]) -> int:
        """Append records durably; returns how many. Raises ``OSError`` if the disk refuses."""
        if kind not in KINDS:
            raise ValueError(f"unknown journal kind {kind!r}")
        lines = [json.dumps({"kind": kind, "record": encode_value(r)}, ensure_ascii=False) + "\n"
                 for r in records]
        if not lines:
            return 0
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("".join(lines))
            handle.flush()
            os.fsync(handle.fileno())
        return len(lines)

    def replay_files(self) -> list[Path]:
        """The site's replay files, oldest first."""
        return sorted(self.directory.glob(f"{self.site}.*.replay.jsonl"))

    def take(self) -> list[Path]:
        """Set the live file aside for replay; every replay file of the site, oldest first."""
        if self.path.exists() and self.path.stat().st_size:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            self.path.rename(self.directory / f"{self.site}.{stamp}.replay.jsonl")
        return self.replay_files()

    def finish(self, paths: Iterable[Path]) -> None:
        """Remove replayed files (after the crawl that replayed them has closed)."""
        for path in paths:
            try:
                path.unlink()
            except FileNotFoundError:
                pass

    def pending(self) -> int:
        """How many lines wait in the live file and in replay files."""
        total = 0
        for path in [self.path, *self.replay_files()]:
            if path.exists():
                with path.open(encoding="utf-8") as handle:
                    total += sum(1 for line in handle if line.strip())
        return total


def journal_sites(directory: Path) -> list[str]:
    """Sites with anything in their journal under ``directory``."""
    if not directory.is_dir():
        return []
    sites = set()
    for path in directory.glob("*.jsonl"):
        sites.add(path.name.split(".", 1)[0])
    return sorted(sites)
