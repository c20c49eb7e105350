"""``extract_article``: one news page in, one dict of article fields out.

Evidence is taken in this order for every field: structured data (JSON-LD article objects,
OpenGraph, ``article:*`` and other meta), then the profile's CSS ``selectors``, then generic
rules (``<h1>``, the byline near it, trafilatura for the body). ``confidence`` tells, per field,
which kind of evidence won: 0.95 JSON-LD, 0.9 meta, 0.8 selectors, 0.5-0.7 generic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import Element as html_element
from lxml.html import HtmlElement

from .authors import given_first, marked_bylines, split_byline
from .body import (
    filter_paragraphs,
    paragraphs_of,
    split_credit,
    strip_boilerplate,
    strip_invisible,
    text_paragraphs,
    trafilatura_paragraphs,
)
from .candidates import choose, chunk_set
from .dates import (
    BYLINE_DATE_RE,
    best_dated,
    dayfirst_for,
    get_zone,
    parse_datetime,
    parse_relative,
    precision_of,
)
from .cards import Teasers
from .dates import parse_datetime as _parse_datetime
from .document import base_url, join_url, parse_html
from .language import detect_language
from .mainbody import (
    Block,
    blocks_of,
    confirms_deck,
    drop_orphan_headings,
    drop_trailing_labels,
    find_container,
    find_standfirst,
    iter_after,
    prose_siblings,
    repeated_in_flow,
    text_key,
    update_stream,
)
from .selectors import select, select_elements, select_texts
from .structured import LISTING_TYPES, StructuredData, read_structured
from .text import clean_text, word_count

__all__ = ["extract_article"]

JSONLD, META, SELECTOR, GENERIC, WEAK = 0.95, 0.9, 0.8, 0.6, 0.4
H1 = 0.7  # the <h1> as the title
#: ``authors`` holds person names only; desk, staff and agency bylines are ``byline_org`` (the
#: spider stores both). True would repeat ``byline_org`` in ``authors`` when no person is named.
ORG_AUTHORS_FALLBACK = False
MIN_BODY_WORDS = 15
#: a block more than half link text inside the article is a link list, not prose
MAX_BLOCK_LINK_DENSITY = 0.5
#: body of a live blog (JSON-LD LiveBlogPosting with updates): "intro" = the summary above the
#: update stream, "all" = summary and updates
LIVE_BLOG_BODY = "intro"

_SOFT_404 = re.compile(
    r"^\s*404\b|\b404\s*[-:|–—]|\berror\s*404\b|\b404 (?:error|page|not found)|"
    r"\bpage (?:was )?not found\b|^\s*not found\s*$|\bpage (?:does not|doesn.?t) exist|"
    r"couldn.?t find (?:that|this|the) page|can.?t find (?:that|this|the) page|"
    r"page you (?:are|were|’re|'re) looking for|page (?:is )?no longer (?:available|exists)|"
    r"^\s*(?:oops|sorry)\b.{0,40}\b(?:find|found|exist)",
    re.IGNORECASE,
)
_LISTING_PATH = re.compile(
    r"/(?:tag|tags|topic|topics|category|categories|author|authors|section|sections|search|"
    r"(?:[\w-]+-)?archives?|page/\d+)(?:/|$)",
    re.IGNORECASE,
)
_TITLE_SEPARATORS = (" | ", " – ", " — ", " - ", " :: ", " · ", " » ", " • ")
_NAME_URL = re.compile(r"/(?:author|authors|by|people|person|profile|profiles|staff|team|writers?)/",
                       re.IGNORECASE)
_CREDIT_CLASS = re.compile(r"credit|copyright|attribution|source")
_BLOCK_CONTAINERS = frozenset({"div", "section", "article", "main", "body"})


# ---------------------------------------------------------------------------------- helpers
def _first(candidates: Iterable[tuple[Callable[[], Any], float]]) -> tuple[Any, float]:
    """The first candidate (lazily computed) with a truthy value, with its confidence."""
    for getter, conf in candidates:
        value = getter()
        if value:
            return value, conf
    return None, 0.0


def _sel_texts(root: HtmlElement, selectors: Mapping[str, str], key: str) -> list[str]:
    css = selectors.get(key)
    return select_texts(root, css) if css else []


def _ld_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("text")
    if isinstance(value, (str, int, float)):
        return clean_text(str(value)) or None
    return None


def _ld_url(value: Any) -> str | None:
    if isinstance(value, list):
        for v in value:
            found = _ld_url(v)
            if found:
                return found
        return None
    if isinstance(value, dict):
        return _ld_url(value.get("url") or value.get("contentUrl") or value.get("@id"))
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _compact(text: str) -> str:
    return re.sub(r"[^\w]", "", re.sub(r"^the\s+", "", text.strip(), flags=re.IGNORECASE)).casefold()


def _site_names(sd: StructuredData, url: str) -> tuple[set[str], str]:
    names = {n for n in (sd.first("og:site_name"), sd.first("application-name"),
                         sd.first("twitter:site")) if n}
    publisher = (sd.article or {}).get("publisher")
    name = _ld_text(publisher)
    if name:
        names.add(name)
    host = urlsplit(url).hostname or ""
    host = re.sub(r"^www\d?\.", "", host)
    label = _host_label(host)
    if label:
        names.add(label)
    return {_compact(n.lstrip("@")) for n in names if _compact(n)}, host.replace(".", "").casefold()


#: second-level labels under a country's domain ("bbc.co.uk", "abc.net.au", "asahi.co.jp")
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "ac", "edu", "ne", "or", "go", "gv"})


def _host_label(host: str) -> str:
    """The publisher's own label of a host: "spiegel" of "www.spiegel.de", "bbc" of "bbc.co.uk"."""
    labels = host.casefold().split(".")
    if len(labels) < 2:
        return ""
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3]
    return labels[-2]


