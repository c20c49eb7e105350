"""Every newsmon setting, its type and its rule, checked in one place before a crawl starts.

``check_settings(settings)`` raises one ``ConfigError`` listing every problem, one line each, as
``NAME: problem`` (``STORE_BATCH_SIZE: must be at least 1, got 0``). The CLI prints it and exits 2;
``scrapy crawl`` turns it into a usage error (exit 2); the ``crawler.addons.SettingsCheck`` add-on
runs it when a crawler is built programmatically. Components read their settings through
``check_setting(settings, NAME)``, which applies the same rule and returns the typed value, so a
rule is written once here and a default once in ``crawler/settings.py``.

An environment variable that overrides a setting (``NEWSMON_MONGO_URI`` …) is checked too and named
as itself; ``check_setting`` returns its value when it is set, as the components do.

A setting that does not exist but carries the prefix of newsmon's own (``DEDUPE_THRESHOLD``) is a
problem too: Scrapy ignores names it does not know, so the crawl would run as if it were not set.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crawler.errors import ConfigError
from crawler.validators import (
    Invalid,
    Validator,
    boolean,
    choice,
    dict_of,
    directory,
    http_url,
    integer,
    list_of,
    log_level,
    mongo_uri,
    number,
    optional,
    redis_url,
    text,
    topics_file,
    writable_file,
)
from pipelines.alerts import SINKS
from pipelines.urls import TRAILING_SLASH_POLICIES

__all__ = ["CHECKED_SETTINGS", "COMPONENT_DICTS", "RULES", "Rule", "check_setting", "check_settings",
           "class_path", "component_problems", "override_problem", "setting_problems", "unknown_settings"]

# --- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """How one setting is checked; ``env`` names the environment variable that overrides it."""

    validate: Validator
    kind: str
    env: str | None = None


_FRACTION = number(0, 1, above=True)
_SLASH = choice(*TRAILING_SLASH_POLICIES)
_DB_NAME = text(r"[A-Za-z0-9_-]{1,63}", "use 1-63 letters, digits, '_' or '-'")
_RESOURCE_TYPES = ("document", "stylesheet", "image", "media", "font", "script", "texttrack", "xhr",
                   "fetch", "eventsource", "websocket", "manifest", "other")
_HOST = text(r"\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*", "expected a host name such as example.com")



def _missing_shares(value: Any) -> dict[str, float]:
    """HEALTH_MAX_MISSING: field (title, date, author, body) -> share of articles in [0, 1]."""
    shares = dict_of(number(0, 1))(value)
    unknown = sorted(set(shares) - {"title", "date", "author", "body"})
    if unknown:
        raise Invalid(f"unknown field {unknown[0]!r} (use title, date, author, body)")
    return shares


RULES: dict[str, Rule] = {
    # storage
    "MONGO_URI": Rule(optional(mongo_uri), "mongodb:// or mongodb+srv:// URI", "NEWSMON_MONGO_URI"),
    "MONGO_DATABASE": Rule(_DB_NAME, "database name", "NEWSMON_MONGO_DATABASE"),
    "NEWSMON_DATA_DIR": Rule(optional(directory(must_exist=False)), "writable directory", "NEWSMON_DATA_DIR"),
    "NEWSMON_SITES_DIR": Rule(optional(directory(must_exist=True)), "existing directory",
                              "NEWSMON_SITES_DIR"),
    "STORE_ENABLED": Rule(boolean, "bool"),
    "STORE_BATCH_SIZE": Rule(integer(1), "int >= 1"),
    "STORE_FLUSH_SECONDS": Rule(number(0, above=True), "float > 0"),
    "SNIPPET_SEEN_ON_MAX": Rule(integer(1), "int >= 1"),
    "SNIPPET_REPEATS_GATHERED": Rule(boolean, "bool"),
    "SQLITE_BUSY_TIMEOUT": Rule(number(0, above=True), "float > 0"),
    "MONGO_SERVER_SELECTION_TIMEOUT": Rule(number(0, above=True), "float > 0"),
    "STORE_UNAVAILABLE_BACKOFF": Rule(number(0, above=True), "float > 0"),
    "STORE_UNAVAILABLE_BACKOFF_MAX": Rule(number(0, above=True), "float > 0"),
    "NEWSMON_REPLAY_ONLY": Rule(boolean, "bool"),
    # cleaning
    "CLEAN_ENABLED": Rule(boolean, "bool"),
    "CLEAN_MAX_BODY_CHARS": Rule(integer(0), "int >= 0 (0 = no cap)"),
    # hostile input and network faults
    "SNIFF_ENABLED": Rule(boolean, "bool"),
    "SNIFF_MAX_CONTROL_RATIO": Rule(number(0, 1, above=True), "float in (0, 1]"),
    "DROP_EXCEPTIONS_ENABLED": Rule(boolean, "bool"),
    "RETRY_AFTER_MAX": Rule(number(0), "float >= 0"),
    "RETRY_BACKOFF_BASE": Rule(number(0), "float >= 0"),
    "RETRY_BACKOFF_MAX": Rule(number(0), "float >= 0"),
    "CLEAN_MIN_BODY_CHARS": Rule(optional(integer(0)), "int >= 0 or unset"),
    # incremental re-crawls
    "INCREMENTAL_ENABLED": Rule(boolean, "bool"),
    "INCREMENTAL_REVISIT_HOURS": Rule(number(0), "float >= 0"),
    "INCREMENTAL_REVISIT_MIN_MINUTES": Rule(number(0), "float >= 0"),
    # runs and progress
    "CRAWL_RUNS_ENABLED": Rule(boolean, "bool"),
    "NEWSMON_RUN_TRIGGER": Rule(text(r"[a-z][a-z0-9_-]{0,31}", "use a short lowercase word such as manual, "
                                     "schedule or demo"), "word", "NEWSMON_RUN_TRIGGER"),
    "NEWSMON_PROGRESS_INTERVAL": Rule(number(0), "float >= 0 (0 = off)"),
    # crawl health
    "HEALTH_ENABLED": Rule(boolean, "bool"),
    "HEALTH_ALERT_ON": Rule(choice("failed", "warnings", "never"), "failed | warnings | never"),
    "HEALTH_MIN_PAGES": Rule(integer(0), "int >= 0"),
    "HEALTH_MIN_ARTICLES": Rule(integer(0), "int >= 0"),
    "HEALTH_ARTICLES_MIN_RATIO": Rule(number(0, 1), "float in [0, 1]"),
    "HEALTH_HISTORY_RUNS": Rule(integer(1, 1000), "int in 1..1000"),
    "HEALTH_HISTORY_MIN_RUNS": Rule(integer(1, 1000), "int in 1..1000"),
    "HEALTH_MAX_ERROR_RATE": Rule(number(0), "float >= 0"),
    "HEALTH_MAX_DROP_RATE": Rule(number(0, 1), "float in [0, 1]"),
    "HEALTH_MAX_NOT_ARTICLE_RATE": Rule(number(0, 1), "float in [0, 1]"),
    "HEALTH_MAX_RUNTIME": Rule(number(0), "float >= 0 (0 = not checked)"),
    "HEALTH_MAX_MISSING": Rule(_missing_shares, "dict field (title, date, author, body) -> float in [0, 1]"),
    "HEALTH_FINISH_REASONS": Rule(list_of(text()), "list of Scrapy close reasons"),
    # metrics
    "METRICS_PORT": Rule(optional(integer(0, 65535)), "int in 0..65535 or unset (off)"),
    "METRICS_ADDRESS": Rule(text(r"[0-9A-Za-z.:\[\]-]+", "expected an IP address or host name"), "address"),
    # scale-out on Redis
    "REDIS_URL": Rule(optional(redis_url), "redis://, rediss:// or unix:// URL", "NEWSMON_REDIS_URL"),
    "REDIS_QUEUE": Rule(text(r"[A-Za-z0-9_.-]{1,64}", "use 1-64 letters, digits, '_', '.' or '-'"), "queue name"),
    "REDIS_LOCK_SECONDS": Rule(number(1), "float >= 1"),
    "REDIS_SHARED_CRAWL": Rule(boolean, "bool"),
    "REDIS_WORKER_TTL": Rule(number(1), "float >= 1"),
    # extraction
    "EXTRACT_WORKERS": Rule(integer(0, 64), "int in 0..64 (0 = in the crawl process)"),
    "EXTRACT_WORKERS_BACKLOG": Rule(integer(0, 1000), "int in 0..1000 (0 = never in the crawl process)"),
    # dedupe
    "DEDUPE_ENABLED": Rule(boolean, "bool"),
    "DEDUPE_NEAR_THRESHOLD": Rule(_FRACTION, "float in (0, 1]"),
    "DEDUPE_SNIPPET_THRESHOLD": Rule(_FRACTION, "float in (0, 1]"),
    "DEDUPE_SNIPPET_WINDOW_HOURS": Rule(number(0, above=True), "float > 0"),
    "DEDUPE_NUM_PERM": Rule(integer(16, 1024), "int in 16..1024"),
    "DEDUPE_SHINGLE_SIZE": Rule(integer(1, 10), "int in 1..10"),
    "DEDUPE_REVISIONS_MAX": Rule(integer(1), "int >= 1"),
    "DEDUPE_ALIASES_MAX": Rule(integer(1), "int >= 1"),
    "DEDUPE_TRAILING_SLASH": Rule(_SLASH, "keep | strip | add"),
    "DEDUPE_TRAILING_SLASH_BY_SITE": Rule(optional(dict_of(_SLASH)), "dict site -> keep | strip | add"),
    # topics and alerts
    "TOPICS_ENABLED": Rule(boolean, "bool"),
    "TOPICS_FILE": Rule(topics_file, "topic file(s) or directory that load"),
    "ALERT_SINKS": Rule(optional(list_of(choice(*SINKS))), "list of log, jsonl, webhook"),
    "ALERT_JSONL_PATH": Rule(optional(writable_file), "writable file path or unset"),
    "ALERT_WEBHOOK_URL": Rule(optional(http_url), "http(s) URL or unset"),
    "ALERT_WEBHOOK_TIMEOUT": Rule(number(0, above=True), "float > 0"),
    "ALERT_WEBHOOK_RETRIES": Rule(integer(0), "int >= 0"),
    "ALERT_WEBHOOK_BACKOFF": Rule(number(0), "float >= 0"),
    "ALERT_WEBHOOK_CONCURRENCY": Rule(integer(1), "int >= 1"),
    "ALERT_OUTBOX_BACKOFF": Rule(number(0), "float >= 0"),
    "ALERT_OUTBOX_EXPIRE_HOURS": Rule(number(0, above=True), "float > 0"),
    # rendering
    "RENDER_BROWSER": Rule(optional(text()), "executable path or name", "NEWSMON_BROWSER"),
    "RENDER_TIMEOUT": Rule(number(0, above=True), "float > 0"),
    "RENDER_MAX_PAGES": Rule(integer(1), "int >= 1"),
    "RENDER_CONTEXT_PAGES": Rule(integer(0), "int >= 0 (0 = never replace)"),
    "RENDER_BLOCK_RESOURCES": Rule(optional(list_of(choice(*_RESOURCE_TYPES))),
                                   "list of Playwright resource types"),
    "RENDER_BLOCK_HOSTS": Rule(optional(list_of(_HOST)), "list of host names or unset"),
    # Scrapy's own, used by newsmon's commands
    "LOG_LEVEL": Rule(log_level, "CRITICAL | ERROR | WARNING | INFO | DEBUG"),
}

#: Every setting ``check_settings`` checks, in table order.
CHECKED_SETTINGS: tuple[str, ...] = tuple(RULES)


def _env(name: str) -> str | None:
    env = RULES[name].env
    return env if env and os.environ.get(env) else None


def _value(settings: Any, name: str) -> Any:
    """``settings[name]``; a name missing altogether (a test crawler built from a few settings)
    gets its default from ``crawler/settings.py``, the one place defaults are written."""
    if name in settings:
        return settings.get(name)
    from crawler import settings as defaults

    return getattr(defaults, name, None)


def _env_label(name: str) -> str:
    env = RULES[name].env or name
    return f"{env} (environment)" if env == name else env


def check_setting(settings: Any, name: str) -> Any:
    """The value of ``name`` in its Python type (its environment variable's when that is set),
    after the rule of the table; raises ``ConfigError("NAME: problem")``."""
    env = _env(name)
    label, value = (_env_label(name), os.environ[env]) if env else (name, _value(settings, name))
    try:
        return RULES[name].validate(value)
    except Invalid as exc:
        raise ConfigError(f"{label}: {exc}") from None


def _combinations(settings: Any, ok: Callable[[str], bool]) -> list[str]:
    """Rules between settings, checked when each setting involved is valid on its own."""
    problems = []
    if ok("ALERT_SINKS") and ok("ALERT_WEBHOOK_URL"):
        sinks = check_setting(settings, "ALERT_SINKS") or []
        if "webhook" in sinks and not check_setting(settings, "ALERT_WEBHOOK_URL"):
            problems.append("ALERT_WEBHOOK_URL: required when ALERT_SINKS has 'webhook'")
    pw_pages = settings.get("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT")
    if ok("RENDER_MAX_PAGES") and pw_pages not in (None, "", 0, "0"):
        max_pages = check_setting(settings, "RENDER_MAX_PAGES")
        if str(pw_pages) != str(max_pages):
            problems.append(f"PLAYWRIGHT_MAX_PAGES_PER_CONTEXT: conflicts with RENDER_MAX_PAGES={max_pages}; "
                            "set only RENDER_MAX_PAGES")
    if ok("REDIS_SHARED_CRAWL") and ok("REDIS_URL") and check_setting(settings, "REDIS_SHARED_CRAWL") \
            and not check_setting(settings, "REDIS_URL"):
        problems.append("REDIS_SHARED_CRAWL: needs REDIS_URL (or NEWSMON_REDIS_URL), where the shared frontier lives")
    if settings.get("PLAYWRIGHT_ABORT_REQUEST"):
        problems.append("PLAYWRIGHT_ABORT_REQUEST: set by newsmon; use RENDER_BLOCK_RESOURCES and "
                        "RENDER_BLOCK_HOSTS instead")
    return problems


def _own_prefixes() -> frozenset[str]:
    """The first words of newsmon's setting names that no Scrapy setting starts with. ``REDIS_``
    is left out: scrapy-redis has settings of its own under it (``REDIS_PARAMS`` …)."""
    from scrapy.settings import default_settings

    scrapy_prefixes = {name.split("_", 1)[0] for name in dir(default_settings) if name.isupper()}
    return frozenset(name.split("_", 1)[0] for name in RULES) - scrapy_prefixes - {"REDIS"}


_OWN_PREFIXES = _own_prefixes()


def unknown_settings(settings: Any) -> list[str]:
    """``NAME: problem`` for each name under one of newsmon's own prefixes that is no setting."""
    problems = []
    for name in settings:
        if isinstance(name, str) and name.split("_", 1)[0] in _OWN_PREFIXES and name not in RULES:
            close = difflib.get_close_matches(name, RULES, n=1)
            hint = f" (did you mean {close[0]}?)" if close else " (the README's settings table lists them)"
            problems.append(f"{name}: not a newsmon setting, so it would change nothing{hint}")
    return problems


#: Scrapy's component dicts (class path -> order): a wrong one is Scrapy's traceback at crawler build
COMPONENT_DICTS = ("ITEM_PIPELINES", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS")


def class_path(obj: Any) -> str:
    """A component's import path, whether the settings name it by path or give the class."""
    return obj if isinstance(obj, str) else f"{obj.__module__}.{obj.__qualname__}"


def override_problem(name: str, value: str, exc: Exception) -> str:
    """The one line for ``-s NAME=VALUE`` that Scrapy's settings cannot take (``exc``)."""
    if name in COMPONENT_DICTS:
        return (f"{name}: expected a JSON object of class paths and orders, e.g. "
                f"'{{\"pipelines.clean.CleanPipeline\": 100}}', got {value!r}")
    return f"{name}: {value!r} cannot be set ({exc})"


def component_problems(settings: Any) -> list[str]:
    """``NAME: problem`` for each component of ``COMPONENT_DICTS`` that Scrapy could not build:
    an order that is not a number, a class path that does not load."""
    from scrapy.utils.misc import load_object

    problems = []
    for name in COMPONENT_DICTS:
        for key, order in settings.getwithbase(name).items():
            label = class_path(key)
            if order is None:
                continue  # disabled: never built
            if isinstance(order, bool) or not isinstance(order, (int, float)):
                problems.append(f"{name}: {label} has the order {order!r}; "
                                "expected a number (null disables it)")
            elif isinstance(key, str):
                try:
                    load_object(key)
                except (ImportError, NameError, AttributeError, ValueError) as exc:
                    problems.append(f"{name}: {label} cannot be loaded ({exc})")
    return problems


def setting_problems(settings: Any) -> list[str]:
    """Every problem as one ``NAME: problem`` line (empty when all settings are valid)."""
    problems, bad = unknown_settings(settings) + component_problems(settings), set()
    for name, rule in RULES.items():
        labelled = [(name, _value(settings, name))]
        if rule.env and os.environ.get(rule.env):
            labelled.append((_env_label(name), os.environ[rule.env]))
        for label, value in labelled:
            try:
                rule.validate(value)
            except Invalid as exc:
                problems.append(f"{label}: {exc}")
                bad.add(name)
    return problems + _combinations(settings, lambda name: name not in bad)


def check_settings(settings: Any) -> None:
    """Raise one ``ConfigError`` listing every invalid setting, one ``NAME: problem`` per line."""
    problems = setting_problems(settings)
    if problems:
        raise ConfigError("\n".join(problems))
