"""The dev pages crawled end to end as one new site: how many real articles a crawl stores.

    .venv/bin/python bench/newsite.py [--sets dev,readability,trafilatura] [--limit N] [--list]

The extraction bench scores bodies; this one asks what a user of a new site sees: of the real
article pages the site serves, how many end as stored articles, and where the others went.

1. Every page of the dev sets present under ``../shared/data/extraction-*`` (each an article,
   with its real markup) is written to a temp dir as ``/<set>/<page>/`` of one local site, with a
   sitemap listing them all, and served on 127.0.0.1 by a threaded stdlib server.
2. A profile of the kind a user writes for a new site (its sitemap, every page path an article,
   no selectors; ``newsite`` in a temp ``NEWSMON_SITES_DIR``) drives
   ``scrapy crawl newsite`` with every stage on, into a fresh embedded store.
3. Printed per set: pages served, articles stored, and the pages not stored with the crawl's
   reason for each (not an article and why, dropped by the clean stage, merged by dedupe, fetch
   errors), from the store and the run's stats. ``--list`` names the pages not stored.

Pages that dedupe takes for one story (a canonical URL another page declares too, the same or a
near-identical text: Readability's test set carries variants of one page) are stored once, the
others as aliases or revisions of it: the ``dedupe/*`` lines count them; they are not lost.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])  # the project, not bench/, first

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SETS = {"dev": "extraction-dev", "readability": "extraction-readability",
        "trafilatura": "extraction-trafilatura"}
SITE = "newsite"
PROFILE = """\
name = "newsite"
description = "The dev sets' pages as one new site (bench/newsite.py)"
base_url = "{base}"
allowed_domains = ["127.0.0.1"]
timezone = "UTC"

[start]
sitemaps = ["/sitemap.xml"]

[articles]
allow = ['^/[a-z]+/[^/]+/$']

[politeness]
download_delay = 0
concurrency = 16
"""


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", name.removesuffix(".gz").removesuffix(".html")) or "page"


def write_site(sets: list[str], limit: int | None, out: Path, base: str) -> dict[str, str]:
    """Write the pages, the sitemap and the static server's ``manifest.json``; return
    {path: set} of the pages written."""
    from email.utils import format_datetime

    pages: dict[str, str] = {}
    responses: dict[str, list[Any]] = {}
    html = {"Content-Type": "text/html"}  # no charset: each page's own declaration decides
    for key in sets:
        for n, file in enumerate(sorted((DATA / SETS[key] / "html").glob("*.gz"))[:limit]):
            path, name = f"/{key}/{_slug(file.name)}/", f"{key}-{n}.html"
            (out / name).write_bytes(gzip.decompress(file.read_bytes()))
            pages[path] = key
            responses[path] = [200, html, name]
    urls = "".join(f"<url><loc>{base.rstrip('/')}{p}</loc></url>" for p in pages)
    (out / "sitemap.xml").write_text('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns='
                                     f'"http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')
    responses["/sitemap.xml"] = [200, {"Content-Type": "application/xml"}, "sitemap.xml"]
    (out / "manifest.json").write_text(json.dumps({"date": format_datetime(datetime.now(UTC), usegmt=True),
                                                   "responses": responses}))
    return pages


def crawl(work: Path, base: str) -> tuple[int, str]:
    sites = work / "sites"
    sites.mkdir()
    (sites / f"{SITE}.toml").write_text(PROFILE.format(base=base))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSMON_", "MONGO_"))}
    env.update(NEWSMON_SITES_DIR=str(sites), NEWSMON_DATA_DIR=str(work / "data"))
    log = work / "crawl.log"
    with log.open("w") as out:
        rc = subprocess.call([sys.executable, "-m", "scrapy", "crawl", SITE, "-s", "LOG_LEVEL=INFO"],
                             cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return rc, log.read_text(errors="replace")


def read_store(data_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(stored articles, the run's stats)."""
    from pipelines.storage import open_store

    store = open_store(mongo_uri=None, mongo_database="newsmon", data_dir=data_dir)
    store.open()
    try:
        articles = list(store.find("articles", {"site": SITE}))
        runs = list(store.find("crawl_runs", {"site": SITE}, limit=1))
    finally:
        store.close()
    run = runs[0] if runs else {}
    return articles, {**(run.get("stats") or {}), "outcome": run.get("outcome", "no run record")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of: {', '.join(SETS)}")
    parser.add_argument("--limit", type=int, default=None, help="pages per set (default: all)")
    parser.add_argument("--list", action="store_true", help="name every page not stored")
    args = parser.parse_args(argv)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; known: {', '.join(SETS)}")
    missing = [s for s in sets if not (DATA / SETS[s] / "html").is_dir()]
    if missing:
        print(f"no dev set under {DATA} for: {', '.join(missing)} (../shared/data/extraction-*)")
        return 2
    from bench.crawl import _free_port, start_static_server

    with tempfile.TemporaryDirectory(prefix="newsmon-newsite-") as tmp:
        work = Path(tmp)
        (work / "www").mkdir()
        port = _free_port()
        base = f"http://127.0.0.1:{port}/"
        pages = write_site(sets, args.limit, work / "www", base)
        server = start_static_server(work / "www", port)
        try:
            print(f"{len(pages)} pages served at {base}; crawling …", flush=True)
            rc, log = crawl(work, base)
        finally:
            server.terminate()
            server.wait(timeout=10)
        if rc != 0:
            print(log[-3000:])
            print(f"scrapy crawl exited {rc}")
            return 1
        articles, stats = read_store(work / "data")
    stored = {"/" + a["fetched_url"].split("/", 3)[3] for a in articles if a.get("fetched_url")}
    print_report(pages, stored, stats, args.list)
    return 0


def print_report(pages: dict[str, str], stored: set[str], stats: dict[str, Any], names: bool) -> None:
    print("\n| set | pages | articles stored | not stored |")
    print("|---|---|---|---|")
    lost: dict[str, list[str]] = {}
    for key in dict.fromkeys(pages.values()):
        mine = [p for p, s in pages.items() if s == key]
        lost[key] = [p for p in mine if p not in stored]
        print(f"| {key} | {len(mine)} | {len(mine) - len(lost[key])} | {len(lost[key])} |")
    total_lost = sum(len(v) for v in lost.values())
    print(f"| all | {len(pages)} | {len(pages) - total_lost} | {total_lost} |")
    reasons = Counter({k.removeprefix("newsmon/"): v for k, v in stats.items()
                       if re.match(r"newsmon/(pages/not_article/|drop/|dedupe/(revision|exact_duplicate|near_duplicate)$)", k)
                       and isinstance(v, int)})
    errors = {k: v for k, v in stats.items() if k.startswith(("spider_exceptions/", "downloader/response_status_count/4",
                                                               "downloader/response_status_count/5"))}
    print("\nwhy pages were not stored (the run's stats):")
    for key, value in sorted(reasons.items()):
        print(f"  {key}: {value}")
    for key, value in sorted(errors.items()):
        print(f"  {key}: {value}")
    print(f"  run outcome: {stats['outcome']} (a 404: the site has no robots.txt)")
    if names:
        for key, paths in lost.items():
            for path in paths:
                print(f"  not stored: {path}")


if __name__ == "__main__":
    sys.exit(main())