#: a " | by Jane Doe" segment that blog templates put after the title and the site name
_BY_TAIL = re.compile(r"^(?:by|par|von|por|di|door|av)\s+\S", re.IGNORECASE)
#: a " | by …" segment names its author in at most this many words
SITE_NAME_WORDS = 5
#: a title suffix holding the site's name among other words has at most this many ("Der
#: Spiegel", "Rezept von Backen.de"); a longer one is a headline that names the site
SITE_SUFFIX_WORDS = 3


def _strip_site(title: str | None, names: set[str], host: str, *, force: bool = False) -> str | None:
    """Remove a " | Site Name" suffix (or "Site Name | " prefix) from ``title``."""
    title = clean_text(title)
    if not title:
        return None

    def is_site(part: str, *, suffix: bool = False) -> bool:
        c = _compact(part)
        # a suffix may also hold the site's name or host label among few words: "Der Spiegel"
        # on spiegel.de, "Rezept von Backen.de"; a prefix must be the name (a headline often
        # starts with the site's name: "How we designed Dropbox's ATF - ...")
        return bool(c) and (c in names or (len(c) >= 3 and c in host) or (
            suffix and len(part.split()) <= SITE_SUFFIX_WORDS and not any(s in part for s in _TITLE_SEPARATORS)
            and any(len(n) >= 3 and n in c for n in names)))

    for sep in _TITLE_SEPARATORS:
        if sep not in title:
            continue
        head, _, tail = title.rpartition(sep)
        if head and sep in head and _BY_TAIL.match(tail) and len(tail.split()) <= SITE_NAME_WORDS:
            head, _, tail = head.rpartition(sep)  # "Title | Site | by Jane Doe"
        if head and is_site(tail, suffix=True):
            return head.strip()
        first, _, rest = title.partition(sep)
        if rest and is_site(first):
            return rest.strip()
        if force and head and len(tail) < len(head) and len(tail.split()) <= 5:
            return head.strip()
    return title


_TITLE_WORDS = re.compile(r"\w+")
#: a title candidate is confirmed when this share of its words occur in another source's text
TITLE_CONFIRM = 0.8


def _title(sources: list[tuple[str | None, float, str | None]], names: set[str],
           host: str) -> tuple[str | None, float]:
    """The title: the first candidate another source confirms (JSON-LD headline, og:title,
    twitter:title, the profile selector, the <h1>, the <title>, in that order).

    Each source is (raw text, confidence, site-suffix handling). A candidate is confirmed when
    most of its words (``TITLE_CONFIRM``) occur in another source's raw text: a JSON-LD
    "headline" holding a description, or an <h1> that is the site's logo, is then passed over
    for the title the other sources agree on. A candidate confirmed only by earlier-ranked
    candidates that hold it is a cut version of them: the earlier one wins. With no agreement
    the order decides, except between an <h1> and the <title>: the one with more words wins (a
    logo or site name is short, a headline is a sentence; a tie goes to the declared <title>)."""
    raw = [clean_text(text) for text, _, _ in sources]
    cands: list[tuple[int, str, float]] = []
    for i, (text, conf, mode) in enumerate(sources):
        value = _strip_site(text, names, host, force=mode == "force") if mode else clean_text(text)
        if value:
            cands.append((i, value, conf))
    if not cands:
        return None, 0.0

    def within(value: str, other: str) -> bool:
        words = _TITLE_WORDS.findall(value.casefold())
        theirs = set(_TITLE_WORDS.findall(other.casefold()))
        return bool(words) and sum(w in theirs for w in words) >= TITLE_CONFIRM * len(words)

    by_index = {i: (value, conf) for i, value, conf in cands}
    for i, value, conf in cands:
        confirmers = [j for j, other in enumerate(raw) if j != i and other and within(value, other)]
        if confirmers:
            # confirmed only by a source ranked before it, that holds it and more: a cut title
            # ("Deep" for "Deep nesting still extracts"), the earlier candidate is the title
            earlier = [j for j in confirmers if j < i and j in by_index]
            return by_index[earlier[0]] if earlier and len(confirmers) == len(earlier) else (value, conf)
    first, last = cands[0], cands[-1]
    if first[2] == H1 and last[2] == WEAK and len(_TITLE_WORDS.findall(last[1])) >= len(
            _TITLE_WORDS.findall(first[1])):
        return last[1], last[2]
    return first[1], first[2]


def _pick_h1(root: HtmlElement) -> HtmlElement | None:
    h1s = [h for h in root.iter("h1") if clean_text(h.text_content())]
    if not h1s:
        return None
    for h in h1s:
        if any(a.tag in ("article", "main") for a in h.iterancestors()):
            return h
    return max(h1s, key=lambda h: len(h.text_content()))


def _header_region(h1: HtmlElement | None) -> HtmlElement | None:
    """The small block around the headline holding byline, date and lead image."""
    if h1 is None:
        return None
    region = h1
    for _ in range(4):
        parent = region.getparent()
        if parent is None or parent.tag == "body" or len(parent.text_content()) > 3000:
            break
        region = parent
    return region if region is not h1 else h1.getparent()


def _in_furniture(el: HtmlElement) -> bool:
    return any(a.tag in ("aside", "nav", "footer") for a in el.iterancestors())


