"""``newsmon``: crawl sites, run the offline demo, export what was stored.

Every user mistake (unknown site, bad argument, unreachable store, bad profile) is one line on
stderr and exit status 2 (1 for a crawl that failed), never a traceback. click gives every
subcommand its ``--help``; rich draws the tables.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from crawler.errors import ConfigError, NewsmonError
from crawler.topics.cli import COMMANDS as _TOPIC_COMMANDS
from crawler.when import ago, duration, plural

if TYPE_CHECKING:
    from pathlib import Path

    from crawler.profiles import ProfileSet, SiteProfile
    from pipelines.storage.base import Store

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
        try:
            settings.set(name.strip(), value, priority="cmdline")
        except (ValueError, TypeError) as exc:  # a component dict that is not a JSON object
            from crawler.checks import override_problem

            raise ConfigError(override_problem(name.strip(), value, exc)) from None
    return settings


def _key_values(pairs: tuple[str, ...], flag: str) -> dict[str, str]:
    result = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"{flag} {pair!r}: expected key=value")
        result[name.strip()] = value
    return result


def _profile_set(settings: Any) -> ProfileSet:
    """Every profile file: the ones that load and the broken ones (each broken one only takes
    itself out)."""
    from crawler.profiles import profile_dirs, read_profiles

    return read_profiles(profile_dirs(settings.get("NEWSMON_SITES_DIR")))


def _profiles(settings: Any) -> dict[str, SiteProfile]:
    return _profile_set(settings).profiles


def _site_profile(settings: Any, site: str) -> SiteProfile:
    """The profile of ``site``; one line naming the problem when it is unknown or broken."""
    found = _profile_set(settings)
    if site in found.broken:
        raise ConfigError(f"site {site!r} cannot be used: its profile is broken: {found.broken[site]}")
    if site not in found.profiles:
        raise ConfigError(f"unknown site {site!r}; known: {', '.join(sorted(found.profiles)) or 'none'}")
    return found.profiles[site]


def _store_for_site(settings: Any, site: str | None, collection: str) -> Store | None:
    """The opened store for a read-only command with ``--site S`` (None: no data yet).

    ``S`` must name a profile, or a site with documents in ``collection`` (a removed profile's
    data); else one line says it is unknown (or broken) and exit status 2.
    """
    if site is None or site in _profiles(settings):
        return _existing_store(settings)
    store = _existing_store(settings, say=False)
    if store is None or next(iter(store.find(collection, {"site": site}, limit=1)), None) is None:
        if store is not None:
            store.close()
        _site_profile(settings, site)  # raises: broken or unknown
    return store


def _embedded_file(settings: Any) -> Path | None:
    """The embedded store's file when it is the configured store, else None (MongoDB)."""
    from pipelines.storage import SQLITE_FILENAME
    from pipelines.storage.config import StoreConfig

    config = StoreConfig.from_settings(settings)
    return None if config.mongo_uri else config.data_dir / SQLITE_FILENAME


def _has_data(settings: Any, say: bool = True) -> bool:
    """False on a fresh machine: the embedded store's file does not exist yet. Read-only commands
    ask this first and say "no data yet" (exit status 0), so looking never creates a store."""
    path = _embedded_file(settings)
    if path is None or path.is_file():
        return True
    if say:
        click.echo(f"no data yet: {path} does not exist (`newsmon demo` or `newsmon crawl SITE` "
                   "creates it)", err=True)
    return False


def _existing_store(settings: Any, say: bool = True) -> Store | None:
    """The configured store, opened; None when there is none yet (saying so unless ``say`` is off)."""
    from pipelines.storage.config import StoreConfig

    if not _has_data(settings, say):
        return None
    store = StoreConfig.from_settings(settings).create()
    store.open()
    return store


def _table(*headers: str) -> Table:
    """A table whose cells are never cut: rows wrap instead, and callers keep them narrow."""
    table = Table(*headers)
    for column in table.columns:
        column.overflow = "fold"
    return table


def _table_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--wide`` (every column, exact UTC times) and ``--json`` (JSON lines, all fields)."""
    func = click.option("--json", "as_json", is_flag=True, help="JSON lines with every field.")(func)
    return click.option("--wide", is_flag=True,
                        help="Every column, exact UTC times (wider than 80 columns).")(func)


def _print_table(table: Table, wide: bool) -> None:
    """Print at the terminal's width; ``--wide`` tables are never squeezed (the terminal wraps)."""
    (Console(width=1000) if wide else out).print(table)


