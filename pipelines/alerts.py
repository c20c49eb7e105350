"""Alert sinks: announce each new topic flag once, without ever blocking or failing the crawl.

``ALERT_SINKS`` picks them (a list, or a comma-separated string):

- ``log``: one INFO line per alert (logger ``pipelines.alerts``).
- ``jsonl``: one JSON object per line appended to ``ALERT_JSONL_PATH`` (default
  ``NEWSMON_DATA_DIR/alerts.jsonl``), written on a worker thread.
- ``webhook``: one ``POST`` of the JSON alert to ``ALERT_WEBHOOK_URL`` per alert, through Twisted's
  non-blocking HTTP client; each attempt is bounded by ``ALERT_WEBHOOK_TIMEOUT``; a network error,
  timeout, 408/429 or 5xx is retried up to ``ALERT_WEBHOOK_RETRIES`` times with exponential backoff
  (``ALERT_WEBHOOK_BACKOFF`` × 2^n seconds); at most ``ALERT_WEBHOOK_CONCURRENCY`` in flight.

Every outcome is counted as ``newsmon/alerts/<sink>/sent`` or ``.../failed`` and failures are
logged; nothing a sink does raises into the crawl. The webhook URL is never logged as it is:
:func:`mask_url` replaces its userinfo and query values by ``***``, and :func:`redact` takes them
out of error messages that quote it. Each sink tells ``on_result`` the fate of every alert, which
the alert outbox (``pipelines.outbox``) records: an alert not confirmed is sent again at the next
crawl, until it is delivered or expires. At spider close the pending webhook posts are awaited,
at most for one alert's worst-case retry time; what is still pending then is cancelled, counted
as failed, and stays pending in the outbox.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from crawler.errors import ConfigError

__all__ = ["AlertConfig", "AlertSink", "JsonlSink", "LogSink", "WebhookSink", "alert_payload", "build_sinks",
           "mask_url", "redact"]

logger = logging.getLogger(__name__)

SINKS = ("log", "jsonl", "webhook")
Counter = Callable[[str, str, int], None]  # (sink, "sent" | "failed", n)


def mask_url(url: str | None) -> str:
    """``url`` safe to log: userinfo and every query value replaced by ``***``, fragment dropped.

    ``https://user:pw@hooks.example/x?token=abc&team=1``
    → ``https://***@hooks.example/x?token=***&team=***``.
    """
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = "***@" + netloc.rsplit("@", 1)[1]
        query = "&".join(f"{pair.split('=', 1)[0]}=***" if pair else "" for pair in parts.query.split("&")) \
            if parts.query else ""
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:  # not even parseable: show nothing of it
        return "***"


def redact(text: str, url: str | None) -> str:
    """``text`` (an error message, say) with the secret parts of ``url`` replaced by ``***``.

    Third-party errors quote what they were given ("invalid hostname: user:pw@host"), so every
    message that may contain the webhook URL goes through this before it is logged or counted.
    """
    if not url or not text:
        return text
    text = text.replace(url, mask_url(url))
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    secrets = [parts.netloc.rsplit("@", 1)[0]] if "@" in parts.netloc else []
    secrets += [p for p in (parts.username, parts.password) if p]
    secrets += [pair.split("=", 1)[1] for pair in parts.query.split("&") if "=" in pair]
    for secret in sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value.isoformat().replace("+00:00", "Z")
    return value


def alert_payload(flag: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of one alert: the flag document, datetimes as ISO 8601 UTC."""
    payload = {"event": "topic_flag"}
    payload.update({k: _iso(v) for k, v in flag.items()})
    return payload


