"""``newsmon``: crawl sites, run the offline demo, export what was stored.

Every user mistake (unknown site, bad argument, unreachable store, bad profile) is one line on
stderr and exit status 2 (1 for a crawl that failed), never a traceback. click gives every
subcommand its ``--help``; rich draws the tables.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import wraps
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from crawler.errors import ConfigError, NewsmonError
from crawler.topics.cli import COMMANDS as _TOPIC_COMMANDS

__all__ = ["main"]

err = Console(stderr=True)
out = Console()


def _friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn newsmon's own errors into one line and exit status 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NewsmonError as exc:
            click.echo(f"newsmon: error: {exc}", err=True)
            sys.exit(2)

    return wrapper


def _settings(overrides: tuple[str, ...] = ()) -> Any:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for pair in overrides:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"-s {pair!r}: expected NAME=VALUE")
        settings.set(name.strip(), value, priority="cmdline")
    return settings


def _key_values(pairs: tuple[str, ...], flag: str) -> dict[str, str]:
    result = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"{flag} {pair!r}: expected key=value")
        result[name.strip()] = value
    return result


def _profiles(settings: Any) -> dict[str, Any]:
    from crawler.profiles import load_profiles, profile_dirs

    return load_profiles(profile_dirs(settings.get("NEWSMON_SITES_DIR")))


def _check_store(settings: Any) -> str:
    """Open and close the configured store once, so an unreachable one fails before crawling."""
    from pipelines.storage.config import StoreConfig

    store = StoreConfig.from_settings(settings).create()
    store.open()
    try:
        return store.describe()
    finally:
        store.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsmon")
def cli() -> None:
    """newsmon: monitor news sites. Crawls site profiles into MongoDB (or the embedded store
    when MONGO_URI is not set) as articles and News Feed snippets.

    \b
    Quick start:   newsmon demo          crawl the bundled offline demo site
                   newsmon sites         list site profiles
                   newsmon crawl SITE    crawl one site
                   newsmon export articles --limit 5
    """


@cli.command()
@_friendly
def sites() -> None:
    """List the site profiles (shipped ones and those in NEWSMON_SITES_DIR)."""
    settings = _settings()
    table = Table("site", "domains", "sections", "feeds", "sitemaps", "every", "profile file")
    for profile in _profiles(settings).values():
        table.add_row(profile.name, ", ".join(profile.allowed_domains), str(len(profile.sections)),
                      str(len(profile.feeds)), str(len(profile.sitemaps)),
                      f"{profile.recrawl_minutes:g} min", profile.path)
    out.print(table)


def _run_crawl(site: str, spider_args: dict[str, str], settings: Any,
               before_start: Callable[[], None] | None = None) -> dict[str, Any]:
    """Crawl one site in this process and return its final stats."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.news import check_spider_arguments

    profiles = _profiles(settings)
    if site not in profiles:
        raise ConfigError(f"unknown site {site!r}; known: {', '.join(sorted(profiles)) or 'none'}")
    check_spider_arguments(spider_args)
    from crawler.render import render_problem

    problem = render_problem(profiles[site], settings)
    if problem:
        raise ConfigError(problem)
    where = _check_store(settings)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(site)
    process.crawl(crawler, **spider_args)
    err.print(f"Crawling [bold]{site}[/] into {where} …")
    if before_start:
        before_start()
    process.start()
    stats = dict(crawler.stats.get_stats() or {})
    stats["_store"] = where
    if process.bootstrap_failed:
        stats["_failed"] = True
    return stats


