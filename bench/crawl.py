"""Crawl throughput: bare Scrapy against newsmon with every stage on (printed figures, not a timed test).

    .venv/bin/python bench/crawl.py [--pages 5000] [--reps 1] [--modes bare,embedded,workers,mongo]
        [--workers 1] [--profile P] [--set NAME=VALUE ...]

1. A "Demo Independent" of ``--pages`` articles is generated with the demo generator
   (``crawler/demo``), every article padded to 50–150 KB of realistic boilerplate (inline CSS and
   scripts, an SVG sprite, a mega-menu, a footer of links), and every page (articles, section/tag/
   author listings, RSS, sitemaps, robots.txt) is written once to a temp dir.
2. A small asyncio static server (stdlib, keep-alive, responses held in memory) serves that
   directory from a separate process on 127.0.0.1.
3. A site profile ``bench`` (the shipped demo profile, listings followed to their last page) is
   written to a temp ``NEWSMON_SITES_DIR``.
4. Runs alternate, a b a c a … (``--reps`` runs of each newsmon mode): (a) ``bare``: a plain Scrapy spider (no project settings)
   that follows the same links (sections and pagination, feed, sitemaps) and yields nothing;
   (b) ``embedded``: ``scrapy crawl bench`` with every newsmon stage on, embedded store in a fresh
   temp ``NEWSMON_DATA_DIR``, pages extracted in the crawl process (``EXTRACT_WORKERS=0``);
   (b') ``workers``: the same with ``EXTRACT_WORKERS=--workers`` extraction worker processes;
   (c) ``mongo``: the same to ``NEWSMON_TEST_MONGO_URI`` (a fresh
   database, dropped afterwards) when that variable is set; and, asked for by name,
   ``trafilatura``: the naive reference of issue 13, the bare spider calling
   ``trafilatura.extract`` on each article page (one process, no pipelines, nothing stored).
5. Each crawl process carries a probe extension (``Probe`` below) that records peak RSS at 1k, 3k
   and 5k responses and, at the end, the crawl's wall time, its CPU time and the stats (including
   the ``newsmon/time/<stage>_ms`` CPU timers). CPU is the crawl process's plus what the
   extraction workers spent on its pages (``newsmon/time/worker/*``); peak RSS is the crawl
   process's only (each worker adds its own), read as /proc's VmHWM: a forked child's ``ru_maxrss``
   starts at its parent's. Medians per mode are printed.

The machine is usually shared: read the figures as medians of alternating runs, not as absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from email.utils import format_datetime
from pathlib import Path
from typing import Any

# Run as a script, bench/ would come first on sys.path and its modules could shadow packages
# (e.g. bench/incremental.py vs Twisted's "incremental"): put the project root there instead.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])

ROOT = Path(__file__).resolve().parents[1]
MARKS = (1000, 3000, 5000)  # responses at which the probe records peak RSS
SITE = "bench"
# Modes run by this script's own Scrapy spider, not `scrapy crawl` of newsmon (no store, no data dir)
SPIDER_MODES = ("bare", "trafilatura")

def profile_text(base: str) -> str:
    """The shipped demo profile as ``bench``, on ``base``, listings followed to their last page."""
    text = (ROOT / "crawler" / "sites" / "demo.toml").read_text()
    text = text.split("\n[check]", 1)[0]
    subs = [(r'(?m)^name = "demo"$', f'name = "{SITE}"'), (r'(?m)^base_url = .*$', f'base_url = "{base}/"'),
            (r'(?m)^max_pages = \d+$', "max_pages = 10000")]
    for pattern, replacement in subs:
        text, n = re.subn(pattern, replacement, text)
        if n != 1:
            raise SystemExit(f"crawler/sites/demo.toml changed: no line matches {pattern!r}")
    return text


# --- the site -------------------------------------------------------------------------------------

def _padding(rng: random.Random, site: Any, size: int) -> tuple[bytes, bytes]:
    """About ``size`` bytes of what a real news page carries besides the story: (head, body) parts."""
    sections = [f"/{s.slug}/" for s in site.sections]
    tags = [f"/tag/{slug}/" for slug in site.tags]
    head: list[str] = []
    body: list[str] = []
    total = 0
    while total < size:
        kind = rng.random()
        if kind < 0.35:  # a theme stylesheet inlined by the CMS
            rules = "".join(
                f".gh-{rng.getrandbits(24):06x} .c-{rng.getrandbits(16):04x}{{margin:{rng.randint(0, 40)}px "
                f"{rng.randint(0, 40)}px;color:#{rng.getrandbits(24):06x};font-size:{rng.randint(10, 32)}px}}"
                for _ in range(40))
            chunk = f"<style>{rules}</style>\n"
            head.append(chunk)
        elif kind < 0.6:  # analytics / ad config as inline JSON in a script
            data = {f"k{rng.getrandbits(20):05x}": [rng.getrandbits(32) for _ in range(8)] for _ in range(25)}
            chunk = f"<script>window.__cfg_{rng.getrandbits(16):04x}={json.dumps(data)};</script>\n"
            head.append(chunk)
        elif kind < 0.8:  # an SVG icon sprite
            paths = "".join(f'<path d="M{rng.randint(0, 99)} {rng.randint(0, 99)}L{rng.randint(0, 99)} '
                            f'{rng.randint(0, 99)}C{rng.randint(0, 99)} {rng.randint(0, 99)} {rng.randint(0, 99)} '
                            f'{rng.randint(0, 99)}Z"/>' for _ in range(30))
            chunk = f'<svg style="display:none"><symbol id="i{rng.getrandbits(16):04x}">{paths}</symbol></svg>\n'
            body.append(chunk)
        else:  # a mega-menu / footer of listing links
            links = "".join(f'<li class="menu__item"><a class="menu__link" href="{rng.choice(sections + tags)}">'
                            f'{rng.choice(list(site.tags.values()))} {rng.randint(1, 99)}</a></li>'
                            for _ in range(30))
            chunk = f'<nav class="mega-menu"><ul class="menu">{links}</ul></nav>\n'
            body.append(chunk)
        total += len(chunk)
    return "".join(head).encode(), "".join(body).encode()


def build(pages: int, seed: int, out: Path, base: str) -> dict[str, Any]:
    """Generate the site into ``out`` (one file per response and ``manifest.json``); returns figures."""
    from crawler.demo import build_site

    t0 = time.perf_counter()
    site = build_site(seed=seed, n_articles=pages)
    rng = random.Random(seed)
    manifest: dict[str, Any] = {}
    sizes: list[int] = []
    total = 0
    for i, path in enumerate(site.paths()):
        page = site.render(path, base)
        if page is None:
            continue
        body = page.body
        if site.article(path) is not None and page.status == 200 and b"</head>" in body:
            head, extra = _padding(rng, site, rng.randint(50_000, 150_000) - len(body))
            body = body.replace(b"</head>", head + b"</head>", 1)
            at = body.find(b">", body.find(b"<body")) + 1
            body = body[:at] + extra + body[at:]
            sizes.append(len(body))
        name = f"{i}.bin"
        (out / name).write_bytes(body)
        total += len(body)
        manifest[path] = [page.status, dict(page.headers), name]
    (out / "manifest.json").write_text(json.dumps({"date": format_datetime(site.now, usegmt=True),
                                                   "responses": manifest}))
    return {"articles": len(site.articles), "responses": len(manifest), "bytes": total,
            "median_article_kb": statistics.median(sizes) / 1024 if sizes else 0,
            "seconds": time.perf_counter() - t0}


async def _serve(root: Path, port: int) -> None:
    manifest = json.loads((root / "manifest.json").read_text())
    date = manifest["date"]

    def response(status: int, headers: dict[str, str], body: bytes) -> bytes:
        lines = [f"HTTP/1.1 {status} X", f"Date: {date}", "Server: bench", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    table = {path: response(status, headers, (root / name).read_bytes())
             for path, (status, headers, name) in manifest["responses"].items()}
    missing = response(404, {"Content-Type": "text/html; charset=utf-8"}, b"<html><body>Not found</body></html>")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].split(b"?", 1)[0].decode("latin-1")
                writer.write(table.get(target, missing))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=256)
    print("serving", flush=True)
    async with server:
        await server.serve_forever()


def start_static_server(site_dir: Path, port: int) -> subprocess.Popen[str]:
    """Serve ``site_dir`` (its ``manifest.json``: path -> [status, headers, file], and ``date``)
    on 127.0.0.1:``port`` (``_free_port``) from a separate process; terminate it when done."""
    server = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve", str(site_dir), str(port)],
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    if server.stdout.readline().strip() != "serving":
        server.kill()
        raise SystemExit("the static server did not start")
    return server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- in the crawl process ----------------------------------------------------------------------------

class Probe:
    """Scrapy extension: peak RSS at MARKS responses; crawl wall/CPU and the stats at the end."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.path = crawler.settings.get("BENCH_PROBE_FILE")
        self.responses = 0
        self.rss: dict[str, float] = {}
        self.t0 = self.cpu0 = 0.0
        # (downloads in flight, responses in the scraper, their MB, requests queued, pages at the pool)
        self.samples: list[tuple[float, ...]] = []
        self.sampler: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> Probe:
        from scrapy import signals

        probe = cls(crawler)
        crawler.signals.connect(probe.engine_started, signals.engine_started)
        crawler.signals.connect(probe.response_received, signals.response_received)
        crawler.signals.connect(probe.spider_closed, signals.spider_closed)
        return probe

    @staticmethod
    def _cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    @staticmethod
    def _peak_mb() -> float:
        """This process's peak RSS. Linux keeps ``ru_maxrss`` across fork and exec, so a child's
        starts at its parent's (the bench holds the generated site: ~205 MB at 5,000 pages);
        /proc's VmHWM belongs to the process's own memory, which exec replaced."""
        try:
            status = Path("/proc/self/status").read_text()
        except OSError:  # not Linux
            status = ""
        kb = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), None)
        return (int(kb) if kb else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024

    def engine_started(self) -> None:
        from twisted.internet import task

        self.t0, self.cpu0 = time.perf_counter(), self._cpu()
        self.rss["start"] = self._peak_mb()
        self.sampler = task.LoopingCall(self._sample)
        self.sampler.start(0.2, now=False)

    def _sample(self) -> None:
        """Where pages wait, five times a second (Scrapy's and the pool's own counters)."""
        engine = self.crawler.engine
        slot, spider = engine.scraper.slot, engine.spider
        if slot is None or engine._slot is None:
            return
        pool = getattr(getattr(spider, "extractor", None), "_executor", None)
        self.samples.append((len(engine.downloader.active), len(slot.active), slot.active_size / 1e6,
                             len(engine._slot.scheduler), len(getattr(pool, "_pending_work_items", ()))))

    def response_received(self, **kwargs: Any) -> None:
        self.responses += 1
        if self.responses in MARKS:
            self.rss[str(self.responses)] = self._peak_mb()

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.sampler is not None and self.sampler.running:
            self.sampler.stop()
        stats = self.crawler.stats.get_stats()
        # CPU of extraction worker processes (EXTRACT_WORKERS), as the pool measured it per page
        workers = sum(v for k, v in stats.items() if k.startswith("newsmon/time/worker/")) / 1000
        report = {"wall": time.perf_counter() - self.t0, "cpu": self._cpu() - self.cpu0 + workers,
                  "worker_cpu": workers,
                  "responses": self.responses, "rss": {**self.rss, "end": self._peak_mb()},
                  "reason": reason, "stats": stats,
                  "queues": [statistics.fmean(column) for column in zip(*self.samples, strict=True)]
                  if self.samples else []}
        Path(self.path).write_text(json.dumps(report, default=str))


def bare_crawl(base: str, sites_dir: str, probe_file: str, extract: bool = False) -> None:
    """(a): plain Scrapy, default settings but the same concurrency and reactor, yields nothing;
    with ``extract`` (the ``trafilatura`` mode) the naive spider: ``trafilatura.extract`` of each
    article page in the callback, one item of its text (no pipelines)."""
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.sitemap import Sitemap

    from crawler.profiles import load_profile

    if extract:
        import trafilatura
    profile = load_profile(Path(sites_dir) / f"{SITE}.toml")

    class BareSpider(scrapy.Spider):
        name = "bare"

        async def start(self) -> Any:
            for _, url in profile.sections:
                yield scrapy.Request(url, self.parse_listing, cb_kwargs={"page": 1})
            for url in profile.feeds:
                yield scrapy.Request(url, self.parse_feed)
            for url in profile.sitemaps:
                yield scrapy.Request(url, self.parse_sitemap)

        def parse_listing(self, response: Any, page: int) -> Any:
            for href in response.css("a::attr(href)").getall():
                url = response.urljoin(href)
                if profile.is_article_url(url):
                    yield scrapy.Request(url, self.parse_article)
            nxt = response.css(profile.pagination.next_selector).get()
            if nxt and page < profile.pagination.max_pages:
                yield scrapy.Request(response.urljoin(nxt), self.parse_listing, cb_kwargs={"page": page + 1})

        def parse_feed(self, response: Any) -> Any:
            selector = scrapy.Selector(response=response, type="xml")
            selector.remove_namespaces()
            for link in selector.xpath("//item/link/text()").getall():
                url = response.urljoin(link.strip())
                if profile.is_article_url(url):
                    yield scrapy.Request(url, self.parse_article)

        def parse_sitemap(self, response: Any) -> Any:
            sitemap = Sitemap(response.body)
            for entry in sitemap:
                url = response.urljoin(entry.get("loc", "").strip())
                if sitemap.type == "sitemapindex":
                    yield scrapy.Request(url, self.parse_sitemap)
                elif profile.is_article_url(url):
                    yield scrapy.Request(url, self.parse_article)

        def parse_article(self, response: Any) -> Any:
            if extract:
                return {"url": response.url, "text": trafilatura.extract(response.text)}
            return None

    process = CrawlerProcess({
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": True, "COOKIES_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO", "EXTENSIONS": {"bench.crawl.Probe": 900}, "BENCH_PROBE_FILE": probe_file,
    })
    process.crawl(BareSpider)
    process.start()


def profiled_crawl(prefix: str, argv: list[str]) -> None:
    """``scrapy ARGV`` under cProfile: the reactor thread to PREFIX-main.prof, the store thread's
    calls to PREFIX-store.prof (read them with ``python -m pstats``)."""
    import cProfile

    from scrapy.cmdline import execute

    from pipelines.storage import service

    store = cProfile.Profile()
    in_thread = service.StoreService._in_thread

    def profiled(self: Any, func: Any, args: Any) -> Any:
        store.enable()
        try:
            return in_thread(self, func, args)
        finally:
            store.disable()

    service.StoreService._in_thread = profiled  # type: ignore[method-assign]
    main = cProfile.Profile()
    main.enable()
    try:
        execute(["scrapy", *argv])
    except SystemExit:
        pass
    finally:
        main.disable()
        main.dump_stats(f"{prefix}-main.prof")
        store.dump_stats(f"{prefix}-store.prof")


# --- the runs --------------------------------------------------------------------------------------

def run_one(mode: str, base: str, sites_dir: Path, work: Path, n: int, mongo_uri: str | None,
            profile: str | None = None, workers: int = 1, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    probe_file = work / f"probe-{mode}-{n}.json"
    log = work / f"log-{mode}-{n}.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    env["PYTHONPATH"] = str(ROOT)
    database = None
    if mode in SPIDER_MODES:
        cmd = [sys.executable, str(Path(__file__).resolve()), f"--child-{mode}", base, str(sites_dir), str(probe_file)]
        cwd = str(work)  # no scrapy.cfg there: no project settings
    else:
        from crawler import settings as project

        extensions = {**project.EXTENSIONS, "bench.crawl.Probe": 900}
        env["NEWSMON_SITES_DIR"] = str(sites_dir)
        data_dir = work / f"data-{mode}-{n}"
        env["NEWSMON_DATA_DIR"] = str(data_dir)
        if mode == "mongo":
            database = f"newsmon_bench_{os.getpid()}_{n}"
            env["NEWSMON_MONGO_URI"], env["NEWSMON_MONGO_DATABASE"] = mongo_uri or "", database
        runner = ["-m", "scrapy"] if not profile else [str(Path(__file__).resolve()), "--child-profile", profile]
        cmd = [sys.executable, *runner, "crawl", SITE, "-s", f"EXTENSIONS={json.dumps(extensions)}",
               "-s", f"BENCH_PROBE_FILE={probe_file}", "-s", "LOG_LEVEL=INFO"]
        if mode in ("embedded", "workers"):  # in process / in worker processes; mongo: the default
            cmd += ["-s", f"EXTRACT_WORKERS={workers if mode == 'workers' else 0}"]
        for setting in extra:  # --set: last, so it wins over the mode's own
            cmd += ["-s", setting]
        cwd = str(ROOT)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if database:
        import pymongo

        with pymongo.MongoClient(mongo_uri) as client:
            client.drop_database(database)
    if mode not in SPIDER_MODES:
        shutil.rmtree(work / f"data-{mode}-{n}", ignore_errors=True)
    if status != 0 or not probe_file.exists():
        raise SystemExit(f"{mode} run failed (status {status}); see {log}")
    report = json.loads(probe_file.read_text())
    report["process_wall"] = wall
    report["load"] = (load, os.getloadavg()[0])  # 1-minute load average before and after the run
    report["process_cpu"] = usage.ru_utime + usage.ru_stime
    return report


def summarize(mode: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    med = statistics.median
    stats = [r["stats"] for r in runs]
    # Articles stored; the trafilatura mode stores none: its items (one per article page) count.
    per_run = [s.get("newsmon/pages/article") or s.get("item_scraped_count", 0) for s in stats]
    articles = med(per_run)
    out: dict[str, Any] = {
        "mode": mode, "runs": len(runs),
        "responses": med([r["responses"] for r in runs]),
        "articles": articles,
        "items": med([s.get("item_scraped_count", 0) for s in stats]),
        "wall": med([r["wall"] for r in runs]),
        "pages_s": med([r["responses"] / r["wall"] for r in runs]),
        "process_wall": med([r["process_wall"] for r in runs]),
        "cpu_ms_page": med([1000 * r["cpu"] / r["responses"] for r in runs]),
        "cpu_ms_article": med([1000 * r["cpu"] / max(1, a) for r, a in zip(runs, per_run, strict=True)]),
        "rss": {k: med([r["rss"].get(k, float("nan")) for r in runs]) for k in runs[0]["rss"]},
        # Cores kept busy during the crawl: the crawl process's own CPU, and the workers', over its wall time
        "busy": med([(r["cpu"] - r.get("worker_cpu", 0)) / r["wall"] for r in runs]),
        "busy_workers": med([r.get("worker_cpu", 0) / r["wall"] for r in runs]),
        "queues": [med(column) for column in zip(*(r["queues"] for r in runs if r.get("queues")), strict=True)],
        "finish": sorted({s.get("finish_reason", "?") for s in stats}),
    }
    timers = sorted({k for s in stats for k in s if k.startswith("newsmon/time/")})
    out["stages"] = {k.removeprefix("newsmon/time/").removesuffix("_ms"):
                     med([s.get(k, 0) / max(1, s.get("newsmon/pages/article", 0)) for s in stats])
                     for k in timers}
    return out


def print_table(summaries: dict[str, dict[str, Any]]) -> None:
    base = summaries.get("bare")
    print()
    print("| run | responses | articles | pages/s | ratio to bare | crawl s | CPU ms/page | CPU ms/article "
          "| peak RSS MB @1k / 3k / 5k / end |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for mode, s in summaries.items():
        ratio = f"{s['pages_s'] / base['pages_s']:.2f}" if base and mode != "bare" else "1.00" if mode == "bare" else "–"
        rss = " / ".join(f"{s['rss'][k]:.0f}" if k in s["rss"] and s["rss"][k] == s["rss"][k] else "–"
                         for k in ("1000", "3000", "5000", "end"))
        cpu_article = f"{s['cpu_ms_article']:.1f}" if mode != "bare" else "–"
        print(f"| {mode} | {s['responses']:.0f} | {s['articles']:.0f} | {s['pages_s']:.0f} | {ratio} | "
              f"{s['wall']:.1f} | {s['cpu_ms_page']:.1f} | {cpu_article} | {rss} |")
    for mode, s in summaries.items():
        if s["stages"]:
            print()
            print(f"CPU ms per article by stage ({mode}; reactor-thread and store-thread CPU, "
                  "divided by the articles stored):")
            for stage, ms in sorted(s["stages"].items(), key=lambda kv: -kv[1]):
                print(f"  {stage:<28} {ms:7.2f}")
    print("\nCores kept busy over the crawl's wall time (CPU s / wall s; a free core would be 1.00):")
    for mode, s in summaries.items():
        print(f"  {mode:<9} crawl process {s['busy']:.2f}, extraction workers {s['busy_workers']:.2f}")
    print("\nWhere pages wait (means of 5 samples a second): downloads in flight (of CONCURRENT_REQUESTS), "
          "responses in the scraper (MB; it takes no more above SCRAPER_SLOT_MAX_ACTIVE_SIZE), requests "
          "queued, pages at the extraction pool:")
    for mode, s in summaries.items():
        if s["queues"]:
            down, scraping, mb, queued, pool = s["queues"]
            print(f"  {mode:<9} downloading {down:5.1f}, scraping {scraping:5.1f} ({mb:4.1f} MB), "
                  f"queued {queued:6.0f}, at the pool {pool:5.1f}")
    for mode, s in summaries.items():
        if mode != "bare" and "1000" in s["rss"] and "5000" in s["rss"] and s["rss"]["5000"] == s["rss"]["5000"]:
            print(f"\n{mode}: peak RSS growth 1k -> 5k responses: {s['rss'].get('5000', float('nan')) - s['rss']['1000']:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=5000, help="articles on the generated site (default 5000)")
    parser.add_argument("--reps", type=int, default=1,
                        help="runs of each newsmon mode (default 1); bare runs before, between and after them")
    parser.add_argument("--workers", type=int, default=1,
                        help="EXTRACT_WORKERS of the workers mode (default 1)")
    parser.add_argument("--modes", default="bare,embedded,workers,mongo",
                        help="comma-separated: bare, trafilatura (the naive Scrapy + trafilatura.extract "
                             "spider), embedded, workers, mongo (mongo needs NEWSMON_TEST_MONGO_URI)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="settings",
                        help="a Scrapy/newsmon setting for every newsmon run (repeatable), e.g. CONCURRENT_ITEMS=100")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, probe files)")
    parser.add_argument("--profile", metavar="PREFIX",
                        help="run newsmon crawls under cProfile, writing PREFIX-main.prof and PREFIX-store.prof")
    parser.add_argument("--child-profile", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.add_argument("--child-bare", nargs=3, metavar=("BASE", "SITES_DIR", "PROBE"), help=argparse.SUPPRESS)
    parser.add_argument("--child-trafilatura", nargs=3, metavar=("BASE", "SITES_DIR", "PROBE"), help=argparse.SUPPRESS)
    parser.add_argument("--serve", nargs=2, metavar=("DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if bad := [s for s in args.settings if "=" not in s or not s.split("=", 1)[0]]:
        parser.error(f"--set {bad[0]!r}: expected NAME=VALUE")
    if args.child_profile:
        profiled_crawl(args.child_profile[0], args.child_profile[1:])
        return 0
    if args.child_bare:
        bare_crawl(*args.child_bare)
        return 0
    if args.child_trafilatura:
        bare_crawl(*args.child_trafilatura, extract=True)
        return 0
    if args.serve:
        asyncio.run(_serve(Path(args.serve[0]), int(args.serve[1])))
        return 0

    mongo_uri = os.environ.get("NEWSMON_TEST_MONGO_URI")
    modes = [m for m in args.modes.split(",") if m and (m != "mongo" or mongo_uri)]
    if "mongo" in args.modes and not mongo_uri:
        print("NEWSMON_TEST_MONGO_URI is not set: no mongo runs")
    work = Path(tempfile.mkdtemp(prefix="newsmon-bench-crawl-"))
    server = None
    try:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        site_dir = work / "site"
        site_dir.mkdir()
        built = build(args.pages, args.seed, site_dir, base)
        print(f"site: {built['articles']} articles, {built['responses']} responses, "
              f"{built['bytes'] / 2**20:.0f} MB, median article {built['median_article_kb']:.0f} KB "
              f"(generated in {built['seconds']:.0f} s)")
        sites_dir = work / "sites"
        sites_dir.mkdir()
        (sites_dir / f"{SITE}.toml").write_text(profile_text(base))
        server = start_static_server(site_dir, port)
        print(f"serving at {base} (asyncio static server, pid {server.pid})")
        runs: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
        # a b a c a …: bare Scrapy is cheap, so it runs between every two newsmon runs.
        order = [m for _ in range(args.reps) for m in modes if m != "bare"]
        if "bare" in modes:
            order = ["bare", *(m for mode in order for m in (mode, "bare"))]
        for n, mode in enumerate(order):
            try:
                report = run_one(mode, base, sites_dir, work, n, mongo_uri, args.profile, args.workers,
                                 tuple(args.settings))
            except SystemExit as exc:  # a failed or interrupted run: print what the others measured
                print(f"  run {n + 1} {mode}: {exc}; no more runs")
                break
            runs[mode].append(report)
            print(f"  run {n + 1} {mode:<9} {report['responses']:>6} responses in {report['wall']:6.1f} s "
                  f"({report['responses'] / report['wall']:5.0f}/s), process {report['process_wall']:.1f} s, "
                  f"CPU {report['cpu']:.1f} s (workers {report.get('worker_cpu', 0):.1f}), finish {report['stats'].get('finish_reason')}, "
                  f"load {report['load'][0]:.1f} -> {report['load'][1]:.1f}", flush=True)
        print_table({m: summarize(m, r) for m, r in runs.items() if r})
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
