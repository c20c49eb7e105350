"""Files ``newsmon import-spool`` takes: journal files, and the spool files of earlier versions.

Earlier versions kept a batch the store refused as ``NEWSMON_DATA_DIR/spool/<collection>-<time>.jsonl``
(one stored document per line). ``spool_records`` turns such a file into journal records (the
item's fields) so it is replayed through the item path like the journal, deduplicated and
flagged, instead of being upserted as it was.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.errors import ConfigError
from pipelines.journal import read_journal

__all__ = ["DATETIME_FIELDS", "file_records"]

# Fields that hold datetimes in spooled documents, written there as ISO 8601 strings.
DATETIME_FIELDS = frozenset({"published", "modified", "fetched_at", "first_seen", "last_seen"})
# What a spooled document holds that an item does not.
_STORED_ONLY = ("_id", "schema_version", "first_seen", "last_seen", "times_seen", "minhash", "shingles",
                "dedupe_keys", "aliases", "revision", "updated_at", "versions")


def _spool_records(path: Path) -> list[tuple[str, dict[str, Any]]]:
    collection = path.name.split("-", 1)[0]
    kind = {"articles": "article", "feed_snippets": "snippet"}[collection]
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(doc, dict) or "_id" not in doc:
                raise ConfigError(f"{path}:{number}: not a spooled document")
            for key in DATETIME_FIELDS & doc.keys():
                if isinstance(doc[key], str):
                    doc[key] = datetime.fromisoformat(doc[key])
            if kind == "snippet":
                doc.setdefault("fingerprint", doc["_id"])
            records.append((kind, {k: v for k, v in doc.items() if k not in _STORED_ONLY}))
    return records


def file_records(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(journal kind, record) of every line of a journal file or an old spool file."""
    name = path.name
    if name.startswith(("articles-", "feed_snippets-")):
        return _spool_records(path)
    if name.endswith(".jsonl"):
        try:
            return list(read_journal(path))
        except ConfigError as exc:
            raise ConfigError(f"{exc} (expected a journal file or an old articles-…/feed_snippets-… "
                              "spool file)") from None
    raise ConfigError(f"{path}: not a spool file (expected a journal <site>.jsonl or articles-…/"
                      "feed_snippets-…)")