@dataclass(frozen=True)
class AlertConfig:
    """The ALERT_* settings, read once and validated."""

    sinks: tuple[str, ...] = ("log",)
    jsonl_path: Path | None = None
    webhook_url: str | None = None
    webhook_timeout: float = 5.0
    webhook_retries: int = 3
    webhook_backoff: float = 0.5
    webhook_concurrency: int = 4

    @classmethod
    def from_settings(cls, settings: Any, data_dir: Path) -> AlertConfig:
        sinks = tuple(s.strip().lower() for s in settings.getlist("ALERT_SINKS", ["log"]) if s.strip())
        for sink in sinks:
            if sink not in SINKS:
                raise ConfigError(f"ALERT_SINKS: unknown sink {sink!r} (choose from {', '.join(SINKS)})")
        url = settings.get("ALERT_WEBHOOK_URL") or None
        if "webhook" in sinks:
            if not url:
                raise ConfigError("ALERT_SINKS has 'webhook' but ALERT_WEBHOOK_URL is not set")
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(f"ALERT_WEBHOOK_URL {mask_url(url)!r}: must be an http:// or https:// URL")
        timeout = settings.getfloat("ALERT_WEBHOOK_TIMEOUT", 5.0)
        retries = settings.getint("ALERT_WEBHOOK_RETRIES", 3)
        backoff = settings.getfloat("ALERT_WEBHOOK_BACKOFF", 0.5)
        concurrency = settings.getint("ALERT_WEBHOOK_CONCURRENCY", 4)
        if timeout <= 0 or retries < 0 or backoff < 0 or concurrency < 1:
            raise ConfigError("ALERT_WEBHOOK_TIMEOUT must be > 0, ALERT_WEBHOOK_RETRIES and "
                              "ALERT_WEBHOOK_BACKOFF >= 0, ALERT_WEBHOOK_CONCURRENCY >= 1")
        path = settings.get("ALERT_JSONL_PATH")
        return cls(sinks=sinks, jsonl_path=Path(path).expanduser() if path else data_dir / "alerts.jsonl",
                   webhook_url=url, webhook_timeout=timeout, webhook_retries=retries,
                   webhook_backoff=backoff, webhook_concurrency=concurrency)