def _print_summary(site: str, stats: dict[str, Any]) -> None:
    from crawler.runs import summarize

    summary = summarize(stats)
    table = Table(title=f"crawl of {site}: {stats.get('finish_reason', 'not finished')}", show_header=False)
    rows = [
        ("pages fetched", summary["pages"]),
        ("articles new", summary["articles_new"]),
        ("articles updated", summary["articles_updated"]),
        ("articles unchanged (seen before)", summary["articles_unchanged"]),
        ("articles revised (edited since last seen)", summary["revisions"]),
        ("duplicates linked (exact / near, other URL)", f"{summary['duplicates_exact']} / {summary['duplicates_near']}"),
        ("News Feed snippets corrected", summary["snippets_corrected"]),
        ("known articles not re-fetched", summary["articles_skipped_known"]),
        ("pages not modified (HTTP 304)", summary["not_modified"]),
        ("News Feed snippets new", summary["snippets_new"]),
        ("snippets seen again (duplicates skipped)", summary["snippets_seen_again"]),
        ("new topic flags (newsmon flags lists them)", summary["topic_flags_new"]),
        ("pages that were not articles", summary["not_articles"]),
        ("items dropped by validation", summary["dropped"]),
        ("errors (HTTP and network)", summary["errors"]),
        ("store write failures", summary["store_failed"]),
    ]
    for label, value in rows:
        table.add_row(label, str(value))
    out.print(table)
    # Plain lines, never cut to the terminal width: scripts and people copy these.
    click.echo(f"run id: {stats.get('newsmon/run_id', '-')}")
    click.echo(f"data: {stats.get('_store', '-')}")


def _crawl_settings(settings: Any, trigger: str) -> None:
    settings.set("NEWSMON_RUN_TRIGGER", trigger, priority="cmdline")
    if settings.getpriority("LOG_LEVEL") is None or settings.getpriority("LOG_LEVEL") < 40:
        settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    if settings.getfloat("NEWSMON_PROGRESS_INTERVAL") <= 0:
        settings.set("NEWSMON_PROGRESS_INTERVAL", 2, priority="cmdline")


@cli.command(context_settings={"ignore_unknown_options": False})
@click.argument("site")
@click.option("-a", "spider_args", multiple=True, metavar="KEY=VALUE",
              help="Spider argument: max_pages, max_articles, since (ISO date), base_url.")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE",
              help="Scrapy/newsmon setting, e.g. -s MONGO_URI=mongodb://localhost:27017/.")
@click.option("--log-level", default=None, help="Scrapy log level (default WARNING, progress lines on).")
@_friendly
def crawl(site: str, spider_args: tuple[str, ...], setting_pairs: tuple[str, ...],
          log_level: str | None) -> None:
    """Crawl SITE (a profile name from `newsmon sites`) and print a summary."""
    settings = _settings(setting_pairs)
    _crawl_settings(settings, os.environ.get("NEWSMON_RUN_TRIGGER", "manual"))
    if log_level:
        settings.set("LOG_LEVEL", log_level.upper(), priority="cmdline")
    stats = _run_crawl(site, _key_values(spider_args, "-a"), settings)
    _print_summary(site, stats)
    if stats.get("_failed") or stats.get("finish_reason") not in ("finished", None) and \
            not str(stats.get("finish_reason", "")).startswith("closespider_"):
        sys.exit(1)


@cli.command()
@click.option("--serve", is_flag=True, help="Only serve the demo site (until Ctrl-C); do not crawl.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port to serve on. Article URLs include it, so keep it between runs.")
@click.option("--seed", default=7, show_default=True, help="Seed of the generated site.")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def demo(serve: bool, host: str, port: int | None, seed: int, setting_pairs: tuple[str, ...]) -> None:
    """Serve the bundled offline demo news site and crawl it into the configured store.

    Run it twice: the second run adds nothing new. With --serve the site is only served, so
    `scrapy crawl demo` (default port 8765) can be pointed at it.
    """
    from crawler.demo import build_site, serve as serve_site

    site = build_site(seed=seed)
    if serve:
        server = _serve_demo(serve_site, site, host, port)
        click.echo(f"Serving the demo site at {server.base_url}/ (Ctrl-C to stop)")
        click.echo(f"Crawl it with: scrapy crawl demo -a base_url={server.base_url}/")
        try:
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
        return
    settings = _settings(setting_pairs)
    _crawl_settings(settings, "demo")
    server = _serve_demo(serve_site, site, host, port)
    try:
        stats = _run_crawl("demo", {"base_url": server.base_url + "/"}, settings)
    finally:
        server.close()
    _print_summary("demo", stats)
    if stats.get("_failed"):
        sys.exit(1)