# ------------------------------------------------------------------------------ the fields
def _authors(root: HtmlElement, sd: StructuredData, selectors: Mapping[str, str],
             region: HtmlElement | None,
             rtext: _RegionText | None = None) -> tuple[list[str], list[str], float]:
    """(person names, desk/staff/agency bylines, confidence of the names).

    Evidence in order: JSON-LD, meta, the profile's selector, then the headline region. The
    first kind that names a person wins; organisations are collected on the way. Once one is
    found, the weak region heuristics are not asked (they would read a desk's page link as a name).
    """
    orgs: list[str] = []

    def take(raw: list[str], conf: float, organizations: Iterable[str] = ()) -> tuple[list[str], float]:
        people, found = split_byline(raw, organizations=organizations)
        orgs.extend(o for o in found if o.casefold() not in {x.casefold() for x in orgs})
        return people, conf

    art = sd.article or {}
    raw = art.get("author") or art.get("creator")
    if raw:
        people: list[str] = []
        ld_orgs: list[str] = []
        for a in raw if isinstance(raw, list) else [raw]:
            if isinstance(a, dict):
                name = a.get("name") or " ".join(
                    x for x in (a.get("givenName"), a.get("familyName")) if isinstance(x, str))
                if isinstance(name, list):
                    name = ", ".join(n for n in name if isinstance(n, str))
                if not isinstance(name, str) or not name.strip():
                    continue
                t = a.get("@type")
                is_org = isinstance(t, str) and t.lower() in ("organization", "newsmediaorganization")
                (ld_orgs if is_org else people).append(name)
            elif isinstance(a, str):
                people.append(a)
        names, conf = take(people, JSONLD, ld_orgs)
        if names:
            return names, orgs, conf
    meta_names = [given_first(v) if key in _FAMILY_FIRST_KEYS else v
                  for key in ("author", "article:author", "parsely-author", "sailthru.author",
                              "dc.creator", "dcterms.creator", "citation_author", "byl")
                  for v in sd.all(key)]
    names, conf = take(meta_names, META)
    if names:
        return names, orgs, conf
    if selectors.get("authors"):
        names, conf = take(_sel_texts(root, selectors, "authors"), SELECTOR)
        if names:
            return names, orgs, conf
    if region is not None and not orgs:
        found = [clean_text(e.text_content()) for e in region.xpath(
            './/a[contains(concat(" ", normalize-space(@rel), " "), " author ")]'
            '|.//*[@itemprop="author"]|.//a[@href]')
            if e.tag != "a" or "author" in (e.get("rel") or "") or _NAME_URL.search(e.get("href", ""))]
        names, conf = take(found, GENERIC)
        if names:
            return names, orgs, conf
        text = (rtext or _RegionText(region)).lines()
        # a short line of its own that starts with "By": the byline, names or desk
        line = next((ln for ln in text.split("\n") if _BY_LINE.match(ln)
                     and len(ln.split()) <= 12 and not BYLINE_DATE_RE.search(ln)), None)
        if line:
            names, conf = take([_LINE_SEP.split(line)[0]], WEAK)
            if names or orgs:
                return names, orgs, conf
        m = _BYLINE_TEXT.search(text)
        if m and m.group("names"):
            names, conf = take([m.group("names")], WEAK)
            if names:
                return names, orgs, conf
        # "By Jane Doe · 2 hours ago": a capitalised name right after "By", whatever follows;
        # the region's blocks are lines, so a name never runs into the next paragraph
        m2 = next((m for ln in text.split("\n") if len(ln.split()) <= 12
                   for m in [_BY_NAME.search(ln)] if m), None)
        if m2:
            names, conf = take([m2.group(1)], WEAK)
            if names:
                return names, orgs, conf
    if not orgs:
        names = marked_bylines(root)
        if names:
            return names, orgs, WEAK
    return [], orgs, 0.0


#: meta keys whose convention is "Family, Given" (Dublin Core, Highwire/Google Scholar)
_FAMILY_FIRST_KEYS = frozenset({"dc.creator", "dcterms.creator", "citation_author"})
_BY_LINE = re.compile(r"^\s*by:?\s+\w", re.IGNORECASE)
_LINE_SEP = re.compile(r"\s+[·|•–—]\s+|\s*[|·•]\s*")


def _region_text(region: HtmlElement) -> str:
    """The headline region's text, one line per block (a byline paragraph is its own line)."""
    return "\n".join(paragraphs_of(region))[:3000]


class _RegionText:
    """The headline region's text in its two forms, each built once per page: the author and
    date heuristics both read them (walking the region again costs a few ms on a big header)."""

    def __init__(self, region: HtmlElement | None) -> None:
        self.region = region
        self._lines: str | None = None
        self._flat: str | None = None

    def lines(self) -> str:
        """``_region_text``: one line per block."""
        if self._lines is None:
            self._lines = _region_text(self.region) if self.region is not None else ""
        return self._lines

    def flat(self) -> str:
        """All of the region's text on one line (first 3000 characters)."""
        if self._flat is None:
            self._flat = clean_text(" ".join(self.region.itertext()))[:3000] \
                if self.region is not None else ""
        return self._flat


_BYLINE_TEXT = re.compile(
    r"\bby\s+(?P<names>[^\n]{2,200}?)\s*(?:[|·•,]\s*)?(?P<date>" + BYLINE_DATE_RE.pattern + ")",
    re.IGNORECASE,
)


# searched in short lines only: "Posted on May 5 by Jane Doe" is a byline, "... initiated by
# Nazarbayev. More ..." in a paragraph is prose
_BY_NAME = re.compile(r"\b[Bb]y:?[ \t]+((?:[A-Z\u00c0-\u024f\u0400-\u04ff][\w'’.\-]+[ \t]?){2,4})")


def _byline_match(region: _RegionText) -> re.Match[str] | None:
    if region.region is None:
        return None
    return _BYLINE_TEXT.search(region.lines())


_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


def _time_value(el: HtmlElement, tz: str, fetched: datetime | None = None,
                dayfirst: bool = False) -> datetime | None:
    """A ``<time>``/itemprop element's instant; a date-only attribute borrows the printed clock,
    a printed "2 hours ago" is counted back from ``fetched``."""
    attr = el.get("datetime") or el.get("content")
    text = clean_text(el.text_content())
    value = parse_datetime(attr, tz, dayfirst=dayfirst) if attr else None
    if value is None and text and fetched is not None:
        value = parse_relative(text, fetched)
        if value is not None:
            return value
    if text and (value is None or _DATE_ONLY.match(attr or "")):
        printed = parse_datetime(text, tz, dayfirst=dayfirst)
        if printed and (value is None or printed.astimezone(get_zone(tz)).date().isoformat()
                        == attr.strip()):
            return printed
    return value


