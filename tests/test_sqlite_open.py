"""The embedded file is opened by several processes at once (a scheduler and its crawls), and
files written before the one-store layout are migrated when opened."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import json
import sqlite3
from datetime import UTC, datetime

from pipelines.storage import SqliteStore
from pipelines.storage.fetchstate import load_fetch_state, state_key
from pipelines.storage.flags import find_flags
from pipelines.worker import BlockingWorker


def test_opening_one_fresh_file_at_once_always_succeeds(tmp_path: Path) -> None:
    errors: list[str] = []
    for trial in range(40):
        path = tmp_path / str(trial) / "newsmon.sqlite3"
        stores = [SqliteStore(path) for _ in range(4)]

        def open_one(store) -> None:
            try:
                store.open()
            except Exception as exc:  # collected: the assertion below names them
                errors.append(repr(exc))

        threads = [threading.Thread(target=open_one, args=(s,)) for s in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for store in stores:
            store.close()
    assert errors == []


def test_a_stopped_worker_refuses_work_instead_of_hanging() -> None:
    worker = BlockingWorker("test")
    with pytest.raises(RuntimeError, match="not running"):
        worker.run(print)


def test_flags_and_fetch_state_of_an_older_file_are_migrated(tmp_path: Path) -> None:
    """Files of the previous layout kept topic_flags and fetch_state in tables of their own
    shape, with ISO-text datetimes; opening the store moves their rows into its collections."""
    path = tmp_path / "newsmon.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE topic_flags (_id TEXT PRIMARY KEY NOT NULL, topic TEXT NOT NULL,
            flagged_at TEXT NOT NULL, doc TEXT NOT NULL);
        CREATE INDEX topic_flags_topic_flagged_at ON topic_flags (topic, flagged_at DESC);
        CREATE TABLE fetch_state (key TEXT PRIMARY KEY, site TEXT NOT NULL, url TEXT NOT NULL,
            kind TEXT, etag TEXT, last_modified TEXT, source_date TEXT, published TEXT,
            checked_at TEXT, changed_at TEXT);
        CREATE INDEX fetch_state_site ON fetch_state (site);
    """)
    flag = {"_id": "a1:central-asia", "item_id": "a1", "topic": "central-asia", "score": 3.0,
            "threshold": 2.0, "flagged_at": "2024-11-26T07:00:00.000Z", "updated_at": "2024-11-26T07:00:00.000Z"}
    conn.execute("INSERT INTO topic_flags VALUES (?, ?, ?, ?)",
                 (flag["_id"], flag["topic"], flag["flagged_at"], json.dumps(flag)))
    conn.execute("INSERT INTO fetch_state (key, site, url, kind, etag, checked_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (state_key("demo", "https://x.test/a/"), "demo", "https://x.test/a/", "article", '"e1"',
                  "2024-11-26T08:00:00+00:00"))
    conn.commit()
    conn.close()
    with SqliteStore(path) as store:
        (migrated,) = find_flags(store, "central-asia")
        states = load_fetch_state(store, "demo")
    assert migrated["item_id"] == "a1" and migrated["flagged_at"] == datetime(2024, 11, 26, 7, tzinfo=UTC)
    assert states["https://x.test/a/"]["etag"] == '"e1"'
    assert states["https://x.test/a/"]["checked_at"] == datetime(2024, 11, 26, 8, tzinfo=UTC)
    with SqliteStore(path) as store:  # a second open finds nothing left to migrate
        assert len(find_flags(store)) == 1
