"""The one reader of time arguments (``--since``, ``-a since=``) and the short forms tables print.

``parse_since`` takes an ISO date or datetime (naive = UTC, ``Z`` allowed) or a duration before
now (``30m``, ``24h``, ``7d``, ``2w``); every command that takes a time goes through it, so they
all accept the same things and reject the rest with the same message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from crawler.errors import ConfigError

__all__ = ["ago", "duration", "parse_since", "plural"]

_RELATIVE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, *, label: str = "--since ", now: datetime | None = None) -> datetime:
    """``value`` as an aware UTC datetime; ``label`` starts the error message (``-a since=``)."""
    m = _RELATIVE.match(value)
    if m:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[m.group(2).lower()]: int(m.group(1))})
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{label}{value!r}: not an ISO date or a duration (e.g. 2024-11-26, "
                          "2024-11-26T09:00Z, 30m, 24h, 7d, 2w)") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 error``, ``2 errors``, ``1 entry``/``3 entries`` (with ``many``)."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def duration(seconds: float) -> str:
    """``45s``, ``12m``, ``1h05m``, ``3d``: a length of time in at most five characters or so."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes}m{rest:02d}s" if minutes < 10 and rest else f"{minutes}m"
    if seconds < 86400:
        hours, rest = divmod(seconds // 60, 60)
        return f"{hours}h{rest:02d}m" if rest else f"{hours}h"
    return f"{seconds // 86400}d"


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """``5m ago``, ``in 3h``, ``2d ago``, ``now`` (whole units, rounded down); a date when more
    than a week away; ``-`` for none."""
    if not isinstance(when, datetime):
        return "-"
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    if abs(delta) < 60:
        return "now"
    if abs(delta) > 7 * 86400:
        return when.astimezone(UTC).strftime("%Y-%m-%d")
    span = abs(delta)
    text = f"{span // 60:.0f}m" if span < 3600 else f"{span // 3600:.0f}h" if span < 86400 \
        else f"{span // 86400:.0f}d"
    return f"in {text}" if delta > 0 else f"{text} ago"