def _serve_demo(serve_site: Callable[..., Any], site: Any, host: str, port: int) -> Any:
    try:
        return serve_site(site, host=host, port=port)
    except OSError as exc:
        raise ConfigError(
            f"cannot serve the demo site on {host}:{port}: {exc.strerror} "
            "(is `newsmon demo --serve` running? choose another --port)"
        ) from exc


def _parse_when(value: str | None) -> datetime | None:
    if value is None:
        return None
    from crawler.spiders.news import parse_since

    try:
        return parse_since(value)
    except ConfigError:
        raise ConfigError(f"--since {value!r}: not an ISO date or datetime (e.g. 2024-01-01)") from None


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


@cli.command()
@click.argument("what", type=click.Choice(["articles", "snippets", "runs"]))
@click.option("--site", default=None, help="Only this site.")
@click.option("--since", default=None, metavar="DATE",
              help="Only items published (runs: started) at or after this ISO date/datetime (UTC).")
@click.option("--limit", default=0, type=click.IntRange(min=0), help="At most N documents (0 = all).")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def export(what: str, site: str | None, since: str | None, limit: int,
           setting_pairs: tuple[str, ...]) -> None:
    """Write stored documents as JSON lines on stdout (newest first, datetimes ISO 8601 UTC)."""
    from pipelines.storage.config import StoreConfig

    collection = {"articles": "articles", "snippets": "feed_snippets", "runs": "crawl_runs"}[what]
    time_field = "started_at" if what == "runs" else "published"
    query: dict[str, Any] = {}
    if site:
        query["site"] = site
    when = _parse_when(since)
    if when:
        query[time_field] = {"$gte": when}
    store = StoreConfig.from_settings(_settings(setting_pairs)).create()
    store.open()
    count = 0
    try:
        for doc in store.find(collection, query, sort=[(time_field, -1)], limit=limit):
            sys.stdout.write(json.dumps(doc, default=_iso, ensure_ascii=False) + "\n")
            count += 1
    except BrokenPipeError:  # `newsmon export … | head` is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        store.close()
    click.echo(f"exported {count} {what} from {store.describe()}", err=True)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--url", required=True, help="The page's URL (resolves links, names the site).")
@click.option("--encoding", default=None, help="Charset if known (as an HTTP header would give it).")
@_friendly
def extract(file: str, url: str, encoding: str | None) -> None:
    """Extract the article from a saved HTML FILE and print it as JSON (no crawl, no store)."""
    from crawler.extraction.cli import extract_command

    click.echo(extract_command(file, url, encoding))


@cli.command()
@click.argument("url")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def history(url: str, setting_pairs: tuple[str, ...]) -> None:
    """Show an article's revisions: what changed in each edit (title, paragraphs)."""
    from pipelines.history import article_history, format_history
    from pipelines.storage.config import StoreConfig

    store = StoreConfig.from_settings(_settings(setting_pairs)).create()
    store.open()
    try:
        found = article_history(store, url)
    finally:
        store.close()
    if found is None:
        raise ConfigError(f"no stored article has the URL {url}")
    click.echo(format_history(found))


@cli.command("import-spool")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def import_spool(files: tuple[str, ...], setting_pairs: tuple[str, ...]) -> None:
    """Write batches kept in the spool (when the store was down) into the store.

    With no FILES, every file in NEWSMON_DATA_DIR/spool/ is imported; each imported file is
    removed only after its documents were written.
    """
    from pathlib import Path

    from pipelines.spool import import_spool_file
    from pipelines.storage.config import StoreConfig

    config = StoreConfig.from_settings(_settings(setting_pairs))
    paths = [Path(f) for f in files] or sorted(config.spool_dir.glob("*.jsonl"))
    if not paths:
        click.echo(f"nothing to import in {config.spool_dir}", err=True)
        return
    store = config.create()
    store.open()
    try:
        for path in paths:
            summary = import_spool_file(store, path)
            click.echo(f"{path}: {summary.inserted} inserted, {summary.updated} updated, "
                       f"{summary.unchanged} unchanged, {summary.failed} failed")
            if not summary.failed:
                path.unlink()
    finally:
        store.close()