def _json_lines(rows: Any) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, default=_iso, ensure_ascii=False) + "\n")


def _check_store(settings: Any) -> str:
    """Open and close the configured store once, so an unreachable one fails before scheduling."""
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
@_table_options
@_friendly
def sites(wide: bool, as_json: bool) -> None:
    """List the site profiles (shipped ones and those in NEWSMON_SITES_DIR); broken ones with
    their problem."""
    found = _profile_set(_settings())
    if as_json:
        _json_lines([_profile_json(p) for p in found.profiles.values()] +
                    [{"site": name, "broken": str(exc), "profile": exc.path}
                     for name, exc in found.broken.items()])
        return
    if wide:
        table = _table("site", "domains", "sections", "feeds", "sitemaps", "every", "profile file")
    else:
        table = _table("site", "domain", "sections", "feeds", "sitemaps", "every")
    for profile in found.profiles.values():
        counts = (str(len(profile.sections)), str(len(profile.feeds)), str(len(profile.sitemaps)))
        every = duration(profile.recrawl_minutes * 60)
        if wide:
            table.add_row(profile.name, ", ".join(profile.allowed_domains), *counts, every, profile.path)
        else:
            more = len(profile.allowed_domains) - 1
            table.add_row(profile.name, profile.allowed_domains[0] + (f" +{more}" if more else ""),
                          *counts, every)
    for name, exc in found.broken.items():
        table.add_row(name, "broken", "-", "-", "-", "-", *((exc.path,) if wide else ()))
    _print_table(table, wide)
    for exc in found.broken.values():
        click.echo(f"broken: {exc}")


def _profile_json(profile: SiteProfile) -> dict[str, Any]:
    return {"site": profile.name, "base_url": profile.base_url, "domains": list(profile.allowed_domains),
            "sections": dict(profile.sections), "feeds": list(profile.feeds),
            "sitemaps": list(profile.sitemaps), "recrawl_minutes": profile.recrawl_minutes,
            "profile": profile.path}


