"""Benchmark article upserts per second for each storage backend (not a test).

Generates N realistic article documents (~3 KB body each) and upserts them in batches into a fresh
store three times: new documents (insert path), the same documents again (unchanged path: only
``last_seen``/``times_seen`` move) and with changed content (update path). Prints one table row
per backend and phase: wall seconds and upserts/s, and the benchmark thread's CPU seconds with
upserts per CPU second (steadier on a shared machine; the embedded store does all its work on
this thread, a server's work is not in it).

    .venv/bin/python bench/storage_upserts.py                 # embedded (SQLite) only
    .venv/bin/python bench/storage_upserts.py --mongo-uri mongodb://127.0.0.1:27017/
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from pipelines.storage import MongoStore, SqliteStore, Store  # noqa: E402

__all__ = ["main", "make_articles"]

WORDS = (
    "government minister said on tuesday that the new policy would affect thousands of "
    "residents across the region while officials in kyiv warned about rising energy prices "
    "and the parliament debated a draft law on local elections reform budget security"
).split()


def make_articles(n: int, *, seed: int = 1, revision: int = 0) -> list[dict[str, Any]]:
    """``n`` article documents shaped like the crawler's (``revision`` changes the content)."""
    rng = random.Random(seed)
    base = datetime(2024, 1, 1, tzinfo=timezone.utc)
    docs = []
    for i in range(n):
        paragraphs = [" ".join(rng.choices(WORDS, k=90)) for _ in range(6)]  # ~3 KB
        body = "\n\n".join(paragraphs) + (f"\n\nUpdate {revision}." if revision else "")
        title = " ".join(rng.choices(WORDS, k=9)).capitalize()
        url = f"https://news.example/{['world', 'politics', 'business'][i % 3]}/{i}-{seed}"
        docs.append(
            {
                "_id": hashlib.sha256(url.encode()).hexdigest()[:32],
                "url": url,
                "fetched_url": url + "?utm_source=feed",
                "site": f"site{i % 5}",
                "title": title,
                "body": body,
                "section": "world",
                "authors": ["A. Writer", "B. Reporter"],
                "published": base + timedelta(minutes=7 * i),
                "modified": None,
                "summary": paragraphs[0][:200],
                "image_url": f"https://cdn.news.example/{i}.jpg",
                "tags": rng.sample(WORDS, 4),
                "language": "en",
                "word_count": len(body.split()),
                "fetched_at": base + timedelta(days=1, seconds=revision),
                "content_hash": hashlib.sha256((title + body).encode()).hexdigest(),
                "confidence": {"title": 0.98, "body": 0.91, "published": 0.8},
                "schema_version": 1,
            }
        )
    return docs


def run_phases(store: Store, n: int, batch: int) -> list[tuple[str, int, float, float]]:
    """(phase, documents, wall seconds, CPU seconds) for the insert, unchanged and update passes."""
    fresh = make_articles(n)
    changed = make_articles(n, revision=1)
    phases: list[tuple[str, Sequence[dict[str, Any]], str]] = [
        ("insert", fresh, "inserted"),
        ("unchanged", fresh, "unchanged"),
        ("update", changed, "updated"),
    ]
    results = []
    for name, docs, field in phases:
        done = 0
        start, cpu = time.perf_counter(), time.thread_time()
        for i in range(0, n, batch):
            summary = store.upsert_articles(docs[i : i + batch])
            done += getattr(summary, field)
            if summary.failed:
                raise SystemExit(f"{name}: {summary.failed} failures, e.g. {summary.errors[:1]}")
        elapsed, cpu = time.perf_counter() - start, time.thread_time() - cpu
        if done != n:
            raise SystemExit(f"{name}: expected {n} {field}, got {done}")
        results.append((name, n, elapsed, cpu))
    return results


def bench(label: str, make: Callable[[], Store], n: int, batch: int) -> list[tuple[str, ...]]:
    rows = []
    store = make()
    with store:
        results = run_phases(store, n, batch)
    total = ("total", sum(r[1] for r in results), sum(r[2] for r in results), sum(r[3] for r in results))
    for name, docs, secs, cpu in [*results, total]:
        rows.append((label, name, str(docs), f"{secs:.2f}", f"{docs / secs:,.0f}", f"{cpu:.2f}",
                     f"{docs / cpu:,.0f}"))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--docs", type=int, default=20_000, help="articles (default 20000)")
    parser.add_argument("--batch", type=int, default=500, help="documents per upsert (default 500)")
    parser.add_argument(
        "--mongo-uri",
        default=os.environ.get("MONGO_URI"),
        help="also benchmark MongoStore against this server (default: env MONGO_URI); "
        "uses a throwaway database, dropped afterwards",
    )
    parser.add_argument("--skip-embedded", action="store_true", help="only the server backend")
    args = parser.parse_args(argv)

    rows: list[tuple[str, ...]] = []
    if not args.skip_embedded:
        with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmp:
            path = Path(tmp) / "newsmon.sqlite3"
            rows += bench("sqlite", lambda: SqliteStore(path), args.docs, args.batch)
    if args.mongo_uri:
        database = f"newsmon_bench_{uuid.uuid4().hex[:8]}"
        mongo = MongoStore(args.mongo_uri, database)
        try:
            rows += bench("mongo", lambda: mongo, args.docs, args.batch)
        finally:
            import pymongo

            with pymongo.MongoClient(args.mongo_uri, serverSelectionTimeoutMS=5000) as client:
                client.drop_database(database)

    header = ("backend", "phase", "docs", "seconds", "upserts/s", "CPU s", "upserts/CPU s")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.rjust(w) if i >= 2 else cell.ljust(w)
                        for i, (cell, w) in enumerate(zip(row, widths))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