def _schedule_config(sites: tuple[str, ...], settings: Any, interval: float | None, timeout: float,
                     grace: float, jitter: float, crawl_args: list[str]) -> Any:
    from crawler.scheduler import ScheduleConfig
    from pipelines.storage.config import StoreConfig

    profiles = _profiles(settings)
    for site in sites:
        if site not in profiles:
            raise ConfigError(f"unknown site {site!r}; known: {', '.join(sorted(profiles))}")
    chosen = sites or tuple(sorted(profiles))
    intervals = {s: interval if interval else profiles[s].recrawl_minutes * 60 for s in chosen}
    return ScheduleConfig(sites=chosen, intervals=intervals, run_timeout=timeout, stop_grace=grace,
                          jitter=jitter, crawl_args=tuple(crawl_args),
                          store=StoreConfig.from_settings(settings))


@cli.command()
@click.argument("sites", nargs=-1)
@click.option("--once", is_flag=True, help="Crawl every due site once, then exit (for cron).")
@click.option("--interval", type=float, default=None, metavar="SECONDS",
              help="Re-crawl interval for every site (default: each profile's recrawl_minutes).")
@click.option("--timeout", type=float, default=3600, show_default=True, metavar="SECONDS",
              help="Wall-clock limit of one crawl; then SIGINT, and SIGKILL after --grace.")
@click.option("--grace", type=float, default=30, show_default=True, metavar="SECONDS",
              help="Time a stopped crawl gets to finish cleanly.")
@click.option("--jitter", type=float, default=0, show_default=True, metavar="SECONDS",
              help="Random delay added to each scheduled run.")
