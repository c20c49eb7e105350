"""Rendering throughput and memory: 300 script-built fixture pages, rendered and plain, one run.

    python bench/render.py [--pages 300] [--context-pages 100] [--max-pages 4]

Serves crawler/demo/jsfixture.py's /bench/ pages (body and News Feed written by script) on
127.0.0.1, then crawls them twice in child processes, each a real ``scrapy crawl`` of a temp
profile into a fresh embedded store: once with ``render = { mode = "always" }`` on those pages,
once plain (``render = "never"``: the same pages over HTTP, whose bodies are empty without a
browser). Reported: pages/s of each, the rendered/plain throughput ratio, and the crawler's RSS
when 50, 150 and all pages were done: the Python crawler process (current and peak) and the whole
process tree (crawler + Playwright driver + Chromium processes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # not bench/: bench/incremental.py would shadow the "incremental" package

CHILD = r'''
import json, os, resource, sys, time
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

marks, out = [int(m) for m in sys.argv[2].split(",")], sys.argv[3]
settings = get_project_settings()
settings.set("LOG_LEVEL", "WARNING")
process = CrawlerProcess(settings)
crawler = process.create_crawler(sys.argv[1])
state = {"pages": 0, "first": None, "samples": []}

def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0

def tree_kb(root):
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    pids, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p and c not in pids]
        pids.update(kids); frontier.extend(kids)
    return sum(rss_kb(p) for p in pids), len(pids)

def on_response(response, request, spider):
    if "/bench/" not in response.url or response.url.rstrip("/").endswith("/bench"):
        return
    state["pages"] += 1
    if state["first"] is None:
        state["first"] = time.monotonic()
    if state["pages"] in marks:
        tree, procs = tree_kb(os.getpid())
        state["samples"].append({"pages": state["pages"], "seconds": time.monotonic() - state["first"],
            "rss_mb": rss_kb(os.getpid()) / 1024,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "tree_rss_mb": tree / 1024, "processes": procs})

crawler.signals.connect(on_response, signals.response_received)
start = time.monotonic()
process.crawl(crawler)
process.start()
stats = crawler.stats.get_stats()
json.dump({"pages": state["pages"], "wall": time.monotonic() - start,
           "seconds": time.monotonic() - (state["first"] or start), "samples": state["samples"],
           "stats": {k: v for k, v in stats.items() if k.startswith(("newsmon/render", "playwright/page_count", "playwright/context_count"))}},
          open(out, "w"), default=str)
'''


def run(name: str, render: str, base_url: str, marks: list[int], tmp: Path,
        extra_env: dict[str, str]) -> dict:
    from crawler.demo.jsfixture import js_profile_toml

    sites = tmp / f"sites-{name}"
    sites.mkdir()
    toml = js_profile_toml(name, base_url + "/", render).replace(
        'sections = { news = "/news/", archive = "/archive/" }', 'sections = { bench = "/bench/" }')
    (sites / f"{name}.toml").write_text(toml)
    env = os.environ | extra_env | {"NEWSMON_SITES_DIR": str(sites), "NEWSMON_DATA_DIR": str(tmp / f"data-{name}"),
                                    "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    out = tmp / f"{name}.json"
    subprocess.run([sys.executable, "-c", CHILD, name, ",".join(map(str, marks)), str(out)],
                   cwd=ROOT, env=env, check=True)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--context-pages", type=int, default=None, help="RENDER_CONTEXT_PAGES (default: the setting)")
    parser.add_argument("--max-pages", type=int, default=None, help="RENDER_MAX_PAGES (default: the setting)")
    args = parser.parse_args()

    from crawler.demo.jsfixture import build_js_site, serve_js
    from crawler.render import check_browser
    from scrapy.settings import Settings

    problem = check_browser(Settings())
    if problem:
        sys.exit(f"bench/render.py: {problem}")
    marks = sorted({m for m in (50, 150, args.pages) if m <= args.pages})
    settings_env = {}
    extra = []
    if args.context_pages is not None:
        extra.append(f"RENDER_CONTEXT_PAGES={args.context_pages}")
    if args.max_pages is not None:
        extra.append(f"RENDER_MAX_PAGES={args.max_pages}")
    if extra:
        # Passed to the child crawls as SCRAPY_ prefixed env settings (Scrapy reads SCRAPY_<NAME>).
        settings_env = {f"SCRAPY_{pair.split('=')[0]}": pair.split("=")[1] for pair in extra}
    site = build_js_site(bench_pages=args.pages)
    with serve_js(site) as server, tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        rendered = run("benchrendered", 'render = { mode = "always", urls = ["^/bench/\\\\d+/$"], '
                       'wait_for = "aside.news-feed .news-feed__item" }',
                       server.base_url, marks, tmp, settings_env)
        plain = run("benchplain", 'render = "never"', server.base_url, marks, tmp, settings_env)

    print(f"pages: {args.pages} script-built fixture pages (/bench/N/), {time.strftime('%Y-%m-%d %H:%M')}")
    for label, result in (("rendered", rendered), ("plain", plain)):
        rate = result["pages"] / result["seconds"] if result["seconds"] else float("nan")
        print(f"\n{label}: {result['pages']} pages in {result['seconds']:.2f} s = {rate:.1f} pages/s "
              f"(crawl wall time {result['wall']:.2f} s)")
        print(f"  {'pages':>6} {'crawler RSS MB':>15} {'crawler peak MB':>16} {'tree RSS MB':>12} {'procs':>6}")
        for s in result["samples"]:
            print(f"  {s['pages']:>6} {s['rss_mb']:>15.1f} {s['peak_rss_mb']:>16.1f} {s['tree_rss_mb']:>12.1f} {s['processes']:>6}")
        if result["stats"]:
            print("  stats: " + ", ".join(f"{k}={v}" for k, v in sorted(result["stats"].items())))
    r = rendered["pages"] / rendered["seconds"]
    p = plain["pages"] / plain["seconds"]
    print(f"\nrendered / plain throughput on the same pages: {r / p:.3f} ({p / r:.1f}x slower rendered)")


if __name__ == "__main__":
    main()
