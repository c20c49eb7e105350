"""The spool keeps batches the store refused; `newsmon import-spool` writes them later."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.spool import write_spool_file
from tests.conftest import run_newsmon


def _article(n: int) -> dict:
    when = datetime(2024, 11, 26, 7, n, tzinfo=UTC)
    return {"_id": f"a{n}", "url": f"https://example.org/{n}/", "site": "ex", "title": f"T{n}",
            "body": "text " * 50, "published": when, "fetched_at": when, "content_hash": f"h{n}",
            "authors": ["A B"], "schema_version": 1}


def test_spooled_batch_is_imported_with_its_datetimes(store_tier) -> None:
    config_env = store_tier.env()
    spool_dir = store_tier.data_dir / "spool"
    path = write_spool_file(spool_dir, "articles", [_article(n) for n in range(3)])
    result = run_newsmon(["import-spool"], config_env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "3 inserted" in result.stdout
    assert not path.exists(), "an imported spool file is removed"
    store = store_tier.open()
    try:
        docs = {d["_id"]: d for d in store.find("articles")}
    finally:
        store.close()
    assert sorted(docs) == ["a0", "a1", "a2"]
    assert docs["a1"]["published"] == datetime(2024, 11, 26, 7, 1, tzinfo=UTC)
    again = run_newsmon(["import-spool"], config_env, timeout=120)
    assert again.returncode == 0 and "nothing to import" in again.stderr


def test_import_spool_rejects_a_foreign_file(tmp_path, store_tier) -> None:
    bogus = tmp_path / "notes.jsonl"
    bogus.write_text("{}\n")
    result = run_newsmon(["import-spool", str(bogus)], store_tier.env(), timeout=60)
    assert result.returncode == 2 and "not a spool file" in result.stderr