@click.option("-a", "spider_args", multiple=True, metavar="KEY=VALUE", help="Spider argument for every crawl.")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting for every crawl.")
@_friendly
def schedule(sites: tuple[str, ...], once: bool, interval: float | None, timeout: float, grace: float,
             jitter: float, spider_args: tuple[str, ...], setting_pairs: tuple[str, ...]) -> None:
    """Re-crawl SITES (default: all) on their intervals until stopped; each crawl is a child
    process, never two of one site at once, every run recorded in crawl_runs."""
    import logging

    from crawler.scheduler import run_due_once, serve

    settings = _settings(setting_pairs)
    _key_values(spider_args, "-a")
    crawl_args = [x for pair in spider_args for x in ("-a", pair)]
    crawl_args += [x for pair in setting_pairs for x in ("-s", pair)]
    config = _schedule_config(sites, settings, interval, timeout, grace, jitter, crawl_args)
    _check_store(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if once:
        outcomes = run_due_once(config)
        for site, outcome in outcomes.items():
            click.echo(f"{site}: {outcome}")
        sys.exit(0 if all(o in ("finished", "not_due") for o in outcomes.values()) else 1)
    sys.exit(serve(config))


def _when(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else "-"


@cli.command()
@click.option("--site", default=None, help="Only this site.")
@click.option("--last", default=20, show_default=True, type=click.IntRange(min=1), help="How many runs.")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def runs(site: str | None, last: int, setting_pairs: tuple[str, ...]) -> None:
    """List recorded crawl runs, newest first (times in UTC)."""
    from pipelines.storage.config import StoreConfig

    store = StoreConfig.from_settings(_settings(setting_pairs)).create()
    store.open()
    try:
        docs = list(store.find("crawl_runs", {"site": site} if site else {},
                               sort=[("started_at", -1)], limit=last))
    finally:
        store.close()
    table = Table("started (UTC)", "site", "trigger", "outcome", "seconds", "pages", "articles new",
                  "updated", "unchanged", "snippets new", "errors")
    for doc in docs:
        summary = doc.get("summary") or {}
        started, finished = doc.get("started_at"), doc.get("finished_at")
        seconds = f"{(finished - started).total_seconds():.0f}" if started and finished else "-"
        table.add_row(_when(started), doc.get("site", "-"), doc.get("trigger", "-"),
                      doc.get("outcome", "-"), seconds,
                      *(str(summary.get(k, "-")) for k in ("pages", "articles_new", "articles_updated",
                                                           "articles_unchanged", "snippets_new", "errors")))
    out.print(table)


@cli.command()
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def status(setting_pairs: tuple[str, ...]) -> None:
    """Per site: the last run, its outcome, and when the next run is due."""
    from datetime import timedelta

    from pipelines.storage.config import StoreConfig

    settings = _settings(setting_pairs)
    store = StoreConfig.from_settings(settings).create()
    store.open()
    table = Table("site", "every", "last run (UTC)", "outcome", "next due (UTC)")
    try:
        for profile in _profiles(settings).values():
            last = next(iter(store.find("crawl_runs", {"site": profile.name},
                                        sort=[("started_at", -1)], limit=1)), None)
            every = timedelta(minutes=profile.recrawl_minutes)
            due = "now" if last is None else _when(max(last["started_at"] + every, datetime.now(UTC)))
            table.add_row(profile.name, f"{profile.recrawl_minutes:g} min",
                          _when(last["started_at"]) if last else "never",
                          last.get("outcome", "-") if last else "-", due)
    finally:
        store.close()
    out.print(table)


@cli.group()
def topics() -> None:
    """Topics of interest: list, test, build their compiled terms, explain a match."""


for _command in _TOPIC_COMMANDS:  # `topics build` and `topics explain`, defined in crawler/topics/cli.py
    _command.callback = _friendly(_command.callback)  # type: ignore[arg-type]
    topics.add_command(_command)


@topics.command("list")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE",
              help="Setting override, e.g. -s TOPICS_FILE=my-topics/.")
@_friendly
def topics_list(setting_pairs: tuple[str, ...]) -> None:
    """Show the configured topics (TOPICS_FILE, default: the shipped central-asia topic)."""
    from crawler.topics.cli import topics_list_rows

    table = Table("slug", "name", "terms", "spellings", "min score", "fields", "file")
    for row in topics_list_rows(_settings(setting_pairs)):
        table.add_row(row["slug"], row["name"], str(row["terms"]), str(row["spellings"]),
                      f"{row.get('min_score', '-')}", ", ".join(row.get("fields", [])), str(row.get("file", "")))
    out.print(table)


@topics.command("test")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--topics-file", default=None, help="Topic file or directory (default: TOPICS_FILE).")
@click.option("--explain", is_flag=True, help="Per-term details (count, field, context) instead of names.")
@_friendly
def topics_test_command(file: Any, topics_file: str | None, explain: bool) -> None:
    """Read JSON lines from FILE ('-' for stdin: title, text, any other fields) and write each back
    with `topics: [{slug, score, terms}]` added, using the pipeline's matcher and thresholds."""
    from crawler.topics.cli import topics_test

    settings = _settings()
    count = topics_test(file, sys.stdout, topics_file or settings.get("TOPICS_FILE"), explain=explain)
    click.echo(f"matched {count} lines", err=True)


@cli.command()
@click.option("--topic", default=None, help="Only this topic slug (e.g. central-asia).")
@click.option("--since", default=None, metavar="WHEN", help="30m, 24h, 7d, 2w or an ISO date (UTC).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=0), help="0 = all.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text.")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def flags(topic: str | None, since: str | None, limit: int, as_json: bool,
          setting_pairs: tuple[str, ...]) -> None:
    """List flagged items, newest first: title, site, time, score and matched terms."""
    from crawler.topics.cli import flags_rows, format_flags, parse_since
    from pipelines.storage.config import StoreConfig

    when = parse_since(since) if since else None
    rows = flags_rows(StoreConfig.from_settings(_settings(setting_pairs)), topic, when, limit)
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row, default=_iso, ensure_ascii=False) + "\n")
    else:
        click.echo(format_flags(rows))


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    return cli.main(args=argv, prog_name="newsmon")


if __name__ == "__main__":  # pragma: no cover
    main()
