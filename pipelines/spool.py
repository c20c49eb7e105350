"""The spool: batches the store refused as a whole, kept as JSON lines until they can be written.

``StorePipeline`` writes a file per refused batch (``<collection>-<time>.jsonl`` under
``NEWSMON_DATA_DIR/spool/``); ``newsmon import-spool`` reads it back through this module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.errors import ConfigError
from pipelines.storage.base import Store, WriteSummary

__all__ = ["DATETIME_FIELDS", "import_spool_file", "write_spool_file"]

# Fields that hold datetimes in stored documents: JSON has no datetime, so the spool writes them
# as ISO 8601 strings and the import turns these back.
DATETIME_FIELDS = frozenset({"published", "modified", "fetched_at", "first_seen", "last_seen"})


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def write_spool_file(directory: Path, collection: str, docs: Iterable[Mapping[str, Any]]) -> Path:
    """Write one refused batch; returns the file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = directory / f"{collection}-{stamp}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for doc in docs:
            handle.write(json.dumps(doc, default=_default, ensure_ascii=False) + "\n")
    return path


def import_spool_file(store: Store, path: Path) -> WriteSummary:
    """Upsert one spool file's documents into ``store`` (the collection is in the file name)."""
    collection = path.name.split("-", 1)[0]
    if collection not in ("articles", "feed_snippets"):
        raise ConfigError(f"{path}: not a spool file (expected articles-… or feed_snippets-…)")
    docs = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            for key in DATETIME_FIELDS & doc.keys():
                if isinstance(doc[key], str):
                    doc[key] = datetime.fromisoformat(doc[key])
            docs.append(doc)
    write = store.upsert_articles if collection == "articles" else store.upsert_snippets
    return write(docs)
