"""The command line as a new user meets it: a broken profile, an 80-column terminal, a fresh
machine, and options that mean the same in every command (issue 15)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import StoreTier, run_newsmon

BROKEN = 'name = "broken"\nbase_url = \n'  # line 2, column 12: a value is missing


@pytest.fixture
def broken_dir(tmp_path) -> Path:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "broken.toml").write_text(BROKEN, encoding="utf-8")
    return sites


def _env(tier: StoreTier, **extra: str) -> dict[str, str]:
    return tier.env() | {"COLUMNS": "80"} | extra


def _fits_80(text: str) -> None:
    """Every table line fits; plain message lines are left whole for copying (the terminal wraps)."""
    for line in text.splitlines():
        if line[:1] in "┏┃┡│└":
            assert len(line) <= 80, line
    assert "…" not in text, text


def _rows(text: str) -> dict[str, list[str]]:
    """Table rows (and the header) by their first cell (rich's box drawing)."""
    rows = {}
    for line in text.splitlines():
        if line[:1] in "│┃":
            cells = [c.strip() for c in line.replace("┃", "│").strip("│").split("│")]
            rows[cells[0]] = cells
    return rows


def _add_run(tier: StoreTier, site: str, started: datetime, outcome: str = "finished") -> None:
    store = tier.open()
    try:
        store.insert_run({"_id": uuid.uuid4().hex, "schema_version": 1, "site": site, "trigger": "schedule",
                          "started_at": started, "finished_at": started + timedelta(seconds=75),
                          "outcome": outcome, "summary": {"pages": 186, "articles_new": 160, "errors": 1}})
    finally:
        store.close()


# --- one broken profile takes only itself out ---------------------------------------------------


def test_broken_profile_is_listed_and_others_work(embedded, broken_dir) -> None:
    env = _env(embedded, NEWSMON_SITES_DIR=str(broken_dir))
    message = "broken.toml: line 2, column 12: is not valid TOML: Invalid value"
    sites = run_newsmon(["sites"], env, timeout=60)
    assert sites.returncode == 0, sites.stderr
    rows = _rows(sites.stdout)
    assert {"demo", "kyivindependent", "broken"} <= rows.keys() and rows["broken"][1] == "broken"
    assert message in sites.stdout
    _fits_80(sites.stdout)

    status = run_newsmon(["status"], env, timeout=60)
    assert status.returncode == 0, status.stderr
    assert _rows(status.stdout)["broken"][3] == "broken" and "demo" in _rows(status.stdout)

    crawl = run_newsmon(["crawl", "broken"], env, timeout=60)
    assert crawl.returncode == 2
    assert crawl.stderr.strip().splitlines() == [
        f"newsmon: error: site 'broken' cannot be used: its profile is broken: {broken_dir}/{message}"]


def test_crawl_demo_with_a_broken_profile_beside_it(embedded, broken_dir, demo_server) -> None:
    env = _env(embedded, NEWSMON_SITES_DIR=str(broken_dir))
    crawl = run_newsmon(["crawl", "demo", "-a", f"base_url={demo_server.base_url}/", "-a", "max_articles=2",
                         "-a", "max_pages=1"], env)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert "Traceback" not in crawl.stderr


def test_schedule_names_the_broken_profile_at_start(embedded, broken_dir) -> None:
    now = datetime.now(UTC)
    for site in ("demo", "kyivindependent"):
        _add_run(embedded, site, now)  # both just ran: --once has nothing due
    # -a since=7d: a duration passes the same check `newsmon crawl` makes.
    result = run_newsmon(["schedule", "--once", "-a", "since=7d"],
                         _env(embedded, NEWSMON_SITES_DIR=str(broken_dir)), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "not scheduling a broken site profile" in result.stderr and "broken.toml: line 2" in result.stderr
    assert "demo: not_due" in result.stdout and "kyivindependent: not_due" in result.stdout


# --- tables fit 80 columns; --wide and --json give the detail --------------------------------------


def test_tables_fit_80_columns(embedded) -> None:
    now = datetime.now(UTC)
    _add_run(embedded, "kyivindependent", now - timedelta(hours=3), "timed_out")
    _add_run(embedded, "demo", now - timedelta(minutes=5))
    env = _env(embedded)
    runs = run_newsmon(["runs"], env, timeout=60)
    assert runs.returncode == 0, runs.stderr
    _fits_80(runs.stdout)
    rows = _rows(runs.stdout)
    assert rows["started"] == ["started", "site", "outcome", "took", "pages", "new", "errors"]
    assert rows["3h ago"][1:] == ["kyivindependent", "timed out", "1m15s", "186", "160", "1"]
    assert rows["5m ago"][1] == "demo"
    for command in (["status"], ["sites"], ["topics", "list"]):
        result = run_newsmon(command, env, timeout=60)
        assert result.returncode == 0, result.stderr
        _fits_80(result.stdout)
    assert _rows(run_newsmon(["status"], env, timeout=60).stdout)["demo"][2] == "5m ago"

    wide = run_newsmon(["runs", "--wide"], env, timeout=60)
    assert "timed_out" in wide.stdout and "articles new" in wide.stdout and "…" not in wide.stdout
    as_json = [json.loads(line) for line in run_newsmon(["runs", "--json"], env, timeout=60).stdout.splitlines()]
    assert [r["site"] for r in as_json] == ["demo", "kyivindependent"]
    assert as_json[1]["summary"]["pages"] == 186
    sites = [json.loads(line) for line in run_newsmon(["sites", "--json"], env, timeout=60).stdout.splitlines()]
    assert {s["site"] for s in sites} == {"demo", "kyivindependent"}


# --- one meaning per option ------------------------------------------------------------------------


def test_since_takes_durations_and_dates_everywhere(embedded) -> None:
    now = datetime.now(UTC)
    _add_run(embedded, "demo", now - timedelta(days=3))
    _add_run(embedded, "demo", now - timedelta(hours=1))
    env = _env(embedded)
    for since, expected in (("24h", 1), ("7d", 2), ((now - timedelta(days=2)).date().isoformat(), 1)):
        result = run_newsmon(["export", "runs", "--since", since], env, timeout=60)
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.splitlines()) == expected, since
        assert f"exported {expected} run{'s' if expected != 1 else ''} from" in result.stderr
    assert run_newsmon(["flags", "--since", "24h"], env, timeout=60).returncode == 0
    for command in (["export", "runs", "--since", "soon"], ["flags", "--since", "soon"],
                    ["crawl", "demo", "-a", "since=soon"]):
        result = run_newsmon(command, env, timeout=60)
        assert result.returncode == 2 and "'soon': not an ISO date or a duration" in result.stderr, command


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "articles", "--site", "nosuch"], "unknown site 'nosuch'; known: demo, kyivindependent"),
        (["runs", "--site", "nosuch"], "unknown site 'nosuch'"),
        (["schedule", "--interval", "0", "--once"], "'--interval': 0.0 is not in the range x>0"),
        (["schedule", "--once", "-a", "max_articles=0"], "max_articles='0': must be at least 1"),
        (["schedule", "--once", "-a", "colour=red"], "unknown spider argument -a colour"),
    ],
)
def test_bad_options_are_refused_before_anything_runs(embedded, args, message) -> None:
    _add_run(embedded, "demo", datetime.now(UTC) - timedelta(days=1))
    result = run_newsmon(args, _env(embedded), timeout=60)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    store = embedded.open()
    try:
        assert store.count("crawl_runs") == 1  # no child crawl was started and recorded
    finally:
        store.close()


