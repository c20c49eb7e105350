"""Incremental re-crawl figures on the demo site: pages fetched per run, and what each run stored.

    python bench/incremental.py [--seed 7]

Run 1 crawls the demo site into a fresh embedded store; run 2 crawls it again unchanged; then the
site edits 5 articles (with a new modified date) and publishes 3, and run 3 crawls it again.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def crawl(base_url: str, env: dict[str, str]) -> dict:
    from pipelines.storage import open_store

    subprocess.run([sys.executable, "-m", "crawler.cli", "crawl", "demo", "-a", f"base_url={base_url}/"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    store = open_store(mongo_uri=None, mongo_database="newsmon", data_dir=env["NEWSMON_DATA_DIR"])
    store.open()
    try:
        (run,) = store.find("crawl_runs", {}, sort=[("started_at", -1)], limit=1)
    finally:
        store.close()
    return run["stats"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from crawler.demo import build_site, serve

    site = build_site(seed=args.seed)
    with tempfile.TemporaryDirectory() as data, serve(site) as server:
        env = {k: v for k, v in os.environ.items() if k not in ("NEWSMON_MONGO_URI", "MONGO_URI")}
        env["NEWSMON_DATA_DIR"] = data
        rows = [("1: first crawl", crawl(server.base_url, env)),
                ("2: unchanged site", crawl(server.base_url, env))]
        edited = [a for a in site.articles if a.style.date_style in ("full", "jsonld", "meta")
                  and not a.truncated][10:15]
        for article in edited:
            site.edit_article(article.path, [*article.paragraphs, "Update: the figures were confirmed."])
        stories = [("Kherson", "a ferry crossing reopened after repairs to the river port"),
                   ("Lviv", "the city council approved a new budget for school shelters"),
                   ("Odesa", "grain exports through the port rose for a third month")]
        for city, event in stories:
            site.add_article(f"{city}: {event}", [
                f"Officials in {city} said on Tuesday that {event}, a step residents had awaited for months.",
                f"The regional administration in {city} published figures showing the change, and said "
                "further measures would follow before the winter.",
                f"Local reporters in {city} confirmed the account with residents and business owners."])
        rows.append(("3: 5 edited, 3 new", crawl(server.base_url, env)))
    print(f"{'run':<22} {'200 OK':>7} {'304':>5} {'articles new':>13} {'updated':>8} {'skipped known':>14}")
    for name, stats in rows:
        get = lambda key: stats.get(key, 0)  # noqa: E731
        print(f"{name:<22} {get('downloader/response_status_count/200'):>7} "
              f"{get('downloader/response_status_count/304'):>5} "
              f"{get('newsmon/store/articles/inserted'):>13} {get('newsmon/store/articles/updated'):>8} "
              f"{get('newsmon/incremental/skipped_known'):>14}")
    first = rows[0][1]["downloader/response_status_count/200"]
    second = rows[1][1].get("downloader/response_status_count/200", 0)
    print(f"run 2 fetched {second} of run 1's {first} pages in full ({100 * second / first:.1f}%)")


if __name__ == "__main__":
    main()