_RELATIVE_IN_TEXT = re.compile(r"\b(?:\d+|an?)\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|"
                               r"weeks?)\s+ago\b|\bjust now\b", re.IGNORECASE)
_SECTION_CLASS = re.compile(r"(?:^|[\s_\-])(?:section|category|kicker|eyebrow|primary-tag|rubric)"
                            r"(?=$|[\s_\-])", re.IGNORECASE)


def _generic_section(region: HtmlElement | None, h1: HtmlElement | None) -> str | None:
    """A short section label near the headline (``class="post-section"``, "kicker", ...)."""
    if region is None:
        return None
    for el in region.iter():
        if el is h1 or not isinstance(el.tag, str) or el.tag in ("time", "h1"):
            continue
        if _SECTION_CLASS.search(el.get("class") or ""):
            text = clean_text(el.text_content())
            if text and len(text) <= 40:
                return text
    return None


def _dates(root: HtmlElement, sd: StructuredData, selectors: Mapping[str, str],
           region: HtmlElement | None, tz: str, fetched: datetime,
           dayfirst: bool = False, rtext: _RegionText | None = None,
           itemprops: frozenset[str] | None = None) -> dict[str, tuple[Any, float]]:
    art = sd.article or {}
    rtext = rtext or _RegionText(region)

    precision: dict[datetime, tuple[bool, bool]] = {}  # what each text said: clock, offset

    def parse_datetime(value: str | None, zone: str) -> datetime | None:
        parsed = _parse_datetime(value, zone, dayfirst=dayfirst)
        if parsed is not None and parsed not in precision:
            precision[parsed] = precision_of(value, zone, dayfirst=dayfirst)
        return parsed

    def ok(value: datetime | None) -> datetime | None:
        return value if value is not None and value <= fetched else None

    def ld(key: str) -> Callable[[], datetime | None]:
        return lambda: ok(parse_datetime(_ld_text(art.get(key)), tz))

    def meta(*keys: str) -> Callable[[], datetime | None]:
        return lambda: next((d for k in keys for v in sd.all(k)
                             if (d := ok(parse_datetime(v, tz)))), None)

    def sel(key: str) -> Callable[[], datetime | None]:
        def get() -> datetime | None:
            css = selectors.get(key)
            if not css:
                return None
            for m in select(root, css):
                d = ok(_time_value(m, tz, fetched, dayfirst) if isinstance(m, etree._Element)
                       else parse_datetime(clean_text(str(m)), tz))
                if d:
                    return d
            return None
        return get

    def time_el(prop: str) -> Callable[[], datetime | None]:
        def get() -> datetime | None:
            scope = root if prop else region
            if scope is None or (prop and itemprops is not None and prop not in itemprops):
                return None
            xp = f'.//*[@itemprop="{prop}"]' if prop else ".//time[@datetime]"
            for el in scope.xpath(xp):
                if _in_furniture(el):
                    continue
                d = ok(_time_value(el, tz, fetched, dayfirst))
                if d:
                    return d
            return None
        return get

    def byline() -> datetime | None:
        m = _byline_match(rtext)
        if not m:
            if region is None:
                return None
            m = BYLINE_DATE_RE.search(rtext.flat())
            text = m.group(0) if m else None
        else:
            text = m.group("date")
        if text:
            return ok(parse_datetime(text, tz))
        if region is None:
            return None
        rel = _RELATIVE_IN_TEXT.search(rtext.flat())
        return ok(parse_relative(rel.group(0), fetched)) if rel else None

    # every source is asked: a less precise first one borrows a later one's clock or offset
    answers = [(d, c, *precision.get(d, (True, False))) for get, c in (
        (ld("datePublished"), JSONLD), (ld("dateCreated"), 0.85),
        (meta("article:published_time", "og:published_time", "datepublished",
              "parsely-pub-date", "pubdate", "publishdate", "publish-date", "dc.date",
              "dcterms.created", "dc.date.issued", "sailthru.date", "date"), META),
        (sel("published"), SELECTOR),
        (time_el("datePublished"), 0.75), (time_el(""), 0.7), (byline, GENERIC),
    ) if (d := get())]
    published = best_dated(answers, tz)
    modified = _first([
        (ld("dateModified"), JSONLD),
        (meta("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified",
              "last-modified"), META),
        (sel("modified"), SELECTOR), (time_el("dateModified"), 0.75),
    ])
    if modified[0] and published[0] and modified[0] < published[0]:
        modified = (published[0], modified[1])
    return {"published": published, "modified": modified}


_TAG_HREF = re.compile(r"/(?:tag|tags|topic|topics)/[^/?#]+/?(?:$|[?#])", re.IGNORECASE)


def _tags(root: HtmlElement, sd: StructuredData, selectors: Mapping[str, str],
          h1: HtmlElement | None) -> tuple[list[str], float]:
    art = sd.article or {}

    def ld() -> list[str]:
        kw = art.get("keywords")
        if isinstance(kw, str):
            return kw.split(",")
        if isinstance(kw, list):
            return [x for k in kw if (x := _ld_text(k))]
        return []

    def meta_kw() -> list[str]:
        return [p for v in sd.all("news_keywords") + sd.all("keywords") for p in v.split(",")]

    def tag_links() -> list[str]:
        # links to tag pages inside the article (not in nav, aside or footer)
        scope = next((a for a in (h1.iterancestors() if h1 is not None else ())
                      if a.tag in ("article", "main")), None)
        if scope is None:
            return []
        return [a.text_content() for a in scope.iter("a")
                if _TAG_HREF.search(a.get("href") or "") and not _in_furniture(a)]

    values, conf = _first([
        (ld, JSONLD), (lambda: sd.all("article:tag"), META),
        (lambda: _sel_texts(root, selectors, "tags"), SELECTOR), (meta_kw, 0.7),
        (tag_links, 0.5),
    ])
    out: list[str] = []
    seen: set[str] = set()
    for v in values or []:
        t = clean_text(v)
        if t and t.casefold() not in seen and len(t) <= 100:
            seen.add(t.casefold())
            out.append(t)
    return out, conf if out else 0.0