class AlertSink:
    """One alert channel. ``send`` never raises; ``close`` waits (boundedly) for pending work.

    ``on_result(sink, alert _id, delivered, reason)`` is told the fate of every alert, so the
    outbox (``pipelines.outbox``) knows which are confirmed and which to send again.
    """

    name = "sink"

    def __init__(self, count: Counter) -> None:
        self._count = count
        self.on_result: Callable[[str, str, bool, str | None], None] | None = None

    def _report(self, alerts: Sequence[dict[str, Any]], delivered: bool, reason: str | None = None) -> None:
        if self.on_result is not None:
            for alert in alerts:
                if alert.get("_id"):
                    self.on_result(self.name, alert["_id"], delivered, reason)

    def open(self) -> None:
        """Acquire what the sink holds while the spider runs."""

    def send(self, alerts: Sequence[dict[str, Any]]) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Finish or give up pending deliveries and release resources."""


class LogSink(AlertSink):
    """One log line per alert."""

    name = "log"

    def send(self, alerts: Sequence[dict[str, Any]]) -> None:
        for a in alerts:
            if a.get("event") == "crawl_health":
                logger.warning("Crawl health %s: %s run %s: %s", a["status"], a.get("site"), a.get("run_id"),
                               a.get("summary"))
                continue
            terms = ", ".join(f"{t['term']}×{t['count']}" for t in a.get("terms", []))
            logger.info("Topic %s: %s %r on %s (score %.1f: %s) %s", a["topic"], a.get("kind"),
                        a.get("title"), a.get("site"), a["score"], terms, a.get("url") or "")
        self._count(self.name, "sent", len(alerts))
        self._report(alerts, True)


class JsonlSink(AlertSink):
    """Alerts appended as JSON lines to a file, on a worker thread."""

    name = "jsonl"

    def __init__(self, count: Counter, path: Path) -> None:
        super().__init__(count)
        self.path = path
        self._lock = threading.Lock()  # writes from the thread pool may overlap
        self._pending: set[Any] = set()

    def send(self, alerts: Sequence[dict[str, Any]]) -> None:
        from twisted.internet.threads import deferToThread

        lines = "".join(json.dumps(alert_payload(a), ensure_ascii=False) + "\n" for a in alerts)
        d = deferToThread(self._write, lines)
        self._pending.add(d)

        def done(result: Any, n: int = len(alerts), batch: Sequence[dict[str, Any]] = alerts) -> None:
            self._pending.discard(d)
            if isinstance(result, Exception) or hasattr(result, "value"):
                reason = str(getattr(result, "value", result))
                logger.error("Could not append %d alerts to %s: %s", n, self.path, reason)
                self._count(self.name, "failed", n)
                self._report(batch, False, reason)
            else:
                self._count(self.name, "sent", n)
                self._report(batch, True)

        d.addBoth(done)

    def _write(self, lines: str) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(lines)

    async def close(self) -> None:
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet.defer import DeferredList

        if self._pending:
            await maybe_deferred_to_future(DeferredList(list(self._pending)))


class WebhookSink(AlertSink):
    """POST each alert as JSON, asynchronously, with timeout, retries and backoff."""

    name = "webhook"
    _RETRY_CODES = frozenset({408, 425, 429})

    def __init__(self, count: Counter, url: str, timeout: float, retries: int, backoff: float,
                 concurrency: int) -> None:
        super().__init__(count)
        self.url, self.timeout, self.retries, self.backoff = url, timeout, retries, backoff
        self.concurrency = concurrency
        self._agent: Any = None
        self._pool: Any = None
        self._sem: Any = None
        self._pending: set[Any] = set()

    def open(self) -> None:
        from twisted.internet import reactor
        from twisted.internet.defer import DeferredSemaphore
        from twisted.web.client import Agent, HTTPConnectionPool

        self._pool = HTTPConnectionPool(reactor, persistent=False)
        self._agent = Agent(reactor, connectTimeout=self.timeout, pool=self._pool)
        self._sem = DeferredSemaphore(self.concurrency)

    def send(self, alerts: Sequence[dict[str, Any]]) -> None:
        from twisted.internet.defer import Deferred

        for alert in alerts:
            body = json.dumps(alert_payload(alert), ensure_ascii=False).encode("utf-8")
            d = self._sem.run(lambda b=body: Deferred.fromCoroutine(self._deliver(b)))
            self._pending.add(d)
            d.addBoth(self._finished, d, alert.get("_id"))

    def _finished(self, result: Any, d: Any, key: Any) -> None:
        self._pending.discard(d)
        if result is True:
            self._count(self.name, "sent", 1)
            self._report([{"_id": key}], True)
            return
        reason = redact(str(getattr(result, "value", result)), self.url)
        logger.warning("Webhook alert %s not delivered to %s: %s", key, mask_url(self.url), reason)
        self._count(self.name, "failed", 1)
        self._report([{"_id": key}], False, reason)

    async def _deliver(self, body: bytes) -> bool | str:
        """True once the endpoint answered 2xx; otherwise the reason after the last attempt."""
        from twisted.internet import reactor, task
        from twisted.web.client import FileBodyProducer, readBody
        from twisted.web.http_headers import Headers

        reason = "not attempted"
        for attempt in range(self.retries + 1):
            if attempt:
                await task.deferLater(reactor, self.backoff * 2 ** (attempt - 1), lambda: None)
            try:
                d = self._agent.request(
                    b"POST", self.url.encode("ascii"),
                    Headers({b"Content-Type": [b"application/json"], b"User-Agent": [b"newsmon-alerts"]}),
                    FileBodyProducer(BytesIO(body)))
                d.addTimeout(self.timeout, reactor)
                response = await d
                drained = readBody(response)
                drained.addTimeout(self.timeout, reactor)
                await drained
            except Exception as exc:  # any network failure (Twisted raises many types): retry
                reason = redact(f"{type(exc).__name__}: {exc}", self.url)
                logger.debug("Webhook attempt %d failed: %s", attempt + 1, reason)
                continue
            if 200 <= response.code < 300:
                return True
            reason = f"HTTP {response.code}"
            if response.code < 500 and response.code not in self._RETRY_CODES:
                break  # the endpoint rejects this alert; retrying will not help
        return reason

    async def close(self) -> None:
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import reactor
        from twisted.internet.defer import DeferredList

        if self._pending:
            # One alert's worst case: every attempt times out, plus all backoff sleeps.
            limit = (self.retries + 1) * 2 * self.timeout + self.backoff * (2 ** self.retries)
            pending = list(self._pending)
            waiter = DeferredList(pending, consumeErrors=True)
            timer = reactor.callLater(limit, lambda: [d.cancel() for d in pending if not d.called])
            try:
                await maybe_deferred_to_future(waiter)
            finally:
                if timer.active():
                    timer.cancel()
        if self._pool is not None:
            await maybe_deferred_to_future(self._pool.closeCachedConnections())


def build_sinks(config: AlertConfig, count: Counter) -> list[AlertSink]:
    """The configured sinks, not yet opened."""
    sinks: list[AlertSink] = []
    for name in dict.fromkeys(config.sinks):
        if name == "log":
            sinks.append(LogSink(count))
        elif name == "jsonl":
            assert config.jsonl_path is not None
            sinks.append(JsonlSink(count, config.jsonl_path))
        elif name == "webhook":
            assert config.webhook_url is not None
            sinks.append(WebhookSink(count, config.webhook_url, config.webhook_timeout,
                                     config.webhook_retries, config.webhook_backoff,
                                     config.webhook_concurrency))
    return sinks