def _run_crawl(site: str, spider_args: dict[str, str], settings: Any,
               before_start: Callable[[], None] | None = None) -> dict[str, Any]:
    """Crawl one site in this process and return its final stats."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.news import check_spider_arguments

    profile = _site_profile(settings, site)
    check_spider_arguments(spider_args)
    from crawler.render import render_problem

    problem = render_problem(profile, settings)
    if problem:
        raise ConfigError(problem)
    # The crawl opens the store itself, once (one client per process); an unreachable store is
    # one ERROR line, and what the crawl produces is journaled until the store is back.
    from pipelines.storage.config import StoreConfig

    where = StoreConfig.from_settings(settings).create().describe()
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(site)
    process.crawl(crawler, **spider_args)
    err.print(f"Crawling [bold]{site}[/] into {where} …")
    if before_start:
        before_start()
    from crawler.shutdown import start

    start(process)  # a stop signal lets a closing crawl finish its close (its run record)
    stats = dict(crawler.stats.get_stats() or {})
    stats["_store"] = where
    # said by crawler.stages.StagesOffNotice, unless the settings left that notice out too
    from crawler.stages import crawl_stages_off

    stats.setdefault("newsmon/stages_off", sorted(crawl_stages_off(crawler)))
    if process.bootstrap_failed:
        stats["_failed"] = True
    return stats


def _print_summary(site: str, stats: dict[str, Any]) -> None:
    from crawler.runs import summarize

    summary = summarize(stats)
    outcome = stats.get("newsmon/outcome") or stats.get("finish_reason", "not finished")
    table = Table(title=f"crawl of {site}: {outcome}", show_header=False)
    rows = [
        ("pages fetched", summary["pages"]),
        ("articles new", summary["articles_new"]),
        ("articles revised (edited since last seen)", summary["articles_updated"]),
        ("articles unchanged (seen before)", summary["articles_unchanged"]),
        ("duplicates linked (exact / near, other URL)", f"{summary['duplicates_exact']} / {summary['duplicates_near']}"),
        ("known articles not re-fetched", summary["articles_skipped_known"]),
        ("pages not modified (HTTP 304)", summary["not_modified"]),
        ("News Feed snippets new", summary["snippets_new"]),
        ("snippets seen again", summary["snippets_seen_again"]),
        ("snippets corrected", summary["snippets_corrected"]),
        ("new topic flags (newsmon flags lists them)", summary["topic_flags_new"]),
        ("pages that were not articles", summary["not_articles"]),
        ("items dropped by validation", summary["dropped"]),
        ("errors (HTTP and network)", summary["errors"]),
        ("store write failures", summary["store_failed"]),
        ("journaled (written at the next crawl)", summary["journaled"]),
        ("replayed from the journal", summary["replayed"]),
        ("alerts not delivered yet (sent again next crawl)", summary["alerts_pending"]),
    ]
    if summary["lost"]:
        rows.append(("LOST (journal refused them too)", summary["lost"]))

    for label, value in rows:
        table.add_row(label, str(value))
    out.print(table)
    # Plain lines, never cut to the terminal width: scripts and people copy these.
    if stats.get("newsmon/stages_off"):  # a crawl must not look complete while a stage was off
        click.echo(f"switched off by settings: {', '.join(stats['newsmon/stages_off'])} (the log says what is not done)")
    click.echo(f"run id: {stats.get('newsmon/run_id', '-')}")
    click.echo(f"data: {stats.get('_store', '-')}")


def _crawl_settings(settings: Any, trigger: str) -> None:
    from crawler.checks import check_settings

    check_settings(settings)  # every setting, before anything is served, opened or written
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
@click.option("--shared", is_flag=True,
              help="Share one frontier and dedupe set in Redis (REDIS_URL) with every other --shared crawl of SITE.")
@_friendly
def crawl(site: str, spider_args: tuple[str, ...], setting_pairs: tuple[str, ...],
          log_level: str | None, shared: bool) -> None:
    """Crawl SITE (a profile name from `newsmon sites`) and print a summary."""
    settings = _settings(setting_pairs)
    if log_level:
        settings.set("LOG_LEVEL", log_level.upper(), priority="cmdline")
    if shared:
        settings.set("REDIS_SHARED_CRAWL", True, priority="cmdline")
    if settings.getbool("REDIS_SHARED_CRAWL"):
        _require_redis(settings, "--shared")
    _crawl_settings(settings, os.environ.get("NEWSMON_RUN_TRIGGER", "manual"))
    stats = _run_crawl(site, _key_values(spider_args, "-a"), settings)
    _print_summary(site, stats)
    sys.exit(_exit_status(stats))


def _require_redis(settings: Any, what: str) -> Any:
    """The Redis configuration, or a one-line error naming ``what`` needs it."""
    from crawler.checks import check_settings
    from crawler.distributed import RedisConfig

    check_settings(settings)
    config = RedisConfig.from_settings(settings)
    if config is None:
        raise ConfigError(f"{what} needs Redis: set NEWSMON_REDIS_URL (or -s REDIS_URL=redis://host:6379/0)")
    config.connect()
    return config


def _exit_status(stats: dict[str, Any]) -> int:
    """0 finished, 3 degraded (something journaled or not stored), 1 anything else."""
    if stats.get("_failed"):
        return 1
    outcome = stats.get("newsmon/outcome")
    if outcome is None:  # runs not recorded (CRAWL_RUNS_ENABLED off): Scrapy's reason decides
        reason = str(stats.get("finish_reason", ""))
        return 0 if reason == "finished" or reason.startswith("closespider_") else 1
    return {"finished": 0, "degraded": 3}.get(outcome, 1)


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
        import signal

        # Ctrl-C and SIGTERM stop it, also when started in the background, where the shell hands
        # it SIGINT ignored (a `newsmon demo --serve &` then ran on after `kill -INT`).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
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
    sys.exit(_exit_status(stats))


def _serve_demo(serve_site: Callable[..., Any], site: Any, host: str, port: int) -> Any:
    try:
        return serve_site(site, host=host, port=port)
    except OSError as exc:
        raise ConfigError(
            f"cannot serve the demo site on {host}:{port}: {exc.strerror} "
            "(is `newsmon demo --serve` running? choose another --port)"
        ) from exc


def _parse_when(value: str | None) -> datetime | None:
    """``--since`` of every command: an ISO date/datetime or a duration before now (24h, 7d)."""
    if value is None:
        return None
    from crawler.when import parse_since

    return parse_since(value)


SINCE_HELP = "30m, 24h, 7d, 2w before now, or an ISO date/datetime (UTC)."


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


@cli.command()
@click.argument("what", type=click.Choice(["articles", "snippets", "runs"]))
@click.option("--site", default=None, help="Only this site.")
@click.option("--since", default=None, metavar="WHEN",
              help="Only items published (runs: started) at or after this: " + SINCE_HELP)
@click.option("--limit", default=0, type=click.IntRange(min=0), help="At most N documents (0 = all).")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def export(what: str, site: str | None, since: str | None, limit: int,
           setting_pairs: tuple[str, ...]) -> None:
    """Write stored documents as JSON lines on stdout (newest first, datetimes ISO 8601 UTC)."""
    from pipelines.identity import INTERNAL_FIELDS

    collection = {"articles": "articles", "snippets": "feed_snippets", "runs": "crawl_runs"}[what]
    time_field = "started_at" if what == "runs" else "published"
    query: dict[str, Any] = {}
    if site:
        query["site"] = site
    when = _parse_when(since)
    if when:
        query[time_field] = {"$gte": when}
    settings = _settings(setting_pairs)
    store = _store_for_site(settings, site, collection)
    if store is None:
        return
    count = 0
    try:
        for doc in store.find(collection, query, sort=[(time_field, -1)], limit=limit):
            for name in INTERNAL_FIELDS:  # dedupe's lookup data is not part of the schema
                doc.pop(name, None)
            sys.stdout.write(json.dumps(doc, default=_iso, ensure_ascii=False) + "\n")
            count += 1
    except BrokenPipeError:  # `newsmon export … | head` is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        store.close()
    noun = {"articles": ("article", None), "snippets": ("snippet", None), "runs": ("run", None)}[what]
    click.echo(f"exported {plural(count, *noun)} from {store.describe()}", err=True)


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

    settings = _settings(setting_pairs)
    store = _existing_store(settings)
    if store is None:
        return
    try:
        found = article_history(store, url)
    finally:
        store.close()
    if found is None:
        raise ConfigError(f"no stored article has the URL {url}")
    click.echo(format_history(found))


@cli.command()
@click.option("--status", "status_", default="pending", show_default=True,
              type=click.Choice(["pending", "sent", "expired", "all"]), help="Which alerts.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=0), help="At most N (0 = all).")
@_table_options
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def alerts(status_: str, limit: int, wide: bool, as_json: bool, setting_pairs: tuple[str, ...]) -> None:
    """The alert outbox: alerts a sink has not confirmed yet (pending; sent again at the next
    crawl), delivered ones (sent) and those given up after ALERT_OUTBOX_EXPIRE_HOURS (expired)."""
    from pipelines.outbox import COLLECTION

    store = _existing_store(_settings(setting_pairs))
    if store is None:
        return
    try:
        query = {} if status_ == "all" else {"status": status_}
        docs = list(store.find(COLLECTION, query, sort=[("created_at", -1)], limit=limit))
    finally:
        store.close()
    if as_json:
        _json_lines(docs)
        return
    table = _table("flagged", "sink", "status", "tries", "title") if not wide else _table(
        "created (UTC)", "id", "sink", "status", "tries", "next try (UTC)", "last error", "title")
    for doc in docs:
        title = str((doc.get("payload") or {}).get("title") or "-")
        if wide:
            table.add_row(_when(doc.get("created_at")), doc["_id"], doc.get("sink", "-"), doc.get("status", "-"),
                          str(doc.get("attempts", 0)), _when(doc.get("next_attempt_at")),
                          str(doc.get("last_error") or "-"), title)
        else:
            table.add_row(ago(doc.get("created_at")), doc.get("sink", "-"), doc.get("status", "-"),
                          str(doc.get("attempts", 0)), title[:40])
    _print_table(table, wide)
    click.echo(f"{plural(len(docs), 'alert')} {status_ if status_ != 'all' else ''}".rstrip(), err=True)


@cli.command("import-spool")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def import_spool(files: tuple[str, ...], setting_pairs: tuple[str, ...]) -> None:
    """Write what the journal holds into the store now (every crawl also does it when it starts).

    The journal (NEWSMON_DATA_DIR/journal/) keeps whatever the store refused: items, topic flags,
    fetch state, run records. Items are replayed through the item path (identity, topics, store)
    like fresh ones, so a replay deduplicates, flags and alerts, and replaying twice changes
    nothing. FILES (journal files, or spool files of earlier versions) join their site's journal
    first; with no FILES, the old NEWSMON_DATA_DIR/spool/ files do.
    """
    from pathlib import Path

    from pipelines.journal import Journal, journal_sites
    from pipelines.spool import file_records
    from pipelines.storage.config import StoreConfig

    settings = _settings(setting_pairs)
    config = StoreConfig.from_settings(settings)
    profiles = _profiles(settings)
    paths = [Path(f) for f in files] or sorted(config.spool_dir.glob("*.jsonl"))
    for path in paths:
        if path.resolve().parent == config.journal_dir.resolve():
            continue  # already in the journal
        by_site: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for kind, record in file_records(path):
            site = record.get("site")
            if not isinstance(site, str) or site not in profiles:
                raise ConfigError(f"{path}: a record of site {site!r}, which has no profile")
            by_site.setdefault((site, kind), []).append(record)
        for (site, kind), records in by_site.items():
            Journal(config.journal_dir, site).append(kind, records)
        path.unlink()
        click.echo(f"{path}: {sum(len(r) for r in by_site.values())} records added to the journal", err=True)
    sites = journal_sites(config.journal_dir)
    unknown = [s for s in sites if s not in profiles]
    if unknown:
        raise ConfigError(f"journal of unknown site(s) {', '.join(unknown)} in {config.journal_dir}")
    if not sites:
        click.echo(f"nothing to import: the journal in {config.journal_dir} is empty", err=True)
        return
    from scrapy.crawler import CrawlerProcess

    settings.set("NEWSMON_REPLAY_ONLY", True, priority="cmdline")
    _crawl_settings(settings, "import-spool")
    settings.set("NEWSMON_PROGRESS_INTERVAL", 0, priority="cmdline")
    process = CrawlerProcess(settings)
    crawlers = {}
    for site in sites:
        crawlers[site] = crawler = process.create_crawler(site)
        process.crawl(crawler)
    from crawler.shutdown import start

    start(process)
    again = 0
    for site, crawler in crawlers.items():
        from crawler.runs import summarize

        stats = dict(crawler.stats.get_stats() or {})
        summary = summarize(stats)
        again += summary["journaled"] + summary["lost"]
        click.echo(f"{site}: replayed {summary['replayed']} records: {summary['articles_new']} articles new, "
                   f"{summary['articles_updated']} revised, {summary['articles_unchanged']} unchanged, "
                   f"{summary['duplicates_exact'] + summary['duplicates_near']} duplicates; "
                   f"{summary['snippets_new']} snippets new; {summary['topic_flags_new']} new topic flags; "
                   f"{summary['journaled']} journaled again")
    if again:
        sys.exit(1)


def _schedule_config(sites: tuple[str, ...], settings: Any, interval: float | None, timeout: float,
                     grace: float, jitter: float, crawl_args: list[str]) -> Any:
    from crawler.checks import check_setting
    from crawler.distributed import RedisConfig
    from crawler.scheduler import ScheduleConfig
    from pipelines.storage.config import StoreConfig

    found = _profile_set(settings)
    profiles = {site: _site_profile(settings, site) for site in sites} or found.profiles
    if not sites:
        for exc in found.broken.values():
            click.echo(f"newsmon schedule: not scheduling a broken site profile: {exc}", err=True)
    chosen = sites or tuple(sorted(profiles))
    intervals = {s: interval if interval is not None else profiles[s].recrawl_minutes * 60 for s in chosen}
    return ScheduleConfig(sites=chosen, intervals=intervals, run_timeout=timeout, stop_grace=grace,
                          jitter=jitter, crawl_args=tuple(crawl_args),
                          store=StoreConfig.from_settings(settings),
                          metrics_port=check_setting(settings, "METRICS_PORT"),
                          metrics_address=check_setting(settings, "METRICS_ADDRESS"),
                          queue=RedisConfig.from_settings(settings))


@cli.command()
@click.argument("sites", nargs=-1)
@click.option("--once", is_flag=True, help="Crawl every due site once, then exit (for cron).")
@click.option("--interval", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="Re-crawl interval for every site (default: each profile's recrawl_minutes).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=3600, show_default=True, metavar="SECONDS",
              help="Wall-clock limit of one crawl; then SIGINT, and SIGKILL after --grace.")
@click.option("--grace", type=click.FloatRange(min=0), default=30, show_default=True, metavar="SECONDS",
              help="Time a stopped crawl gets to finish cleanly.")
@click.option("--jitter", type=click.FloatRange(min=0), default=0, show_default=True, metavar="SECONDS",
              help="Random delay added to each scheduled run.")
@click.option("-a", "spider_args", multiple=True, metavar="KEY=VALUE", help="Spider argument for every crawl.")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting for every crawl.")
@_friendly
def schedule(sites: tuple[str, ...], once: bool, interval: float | None, timeout: float, grace: float,
             jitter: float, spider_args: tuple[str, ...], setting_pairs: tuple[str, ...]) -> None:
    """Re-crawl SITES (default: all) on their intervals until stopped; each crawl is a child
    process, never two of one site at once, every run recorded in crawl_runs."""
    import logging

    from crawler.checks import check_settings
    from crawler.scheduler import run_due_once, serve
    from crawler.spiders.news import check_spider_arguments

    settings = _settings(setting_pairs)
    check_settings(settings)
    # The check `newsmon crawl` makes, here: a bad value must not start a failing child per run.
    check_spider_arguments(_key_values(spider_args, "-a"))
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
        queued = ("queued", "already_queued", "requeued_dead_worker")
        sys.exit(0 if all(o in ("finished", "not_due", *queued) for o in outcomes.values()) else 1)
    sys.exit(serve(config))


@cli.command()
@click.option("--burst", is_flag=True, help="Exit once the queue is empty (for tests and cron).")
@click.option("--name", default=None, help="Worker name shown by RQ (default: host and pid).")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting, e.g. -s REDIS_URL=...")
@_friendly
def worker(burst: bool, name: str | None, setting_pairs: tuple[str, ...]) -> None:
    """Run the crawls `newsmon schedule` queues in Redis (REDIS_URL), one site at a time per
    site across all workers; SIGTERM lets the running crawl finish."""
    import logging

    from crawler.distributed import run_worker

    settings = _settings(setting_pairs)
    config = _require_redis(settings, "newsmon worker")
    _check_store(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    click.echo(f"newsmon worker: queue {config.queue}; Ctrl-C or SIGTERM stops", err=True)
    run_worker(config, burst=burst, name=name)


def _when(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else "-"


def _word(outcome: Any) -> str:
    """An outcome as a word for narrow tables (``timed_out`` -> ``timed out``)."""
    return str(outcome or "-").replace("_", " ")


@cli.command()
@click.option("--site", default=None, help="Only this site.")
@click.option("--last", default=20, show_default=True, type=click.IntRange(min=1), help="How many runs.")
@click.option("--failed", is_flag=True, help="Only failing runs: health failed, or outcome failed/killed/timed out.")
@_table_options
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def runs(site: str | None, last: int, failed: bool, wide: bool, as_json: bool,
         setting_pairs: tuple[str, ...]) -> None:
    """List recorded crawl runs, newest first (relative times; --wide: UTC, every count)."""
    from crawler.runs import reap_dead_runs

    settings = _settings(setting_pairs)
    store = _store_for_site(settings, site, "crawl_runs")
    if store is None:
        return
    try:
        reap_dead_runs(store, site)
        found = store.find("crawl_runs", {"site": site} if site else {}, sort=[("started_at", -1)],
                           limit=0 if failed else last)
        docs = list(itertools.islice((d for d in found if not failed or _failing(d)), last))
    finally:
        store.close()
    if as_json:
        _json_lines(docs)
        return
    if wide:
        table = _table("started (UTC)", "run id", "site", "trigger", "outcome", "health", "seconds", "pages",
                       "articles new", "updated", "unchanged", "snippets new", "errors")
    else:
        table = _table("started", "site", "outcome", "took", "pages", "new", "errors")
    for doc in docs:
        summary = doc.get("summary") or {}
        started, finished = doc.get("started_at"), doc.get("finished_at")
        seconds = (finished - started).total_seconds() if started and finished else None
        if wide:
            table.add_row(_when(started), str(doc.get("_id", "-")), doc.get("site", "-"),
                          doc.get("trigger", "-"), _with_stages_off(doc, doc.get("outcome") or "-"),
                          _health_word(doc, wide),
                          "-" if seconds is None else f"{seconds:.0f}",
                          *(str(summary.get(k, "-")) for k in ("pages", "articles_new", "articles_updated",
                                                               "articles_unchanged", "snippets_new", "errors")))
        else:
            table.add_row(ago(started), doc.get("site", "-"), _run_state(doc),
                          "-" if seconds is None else duration(seconds),
                          *(str(summary.get(k, "-")) for k in ("pages", "articles_new", "errors")))
    _print_table(table, wide)
    if not docs:
        click.echo(("no failing runs" if failed else "no runs recorded") + (f" for {site}" if site else ""),
                   err=True)


def _failing(run: dict[str, Any]) -> bool:
    """A run whose health failed, or that did not finish (failed, killed, timed out)."""
    return (run.get("health") or {}).get("status") == "failed" or run.get("outcome") in (
        "failed", "killed", "timed_out")


def _run_state(run: dict[str, Any]) -> str:
    """The outcome for narrow tables, ``unhealthy`` for a finished or degraded run whose health failed."""
    if run.get("outcome") in ("finished", "degraded") and (run.get("health") or {}).get("status") == "failed":
        return _with_stages_off(run, "unhealthy")
    return _with_stages_off(run, _word(run.get("outcome")))


def _with_stages_off(run: dict[str, Any], word: str) -> str:
    """``finished (TOPICS_ENABLED off)``: a run must not look complete while settings switched a stage off."""
    off = run.get("stages_off") or []
    return f"{word} ({', '.join(off)} off)" if off else word


def _health_word(run: dict[str, Any] | None, wide: bool = False) -> str:
    """``failed`` / ``warnings`` / ``passed`` (``--wide``: with the monitors that did not pass)."""
    health = (run or {}).get("health") or {}
    status = health.get("status") or "-"
    bad = [m["name"] for m in health.get("monitors", []) if m.get("status") in ("failed", "warning")]
    return f"{status} ({', '.join(bad)})" if wide and bad else status


def _status_rows(settings: Any, store: Store | None) -> list[dict[str, Any]]:
    """Per site: interval (the service's job if it has one, else the profile's), last run, next due."""
    from datetime import timedelta

    from crawler.scheduler import scheduled_jobs
    from pipelines.storage.config import StoreConfig

    jobs = scheduled_jobs(StoreConfig.from_settings(settings))
    now = datetime.now(UTC)
    rows = []
    for profile in _profiles(settings).values():
        last = None if store is None else next(iter(store.find(
            "crawl_runs", {"site": profile.name}, sort=[("started_at", -1)], limit=1)), None)
        job = jobs.get(profile.name)
        every = job.interval if job else timedelta(minutes=profile.recrawl_minutes)
        if job:
            due = job.next_run
        else:
            due = now if last is None else max(last["started_at"] + every, now)
        rows.append({"site": profile.name, "interval_seconds": every.total_seconds(),
                     "interval_from": "schedule" if job else "profile",
                     "last_started": last["started_at"] if last else None,
                     "outcome": last.get("outcome") if last else None,
                     "health": ((last or {}).get("health") or {}).get("status"),
                     "health_problems": _health_word(last, wide=True) if last else None,
                     "next_due": due, "paused": bool(job and job.next_run is None)})
    return rows


@cli.command()
@_table_options
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def status(wide: bool, as_json: bool, setting_pairs: tuple[str, ...]) -> None:
    """Per site: the last run, its outcome, and when the next run is due (with the interval the
    scheduler runs with: its --interval when `newsmon schedule` has the site, else the profile's)."""
    settings = _settings(setting_pairs)
    from crawler.runs import reap_dead_runs

    store = _existing_store(settings, say=False)
    try:
        if store is not None:
            reap_dead_runs(store)
        rows = _status_rows(settings, store)
    finally:
        if store is not None:
            store.close()
    broken = _profile_set(settings).broken
    if as_json:
        _json_lines(rows + [{"site": name, "broken": str(exc)} for name, exc in broken.items()])
        return
    now = datetime.now(UTC)
    table = _table("site", "every", "last run (UTC)" if wide else "last run", "outcome", "health",
                   "next due (UTC)" if wide else "next due")
    for row in rows:
        due = row["next_due"]
        if row["paused"]:
            due_text = "paused"
        elif wide:
            due_text = _when(due)
        else:
            due_text = "now" if due is None or due <= now else ago(due, now)
        every = duration(row["interval_seconds"]) + (" (schedule)" if wide and row["interval_from"] == "schedule" else "")
        table.add_row(row["site"], every,
                      (_when if wide else ago)(row["last_started"]) if row["last_started"] else "never",
                      (str if wide else _word)(row["outcome"] or "-"),
                      (row["health_problems"] if wide else row["health"]) or "-", due_text)
    for name in broken:
        table.add_row(name, "-", "-", "broken", "-", "-")
    _print_table(table, wide)
    for exc in broken.values():
        click.echo(f"broken: {exc}")
    if store is None:
        _has_data(settings)  # says "no data yet"


@cli.command()
@click.option("--since", default="7d", show_default=True, metavar="WHEN", help=SINCE_HELP)
@click.option("-o", "--output", default="report.html", show_default=True, type=click.Path(dir_okay=False),
              help="The HTML file to write ('-' for stdout).")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def report(since: str, output: str, setting_pairs: tuple[str, ...]) -> None:
    """Write one self-contained HTML page with charts: articles and snippets per site per day, topic
    flags per topic per day, crawl health per site, the latest flagged items."""
    from crawler.report import collect, render

    settings = _settings(setting_pairs)
    start = _parse_when(since)
    assert start is not None
    store = _existing_store(settings)
    if store is None:
        sys.exit(1)
    try:
        page = render(collect(store, start))
    finally:
        store.close()
    if output == "-":
        click.echo(page, nl=False)
        return
    from pathlib import Path

    try:
        Path(output).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise click.FileError(output, exc.strerror or str(exc)) from None
    click.echo(f"wrote {output} ({len(page) // 1024} KB)", err=True)


@cli.group()
def topics() -> None:
    """Topics of interest: list, test, build their compiled terms, explain a match."""


for _command in _TOPIC_COMMANDS:  # `topics build` and `topics explain`, defined in crawler/topics/cli.py
    _command.callback = _friendly(_command.callback)  # type: ignore[arg-type]
    topics.add_command(_command)


@topics.command("list")
@_table_options
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE",
              help="Setting override, e.g. -s TOPICS_FILE=my-topics/.")