def _image(root: HtmlElement, sd: StructuredData, selectors: Mapping[str, str],
           region: HtmlElement | None, base: str) -> tuple[str | None, float]:
    art = sd.article or {}

    def sel() -> str | None:
        css = selectors.get("image")
        if not css:
            return None
        for m in select(root, css):
            if isinstance(m, etree._Element):
                img = m if m.tag == "img" else m.find(".//img")
                src = None if img is None else (img.get("src") or img.get("data-src"))
                src = src or m.get("content") or m.get("href")
            else:
                src = str(m)
            if src and src.strip():
                return src.strip()
        return None

    def generic() -> str | None:
        if region is None:
            return None
        for img in region.iter("img"):
            src = img.get("src") or img.get("data-src")
            if src and not src.startswith("data:"):
                return src
        return None

    value, conf = _first([
        (lambda: _ld_url(art.get("image") or art.get("thumbnailUrl")), JSONLD),
        (lambda: sd.first("og:image", "og:image:url", "og:image:secure_url"), META),
        (lambda: sd.first("twitter:image", "twitter:image:src"), 0.85),
        (sel, SELECTOR), (generic, 0.5),
    ])
    return (join_url(base, value) if value else None), conf


def _basename(src: str | None) -> str:
    if not src:
        return ""
    return urlsplit(src).path.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0].casefold()


def _caption(root: HtmlElement, sd: StructuredData, selectors: Mapping[str, str],
             region: HtmlElement | None, image_url: str | None,
             containers: list[HtmlElement]) -> tuple[str | None, str | None, float]:
    """Lead-image caption and credit (split off the caption's end), with a confidence."""
    art = sd.article or {}
    image = art.get("image")
    if isinstance(image, list):
        image = image[0] if image else None
    if isinstance(image, dict) and (image.get("caption") or image.get("description")):
        cap, credit = split_credit(_ld_text(image.get("caption") or image.get("description")))
        credit = credit or _ld_text(image.get("creditText") or image.get("copyrightHolder"))
        return cap, credit, JSONLD
    if selectors.get("image_caption"):
        texts = _sel_texts(root, selectors, "image_caption")
        if texts:
            cap, credit = split_credit(texts[0])
            return cap, credit, SELECTOR
    figure = None
    name = _basename(image_url)
    if name:
        for img in root.iter("img"):
            if _basename(img.get("src") or img.get("data-src")) == name:
                figure = next((a for a in img.iterancestors() if a.tag == "figure"), None)
                if figure is not None:
                    break
    if figure is None:
        for scope in ([region] if region is not None else []) + containers:
            figure = next((f for f in scope.iter("figure") if f.find(".//figcaption") is not None),
                          None)
            if figure is not None:
                break
    if figure is None:
        return None, None, 0.0
    figcaption = figure.find(".//figcaption")
    if figcaption is None:
        return None, None, 0.0
    credit = None
    for el in figcaption.iter():
        names = f"{el.get('class', '')} {el.get('id', '')}".lower()
        if el is not figcaption and (el.tag == "cite" or _CREDIT_CLASS.search(names)):
            credit = clean_text(el.text_content())
            if credit and credit.endswith(")") and credit.startswith("("):
                credit = credit[1:-1].strip()
            credit = re.sub(r"^(?:photo(?:graph)?|image|picture|credit)\s*(?:by|:)\s*", "", credit,
                            flags=re.IGNORECASE) or None
            break
    text = clean_text(figcaption.text_content())
    if credit:
        cut = text.rfind(credit)
        if cut > 0:
            text = text[:cut].rstrip(" (|—–-:").strip()
            text = re.sub(r"\s*(?:photo(?:graph)?|image|picture|credit)\s*(?:by|:)?$", "", text,
                          flags=re.IGNORECASE)
    cap, split = split_credit(text)
    return cap, credit or split, GENERIC


def _body_containers(root: HtmlElement, css: str | None) -> list[HtmlElement]:
    if not css:
        return []
    found = select_elements(root, css)
    if not found:
        return []
    # nested matches: keep the outermost
    ids = {id(e) for e in found}
    found = [e for e in found if not any(id(a) in ids for a in e.iterancestors())]
    if all(e.tag in _BLOCK_CONTAINERS for e in found) and len(found) > 1:
        return [max(found, key=lambda e: len(e.text_content()))]
    return found


def _count_cards(root: HtmlElement) -> int:
    # headline links, link cards, and dated items outside sidebars (feeds, archives)
    return int(root.xpath("count(//h2//a[@href] | //h3//a[@href] | //a[@href]//h2 | "
                          "//a[@href]//h3 | //article[.//a[@href]] | //time[not(ancestor::aside)])"))


#: a main text block: this many paragraphs of running text (``PROSE_CHARS`` or longer) ...
MAIN_TEXT_PARAGRAPHS = 3
PROSE_CHARS = 120
#: ... or this many words, two such paragraphs among them
MAIN_TEXT_WORDS = 150


def _listing_hints(sd: StructuredData, url: str, canonical: str | None) -> int:
    """How many signs outside the content say "listing": og:type website/profile/blog, a
    CollectionPage/ItemList JSON-LD type, a /tag/, /category/, /author/... URL."""
    og_type = (sd.first("og:type") or "").lower()
    hints = int(og_type in ("website", "profile", "object", "blog"))
    hints += bool(sd.page_types & LISTING_TYPES)
    hints += any(_LISTING_PATH.search(urlsplit(u).path) for u in (url, canonical or ""))
    return hints


