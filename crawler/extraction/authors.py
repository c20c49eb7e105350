"""Turn raw byline strings into person names, and desk/staff/agency bylines apart."""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml.html import HtmlElement

from .dates import BYLINE_DATE_RE
from .text import clean_text

__all__ = ["clean_authors", "drop_wrapped", "given_first", "is_organization", "marked_bylines", "split_byline"]

_PREFIX = re.compile(
    r"^\s*(?:(?:written|reported|reporting|words|story|text|photos?|compiled|edited|posted)\s+)?"
    r"by\s*[:\-]?\s+|^\s*(?:author|authors|autor|auteur|autore|byline|interview|text)\s*:\s*"
    # "by" in the languages of the sets: lowercase always ("von gizzmo"), capitalised only before
    # two words or more ("Von Miller" is a name), after a participle ("Erstellt von", "publié par")
    r"|^\s*(?:(?i:erstellt|eingestellt|geschrieben|verfasst|gepostet|publié|publicado|escrito|"
    r"scritto)\s+)?(?-i:por|par|von|door|przez|av|af|від)\s+"
    r"|^\s*(?-i:Por|Par|Von|Door|Przez|Av|Af|Від|Автор:?)\s+(?=\S+\s+\S)",
    re.IGNORECASE,
)
_SPLIT_AND = re.compile(r"\s+(?:and|&|with|und|mit|et|avec|y|con|e|i|і|и|та|з|с)\s+|\s*;\s*|"
                        r"\s*\|\s*|\s+/\s+", re.IGNORECASE)
_ROLE_WORDS = re.compile(
    r"\b(?:reporter|editor|correspondent|writer|journalist|contributor|columnist|producer|"
    r"analyst|photographer|photojournalist|intern|staff|chief|senior|deputy|managing|bureau|"
    r"director|host|anchor|fellow|freelance|freelancer|author|researcher|commentator|"
    r"contributing|associate|assistant|head of|news desk|desk|special to)\b",
    re.IGNORECASE,
)
_FOR_SUFFIX = re.compile(r"\s+(?:for|from|at|in|of)\s+(?:the\s+)?[A-Z][\w.\- ]+$")
_ORG_WORDS = re.compile(
    r"\b(?:news|staff|desk|team|agency|agencies|press|associated|"
    r"times|post|independent|media|newsroom|editorial|editors|board|wire|service|online|"
    r"magazine|journal|herald|tribune|gazette|daily|tv|radio|network|group|inc|ltd|llc|"
    r"foundation|institute|contributors|developers)\b",
    re.IGNORECASE,
)
_HONORIFIC = re.compile(r"^(?:dr|mr|mrs|ms|mx|prof|sir|dame)\.?\s+", re.IGNORECASE)
#: account and timestamp furniture that a byline-like block can hold instead of a name
_NOT_NAME = re.compile(r"\b(?:updated|published|posted on|posts|subscribe|sign (?:in|up|out)|log ?in|"
                       r"menu|publiziert|veröffentlicht|about|über)\b",
                       re.IGNORECASE)
_DATEISH = re.compile(r"\d{4}|\d{1,2}:\d{2}|\bmin read\b", re.IGNORECASE)


def is_organization(name: str) -> bool:
    """True when ``name`` reads like a newsroom or agency rather than a person: newsroom words,
    a short all-caps name (AFP, TASS), or one capitalised word alone (a person's byline names
    two or more: "Reuters", "Interfax", "Ukrinform" are agencies)."""
    return (bool(_ORG_WORDS.search(name)) or (name.isupper() and len(name) <= 6)
            or (" " not in name.strip() and "-" not in name and name[:1].isupper()))


def _is_role(part: str) -> bool:
    return bool(_ROLE_WORDS.search(part))


def _tidy(name: str) -> str:
    name = clean_text(name).strip(" ,;:-–—|·•\"'")
    name = _PREFIX.sub("", name).strip(" ,;:-–—|·•")
    if name.casefold() in ("by", "and", "with", "from", "author", "authors", "written by"):
        return ""
    if name.isupper() and len(name) > 6:
        name = name.title()
    return name


_WITH_PAREN = re.compile(r"\(\s*(?:with|avec|con|mit|and|et|y)\s+([^()]+)\)", re.IGNORECASE)
_URL_PAREN = re.compile(r"\s*\((?:https?://|www\.)[^()]*\)")