@_friendly
def topics_list(wide: bool, as_json: bool, setting_pairs: tuple[str, ...]) -> None:
    """Show the configured topics (TOPICS_FILE, default: the shipped central-asia topic)."""
    from crawler.topics.cli import topics_list_rows

    rows = topics_list_rows(_settings(setting_pairs))
    if as_json:
        _json_lines(rows)
        return
    table = _table("slug", "name", "terms", "spellings", "min score", *(("fields", "file") if wide else ()))
    for row in rows:
        table.add_row(row["slug"], row["name"], str(row["terms"]), str(row["spellings"]),
                      f"{row.get('min_score', '-')}",
                      *((", ".join(row.get("fields", [])), str(row.get("file", ""))) if wide else ()))
    _print_table(table, wide)


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
    tally: dict[str, int] = {}
    topics_test(file, sys.stdout, topics_file or settings.get("TOPICS_FILE"), explain=explain, tally=tally)
    click.echo(f"matched {tally['matched']} of {plural(tally['lines'], 'line')}", err=True)


@cli.command()
@click.option("--topic", default=None, help="Only this topic slug (e.g. central-asia).")
@click.option("--since", default=None, metavar="WHEN", help="Only items flagged since: " + SINCE_HELP)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=0), help="0 = all.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text.")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Setting override.")
@_friendly
def flags(topic: str | None, since: str | None, limit: int, as_json: bool,
          setting_pairs: tuple[str, ...]) -> None:
    """List flagged items, newest first: title, site, time, score and matched terms."""
    from crawler.topics.cli import flags_rows, format_flags
    from pipelines.storage.config import StoreConfig

    when = _parse_when(since)
    settings = _settings(setting_pairs)
    if not _has_data(settings):
        return
    rows = flags_rows(StoreConfig.from_settings(settings), topic, when, limit)
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