def _is_listing(sd: StructuredData, hints: int, paragraphs: list[str], cards: int,
                headline: bool, dated: bool, cards_are_page: bool | None) -> bool:
    """Listing, tag or author page, decided by the content.

    A page with a main text block and a headline is an article whatever its og:type or URL say
    (sites declare og:type "website" on every page), unless the signs outside the content pile
    up (two or more) and it carries no date either. Many headline cards over little running
    text make a listing, and so do many cards that hold the page's running text
    (``cards_are_page``: the DOM scorer's share, ``cards.Teasers``), however long their teasers.
    But where the scorer found the running text outside the cards (``cards_are_page`` False)
    they are a stream of stories beside the article, which on real pages often holds more
    headline links than the article has paragraphs (55 of the 1,155 dev pages, every one an
    article, were rejected as listings by the card count alone). The hints alone decide only
    where the page holds no main text.
    """
    if sd.article is not None:
        return False
    prose = sum(1 for p in paragraphs if len(p) >= PROSE_CHARS)
    main_text = prose >= MAIN_TEXT_PARAGRAPHS or (
        prose >= 2 and word_count(" ".join(paragraphs)) >= MAIN_TEXT_WORDS)
    long_paras = sum(1 for p in paragraphs if len(p) > 200)
    if cards >= 8 and (cards_are_page or long_paras < MAIN_TEXT_PARAGRAPHS or cards >= 2 * len(paragraphs)) \
            and not (main_text and headline and cards_are_page is False):
        return True
    if main_text and headline and (dated or hints < 2):
        return False
    return hints > 0


_SENTENCE_END = re.compile(r"[.!?][\"”’')\]]*$")


def _not_link_list(block: Block) -> bool:
    """A block is kept unless it is mostly link text; a prose paragraph (a long sentence, ending
    like one, with words of its own between the links) is kept however much of it is linked."""
    if block.link_density <= MAX_BLOCK_LINK_DENSITY:
        return True
    return (block.tag == "p" and len(block.text) >= 80 and len(block.text) - block.link_chars >= 25
            and bool(_SENTENCE_END.search(block.text)))


#: a subheading written as a link (a listicle's "<h3><a>Product</a></h3>" above its review) is
#: the article's when a prose paragraph of its own follows it: kept, though all of it is link.
#: Measured: readability set 0.9305 -> 0.9309 (yahoo-1 0.91 -> 0.96, toc-missing), trafilatura
#: set 0.93396 -> 0.93398, dev unchanged
LINKED_SUBHEADINGS = True
_SUBHEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_SUBHEADING_WORDS = 15  # a heading is this many words at most
_SECTION_PROSE = 150  # characters of the paragraph that follows it, at least
_CLOSING = " \"”’')]»"


def _linked_subheadings(blocks: Sequence[Block]) -> set[int]:
    """``id`` of the linked headings among ``blocks`` that a prose paragraph (long, with few
    links) follows directly; one that breaks off ("…") is a teaser's excerpt (a grid of
    related posts), not a section."""
    out: set[int] = set()
    for b, nxt in zip(blocks, blocks[1:]):
        if b.tag in _SUBHEADINGS and b.link_density > MAX_BLOCK_LINK_DENSITY \
                and len(b.text.split()) <= _SUBHEADING_WORDS and nxt.tag == "p" \
                and len(nxt.text) >= _SECTION_PROSE and nxt.link_density <= 0.3 \
                and not nxt.text.rstrip(_CLOSING).endswith(("…", "...")):
            out.add(id(b))
    return out


_ITEMPROP_BODY = etree.XPath('//*[@itemprop="articleBody" or @itemprop="articlebody"]'
                             '[not(ancestor::*[@itemprop="articleBody"])]')
# Every itemprop value of a page, read once before the tree is changed. Extraction only removes
# and unwraps elements, never sets an attribute, so a value missing here is missing for good, and
# the whole-page scans that look for one (``.//*[@itemprop="datePublished"]``, ~0.4 ms each on a
# dev page, a predicate libxml2 tests on every element) are skipped; this attribute step costs
# ~0.2 ms (a throwaway timing over the dev sets' 1,155 pages).
_ITEMPROPS = etree.XPath("//@itemprop")


def _structured_body(root: HtmlElement, art: Mapping[str, Any],
                     itemprops: frozenset[str] | None = None) -> list[str]:
    """The body the page declares: JSON-LD ``articleBody`` (``text_paragraphs``), else the
    paragraphs of its ``itemprop="articleBody"`` microdata elements (boilerplate removed on a
    copy: the tree itself is still to be read)."""
    value = art.get("articleBody")
    if isinstance(value, list):
        value = "\n".join(v for v in value if isinstance(v, str))
    if isinstance(value, str) and value.strip():
        return text_paragraphs(value)
    out: list[str] = []
    if itemprops is not None and "articleBody" not in itemprops and "articlebody" not in itemprops:
        return out
    for el in _ITEMPROP_BODY(root):
        copy = deepcopy(el)
        copy.tail = None
        strip_boilerplate(copy)
        out.extend(paragraphs_of(copy))
    return out


def _live_container(root: HtmlElement, updates: list[str]) -> HtmlElement | None:
    """A live blog's container: its own running text (the summary above the stream) found with
    the structured data's update texts discounted, then per ``LIVE_BLOG_BODY`` widened to the
    update stream ("all") or stripped of it ("intro")."""
    keys = frozenset(k for k in map(text_key, updates) if k)
    stream = update_stream(root, keys)
    if stream is None:
        return None
    intro, _ = find_container(root, keys)
    if intro is None:
        return None
    if LIVE_BLOG_BODY == "intro":
        if intro is stream or stream in intro.iterancestors():
            return None  # no summary outside the stream: read the page as usual
        if intro in stream.iterancestors():
            stream.getparent().remove(stream)
        return intro
    ancestors = set(stream.iterancestors()) | {stream}
    return next((a for a in intro.iterancestors() if a in ancestors), intro) \
        if intro not in ancestors else intro


