"""The embedded file is opened by several components at once when a crawl starts."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pipelines.storage import SqliteStore
from pipelines.storage.fetchstate import SqliteFetchState
from pipelines.storage.flags import SqliteFlagStore
from pipelines.worker import BlockingWorker


def test_components_opening_one_fresh_file_at_once_all_succeed(tmp_path: Path) -> None:
    errors: list[str] = []
    for trial in range(40):
        path = tmp_path / str(trial) / "newsmon.sqlite3"
        stores = [SqliteStore(path), SqliteFlagStore(path), SqliteFetchState(path), SqliteStore(path)]

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