def _job_store(tier: StoreTier):
    """The job store `newsmon schedule` uses with this tier's store."""
    if tier.mongo_uri:
        from apscheduler.jobstores.mongodb import MongoDBJobStore
        from pymongo import MongoClient

        return MongoDBJobStore(database=tier.database, collection="scheduler_jobs",
                               client=MongoClient(tier.mongo_uri, serverSelectionTimeoutMS=5000))
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    return SQLAlchemyJobStore(url=f"sqlite:///{tier.data_dir / 'scheduler.sqlite3'}")


def test_status_uses_the_interval_the_scheduler_runs_with(store_tier) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    now = datetime.now(UTC)
    _add_run(store_tier, "demo", now - timedelta(minutes=1))
    # What `newsmon schedule demo --interval 120` leaves in its job store.
    scheduler = BackgroundScheduler(jobstores={"default": _job_store(store_tier)}, timezone=UTC)
    scheduler.start(paused=True)
    scheduler.add_job("crawler.scheduler:run_scheduled_crawl", IntervalTrigger(seconds=120, timezone=UTC),
                      id="crawl:demo", kwargs={"site": "demo", "run_timeout": 60, "stop_grace": 5},
                      next_run_time=now + timedelta(minutes=10))
    scheduler.shutdown(wait=False)
    result = run_newsmon(["status", "--json"], _env(store_tier), timeout=60)
    assert result.returncode == 0, result.stderr
    rows = {r["site"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["demo"]["interval_seconds"] == 120 and rows["demo"]["interval_from"] == "schedule"
    due = datetime.fromisoformat(rows["demo"]["next_due"])
    assert abs((due - (now + timedelta(minutes=10))).total_seconds()) < 2
    assert rows["kyivindependent"]["interval_seconds"] == 15 * 60  # not scheduled: its profile's
    table = _rows(run_newsmon(["status"], _env(store_tier), timeout=60).stdout)
    assert table["demo"][1] == "2m" and table["demo"][5].startswith("in ")


# --- a fresh machine: looking creates nothing ------------------------------------------------------


@pytest.mark.parametrize("command", [["runs"], ["status"], ["export", "articles"], ["flags"],
                                     ["history", "http://example.org/a/"]])
def test_read_only_commands_on_a_fresh_machine_create_no_store(embedded, command) -> None:
    result = run_newsmon(command, _env(embedded), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "no data yet" in result.stderr and "Traceback" not in result.stderr
    assert not embedded.data_dir.exists()


def test_messages_use_the_right_plural(embedded, tmp_path) -> None:
    from crawler.when import plural

    assert (plural(1, "error"), plural(2, "error"), plural(0, "entry", "entries")) == \
        ("1 error", "2 errors", "0 entries")
    lines = tmp_path / "in.jsonl"
    lines.write_text("\n".join(json.dumps(x) for x in (
        {"title": "Tokayev visits Astana"}, {"title": "Weather in Lviv"}, {"title": "Bishkek talks"},
        {"title": "Rain"}, {"title": "Snow"})) + "\n", encoding="utf-8")
    result = run_newsmon(["topics", "test", str(lines)], _env(embedded), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "matched 2 of 5 lines"

    from pipelines.history import format_history

    for seen, text in ((1, "fetched 1 time"), (3, "fetched 3 times")):
        shown = format_history({"article": {"title": "T", "url": "u", "site": "demo", "revision": 1,
                                            "times_seen": seen}, "revisions": []})
        assert shown.splitlines()[2].endswith(text)


# --- the README's command table is the --help of every command --------------------------------------


def _readme_commands() -> dict[str, set[str]]:
    """Options named per command in the README's command table (first column)."""
    import re

    from tests.conftest import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("| command | what it does |", 1)[1].split("\n\n", 1)[0]
    named: dict[str, set[str]] = {}
    for row in table.splitlines()[2:]:
        first = row.split(" | ", 1)[0]
        for span in re.findall(r"`(newsmon[^`]*)`", first):
            words = span.split()
            path = ["newsmon"] + [w for w in words[1:3] if re.fullmatch(r"[a-z][a-z-]+", w)]
            if len(path) == 3 and path[1] != "topics":
                path = path[:2]
            options = set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", span))
            named.setdefault(" ".join(path), set()).update(options)
    return named


def _click_commands() -> dict[str, set[str]]:
    import click

    from crawler.cli import cli

    found: dict[str, set[str]] = {}

    def walk(command: click.Command, path: list[str]) -> None:
        options = {o for p in command.params for o in p.opts if o.startswith("-")}
        if isinstance(command, click.Group):
            found.setdefault(" ".join(path), set()).update(options)
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
        else:
            found[" ".join(path)] = options

    walk(cli, ["newsmon"])
    return found


def test_readme_command_table_matches_help() -> None:
    readme, actual = _readme_commands(), _click_commands()
    readme["newsmon"].discard("--help")  # `newsmon COMMAND --help`: every command has it
    actual.pop("newsmon topics")  # a group without options of its own
    assert readme.keys() == actual.keys()
    for command, options in actual.items():
        assert readme[command] == options, command