def _dom_body(root: HtmlElement, h1: HtmlElement | None, headline: str, descriptions: list[str],
              drop: list[str | None], updates: list[str] | None,
              teasers: Teasers) -> tuple[list[str], int]:
    """The DOM scorer's body (on a copy of its container: the tree stays whole for the other
    candidates), and the page's running-text size the scorer saw; ``teasers`` gets what the
    scorer saw of the page's teaser cards."""
    container = _live_container(root, updates) if updates else None
    running = 0
    if container is None:
        container, running = find_container(root, min_chars=DOM_MIN_CHARS, teasers=teasers)
    if container is None:
        return [], running
    deck = find_standfirst(h1, container, descriptions)
    # a live blog's intro was cut from its update stream on purpose: no siblings for it
    before, after = prose_siblings(container) if SIBLINGS and running else ([], [])
    if before or after:
        # the container and the prose beside it, copied into one element read as the body
        work = html_element("div")
        for el in [*before, container, *after]:
            work.append(deepcopy(el))
            work[-1].tail = None
    else:
        work = deepcopy(container)
        work.tail = None
    strip_boilerplate(work)
    found = list(iter_after(blocks_of(work), headline))
    keep: Callable[[Block], bool] = _not_link_list
    if LINKED_SUBHEADINGS:
        linked = _linked_subheadings(found)
        if linked:
            keep = lambda b: id(b) in linked or _not_link_list(b)  # noqa: E731
    blocks = [b.text for b in drop_orphan_headings(found, keep)]
    paragraphs = filter_paragraphs(([deck] if deck else []) + blocks, drop=drop,
                                   repeated=repeated_in_flow(work) if REPEATS_IN_FLOW else None)
    if not running:  # a live blog's summary: the structured data vouched for the container
        running = sum(len(p) for p in paragraphs)
    return paragraphs, running


#: a paragraph the page writes twice or more in the flow of its text (``mainbody.repeated_in_flow``)
#: is kept each time, not dropped as a pull quote's or teaser's repeat
REPEATS_IN_FLOW = True
#: running text (characters, CJK weighted) below which the DOM scorer offers no candidate; below
#: ``mainbody.MIN_RUNNING_CHARS`` its candidate is a weak one
DOM_MIN_CHARS = 140
#: the DOM body takes in the prose siblings of its container (``mainbody.prose_siblings``)
SIBLINGS = True
#: when not None, ``_generic_body`` appends every candidate of every page here (bench/analysis)
CANDIDATE_TRACE: list[dict[str, Any]] | None = None


def _generic_body(root: HtmlElement, url: str, h1: HtmlElement | None, headline: str,
                  descriptions: list[str], drop: list[str | None], teasers: Teasers,
                  updates: list[str] | None = None,
                  declared: list[str] | None = None) -> tuple[list[str], float]:
    """Body paragraphs without a profile selector: the best of several candidates. ``teasers``
    gets what the DOM scorer saw of the page's teaser cards.

    A standfirst (deck) shown between the headline and the container, and confirmed by the
    description meta, leads the DOM body: readers see it as the article's first paragraph.
    """
    page_chars = len(root.text_content())  # before the DOM scorer: its copy leaves the tree whole
    dom, running = _dom_body(root, h1, headline, descriptions, drop, updates, teasers)
    cache: dict[bool, list[str]] = {}

    def traf(recall: bool) -> list[str]:
        if recall not in cache:
            # the teaser cards the DOM scorer saw are furniture in trafilatura's text too
            cache[recall] = [p for p in filter_paragraphs(
                trafilatura_paragraphs(root, url, recall=recall), drop=drop)
                if not teasers.keys or text_key(p) not in teasers.keys]
        return cache[recall]

    if CANDIDATE_TRACE is not None:
        CANDIDATE_TRACE.append({"url": url, "dom": dom, "running": running,
                                "page": page_chars,
                                "declared": declared or [], "traf": traf(False),
                                "recall": traf(True), "descriptions": descriptions})
    body, conf = choose(dom, running, declared or [], traf, descriptions, dom_conf=GENERIC,
                        declared_conf=JSONLD, traf_conf=0.55, page_chars=page_chars)
    if KEEP_DECK and body is not dom and dom and body and confirms_deck(dom[0], descriptions):
        deck = chunk_set([dom[0]])
        if len(deck & chunk_set(body)) < 0.5 * len(deck):
            body = [dom[0], *body]  # another candidate won, but misses the deck the page shows
    return drop_trailing_labels(body), conf


#: the deck that leads the DOM body (a standfirst the description meta confirms) leads the
#: chosen body too when another candidate wins without it (half its 4-grams missing there).
#: Measured: trafilatura set 0.93398 -> 0.93473 (4 more "with" snippets, no "without" one),
#: readability set 0.93127 -> 0.93131 (nytimes-4), dev unchanged
KEEP_DECK = True


