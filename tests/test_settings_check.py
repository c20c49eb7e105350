"""Every newsmon setting is checked before a crawl: one ``NAME: problem`` line, exit 2, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.settings import Settings, default_settings

import crawler.settings as project_settings
from crawler.checks import CHECKED_SETTINGS, RULES, check_setting, check_settings, setting_problems
from crawler.errors import ConfigError
from tests.conftest import ROOT, run_newsmon

SAME, UNSET = object(), object()  # expected typed value: the value itself / None
ENV_VARS = sorted({rule.env for rule in RULES.values() if rule.env})


@pytest.fixture(autouse=True)
def _no_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def project(**overrides: object) -> Settings:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


def problem_of(name: str, value: object) -> str:
    with pytest.raises(ConfigError) as info:
        check_settings(project(**{name: value}))
    return str(info.value)


# (setting, bad value as -s gives it or as Python, expected fragment of the one line)
INVALID = [
    ("MONGO_URI", "postgres://x", "must start with mongodb:// or mongodb+srv://"),
    ("MONGO_URI", "mongodb://h:port/", "Port contains non-digit characters"),
    ("MONGO_URI", "mongodb://h:99999/", "Port must be an integer between 0 and 65535"),
    ("MONGO_URI", "mongodb://h/?colour=red", "Unknown option"),
    ("MONGO_URI", "mongodb://h/?serverSelectionTimeoutMS=-1", "must be greater than 0"),
    ("MONGO_URI", "mongodb+srv://h.example.org:27017/", "port number"),
    ("MONGO_DATABASE", "my db", "use 1-63 letters"),
    ("MONGO_DATABASE", "", "expected a non-empty string"),
    ("NEWSMON_DATA_DIR", "/etc/hostname", "is not a directory"),
    ("NEWSMON_DATA_DIR", "/etc/hostname/newsmon", "cannot be created"),
    ("NEWSMON_SITES_DIR", "/nonexistent-sites", "no such directory"),
    ("STORE_ENABLED", "maybe", "expected a boolean (true/false/1/0), got 'maybe'"),
    ("STORE_BATCH_SIZE", "0", "must be at least 1, got 0"),
    ("STORE_BATCH_SIZE", "abc", "expected an integer, got 'abc'"),
    ("STORE_BATCH_SIZE", "2.5", "expected an integer"),
    ("STORE_FLUSH_SECONDS", "0", "must be > 0"),
    ("STORE_FLUSH_SECONDS", "soon", "expected a number"),
    ("SNIPPET_SEEN_ON_MAX", "-1", "must be at least 1"),
    ("SNIPPET_REPEATS_GATHERED", "sometimes", "expected a boolean"),
    ("ALERT_OUTBOX_BACKOFF", "-1", "must be"),
    ("ALERT_OUTBOX_EXPIRE_HOURS", "0", "must be > 0"),
    ("CLEAN_MAX_BODY_CHARS", "-5", "must be at least 0"),
    ("SNIFF_ENABLED", "sometimes", "expected a boolean"),
    ("SNIFF_MAX_CONTROL_RATIO", "2", "must be"),
    ("DROP_EXCEPTIONS_ENABLED", "maybe", "expected a boolean"),
    ("RETRY_AFTER_MAX", "-1", "must be"),
    ("RETRY_BACKOFF_BASE", "soon", "expected a number"),
    ("RETRY_BACKOFF_MAX", "-3", "must be"),
    ("SQLITE_BUSY_TIMEOUT", "0", "must be > 0"),
    ("MONGO_SERVER_SELECTION_TIMEOUT", "-1", "must be > 0"),
    ("STORE_UNAVAILABLE_BACKOFF", "0", "must be > 0"),
    ("STORE_UNAVAILABLE_BACKOFF_MAX", "soon", "expected a number"),
    ("NEWSMON_REPLAY_ONLY", "perhaps", "expected a boolean"),
    ("CLEAN_ENABLED", "yes", "expected a boolean"),
    ("CLEAN_MIN_BODY_CHARS", "-5", "must be at least 0"),
    ("CLEAN_MIN_BODY_CHARS", "lots", "expected an integer"),
    ("INCREMENTAL_ENABLED", "on", "expected a boolean"),
    ("INCREMENTAL_REVISIT_HOURS", "-1", "must be at least 0"),
    ("INCREMENTAL_REVISIT_MIN_MINUTES", "inf", "expected a number"),
    ("CRAWL_RUNS_ENABLED", "2x", "expected a boolean"),
    ("NEWSMON_RUN_TRIGGER", "Cron Job", "short lowercase word"),
    ("NEWSMON_PROGRESS_INTERVAL", "-2", "must be at least 0"),
    ("NEWSMON_PROGRESS_INTERVAL", "nan", "expected a number"),
    ("HEALTH_ENABLED", "often", "expected a boolean"),
    ("HEALTH_ALERT_ON", "always", "expected one of failed, warnings, never"),
    ("HEALTH_MIN_PAGES", "-1", "must be at least 0"),
    ("HEALTH_MIN_ARTICLES", "some", "expected an integer"),
    ("HEALTH_ARTICLES_MIN_RATIO", "1.5", "must be"),
    ("HEALTH_HISTORY_RUNS", "0", "must be in 1..1000"),
    ("HEALTH_HISTORY_MIN_RUNS", "5000", "must be in 1..1000"),
    ("HEALTH_MAX_ERROR_RATE", "-0.1", "must be at least 0"),
    ("HEALTH_MAX_DROP_RATE", "2", "must be"),
    ("HEALTH_MAX_NOT_ARTICLE_RATE", "-1", "must be"),
    ("HEALTH_MAX_RUNTIME", "long", "expected a number"),
    ("HEALTH_MAX_MISSING", '{"date": 3}', "'date': "),
    ("HEALTH_MAX_MISSING", '{"byline": 0.5}', "unknown field 'byline'"),
    ("HEALTH_FINISH_REASONS", ["finished", 3], "expected a non-empty string"),
    ("METRICS_PORT", "70000", "must be in 0..65535"),
    ("METRICS_ADDRESS", "http://0.0.0.0/", "expected an IP address or host name"),
    ("REDIS_URL", "http://h:6379/", "must specify one of the following schemes"),
    ("REDIS_URL", "redis://:hunter2pw@h:port/", "Port could not be cast"),
    ("REDIS_QUEUE", "a queue", "use 1-64 letters"),
    ("REDIS_LOCK_SECONDS", "0.5", "must be at least 1"),
    ("REDIS_SHARED_CRAWL", "maybe", "expected"),
    ("REDIS_WORKER_TTL", "0", "must be at least 1"),
    ("EXTRACT_WORKERS", "-1", "must be in 0..64, got -1"),
    ("EXTRACT_WORKERS_BACKLOG", "-1", "must be in 0..1000, got -1"),
    ("EXTRACT_WORKERS", "two", "expected an integer"),
    ("DEDUPE_ENABLED", "nope", "expected a boolean"),
    ("DEDUPE_NEAR_THRESHOLD", "1.5", "must be in (0, 1], got 1.5"),
    ("DEDUPE_NEAR_THRESHOLD", "0", "must be in (0, 1]"),
    ("DEDUPE_SNIPPET_THRESHOLD", "high", "expected a number"),
    ("DEDUPE_SNIPPET_WINDOW_HOURS", "0", "must be > 0"),
    ("DEDUPE_NUM_PERM", "8", "must be in 16..1024, got 8"),
    ("DEDUPE_SHINGLE_SIZE", "11", "must be in 1..10"),
    ("DEDUPE_REVISIONS_MAX", "0", "must be at least 1"),
    ("DEDUPE_ALIASES_MAX", "none", "expected an integer"),
    ("DEDUPE_TRAILING_SLASH", "sideways", "expected one of keep, strip, add, got 'sideways'"),
    ("DEDUPE_TRAILING_SLASH_BY_SITE", '{"demo": "both"}', "'demo': expected one of keep, strip, add"),
    ("DEDUPE_TRAILING_SLASH_BY_SITE", "demo=add", "expected a dict"),
    ("TOPICS_ENABLED", "perhaps", "expected a boolean"),
    ("TOPICS_FILE", "/nonexistent", "/nonexistent: cannot be read"),
    ("ALERT_SINKS", "carrier-pigeon", "expected one of log, jsonl, webhook, got 'carrier-pigeon'"),
    ("ALERT_SINKS", "log,smoke", "got 'smoke'"),
    ("ALERT_JSONL_PATH", "/etc", "is a directory"),
    ("ALERT_JSONL_PATH", "/etc/hostname/alerts.jsonl", "cannot be created"),
    ("ALERT_WEBHOOK_URL", "ftp://example.org/hook", "expected an http:// or https:// URL"),
    ("ALERT_WEBHOOK_URL", "example.org/hook", "expected an http:// or https:// URL"),
    ("ALERT_WEBHOOK_TIMEOUT", "0", "must be > 0"),
    ("ALERT_WEBHOOK_RETRIES", "-1", "must be at least 0"),
    ("ALERT_WEBHOOK_BACKOFF", "-0.5", "must be at least 0"),
    ("ALERT_WEBHOOK_CONCURRENCY", "0", "must be at least 1"),
    ("RENDER_BROWSER", "  ", "expected a non-empty string"),
    ("RENDER_TIMEOUT", "0", "must be > 0"),
    ("RENDER_MAX_PAGES", "0", "must be at least 1"),
    ("RENDER_CONTEXT_PAGES", "-1", "must be at least 0"),
    ("RENDER_BLOCK_RESOURCES", "image,pictures", "got 'pictures'"),
    ("RENDER_BLOCK_HOSTS", "https://tracker.example/", "expected a host name"),
    ("LOG_LEVEL", "LOUD", "expected one of CRITICAL, ERROR, WARNING, INFO, DEBUG, got 'LOUD'"),
    ("LOG_LEVEL", "debug", "levels are upper case: DEBUG"),
    ("LOG_LEVEL", ["DEBUG"], "got ['DEBUG']"),
]


@pytest.mark.parametrize(("name", "value", "fragment"), INVALID, ids=[f"{n}={v}" for n, v, _ in INVALID])
def test_invalid_value_is_one_line_naming_the_setting(name: str, value: object, fragment: str) -> None:
    message = problem_of(name, value)
    assert message.startswith(f"{name}: ") and fragment in message, message
    assert "\n" not in message
    with pytest.raises(ConfigError, match=f"^{name}: "):  # the same rule, for components
        check_setting(project(**{name: value}), name)


def test_every_setting_has_a_rule_and_an_invalid_case() -> None:
    newsmon = {n for n in vars(project_settings) if n.isupper() and not hasattr(default_settings, n)}
    assert newsmon <= set(CHECKED_SETTINGS), newsmon - set(CHECKED_SETTINGS)
    assert set(CHECKED_SETTINGS) == {name for name, _, _ in INVALID}


def test_shipped_defaults_pass() -> None:
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    check_settings(get_project_settings())
    check_settings(project())


@pytest.mark.parametrize(("name", "value", "typed"), [
    ("STORE_ENABLED", "false", False), ("STORE_ENABLED", "1", True), ("STORE_ENABLED", True, True),
    ("STORE_ENABLED", "True", True), ("STORE_BATCH_SIZE", "50", 50), ("DEDUPE_NEAR_THRESHOLD", "1", 1.0),
    ("CLEAN_MIN_BODY_CHARS", "", UNSET), ("CLEAN_MIN_BODY_CHARS", "0", 0),
    ("ALERT_SINKS", "log, jsonl", ["log", "jsonl"]),
    ("ALERT_SINKS", [], []), ("DEDUPE_TRAILING_SLASH_BY_SITE", '{"demo": "add"}', {"demo": "add"}),
    ("DEDUPE_TRAILING_SLASH_BY_SITE", {"demo": "strip"}, {"demo": "strip"}),
    ("LOG_LEVEL", "WARNING", "WARNING"),
    ("LOG_LEVEL", 10, 10), ("MONGO_URI", "mongodb://u:p%40ss@db.example.org:27017/?authSource=admin", SAME),
    ("RENDER_BLOCK_HOSTS", ".doubleclick.net,ads.example", [".doubleclick.net", "ads.example"]),
])
def test_valid_values_pass_and_come_back_typed(name: str, value: object, typed: object) -> None:
    settings = project(**{name: value})
    check_settings(settings)
    assert check_setting(settings, name) == (value if typed is SAME else None if typed is UNSET else typed)


def test_every_problem_is_listed_one_per_line() -> None:
    settings = project(STORE_BATCH_SIZE="0", ALERT_SINKS="carrier-pigeon", DEDUPE_TRAILING_SLASH="sideways")
    with pytest.raises(ConfigError) as info:
        check_settings(settings)
    lines = str(info.value).splitlines()
    names = [line.split(":")[0] for line in lines]
    assert names == ["STORE_BATCH_SIZE", "DEDUPE_TRAILING_SLASH", "ALERT_SINKS"]


def test_a_misspelled_newsmon_setting_is_a_problem_not_ignored() -> None:
    # Scrapy ignores names it does not know: the crawl would run with the default near-duplicate
    # threshold while its user believes it set another.
    assert setting_problems(project(DEDUPE_THRESHOLD="0.5")) == [
        "DEDUPE_THRESHOLD: not a newsmon setting, so it would change nothing (did you mean DEDUPE_NEAR_THRESHOLD?)"]
    assert setting_problems(project(STORE_QUUX="1"))[0].endswith("(the README's settings table lists them)")
    # other components' settings are theirs: Scrapy's, scrapy-redis's (REDIS_), a plugin's, a user's
    assert setting_problems(project(RETRY_TYMES="1", REDIS_PARAMS={"db": 1}, PLAYWRIGHT_FOO="1", MY_OWN="1")) == []


def test_a_component_scrapy_could_not_build_is_a_problem() -> None:
    pipelines = dict(project_settings.ITEM_PIPELINES)
    bad_order = {**pipelines, "pipelines.clean.CleanPipeline": "abc"}
    assert setting_problems(project(ITEM_PIPELINES=bad_order)) == [
        "ITEM_PIPELINES: pipelines.clean.CleanPipeline has the order 'abc'; expected a number (null disables it)"]
    assert setting_problems(project(EXTENSIONS={"crawler.runs.Nope": 1})) == [
        "EXTENSIONS: crawler.runs.Nope cannot be loaded "
        "(Module 'crawler.runs' doesn't define any object named 'Nope')"]
    assert setting_problems(project(ITEM_PIPELINES={**pipelines, "nowhere.Stage": None})) == []  # disabled


def test_combinations() -> None:
    assert setting_problems(project(ALERT_SINKS="log,webhook")) == \
        ["ALERT_WEBHOOK_URL: required when ALERT_SINKS has 'webhook'"]
    assert setting_problems(project(ALERT_SINKS="webhook", ALERT_WEBHOOK_URL="https://hooks.example/x")) == []
    assert setting_problems(project(REDIS_SHARED_CRAWL=True)) == \
        ["REDIS_SHARED_CRAWL: needs REDIS_URL (or NEWSMON_REDIS_URL), where the shared frontier lives"]
    assert setting_problems(project(REDIS_SHARED_CRAWL=True, REDIS_URL="redis://localhost:6379/0")) == []
    assert "conflicts with RENDER_MAX_PAGES=4" in \
        setting_problems(project(PLAYWRIGHT_MAX_PAGES_PER_CONTEXT=8))[0]


def test_environment_overrides_are_checked_and_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSMON_MONGO_URI", "mongodb://alice:s3cret@db:port/")
    monkeypatch.setenv("NEWSMON_DATA_DIR", "/etc/hostname")
    monkeypatch.setenv("NEWSMON_BROWSER", " ")
    problems = setting_problems(project())
    assert problems == [
        "NEWSMON_MONGO_URI: mongodb://alice:***@db:port/: Port contains non-digit characters",
        "NEWSMON_DATA_DIR (environment): '/etc/hostname' is not a directory",
        "NEWSMON_BROWSER: expected a non-empty string, got ' '",
    ]
    monkeypatch.setenv("NEWSMON_DATA_DIR", str(tmp_path))
    assert check_setting(project(NEWSMON_DATA_DIR="/elsewhere"), "NEWSMON_DATA_DIR") == str(tmp_path)


def test_password_never_in_the_problem() -> None:
    message = problem_of("MONGO_URI", "mongodb://bob:hunter2pw@db:27017/?authMechanism=NOPE")
    assert "hunter2pw" not in message and "bob:***@db" in message


def test_check_setting_reads_the_one_default_when_a_setting_is_missing() -> None:
    from scrapy.utils.test import get_crawler

    settings = get_crawler(settings_dict={"STORE_FLUSH_SECONDS": "0.5"}).settings
    assert check_setting(settings, "STORE_BATCH_SIZE") == project_settings.STORE_BATCH_SIZE
    assert check_setting(settings, "STORE_FLUSH_SECONDS") == 0.5
    check_settings(settings)


def test_addon_leaves_newsmon_components_out_on_a_bad_setting() -> None:
    from scrapy.utils.test import get_crawler

    from crawler.addons import SettingsCheck

    components = {k: getattr(project_settings, k) for k in
                  ("ITEM_PIPELINES", "EXTENSIONS", "DOWNLOADER_MIDDLEWARES", "DUPEFILTER_CLASS")}
    crawler = get_crawler()
    good = Settings(components)
    SettingsCheck(crawler).update_settings(good)
    assert "pipelines.store.StorePipeline" in good.getdict("ITEM_PIPELINES")

    bad = Settings({**components, "STORE_BATCH_SIZE": "0"})
    addon = SettingsCheck(crawler)
    addon.update_settings(bad)
    assert addon.problems == ["STORE_BATCH_SIZE: must be at least 1, got 0"]
    assert bad.getdict("ITEM_PIPELINES") == {}
    assert not [k for k in bad.getdict("EXTENSIONS") if str(k).startswith("crawler.")]
    assert "crawler.incremental.IncrementalCrawl" not in bad.getdict("DOWNLOADER_MIDDLEWARES")
    assert bad["DUPEFILTER_CLASS"] == "scrapy.dupefilters.RFPDupeFilter"


# --- through the real commands (each costs a process start) -------------------------------------

def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS and k != "MONGO_URI"}
    return env | {"NEWSMON_DATA_DIR": str(tmp_path / "data")} | extra


def _one_line_about(result: subprocess.CompletedProcess[str], name: str, tmp_path: Path) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    naming = [line for line in result.stderr.splitlines() if name in line]
    assert len(naming) == 1, result.stderr
    assert not (tmp_path / "data").exists()  # nothing written: no store, journal or run record
    return naming[0]


@pytest.mark.parametrize(("args", "env", "name"), [
    (["crawl", "demo", "-s", "DEDUPE_NEAR_THRESHOLD=1.5"], {}, "DEDUPE_NEAR_THRESHOLD"),
    (["crawl", "demo", "-s", "DEDUPE_THRESHOLD=0.5"], {}, "DEDUPE_THRESHOLD"),
    (["crawl", "demo", "-s", "ITEM_PIPELINES=notjson"], {}, "ITEM_PIPELINES"),
    (["crawl", "demo", "-s", 'EXTENSIONS={"nowhere.Extension": 10}'], {}, "EXTENSIONS"),
    (["crawl", "demo", "--log-level", "LOUD"], {}, "LOG_LEVEL"),
    (["crawl", "demo"], {"NEWSMON_MONGO_URI": "mongodb://alice:s3cret@db:port/"}, "NEWSMON_MONGO_URI"),
    (["demo", "--port", "0", "-s", "ALERT_SINKS=carrier-pigeon"], {}, "ALERT_SINKS"),
    (["schedule", "--once", "demo", "-s", "DEDUPE_TRAILING_SLASH=sideways"], {}, "DEDUPE_TRAILING_SLASH"),
], ids=["crawl-threshold", "crawl-misspelled", "crawl-pipelines-json", "crawl-extension-path", "crawl-log-level",
        "crawl-env-uri", "demo-sinks", "schedule-slash"])
def test_newsmon_commands_stop_with_one_line(tmp_path: Path, args: list[str], env: dict[str, str],
                                             name: str) -> None:
    result = run_newsmon(args, _env(tmp_path, **env), timeout=60)
    line = _one_line_about(result, name, tmp_path)
    assert line.startswith(f"newsmon: error: {name}: ") and len(result.stderr.strip().splitlines()) == 1
    assert "s3cret" not in result.stderr


@pytest.mark.parametrize("args", [
    ["-s", "STORE_BATCH_SIZE=abc"], ["-s", "TOPICS_FILE=/nonexistent"], ["-s", "STORE_BATCHSIZE=5"],
    ["-s", "EXTENSIONS=[1,2]"], ["-s", 'ITEM_PIPELINES={"pipelines.clean.CleanPipeline": "abc"}'],
    ["-L", "LOUD"], ["-s", "LOG_LEVEL=LOUD"],
], ids=lambda a: a[1])
def test_scrapy_crawl_stops_with_one_usage_error(tmp_path: Path, args: list[str]) -> None:
    name = "LOG_LEVEL" if args[0] == "-L" else args[1].partition("=")[0]
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "demo", *args], cwd=ROOT,
                            env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert f"error: {name}: " in _one_line_about(result, name, tmp_path)


def test_programmatic_crawl_is_stopped_by_the_addon(tmp_path: Path) -> None:
    script = (
        "import os; os.environ['SCRAPY_SETTINGS_MODULE'] = 'crawler.settings'\n"
        "from scrapy.crawler import CrawlerProcess\n"
        "from scrapy.utils.project import get_project_settings\n"
        "settings = get_project_settings(); settings.set('DEDUPE_NEAR_THRESHOLD', '1.5', 'cmdline')\n"
        "process = CrawlerProcess(settings); crawler = process.create_crawler('demo')\n"
        "process.crawl(crawler, base_url='http://127.0.0.1:9/'); process.start()\n"
        "print(crawler.stats.get_value('finish_reason'))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=_env(tmp_path),
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "config_error", result.stderr
    errors = [line for line in result.stderr.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and "DEDUPE_NEAR_THRESHOLD: must be in (0, 1]" in errors[0], result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "data").exists()
