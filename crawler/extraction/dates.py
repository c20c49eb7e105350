"""Date parsing for articles (ISO / human dates, naive ones read in the site's zone) and clock times."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as du_parser

__all__ = [
    "BYLINE_DATE_RE",
    "Dated",
    "best_dated",
    "dayfirst_for",
    "get_zone",
    "localize",
    "parse_clock",
    "parse_datetime",
    "parse_relative",
    "precision_of",
    "resolve_feed_dates",
]


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_CLOCK = r"\d{1,2}[:.]\d{2}(?:[:.]\d{2})?\s*(?:[AaPp]\.?\s?[Mm]\.?)?"
#: A human date as printed in bylines: "December 20, 2023 5:18 PM", "20 Dec 2023, 17:18", and
#: with the clock first: "01:38:07 PM IST Nov 20, 2019" (read to the day only, it lost the clock
#: and the zone).
BYLINE_DATE_RE = re.compile(
    rf"(?:{_CLOCK}(?:\s*[A-Z]{{2,4}}\b)?\s*(?:,|on|-|–|—|\|)?\s*)?"
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
    # the German names of CET/CEST/EET/EEST/WET/WEST ("20.11.2019, 13:38 MEZ")
    "MEZ": 1, "MESZ": 2, "OEZ": 2, "OESZ": 3, "WEZ": 0, "WESZ": 1,
}
#: zone names printed without winter/summer letter ("1:38 pm ET"): the offset depends on the
#: date, so they map to the zone, not to one offset
_TZ_REGION: dict[str, str] = {
    "ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver",
    "PT": "America/Los_Angeles", "AKT": "America/Anchorage", "HT": "Pacific/Honolulu",
}
#: abbreviations written in another script, spelt as the table spells them
_TZ_SPELLINGS = re.compile(r"\b(?:МСК|мск)\b")


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
        if key in _TZ_REGION:
            return get_zone(_TZ_REGION[key])
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


@lru_cache(maxsize=1024)  # a pure function: a page asks it again for one text (``precision_of``)
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


#: words dateutil reads or skips in an English date; any other word may be a month name in
#: another language written in ASCII ("20 de noviembre de 2019", "5 maart 2021"), which dateutil's
#: fuzzy mode would skip, keeping the day and the clock on a wrong month
_ENGLISH_WORD = re.compile(
    rf"^(?:{_MONTH}|(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\.?|[a-z]+day|at|on|of|the|"
    r"updated|published|posted|am|pm|a\.?m\.?|p\.?m\.?|st|nd|rd|th|t|z|(?-i:[A-Z]{2,5}))$", re.IGNORECASE)
_WORDS = re.compile(r"[^\W\d_]+\.?")


def _is_english(text: str) -> bool:
    return all(_ENGLISH_WORD.match(w) for w in _WORDS.findall(text))


def _parse_human(text: str, tz: str, dayfirst: bool) -> datetime | None:
    """A printed date: English ones (with zone abbreviations) through dateutil; month names in
    other languages ("20 листопада 2023", "5. März 2021", "20 de noviembre de 2019") through
    dateparser, its zone abbreviation decided by the same table."""
    text = _H_CLOCK.sub(r"\1:\2", _TZ_SPELLINGS.sub("MSK", text))
    if _NON_ASCII_LETTER.search(text) or not _is_english(text):
        parsed = _dateparser(text, tz, dayfirst)
        if parsed is not None or _NON_ASCII_LETTER.search(text):
            return parsed
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    cleaned = re.sub(r"\b([AaPp])\.\s?([Mm])\.", r"\1\2", cleaned)
    cleaned = re.sub(r"\b(at|on|updated|published|posted)\b[:]?", " ", cleaned, flags=re.IGNORECASE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", du_parser.UnknownTimezoneWarning)
            parsed = du_parser.parse(cleaned, fuzzy=True, tzinfos=_tzinfos(tz), dayfirst=dayfirst,
                                     default=datetime(1900, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return _dateparser(text, tz, dayfirst)
    return None if parsed.year == 1900 else parsed


#: "13h38" (French, Portuguese, Spanish clocks) as "13:38"
_H_CLOCK = re.compile(r"\b(\d{1,2})\s?h\s?(\d{2})\b")
#: a zone abbreviation (or ±hh:mm offset) in a printed date, taken out before dateparser reads
#: the rest, so that the table and the site's zone decide it as they do for English dates
_ZONE_TOKEN = re.compile(r"(?<![\w+\-])(?:[A-Z]{2,5}|(?:GMT|UTC)?[+\-]\d{2}:?\d{2})(?![\w:])")
_LEADING_WORDS = re.compile(r"^[^\d]*?(?=\d)")


def _zone_of(token: str, tz: str) -> Any:
    """The tzinfo (or offset seconds) an abbreviation or "+03:00" names, or None."""
    m = re.fullmatch(r"(?:GMT|UTC)?([+\-])(\d{2}):?(\d{2})", token)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return sign * (int(m.group(2)) * 3600 + int(m.group(3)) * 60)
    if token in _TZ_ABBR or token in _TZ_REGION or token in _zone_abbreviations(tz):
        return _tzinfos(tz)(token, None)
    return None


def _dateparser(text: str, tz: str, dayfirst: bool) -> datetime | None:
    """A date dateutil cannot read (month names in other languages) through dateparser. A zone
    written in it is applied by this module's rules; words before the first digit ("Publicado
    el", "Opublikowano:") are dropped when the whole text does not parse."""
    import dateparser  # installed with trafilatura (htmldate); imported on the first such date

    zone = None
    for m in _ZONE_TOKEN.finditer(text):
        zone = _zone_of(m.group(0), tz)
        if zone is not None:
            text = (text[:m.start()] + " " + text[m.end():]).strip()
            break
    # aware only when the text still names a zone dateparser knows (it is then kept)
    settings = {"DATE_ORDER": "DMY" if dayfirst else "MDY", "REQUIRE_PARTS": ["day", "month", "year"],
                "PREFER_DATES_FROM": "past"}
    parsed = None
    for attempt in dict.fromkeys((text, _LEADING_WORDS.sub("", text))):
        try:
            parsed = dateparser.parse(attempt, settings=settings)  # type: ignore[arg-type]
        except (ValueError, OverflowError, TypeError, AttributeError):
            parsed = None
        if parsed is not None:
            break
    if parsed is None or zone is None or parsed.tzinfo is not None:
        return parsed  # naive: the caller reads it in the site's zone
    if isinstance(zone, int):
        return parsed.replace(tzinfo=timezone(timedelta(seconds=zone)))
    return parsed.replace(tzinfo=zone)