# ------------------------------------------------------------------------------- the API
def extract_article(html: str | bytes, url: str, *, selectors: Mapping[str, str] | None = None,
                    timezone: str = "UTC", headers_encoding: str | None = None,
                    fetched_at: datetime | None = None, locale: str | None = None,
                    root: HtmlElement | None = None) -> dict[str, Any]:
    """Extract the article fields of one page (see the module docstring for the evidence order).

    ``selectors`` keys: title, body, body_exclude, authors, published, modified, section, tags,
    image, image_caption. Naive times are read in ``timezone``; dates later than ``fetched_at``
    (default: now) are rejected and "2 hours ago" counts back from it; ``locale`` (the site's,
    e.g. "en-GB") settles numeric day/month order. ``is_article`` is False with a ``reason`` of "empty",
    "soft_404", "listing", "no_title" or "no_body". ``root``: the page already parsed by
    ``parse_html(html, headers_encoding)`` (``html`` is then not read); it is changed in place.
    """
    sel: Mapping[str, str] = selectors or {}
    fetched = fetched_at or datetime.now(UTC)
    if fetched.tzinfo is None:
        fetched = fetched.replace(tzinfo=UTC)
    result: dict[str, Any] = {
        "is_article": False, "reason": None, "title": None, "body": "", "paragraphs": [],
        "summary": None, "authors": [], "byline_org": [], "published": None, "modified": None,
        "canonical_url": None, "section": None, "tags": [], "image_url": None,
        "image_caption": None, "image_credit": None, "language": None, "confidence": {},
    }
    if root is None:
        root = parse_html(html, headers_encoding)
    if root is None:
        result["reason"] = "empty"
        return result
    sd = read_structured(root)  # before strip_invisible: JSON-LD lives in <script>
    itemprops = frozenset(_ITEMPROPS(root))
    strip_invisible(root)
    base = base_url(root, url)
    art = sd.article or {}
    conf: dict[str, float] = {}
    names, host = _site_names(sd, url)
    h1 = _pick_h1(root)
    region = _header_region(h1)

    # --- title
    title_el = root.find(".//title")
    page_title = clean_text(title_el.text_content()) if title_el is not None else ""
    h1_text = clean_text(h1.text_content()) if h1 is not None else ""
    title, conf["title"] = _title([
        (_ld_text(art.get("headline")), JSONLD, None),
        (sd.first("og:title"), META, "site"),
        (sd.first("twitter:title"), 0.85, "site"),
        (next(iter(_sel_texts(root, sel, "title")), None), SELECTOR, None),
        (h1_text, H1, None),
        (page_title, WEAK, "force"),
    ], names, host)
    if title and title.endswith(("…", "...")) and h1_text.startswith(title.rstrip("….").strip()):
        title = h1_text  # JSON-LD headlines are often cut at 110 characters
    if sd.article is None and title and _strip_site(title, names, host) != title:
        title = _strip_site(title, names, host)
    result["title"] = title or None

    # --- canonical URL
    canonical, conf["canonical_url"] = _first([
        (lambda: sd.canonical, JSONLD), (lambda: sd.first("og:url"), META),
        (lambda: _ld_url(art.get("url") or art.get("mainEntityOfPage")), 0.85),
        (lambda: url, 0.5),
    ])
    result["canonical_url"] = join_url(base, canonical) if canonical else None

    # --- metadata
    rtext = _RegionText(region)  # read by the author and the date heuristics
    result["authors"], result["byline_org"], conf["authors"] = _authors(root, sd, sel, region, rtext)
    if not result["authors"] and result["byline_org"] and ORG_AUTHORS_FALLBACK:
        result["authors"] = list(result["byline_org"])
    for key, (value, c) in _dates(root, sd, sel, region, timezone, fetched,
                                  dayfirst_for(locale), rtext, itemprops).items():
        result[key], conf[key] = value, c
    section, conf["section"] = _first([
        (lambda: _ld_text(art.get("articleSection")), JSONLD),
        (lambda: sd.first("article:section", "parsely-section", "section"), META),
        (lambda: next(iter(_sel_texts(root, sel, "section")), None), SELECTOR),
        (lambda: _generic_section(region, h1), 0.5),
    ])
    result["section"] = section
    result["tags"], conf["tags"] = _tags(root, sd, sel, h1)
    result["image_url"], conf["image_url"] = _image(root, sd, sel, region, base)
    containers = _body_containers(root, sel.get("body"))
    caption, credit, conf["image_caption"] = _caption(root, sd, sel, region, result["image_url"],
                                                      containers)
    result["image_caption"], result["image_credit"] = caption, credit
    summary, conf["summary"] = _first([
        (lambda: _ld_text(art.get("description")), JSONLD),
        (lambda: sd.first("og:description", "description", "twitter:description"), META),
    ])
    is_404 = any(_SOFT_404.search(t) for t in (page_title, h1_text, title or "") if t and len(t) < 150)
    hints = _listing_hints(sd, url, result["canonical_url"])
    cards = _count_cards(root) if not (is_404 or sd.article is not None) else 0

    structured_body = _structured_body(root, art, itemprops)
    # --- body (mutates the tree: everything above has been read already)
    drop = [caption, f"{caption} ({credit})" if caption and credit else None, credit, title]
    paragraphs: list[str] = []
    teasers = Teasers()  # measured by the DOM scorer when the generic body runs
    if containers:
        for c in containers:
            if c.tag in _BLOCK_CONTAINERS:
                strip_boilerplate(c, exclude=sel.get("body_exclude"))
            paragraphs.extend(paragraphs_of(c) if c.tag in _BLOCK_CONTAINERS or len(c) else
                              [clean_text(c.text_content())])
        paragraphs = filter_paragraphs(paragraphs, drop=drop)
        conf["body"] = SELECTOR
    if not paragraphs and not is_404:
        descriptions = [d for d in (_ld_text(art.get("description")), sd.first("og:description"),
                                    sd.first("description")) if d]
        paragraphs, conf["body"] = _generic_body(root, url, h1, h1_text, descriptions, drop, teasers,
                                                 sd.live_updates,
                                                 filter_paragraphs(structured_body, drop=drop))
    if not paragraphs and structured_body:
        paragraphs = filter_paragraphs(structured_body, drop=drop)
        conf["body"] = 0.5
    result["paragraphs"] = paragraphs
    result["body"] = "\n\n".join(paragraphs)
    if not summary and paragraphs:
        summary, conf["summary"] = paragraphs[0], 0.5
    result["summary"] = clean_text(summary) or None

    # --- language
    lang = detect_language(result["body"] or (title or ""))
    if lang:
        result["language"], conf["language"] = lang, 0.8
    elif sd.html_lang:
        result["language"], conf["language"] = sd.html_lang, 0.6

    # --- verdict
    words = word_count(result["body"])
    if is_404:
        result["reason"] = "soft_404"
    elif _is_listing(sd, hints, paragraphs, cards, bool(h1_text or sd.first("og:title")),
                     result["published"] is not None, teasers.are_page):
        result["reason"] = "listing"
    elif not result["title"]:
        result["reason"] = "no_title"
    elif words < MIN_BODY_WORDS:
        result["reason"] = "no_body"
    else:
        result["is_article"] = True
    result["confidence"] = {k: round(v, 2) for k, v in conf.items()
                            if v and result.get(k) not in (None, "", [])}
    return result
