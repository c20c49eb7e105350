"""``newsmon extract FILE --url URL``: the extraction of one saved page as JSON text.

The click command in ``crawler/cli.py`` calls :func:`extract_command`; keeping the work here lets
it be tested without a CLI runner and keeps the command a thin wrapper.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.errors import ConfigError

from .article import extract_article

__all__ = ["extract_command", "to_json"]


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        # naive values never leave extract_article, but be explicit rather than guess
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def to_json(result: dict[str, Any]) -> str:
    """``result`` as indented JSON: sorted keys, datetimes as ISO 8601 UTC ("...Z")."""
    return json.dumps(result, default=_default, sort_keys=True, ensure_ascii=False, indent=2)


def extract_command(path: str, url: str, encoding: str | None = None, *,
                    timezone: str = "UTC") -> str:
    """Read the page at ``path`` as bytes (charset from ``encoding``, else the page) and return the
    JSON of ``extract_article``; raises ``ConfigError`` when the file cannot be read."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read page file {path!r}: {exc.strerror or exc}") from exc
    from crawler.sniff import sniff_binary

    kind = sniff_binary(data)
    if kind is not None:
        raise ConfigError(f"{path}: not a text page ({kind} bytes); nothing to extract")
    return to_json(extract_article(data, url, headers_encoding=encoding, timezone=timezone))
