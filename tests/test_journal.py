"""The journal keeps what the store refused; the next crawl, or `newsmon import-spool`, replays it
through the item path (identity → topics → store), and replaying it twice changes nothing."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

from pipelines.identity import article_id
from pipelines.journal import Journal, read_journal
from tests.conftest import run_newsmon

T0 = datetime(2024, 11, 26, 7, 0, tzinfo=UTC)
BODIES = [
    "Officials in Astana and Bishkek met on Tuesday to discuss water sharing on the Syr Darya, the "
    "foreign ministry of Kazakhstan said in a statement after the talks ended late at night.",
    "Kazakhstan raised its key interest rate by half a point, the national bank said, citing prices "
    "for food and fuel that kept climbing through the autumn despite a stronger tenge.",
    "A new rail link between Kazakhstan and China opened at the Khorgos border crossing, cutting "
    "the time freight needs to reach the Caspian ports by almost two days, the operator said.",
]


def _article(n: int) -> dict:
    when = T0 + timedelta(minutes=n)
    url = f"http://127.0.0.1:8765/news/story-{n}/"
    body = f"{BODIES[n]}\n\nThe report was published on day {n} and reviewed by the desk editors overnight."
    return {"url": url, "fetched_url": url, "site": "demo", "title": f"Story number {n}",
            "body": body, "published": when, "fetched_at": when, "authors": ["Jane Doe"], "section": "news"}


def _snippet(n: int) -> dict:
    return {"site": "demo", "headline": f"Headline {n}", "text": f"Snippet text number {n} about the grid.",
            "published": T0, "time_shown": "9:00 AM", "seen_on": ["http://127.0.0.1:8765/"],
            "fetched_at": T0, "fingerprint": f"f{n}"}


def _snapshot(tier) -> dict:
    store = tier.open()
    try:
        return {c: sorted(store.find(c), key=lambda d: d["_id"])
                for c in ("articles", "feed_snippets", "topic_flags", "article_revisions", "fetch_state")}
    finally:
        store.close()


def test_journal_keeps_datetimes_and_skips_a_torn_last_line(tmp_path) -> None:
    journal = Journal(tmp_path, "demo")
    journal.append("article", [_article(1)])
    with journal.path.open("a") as handle:
        handle.write('{"kind": "article", "rec')  # the writer was killed mid-line
    (kind, record), = read_journal(journal.path)
    assert kind == "article" and record["published"] == T0 + timedelta(minutes=1)
    taken = journal.take()
    assert len(taken) == 1 and not journal.path.exists() and journal.pending() == 2


def test_replaying_a_journal_twice_changes_nothing(store_tier) -> None:
    journal = Journal(store_tier.data_dir / "journal", "demo")
    journal.append("article", [_article(n) for n in range(3)])
    journal.append("snippet", [_snippet(n) for n in range(2)])
    copy = store_tier.data_dir / "copy.jsonl"
    shutil.copy(journal.path, copy)
    first = run_newsmon(["import-spool"], store_tier.env(), timeout=180)
    assert first.returncode == 0, first.stderr
    assert "replayed 5 records: 3 articles new" in first.stdout and "2 snippets new" in first.stdout
    assert not journal.path.exists() and not journal.replay_files(), "a replayed journal is removed"
    before = _snapshot(store_tier)
    assert len(before["articles"]) == 3 and len(before["feed_snippets"]) == 2
    assert {d["_id"] for d in before["articles"]} == {article_id(_article(n)["url"]) for n in range(3)}
    assert all(d["dedupe_keys"] and d["minhash"] for d in before["articles"]), "replays go through identity"
    flagged = {f["item_id"] for f in before["topic_flags"]}
    assert flagged == {d["_id"] for d in before["articles"]}, "every article mentions Kazakhstan"
    shutil.copy(copy, journal.directory / "demo.20000101T000000000000.replay.jsonl")
    again = run_newsmon(["import-spool"], store_tier.env(), timeout=180)
    assert again.returncode == 0, again.stderr
    assert "3 unchanged" in again.stdout and "0 new topic flags" in again.stdout
    assert _snapshot(store_tier) == before
    third = run_newsmon(["import-spool"], store_tier.env(), timeout=60)
    assert third.returncode == 0 and "nothing to import" in third.stderr


def test_an_old_spool_file_is_replayed_through_identity(tmp_path, store_tier) -> None:
    spool = store_tier.data_dir / "spool"
    spool.mkdir(parents=True)
    path = spool / "articles-20241126T070000000000.jsonl"
    docs = [dict(_article(n), _id=f"a{n}", schema_version=1, content_hash=f"h{n}") for n in range(2)]
    path.write_text("".join(json.dumps(d, default=lambda v: v.isoformat()) + "\n" for d in docs))
    result = run_newsmon(["import-spool"], store_tier.env(), timeout=180)
    assert result.returncode == 0, result.stderr
    assert not path.exists() and "2 articles new" in result.stdout
    after = _snapshot(store_tier)
    assert {d["_id"] for d in after["articles"]} == {article_id(d["url"]) for d in docs}
    assert after["articles"][0]["published"].tzinfo is not None


def test_import_spool_rejects_a_foreign_file(tmp_path, store_tier) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("{}\n")
    result = run_newsmon(["import-spool", str(bogus)], store_tier.env(), timeout=60)
    assert result.returncode == 2 and "not a spool file" in result.stderr
    broken = tmp_path / "demo.jsonl"
    broken.write_text("{}\n{}\n")
    result = run_newsmon(["import-spool", str(broken)], store_tier.env(), timeout=60)
    assert result.returncode == 2 and "not a journal line" in result.stderr and "Traceback" not in result.stderr
