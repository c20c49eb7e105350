"""Structured data of a page: JSON-LD article objects, OpenGraph / ``article:*`` and other meta."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

from .body import text_paragraphs
from .text import clean_text

__all__ = ["ARTICLE_TYPES", "LISTING_TYPES", "StructuredData", "read_structured"]

ARTICLE_TYPES = frozenset({
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "asknewsarticle",
    "askpublicnewsarticle", "blogposting", "liveblogposting", "report", "satiricalarticle",
    "techarticle", "socialmediaposting",
})
LISTING_TYPES = frozenset({"collectionpage", "itemlist", "profilepage", "searchresultspage"})
_LD_XPATH = '//script[@type="application/ld+json" or @type="application/json+ld"]'


@dataclass
class StructuredData:
    """What JSON-LD and meta tags say about the page (raw strings; cleaned by the caller)."""

    article: dict[str, Any] | None = None  # the JSON-LD article object, references resolved
    page_types: set[str] = field(default_factory=set)  # every JSON-LD @type seen, lowercased
    meta: dict[str, list[str]] = field(default_factory=dict)  # name/property -> contents
    canonical: str | None = None
    html_lang: str | None = None
    #: texts (headlines and paragraphs) of a LiveBlogPosting's ``liveBlogUpdate`` entries
    live_updates: list[str] = field(default_factory=list)

    def first(self, *keys: str) -> str | None:
        """The first non-empty meta content among ``keys``."""
        for key in keys:
            for value in self.meta.get(key, ()):
                if value and value.strip():
                    return value.strip()
        return None

    def all(self, key: str) -> list[str]:
        """All contents of meta ``key``."""
        return [v.strip() for v in self.meta.get(key, ()) if v and v.strip()]


def _types(obj: dict[str, Any]) -> set[str]:
    t = obj.get("@type")
    if isinstance(t, str):
        return {t.rsplit("/", 1)[-1].lower()}
    if isinstance(t, list):
        return {x.rsplit("/", 1)[-1].lower() for x in t if isinstance(x, str)}
    return set()


def _walk(obj: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(obj, list):
        for x in obj:
            yield from _walk(x, depth + 1)
    elif isinstance(obj, dict):
        yield obj
        if "@graph" in obj:
            yield from _walk(obj["@graph"], depth + 1)
        main = obj.get("mainEntity")
        if isinstance(main, (dict, list)):
            yield from _walk(main, depth + 1)


def _load_json(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    text = re.sub(r"^\s*(?://\s*)?<!\[CDATA\[|(?://\s*)?\]\]>\s*$", "", text)
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    try:  # trailing commas, a stray semicolon: common hand-written mistakes
        return json.loads(re.sub(r",\s*([}\]])", r"\1", text.rstrip("; \n")), strict=False)
    except ValueError:
        return None


def _resolve(value: Any, index: dict[str, dict[str, Any]], depth: int = 0) -> Any:
    if depth > 3:
        return value
    if isinstance(value, dict):
        ref = value.get("@id")
        if ref and len(value) == 1 and ref in index:
            return _resolve(index[ref], index, depth + 1)
        return value
    if isinstance(value, list):
        return [_resolve(v, index, depth + 1) for v in value]
    return value


def _update_texts(updates: Any) -> Iterator[str]:
    """Headline and paragraphs of each live-blog update (``articleBody`` may hold HTML)."""
    for u in updates if isinstance(updates, list) else [updates]:
        if not isinstance(u, dict):
            continue
        for key in ("headline", "articleBody", "text"):
            value = u.get(key)
            if isinstance(value, str) and value.strip():
                yield from text_paragraphs(value)


def read_structured(root: HtmlElement) -> StructuredData:
    """Collect JSON-LD, meta tags, the canonical link and the html lang from ``root``."""
    data = StructuredData()
    candidates: list[dict[str, Any]] = []
    index: dict[str, dict[str, Any]] = {}
    for script in root.xpath(_LD_XPATH):
        loaded = _load_json(script.text or "")
        for obj in _walk(loaded):
            types = _types(obj)
            data.page_types |= types
            if isinstance(obj.get("@id"), str) and len(obj) > 1:
                index.setdefault(obj["@id"], obj)
            if types & ARTICLE_TYPES:
                candidates.append(obj)
            if "liveblogposting" in types:
                data.live_updates.extend(_update_texts(obj.get("liveBlogUpdate")))
    if candidates:
        # prefer the object with a headline, then the most specific (news) type
        def score(o: dict[str, Any]) -> tuple[int, int, int]:
            t = _types(o)
            return (bool(o.get("headline") or o.get("name")), bool(t - {"article"}),
                    bool(o.get("datePublished")))
        best = max(candidates, key=score)
        data.article = {k: _resolve(v, index) for k, v in best.items()}
    meta = data.meta
    for el in root.iter("meta"):
        key = el.get("property") or el.get("name") or el.get("itemprop")
        content = el.get("content")
        if key and content is not None:
            meta.setdefault(key.strip().lower(), []).append(content)
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            data.canonical = link.get("href", "").strip()
            break
    lang = root.get("lang") or root.get("xml:lang") or data.first("og:locale", "language",
                                                                  "content-language")
    if lang:
        data.html_lang = clean_text(lang).replace("_", "-").split("-")[0].lower() or None
    return data