def _split(raw: str) -> list[str]:
    raw = _PREFIX.sub("", clean_text(raw))
    raw = _URL_PAREN.sub("", _WITH_PAREN.sub(r" and \1", raw))  # "A (avec B et C)": three names
    names: list[str] = []
    for chunk in _SPLIT_AND.split(raw):
        parts = [p.strip() for p in chunk.split(",") if p.strip()]
        if not parts:
            continue
        for i, part in enumerate(parts):
            if i > 0 and _is_role(part):
                continue  # "Jane Doe, Senior Reporter"
            if (_is_role(part) and not is_organization(part) and len(part.split()) <= 3
                    and not re.search(r"[A-Z][a-z]+\s+[A-Z][a-z]+", part)):
                continue  # a role alone ("Staff Writer") is no name; "Staff" orgs are kept
            names.append(part)
    return names


def split_byline(raw: Iterable[str], *, organizations: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """(person names, organisation bylines) from raw byline strings: no "By", no role suffix,
    "A and B" split, deduplicated. ``organizations`` are names known to be one (JSON-LD
    ``Organization``); others are told by their words ("news desk", "Staff", "Reuters")."""
    people: list[str] = []
    orgs: list[str] = []
    seen: set[str] = set()
    organizations = list(organizations)
    org_set = {clean_text(o).casefold() for o in organizations}
    for item in raw:
        if not item or item.lstrip().lower().startswith(("http://", "https://", "/")):
            continue
        for part in _split(item):
            name = _tidy(part)
            stripped = _FOR_SUFFIX.sub("", name)
            if stripped and stripped != name and not is_organization(stripped):
                name = stripped
            if not name or len(name) > 80 or _DATEISH.search(name) or _NOT_NAME.search(name):
                continue
            if not any(ch.isalpha() for ch in name):
                continue
            handle = " " not in name and name.islower()
            if handle and "." not in name:
                continue  # a one-word lowercase handle ("mcupdate", "admin") names no one;
                # a domain ("stol.it") is the publisher: an organisation
            key = _HONORIFIC.sub("", name).casefold()
            if key in seen:
                continue
            seen.add(key)
            if key in org_set or is_organization(name) or len(name.split()) > 5 or handle:
                orgs.append(name)
            else:
                people.append(name)
    for org in organizations:
        name = _tidy(org)
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            orgs.append(name)
    return drop_wrapped(people), orgs


#: "Family, Given": one family word after lowercase particles ("van der Berg, Jan")
_FAMILY_GIVEN = re.compile(r"^\s*((?:[a-z]+\s+)*[^\s,;]+),\s*([^,;]+?)\s*$")


def given_first(raw: str) -> str:
    """"Jong, Michiel de" as "Michiel de Jong": the "Family, Given" order of Dublin Core and
    citation metadata ("Doe, Jane; Roe, John" too), for a one-word family name and a given part
    of at most three words that is no role ("Doe, Senior Reporter" stays)."""
    def flip(part: str) -> str:
        m = _FAMILY_GIVEN.match(part)
        if not m or _is_role(m.group(2)) or len(m.group(2).split()) > 3:
            return part
        return f"{m.group(2)} {m.group(1)}"
    return "; ".join(flip(p) for p in (raw or "").split(";"))


def clean_authors(raw: Iterable[str], *, organizations: Iterable[str] = ()) -> list[str]:
    """Person names only from raw byline strings (see ``split_byline``)."""
    return split_byline(raw, organizations=organizations)[0]


# ------------------------------------------------------------------- marked-up bylines
#: class/id words that mark a byline block anywhere on the page ("author-name", "FeatureByline")
_MARK = re.compile(r"author(?!i[sz]|ity)|byline|\bfn\b", re.IGNORECASE)  # not "authorization"
#: blocks about the author rather than naming them, and reader comments (their authors are not
#: the article's)
_NOT_BYLINE = re.compile(r"bio|about|avatar|image|img|photo|desc|comment|reply|follow|social|share",
                         re.IGNORECASE)
#: declared first (schema.org Person, rel=author), then blocks told by their class or id
_MARKED_XPATHS = (('.//*[@itemprop="author"]|.//a[contains(concat(" ", normalize-space(@rel), " "),'
                  ' " author ")]'), ".//*[@class or @id]")
_SEP = re.compile(r"\s*[•|·]\s*|\n")
_WEEKDAY = re.compile(r"[,\s]+(?:mon|tues|wednes|thurs|fri|satur|sun)day\W*$", re.IGNORECASE)


def _marked(el: HtmlElement) -> bool:
    if el.get("itemprop") == "author" or "author" in (el.get("rel") or "").split():
        return True
    marks = f"{el.get('class') or ''} {el.get('id') or ''}"
    return bool(_MARK.search(marks)) and not _NOT_BYLINE.search(marks)


def _outside_article(el: HtmlElement) -> bool:
    """Inside a footer, nav or comment thread: a name there is not the article's author."""
    return any(a.tag in ("footer", "nav")
               or "comment" in f"{a.get('class') or ''} {a.get('id') or ''}".lower()
               for a in el.iterancestors())


def _people_of(el: HtmlElement) -> list[str]:
    """The person names one marked block holds (none for a bio or a whole block)."""
    inner = el.xpath('.//*[@itemprop="name"]')
    texts = [_before_date(e) for e in inner] or [_before_date(el)]
    if sum(len(t.split()) for t in texts) > 12:
        return []  # a bio or a whole block, not a byline
    people = [p for p in split_byline(texts)[0] if _name_shaped(p)]
    if not people:
        people = [p for p in split_byline(_before_date(c) for c in el
                                          if isinstance(c.tag, str))[0] if _name_shaped(p)]
    return people


#: a byline block holding several declared authors is at most this many levels above one of them
#: and this short ("By <span itemprop=author>A</span> and <span itemprop=author>B</span>")
_BYLINE_LEVELS, _BYLINE_CHARS = 3, 400


def _byline_block(el: HtmlElement) -> HtmlElement:
    block = el
    for _ in range(_BYLINE_LEVELS):
        parent = block.getparent()
        if parent is None or len(clean_text(parent.text_content())) > _BYLINE_CHARS:
            break
        block = parent
    return block


def marked_bylines(root: HtmlElement) -> list[str]:
    """Person names from the first byline the markup declares anywhere on the page:
    ``itemprop=author`` (its ``itemprop=name`` inside), ``rel=author`` links, and short blocks
    whose class or id says author/byline. Why page-wide: templates put the byline in an aside or
    above the headline's block, where the headline region does not reach. A block whose whole
    text is no name ("By Jane Doe March 25, 2015") is read child by child. Every declared author
    of that byline's block counts ("A and B" as two ``itemprop=author`` elements), none beyond it
    (the author cards of related articles)."""
    for k, xpath in enumerate(_MARKED_XPATHS):
        for el in root.xpath(xpath):
            if not isinstance(el.tag, str) or not _marked(el) or _outside_article(el):
                continue
            people = _people_of(el)
            if not people:
                continue
            if k == 0:  # declared authors: the others in the same byline block
                block = _byline_block(el)
                for other in block.xpath(xpath):
                    if other is not el and _marked(other):
                        people.extend(_people_of(other))
            return drop_wrapped(people)
    return []


def drop_wrapped(names: list[str]) -> list[str]:
    """``names`` without repeats and without those that wrap another one ("More Jane Doe.",
    "Jane Doe Senior Reporter" beside "Jane Doe"): link texts around the byline, not people."""
    keys = [_HONORIFIC.sub("", n).casefold() for n in names]
    out: list[str] = []
    for i, (name, key) in enumerate(zip(names, keys, strict=True)):
        if key in keys[:i]:
            continue
        if any(other != key and re.search(rf"(?<!\w){re.escape(other)}(?!\w)", key)
               for other in keys):
            continue
        out.append(name)
    return out


_PARTICLES = frozenset({"von", "van", "der", "den", "de", "da", "di", "del", "della", "du", "la", "le",
                        "bin", "al", "ibn", "ben", "y", "e"})


def _name_shaped(name: str) -> bool:
    """Two to five words, capitalised or particles inside ("Hagen von Eitzen"), no digits: the
    markup alone is weak evidence, so a class="author" block holding a bio line, a handle or
    "Posted on" is no byline."""
    words = name.split()
    if any(ch.isdigit() for ch in name):
        return False
    if name.lower() == name.upper():  # a script without case (中文, 日本語): no spaces needed
        return len(name) <= 12
    return (2 <= len(words) <= 5 and words[0][:1].isupper() and words[-1][:1].isupper()
            and all(w[:1].isupper() or w in _PARTICLES for w in words))


def _before_date(el: HtmlElement) -> str:
    """The element's text up to its first separator or printed date ("Jane Doe • 8h",
    "By Jane Doe March 25, 2015", "Jane Doe Monday, February 29, 2016")."""
    text = _SEP.split(clean_text(el.text_content()).strip(" •|·"))[0]
    m = BYLINE_DATE_RE.search(text)
    return _WEEKDAY.sub("", text[:m.start()] if m else text).strip(" ,")