_HAS_CLOCK = re.compile(r"\d[T ]?\d{1,2}[:.h]\d{2}|\d{1,2}[:.]\d{2}")
#: a zone whose offset is far from every real one: a text that parses to the same instant here
#: and in UTC carries its own offset
_FAR_ZONE = "Pacific/Kiritimati"


def precision_of(text: str | None, tz: str, *, dayfirst: bool = False) -> tuple[bool, bool]:
    """(names a clock time, names its zone or offset) of a date text."""
    if not text:
        return False, False
    has_clock = bool(_HAS_CLOCK.search(text))
    here, far = parse_datetime(text, tz, dayfirst=dayfirst), parse_datetime(text, _FAR_ZONE, dayfirst=dayfirst)
    return has_clock, here is not None and here == far


#: one source's answer: (instant, confidence, names a clock time, names its offset)
Dated = tuple[datetime, float, bool, bool]
#: two texts of one instant written in two zones differ by whole quarter hours, at most this much
_ZONE_SPREAD = timedelta(hours=14)


def best_dated(answers: list[Dated], tz: str) -> tuple[datetime | None, float]:
    """The published instant when sources disagree: the first-ranked source, unless it is less
    precise than a later one that tells the same time. A date without a clock ("2024-02-29")
    takes the clock of a later source on that day (in the site's zone ``tz``); a clock without an
    offset (read in ``tz``, a guess) takes the offset of a later source that differs from it by
    whole quarter hours within a day's zones: the same wall time, written with its zone."""
    if not answers:
        return None, 0.0
    value, conf, clock, offset = answers[0]
    zone = get_zone(tz)
    for other, other_conf, other_clock, other_offset in answers[1:]:
        if not clock and other_clock and other.astimezone(zone).date() == value.astimezone(zone).date():
            return other, other_conf
        gap = abs(value - other)
        if (clock and not offset and other_offset and other_clock and gap <= _ZONE_SPREAD
                and gap % timedelta(minutes=15) == timedelta(0)):
            return other, other_conf
    return value, conf


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
