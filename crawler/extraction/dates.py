"""Date parsing for articles (ISO / human dates, naive ones read in the site's zone) and clock times."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as du_parser

__all__ = [
    "BYLINE_DATE_RE",
    "dayfirst_for",
    "get_zone",
    "localize",
    "parse_clock",
    "parse_datetime",
    "parse_relative",
    "resolve_feed_dates",
]


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_CLOCK = r"\d{1,2}[:.]\d{2}\s*(?:[AaPp]\.?\s?[Mm]\.?)?"
#: A human date as printed in bylines: "December 20, 2023 5:18 PM", "20 Dec 2023, 17:18".
BYLINE_DATE_RE = re.compile(
    rf"(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}})"
    rf"(?:\s*(?:,|at|-|–|—|\|)?\s*{_CLOCK}(?:\s*[A-Z]{{2,4}}\b)?)?"
)
_CLOCK_RE = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*(?:([AaPp])\.?\s?[Mm]\.?)?\s*$")
_TZ_ABBR = {"UTC": 0, "GMT": 0, "EET": 2, "EEST": 3, "CET": 1, "CEST": 2, "BST": 1,
            "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8,
            "PDT": -7, "KYIV": None}
_TZINFOS = {k: v * 3600 for k, v in _TZ_ABBR.items() if v is not None}


@lru_cache(maxsize=64)
def get_zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` for ``name`` ("UTC" if unknown, so a typo never crashes extraction)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def localize(value: datetime, tz: str) -> datetime:
    """Aware UTC datetime; a naive ``value`` is read as wall-clock time in ``tz``."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        value = value.replace(tzinfo=get_zone(tz))
    return value.astimezone(UTC)


_RELATIVE = re.compile(
    r"^\s*(?:(?:updated|published|posted)\s*:?\s*)?(?P<n>\d+|an?|one)\s*"
    r"(?P<unit>s(?:ec(?:ond)?s?)?|m(?:in(?:ute)?s?)?|h(?:(?:ou)?rs?)?|d(?:ays?)?|w(?:(?:ee)?ks?)?)"
    r"\.?\s+ago\s*$|^\s*(?P<word>just now|yesterday|today)\b",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_relative(value: str | None, now: datetime) -> datetime | None:
    """"2 hours ago", "5 min ago", "just now" resolved against ``now`` (the fetch time), in UTC.

    "yesterday"/"today" alone name no instant and return None (the caller keeps looking).
    """
    if not value:
        return None
    m = _RELATIVE.match(value)
    if not m:
        return None
    word = (m.group("word") or "").lower()
    if word == "just now":
        return now.astimezone(UTC)
    if word:
        return None
    n_text = m.group("n").lower()
    n = 1 if n_text in ("a", "an", "one") else int(n_text)
    return (now - timedelta(seconds=n * _UNIT_SECONDS[m.group("unit")[0].lower()])).astimezone(UTC)


def parse_datetime(value: str | None, tz: str = "UTC", *, dayfirst: bool = False) -> datetime | None:
    """Parse an ISO-8601 or human date string into an aware UTC datetime, or None.

    ``dayfirst`` settles "03/04/2024" (the site's locale decides: only the US writes month first).
    """
    if not value:
        return None
    text = value.strip()
    if not text or len(text) > 100:
        return None
    parsed: datetime | None = None
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
        cleaned = re.sub(r"\b([AaPp])\.\s?([Mm])\.", r"\1\2", cleaned)
        cleaned = re.sub(r"\b(at|on|updated|published|posted)\b[:]?", " ", cleaned, flags=re.IGNORECASE)
        try:
            parsed = du_parser.parse(cleaned, fuzzy=True, tzinfos=_TZINFOS, dayfirst=dayfirst,
                                     default=datetime(1900, 1, 1))
        except (ValueError, OverflowError, TypeError):
            return None
        if parsed.year == 1900:
            return None
    if parsed.year < 1990:
        return None
    try:
        return localize(parsed, tz)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-14:00 is past datetime.max in UTC
        return None


def parse_clock(text: str | None) -> time | None:
    """Parse a printed clock time ("5:29 PM", "17:29", "5.29 p.m.") into a ``time``."""
    if not text:
        return None
    m = _CLOCK_RE.match(text)
    if not m:
        return None
    hour, minute, ampm = int(m.group(1)), int(m.group(2)), m.group(3)
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm in "Pp" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def resolve_feed_dates(clocks: list[time | None], tz: str, page_time: datetime) -> list[datetime | None]:
    """Give each clock time of a newest-first feed a full UTC datetime.

    The context is ``page_time`` in ``tz``. The first item takes the context date, or the day
    before when its clock time is later than the context time; each next item keeps the
    previous item's date unless its clock time is later than the previous one's, which means
    the feed crossed midnight going back, so it is one day earlier.
    """
    zone = get_zone(tz)
    if page_time.tzinfo is None:
        page_time = page_time.replace(tzinfo=UTC)
    local = page_time.astimezone(zone)
    ctx_date: date = local.date()
    ctx_time = local.time().replace(tzinfo=None)
    out: list[datetime | None] = []
    prev: time | None = None
    cur_date = ctx_date
    for clock in clocks:
        if clock is None:
            out.append(None)
            continue
        if prev is None:
            cur_date = ctx_date - timedelta(days=1) if clock > ctx_time else ctx_date
        elif clock > prev:
            cur_date -= timedelta(days=1)
        prev = clock
        wall = datetime.combine(cur_date, clock).replace(tzinfo=zone)
        out.append(wall.astimezone(UTC))
    return out


def dayfirst_for(locale: str | None) -> bool:
    """Whether numeric dates of a site in ``locale`` ("en-GB", "uk_UA", "en-US") put the day first."""
    if not locale:
        return False
    norm = locale.replace("_", "-").lower()
    return not (norm.endswith("-us") or norm in ("us", "en-us") or norm.endswith("-ph"))
