"""Shared fixtures: the demo news site on a local port, and the store tiers.

Store tiers: ``embedded`` (the SQLite store in a temp dir) always; ``server`` when
``NEWSMON_TEST_MONGO_URI`` (or ``MONGO_URI``) names a MongoDB-protocol server. In this project's
CI that server is FerretDB (``deploy/ferretdb``), and the tier's id is
``NEWSMON_TEST_SERVER_KIND`` (``ferretdb``); ``deploy/`` runs the same tests against MongoDB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    """Stop with one clear line when pytest runs in a Python without newsmon's dependencies
    (e.g. a bare `pytest` outside .venv), instead of a dozen collection errors."""
    import importlib.util

    missing = [m for m in ("scrapy", "pymongo", "lxml", "numpy", "apscheduler")
               if importlib.util.find_spec(m) is None]
    if missing:
        pytest.exit(f"{sys.executable} lacks newsmon's dependencies ({', '.join(missing)}): run the "
                    "tests with `bash deploy/dev.sh test`, or activate .venv first", returncode=4)
SHARED = ROOT.parent / "shared"
# The demo site the crawl tests use: half the shipped demo's 160 articles. Every fixed case of the
# generator (byline-only dates, the teaser, the cp1251 story, recent stories) is in it, and its
# listings still paginate; the whole suite runs a few dozen crawls of it, so its size is the
# suite's time.
TEST_SITE_ARTICLES = 80
SERVER_URI = os.environ.get("NEWSMON_TEST_MONGO_URI") or os.environ.get("MONGO_URI")
SERVER_KIND = os.environ.get("NEWSMON_TEST_SERVER_KIND", "mongodb-server")
NO_SERVER_REASON = (
    "no NEWSMON_TEST_MONGO_URI/MONGO_URI: the real-server tier runs in CI against FerretDB "
    "(bash deploy/dev.sh test builds and starts it when Go is installed)"
)


@dataclass
class StoreTier:
    """How a test (or a crawl subprocess) reaches one store."""

    kind: str  # "embedded" or the server kind
    data_dir: Path
    mongo_uri: str | None = None
    database: str | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("NEWSMON_MONGO_URI", "MONGO_URI", "NEWSMON_MONGO_DATABASE")}
        env["NEWSMON_DATA_DIR"] = str(self.data_dir)
        if self.mongo_uri:
            env["NEWSMON_MONGO_URI"] = self.mongo_uri
            env["NEWSMON_MONGO_DATABASE"] = self.database or "newsmon"
        return env

    def open(self):
        from pipelines.storage import open_store

        store = open_store(mongo_uri=self.mongo_uri, mongo_database=self.database or "newsmon",
                           data_dir=self.data_dir)
        store.open()
        return store

    def drop(self) -> None:
        if self.mongo_uri:
            import pymongo

            with pymongo.MongoClient(self.mongo_uri, serverSelectionTimeoutMS=5000) as client:
                client.drop_database(self.database)


@pytest.fixture(params=["embedded", "server"],
                ids=lambda p: p if p == "embedded" else SERVER_KIND)
def store_tier(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreTier]:
    if request.param == "server":
        if not SERVER_URI:
            pytest.skip(NO_SERVER_REASON)
        tier = StoreTier(SERVER_KIND, tmp_path / "data", SERVER_URI, f"newsmon_test_{uuid.uuid4().hex[:12]}")
    else:
        tier = StoreTier("embedded", tmp_path / "data")
    yield tier
    tier.drop()


@pytest.fixture
def embedded(tmp_path: Path) -> StoreTier:
    """The embedded store in the test's own data dir (for tests that need no server tier)."""
    return StoreTier("embedded", tmp_path / "data")


@pytest.fixture(scope="session")
def demo_site():
    """The demo site at the crawl tests' size (its fixed cases all in it, listings paginated)."""
    from crawler.demo import build_site

    return build_site(seed=7, n_articles=TEST_SITE_ARTICLES)


@pytest.fixture(scope="session")
def demo_server(demo_site):
    yield from _serving(demo_site)


@pytest.fixture(scope="session")
def full_demo_site():
    """The shipped demo site at its full size: the demo profile's contracts name its pages."""
    from crawler.demo import build_site

    return build_site(seed=7)


@pytest.fixture(scope="session")
def full_demo_server(full_demo_site):
    yield from _serving(full_demo_site)


def _serving(site):
    from crawler.demo import serve

    with serve(site) as server:
        yield server


def assert_flags_name_stored_documents(store) -> None:
    """The invariant of the item path: every topic flag names a stored article or snippet."""
    flags = list(store.find("topic_flags"))
    ids = {f["item_id"] for f in flags}
    stored = {d["_id"] for d in store.find("articles", {"_id": {"$in": sorted(ids)}})} | {
        d["_id"] for d in store.find("feed_snippets", {"_id": {"$in": sorted(ids)}})}
    assert ids <= stored, f"{len(ids - stored)} topic flags name no stored document"


# Waits on a clock that test crawls need not sit through at production length: the demo site's
# 500 page is retried after 0.05 s and 0.1 s instead of 1 s and 2 s (it is fetched late, so those
# 3 s were the tail of every demo crawl), and decided items are written after 0.2 s instead of 2 s.
# The same code runs, only sooner. They come first: a test about one of them passes its own -s,
# which comes later and wins.
TEST_CRAWL_SETTINGS = ("-s", "RETRY_BACKOFF_BASE=0.05", "-s", "STORE_FLUSH_SECONDS=0.2")


def run_newsmon(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the ``newsmon`` CLI as a user would, from the project root (``crawl`` with
    ``TEST_CRAWL_SETTINGS``)."""
    if args[:1] == ["crawl"] and len(args) > 1:
        args = [*args[:2], *TEST_CRAWL_SETTINGS, *args[2:]]
    return subprocess.run(
        [sys.executable, "-c", "from crawler.cli import main; main()", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
