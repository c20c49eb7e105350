"""Date parsing for articles (ISO / human dates, naive ones read in the site's zone) and clock times."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
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
#: UTC offsets (hours) of zone abbreviations printed on news pages; where one abbreviation names
#: several zones (IST: India, Ireland, Israel; CST: US Central, China; BST: British, Bangladesh)
#: the entry is the most common on news sites, and the site's own zone wins when it uses the
#: abbreviation (see ``_tzinfos``)
_TZ_ABBR: dict[str, float] = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "IST": 5.5, "CET": 1, "CEST": 2,
    "MET": 1, "MEST": 2, "EET": 2, "EEST": 3, "MSK": 3, "MSD": 4, "TRT": 3, "AST": -4, "ADT": -3,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "NST": -3.5, "NDT": -2.5, "BRT": -3, "ART": -3,
    "SAST": 2, "CAT": 2, "EAT": 3, "WAT": 1, "PKT": 5, "NPT": 5.75, "ICT": 7, "WIB": 7,
    "SGT": 8, "HKT": 8, "PHT": 8, "AWST": 8, "JST": 9, "KST": 9, "ACST": 9.5, "AEST": 10,
    "AEDT": 11, "NZST": 12, "NZDT": 13, "GST": 4, "AMT": 4, "KYIV": 2,
}


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


@lru_cache(maxsize=64)
def _zone_abbreviations(tz: str) -> frozenset[str]:
    """Abbreviations the zone ``tz`` prints (winter and summer), e.g. {"EET", "EEST"}."""
    zone = get_zone(tz)
    year = datetime.now(UTC).year
    return frozenset(filter(None, (datetime(year, m, 1, tzinfo=zone).tzname() for m in (1, 7))))


def _tzinfos(tz: str) -> Callable[[str, int | None], Any]:
    """dateutil's ``tzinfos``: the site's zone for an abbreviation it uses, else the table."""
    own = _zone_abbreviations(tz)

    def lookup(name: str, offset: int | None) -> Any:
        key = (name or "").upper()
        if key in own:
            return get_zone(tz)
        hours = _TZ_ABBR.get(key)
        if hours is not None:
            return int(hours * 3600)
        return offset  # an unknown name: dateutil keeps the numeric offset, if any
    return lookup


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
        parsed = _parse_human(text, tz, dayfirst)
    if parsed is None or not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return None
    try:
        return localize(parsed, tz)
    except (OverflowError, ValueError):  # e.g. 9999-12-31T23:59:59-14:00
        return None


#: dates outside these years are placeholders ("0001-01-01", "9999-12-31"), not publication dates
MIN_YEAR, MAX_YEAR = 1990, 2100
_NON_ASCII_LETTER = re.compile(r"[^\W\d_a-zA-Z]")


def _parse_human(text: str, tz: str, dayfirst: bool) -> datetime | None:
    """A printed date: month names in other languages ("20 листопада 2023", "5. März 2021")
    through dateparser, English ones (with zone abbreviations) through dateutil."""
    if _NON_ASCII_LETTER.search(text):
        return _dateparser(text, dayfirst)
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    cleaned = re.sub(r"\b([AaPp])\.\s?([Mm])\.", r"\1\2", cleaned)
    cleaned = re.sub(r"\b(at|on|updated|published|posted)\b[:]?", " ", cleaned, flags=re.IGNORECASE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", du_parser.UnknownTimezoneWarning)
            parsed = du_parser.parse(cleaned, fuzzy=True, tzinfos=_tzinfos(tz), dayfirst=dayfirst,
                                     default=datetime(1900, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return _dateparser(text, dayfirst)
    return None if parsed.year == 1900 else parsed


def _dateparser(text: str, dayfirst: bool) -> datetime | None:
    import dateparser  # installed with trafilatura (htmldate); imported on the first such date

    settings = {"DATE_ORDER": "DMY" if dayfirst else "MDY", "REQUIRE_PARTS": ["day", "month", "year"],
                "PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False}
    try:
        parsed = dateparser.parse(text, settings=settings)  # type: ignore[arg-type]
    except (ValueError, OverflowError, TypeError, AttributeError):
        return None
    if parsed is not None and parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed


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
    return not (norm.endswith(("-us", "-ph")) or norm in ("us", "en-us"))
