"""Main text: paragraphs of a content element, boilerplate removed by structure, then by phrase."""

from __future__ import annotations

import functools
import html
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from .text import clean_text

__all__ = [
    "filter_paragraphs",
    "named_boilerplate",
    "paragraphs_of",
    "split_credit",
    "strip_boilerplate",
    "strip_invisible",
    "text_paragraphs",
    "trafilatura_paragraphs",
]

# Elements that never carry article text.
_DROP_TAGS = frozenset({
    "script", "style", "noscript", "template", "form", "button", "input", "select", "textarea",
    "label", "svg", "iframe", "object", "embed", "video", "audio", "canvas", "nav", "aside",
    "figure", "figcaption", "picture", "img", "dialog", "menu", "source", "map", "math",
})
# Blocks whose class or id names boilerplate (matched on -, _ or space separated words).
_BOILER_RE = re.compile(
    r"(?:^|[\s_\-])(?:newsletters?|subscribe|subscription|subscriptions|sign-?up|signup|"
    r"members?|membership|donate|donation|donations|donor|related|share|sharing|sharebar|"
    r"social|audio|promo|promotion|promoted|advert|adverts|advertisement|advertising|ads?|"
    r"adslot|adunit|dfp|gpt|banner|cta|recirc|recirculation|recommended|recommendations|"
    r"readmore|read-more|more-news|more-stories|outbrain|taboola|comments?|author-box|"
    r"author-bio|authorbox|authors?|autor|autore|auteur|about-author|ratings?|bio|byline|tags|tag-list|taglist|breadcrumbs?|toolbar|sponsor|"
    r"sponsored|skip-link|sr-only|screen-reader-text|visually-hidden|visuallyhidden|cookie|"
    r"cookies|consent|gdpr|modal|popup|paywall-cta|support-us|supporters?|"
    r"news-feed|newsfeed|pullquote|pull-quote|embed|caption|credit|inline-video|"
    r"most-read|mostread|trending|twitter-tweet|instagram-media|tiktok-embed|fb-post|"
    r"post-meta|article-meta|toc|table-of-contents)(?=$|[\s_\-])",
    re.IGNORECASE,
)
# camelCase class names ("InlineImage-imageEmbedCaption", "photoCredit"): the last word counts
_BOILER_CAMEL = re.compile(r"[a-z](?:Caption|Credit|Promo|Newsletter|Related|Author|Autor|AuthorBox)s?(?=$|[\s_\-])")
# Every element in the container with one of those attributes or tags, and its comments (the
# container itself too when it has such an attribute: ``strip_boilerplate`` skips it). Written as
# a union of attribute and tag steps because libxml2 evaluates a predicate such as
# ``descendant::*[@class or self::aside]`` for every element, slowly: over the 1,255 trees of
# the dev sets and the bench site (a throwaway script) the one-step form took 1.88 ms per page
# and this one 1.11, selecting the same nodes in the same order.
_CANDIDATES = etree.XPath(
    "descendant::comment() | .//@class/.. | .//@id/.. | .//@hidden/.. | .//@aria-hidden/.. | .//@style/.. | "
    + " | ".join(f"descendant::{t}" for t in sorted(_DROP_TAGS | {"footer"}))
)
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|"
    # visually hidden, read to screen readers only: clipped to nothing (", opens new tab")
    r"clip\s*:\s*rect\(\s*(?:0|1px)(?:px)?(?:[\s,]+(?:0|1px)(?:px)?){3}\s*\)|clip-path\s*:\s*inset\(\s*50%",
    re.IGNORECASE)
_BLOCK = frozenset({
    "p", "div", "section", "article", "main", "header", "footer", "h1", "h2", "h3", "h4", "h5",
    "h6", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "table", "tr", "td", "th",
    "address", "details", "summary", "hr", "center",
    # trafilatura's output vocabulary
    "head", "list", "item", "quote", "row", "cell",
})
_ELLIPSIS = ("…", "...")
#: trafilatura without its readability/jusText fallbacks: about 30% faster on the dev set,
#: F1 0.945 instead of 0.950 there.
TRAFILATURA_FAST = False


def _is_hidden(el: HtmlElement) -> bool:
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _remove(el: HtmlElement) -> None:
    """Remove ``el`` but keep its tail text in place."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _long_paragraphs(el: HtmlElement, limit: int = 4) -> int:
    n = 0
    for p in el.iter("p"):
        if len(p.text_content()) >= 150:
            n += 1
            if n >= limit:
                break
    return n


# The attribute tests as attribute steps (``//@hidden/..``), not as a predicate on every element
# (``//*[@hidden or ...]``), which libxml2 evaluates slowly. Timed alone over the 1,255 trees of
# the dev sets and the bench site (a throwaway script): 0.83 ms per page before, 0.48 after,
# the same nodes in the same order; bench/extraction_speed.py --against shows every output unchanged.
_INVISIBLE = etree.XPath(
    "//comment() | //script | //style | //noscript | //template | //@hidden/.. | "
    "//@aria-hidden[.='true']/.. | //@style[contains(., 'none') or contains(., 'hidden') or "
    "contains(., 'clip')]/.."
)


#: a <noscript> holding this share of the page's text is the page itself behind a broken tag
#: (unclosed, the parser put the rest of the page inside it)
_MOST_OF_PAGE = 0.5
#: a <noscript> holding this many long paragraphs is the text a reader without JavaScript gets
#: (a blog engine that renders its posts by script keeps them there): unwrapped, not removed
NOSCRIPT_PROSE = True
_NOSCRIPT_PARAGRAPHS = 2
#: a <footer> inside the article is furniture (the author's bio, tags, share buttons, an
#: "appeared in print" line) unless it holds a paragraph of prose (150 characters, a closing
#: note written into it) or most of the text (the article's own wrapper)
ARTICLE_FOOTER = True
#: dropped tags that can wrap a whole article (checked with ``_MOST_OF_PAGE`` before removal)
_WRAPPER_TAGS = frozenset({"form"})


def strip_invisible(root: HtmlElement) -> None:
    """Remove comments, scripts, styles and hidden elements from ``root`` in place; a noscript
    that holds most of the page's text is unwrapped instead (its content stays)."""
    total = None
    for el in _INVISIBLE(root):
        if (isinstance(el.tag, str) and el.tag not in ("script", "style", "noscript", "template")
                and (not _is_hidden(el) or el.tag in ("html", "body"))):
            continue  # matched on a style that does not actually hide it
        if el.tag == "noscript" and len(el):
            if total is None:
                total = len(root.text_content())
            if len(el.text_content()) >= _MOST_OF_PAGE * total or (
                    NOSCRIPT_PROSE and _long_paragraphs(el, _NOSCRIPT_PARAGRAPHS) >= _NOSCRIPT_PARAGRAPHS):
                el.drop_tag()
                continue
        _remove(el)


@functools.lru_cache(maxsize=4096)  # a page repeats a few dozen class names on many elements
def _boiler_names(names: str) -> bool:
    """Whether a "class id" string names boilerplate."""
    return bool(names.strip() and (_BOILER_RE.search(names) or _BOILER_CAMEL.search(names)))


def named_boilerplate(el: HtmlElement) -> bool:
    """Whether ``el``'s class or id names boilerplate (a caption, a promo, a byline box ...)."""
    return _boiler_names((el.get("class") or "") + " " + (el.get("id") or ""))


#: an inline element (a link, a span) named like boilerplate that sits inside a paragraph with
#: words of its own around it is part of that sentence (a glossary popup, a highlighted phrase),
#: not furniture: it is kept. Measured: readability set 0.9297 -> 0.9305 (clean-links 0.90 ->
#: 0.99, msn), dev and trafilatura set unchanged
INLINE_IN_SENTENCE = True
_INLINE = frozenset({"a", "span", "em", "strong", "i", "b", "u", "abbr", "cite", "q", "small",
                     "mark", "dfn", "sup", "sub", "time", "font"})
_TEXT_BLOCK = frozenset({"p", "li", "blockquote", "dd", "td"})
#: so is one that holds most of a heading's words: the heading's text (a "back to contents"
#: link around a subheading), however it is named. Measured: readability set 0.93100 -> 0.93114
#: (mercurial R 0.903 -> 0.927, wikipedia), dev and trafilatura set unchanged
HEADING_TEXT = True
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def _in_sentence(el: HtmlElement) -> bool:
    """Whether inline ``el`` sits in a text block (a paragraph, list item, quote) that holds
    three words or more outside it, or holds half of its heading's words or more."""
    if el.tag not in _INLINE:
        return False
    parent = el.getparent()
    while parent is not None and parent.tag in _INLINE:
        parent = parent.getparent()
    if parent is None:
        return False
    own = len(_SENTENCE_WORDS.findall(el.text_content()))
    if not own:
        return False
    words = len(_SENTENCE_WORDS.findall(parent.text_content()))
    if parent.tag in _HEADING_TAGS:
        return HEADING_TEXT and 2 * own >= words
    return parent.tag in _TEXT_BLOCK and words - own >= 3


_SENTENCE_WORDS = re.compile(r"\w+")


#: a block named a pull quote whose words the rest of the container does not repeat is no
#: pull quote (which repeats the text) but a paragraph the page set off: it is kept. Measured:
#: one page changes (readability set medium-2, R 0.963 -> 0.991; set 0.93114 -> 0.93127), dev
#: and trafilatura set unchanged
UNIQUE_PULLQUOTE = True
_PULLQUOTE = re.compile(r"(?:^|[\s_\-])pull-?quote(?=$|[\s_\-])", re.IGNORECASE)
_PULLQUOTE_MIN_WORDS = 8


def _unique_quote(el: HtmlElement, names: str, container: HtmlElement) -> bool:
    """Whether ``el`` is named (only) a pull quote and at most a third of its word 4-grams
    appear a second time in ``container`` (once more than in the quote itself)."""
    if not _PULLQUOTE.search(names) or _BOILER_RE.search(_PULLQUOTE.sub(" ", names)) \
            or _BOILER_CAMEL.search(names):
        return False
    words = _SENTENCE_WORDS.findall(el.text_content().casefold())
    if len(words) < _PULLQUOTE_MIN_WORDS:
        return False
    grams = {" ".join(words[i:i + 4]) for i in range(len(words) - 3)}
    # the container's text holds the quote once (its own); a repeat shows as a second count
    whole = " ".join(_SENTENCE_WORDS.findall(container.text_content().casefold()))
    return sum(1 for g in grams if whole.count(g) >= 2) <= len(grams) / 3


def strip_boilerplate(container: HtmlElement, *, exclude: str | None = None,
                      aggressive: bool = True) -> None:
    """Remove boilerplate inside ``container`` in place: by tag, class/id, hidden, teaser shape.

    ``exclude`` is a CSS selector list whose matches are removed too. A block named like
    boilerplate that holds four or more long paragraphs is kept (it is the article itself).
    """
    from .selectors import select_elements  # local: avoids an import cycle in type checkers

    doomed: list[HtmlElement] = []
    if exclude:
        doomed.extend(select_elements(container, exclude))
    total = len(container.text_content())

    def holds_most(el: HtmlElement) -> bool:
        return len(el.text_content()) >= _MOST_OF_PAGE * total

    for el in _CANDIDATES(container):
        if el is container:
            continue  # selected by its own class or id
        tag = el.tag
        if not isinstance(tag, str):
            doomed.append(el)
            continue
        if tag in ("article", "main", "body"):
            continue  # content containers, whatever their class soup says
        if ARTICLE_FOOTER and tag == "footer" and not _long_paragraphs(el, 1) and not holds_most(el):
            doomed.append(el)  # the article's footer: a bio, tags, a "printed on page" line
            continue
        if tag in _DROP_TAGS or _is_hidden(el):
            if tag in ("aside", "nav", "figure") and not aggressive:
                continue
            if tag in _WRAPPER_TAGS and len(el) and holds_most(el):
                continue  # the article's own wrapper (an ASP.NET <form>), never furniture
            doomed.append(el)
            continue
        names = (el.get("class") or "") + " " + (el.get("id") or "")
        if _boiler_names(names) and (
            tag not in ("p", "li") or len(el.text_content()) < 300
        ) and _long_paragraphs(el) < 4 and not (INLINE_IN_SENTENCE and _in_sentence(el)) \
                and not (UNIQUE_PULLQUOTE and _unique_quote(el, names, container)):
            doomed.append(el)
    for el in doomed:
        if el.getparent() is not None:
            _remove(el)
    _strip_teasers(container)
    _strip_card_grids(container)


_LINKED_HEADINGS = etree.XPath(
    "descendant::*[self::h2 or self::h3 or self::h4 or self::h5 or self::h6][descendant::a[@href]]"
    " | descendant::a[@href][descendant::*[self::h2 or self::h3 or self::h4 or self::h5 or self::h6]]")
#: a block of teaser cards: this many linked headings at least, each with this much text at most
_GRID_MIN_CARDS = 3
_GRID_MAX_CARD_CHARS = 400


def _strip_card_grids(container: HtmlElement) -> None:
    """Remove grids of story cards inside the article (a "more from" block at its end): an
    element with three or more linked headings, little text per card and no long paragraph.
    Articles use subheadings, but seldom link them all, and never keep so little under each."""
    if len(_LINKED_HEADINGS(container)) < _GRID_MIN_CARDS:
        return
    for el in list(container.iter("div", "section", "ul", "ol")):
        if el is container or not any(a is container for a in el.iterancestors()):
            continue  # the container itself, or inside a grid removed already
        cards = len(_LINKED_HEADINGS(el))
        if cards < _GRID_MIN_CARDS:
            continue
        if len(el.text_content().strip()) > cards * _GRID_MAX_CARD_CHARS:
            continue
        if any(len(p.text_content()) >= 300 for p in el.iter("p")):
            continue
        _remove(el)


_ELLIPSIS_TEXT = etree.XPath(
    "descendant::text()[contains(., '…') or contains(., '...')]"
)


def _strip_teasers(container: HtmlElement) -> None:
    """Remove related-story cards: a link-dense block whose text ends in an ellipsis."""
    for node in _ELLIPSIS_TEXT(container):
        if not str(node).rstrip().endswith(_ELLIPSIS):
            continue
        el = node.getparent()
        if el is None or el is container:
            continue
        # climb to the card: the highest ancestor below the container that is still small
        block = el
        while True:
            parent = block.getparent()
            if parent is None or parent is container or len(parent.text_content()) > 1200:
                break
            block = parent
        if block.getparent() is None:
            continue  # already removed with an earlier card
        text = block.text_content().strip()
        if not text.endswith(_ELLIPSIS) or len(text) > 1200:
            continue
        links = [a for a in block.iter("a") if a.get("href")]
        if not links and not any(a.tag == "a" for a in block.iterancestors()):
            continue
        link_len = sum(len(a.text_content()) for a in links)
        heading = any(True for _ in block.iter("h2", "h3", "h4"))
        if link_len / max(len(text), 1) > 0.5 or heading:
            _remove(block)


def paragraphs_of(el: etree._Element) -> list[str]:
    """Paragraph texts of ``el``: each block (p, li, blockquote, heading, ...) is one paragraph."""
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            text = clean_text("".join(buf))
            buf.clear()
            if text:
                out.append(text)

    def walk(node: etree._Element) -> None:
        tag = node.tag
        if not isinstance(tag, str) or tag in ("script", "style", "noscript", "template"):
            if node.tail:
                buf.append(node.tail)
            return
        if tag in ("br", "lb"):
            flush()
        else:
            block = tag in _BLOCK
            if block:
                flush()
            if node.text:
                buf.append(node.text)
            for child in node:
                walk(child)
            if block:
                flush()
            elif tag in ("td", "th", "cell"):
                buf.append(" ")
        if node.tail:
            buf.append(node.tail)

    if el.text:
        buf.append(el.text)
    for child in el:
        walk(child)
    flush()
    return out


#: an HTML tag: a declared text holding one is markup, not plain text
_MARKUP = re.compile(r"</?[a-zA-Z][\w-]*(?:\s[^<>]*)?/?>")


def text_paragraphs(value: str) -> list[str]:
    """Paragraphs of a text the page declares in its structured data (an ``articleBody``, a
    live-blog update): plain text splits at newlines; markup (some CMSs write the body's HTML
    there, even entity-escaped, ``&lt;p&gt;``) is read as HTML, one paragraph a block, so no
    tag or entity reaches the stored body and inline tags do not split a sentence."""
    if "&lt;" in value:
        unescaped = html.unescape(value)
        if _MARKUP.search(unescaped):
            value = unescaped
    if _MARKUP.search(value):
        try:
            return paragraphs_of(lxml.html.fragment_fromstring(value, create_parent="div"))
        except (etree.ParserError, ValueError):
            value = re.sub(r"<[^>]+>", "\n", value)
    return [p for p in (clean_text(x) for x in value.split("\n")) if p]


# ---------------------------------------------------------------- phrase rules (whole paragraphs)
# A paragraph that *is* one of these (short) is furniture.
_FULL = re.compile(
    r"^(?:(?:read|show|see|load|view|click for) more(?: news| stories| articles| posts)?|"
    r"more (?:news|stories|articles|from [\w .']{1,40})|(?:related|recommended|trending|popular)"
    r"(?: stories| articles| content| news| posts| reading)?|editors?'? picks?|most (?:read|popular|viewed)|"
    r"top stories|latest news|news feed|advertisement|advertising|sponsored(?: content)?|"
    r"story continues below(?: advertisement)?|continue reading(?: below)?|"
    r"skip to (?:main )?content|edit (?:post|this|article)|subscribe(?: now| today| here)?|"
    r"sign (?:up|in)(?: now| today| here)?|log ?in|register|\*?\s*indicates required(?: fields?)?|"
    r"share(?: this)?(?: article| story| post| page)?(?: on \w+| via \w+)?|"
    r"(?:tweet|e-?mail|print|copy(?: link)?|facebook|twitter|linkedin|whatsapp|telegram|reddit|"
    r"flipboard|pinterest|x|link copied!?)|\d+ min(?:ute)?s? read|"
    r"listen(?: to)?(?: this)?(?: article| story)?(?: \d+ min(?:ute)?s?)?|"
    r"\d{1,2}:\d{2}(?: ?[ap]m)?|close|menu|search|loading\W*|back to top|comments?(?: \(\d+\))?|"
    r"please,? enter (?:a |your )?(?:correct|valid) e-?mail(?: address)?|"
    r"thank you for (?:signing up|subscribing)\b.*|"
    r"(?:gift (?:a )?membership|become a member)(?: gift (?:a )?membership)?\W*|"
    r"updated|published|posted|image|photo|video|in this (?:article|story))\W*$",
    re.IGNORECASE,
)
# Furniture wherever it appears in a paragraph of at most 350 characters.
_CONTAINS = re.compile(
    r"created with (?:the )?(?:help of )?ai(?: assistance)?\b|this audio is (?:created|generated)|"
    r"(?:generated|narrated|voiced) (?:by|with) (?:an )?(?:ai|artificial intelligence)\b|"
    r"funded by (?:our )?readers|reader[- ]funded|support (?:our|independent|quality) journalism|"
    r"become a (?:member|subscriber|supporter|patron)(?: now| today| here|[.!])|"
    r"gift (?:a )?membership|donate (?:now|today)|make a (?:one[- ]time |monthly )?"
    r"(?:donation|contribution) (?:to|today|now)|indicates required|enter your e-?mail|"
    r"(?:sign up|subscribe) (?:for|to) (?:our|the|this) .{0,60}newsletter|"
    r"we use cookies|(?:this|our) (?:web)?site uses cookies|accept (?:all )?cookies|"
    r"cookie (?:policy|settings|preferences)|all rights reserved|click (?:here )?to share|"
    r"download (?:our|the) (?:free )?app|by entering your e-?mail|"
    r"you (?:are )?agree(?:ing)? to (?:our|the|[\w' ]{1,30}) terms of (?:use|service)|"
    r"for (?:free )?access to this (?:content|article)",
    re.IGNORECASE,
)
# Words each ``_CONTAINS`` alternative holds (one of them at least): a paragraph holding none of
# them cannot match, and is let through without the regex, which is slow on every paragraph
# (some twenty case-insensitive alternatives tried at each position; 1.5 s over the readability
# set's paragraphs). Kept beside the pattern: a new alternative needs its word here.
_CONTAINS_WORDS = (
    "created with", "this audio is", "generated", "narrated", "voiced", "funded", "journalism",
    "become a", "membership", "donate", "make a", "indicates required", "enter your",
    "newsletter", "cookie", "rights reserved", "to share", "download", "entering your",
    "terms of", "access to this",
)
# ``re.IGNORECASE`` lets these four match ASCII letters; folded alike before the word test
_FOLD_TO_ASCII = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def _may_contain(p: str, words: tuple[str, ...]) -> bool:
    low = p.translate(_FOLD_TO_ASCII).lower()
    return any(w in low for w in words)


# Membership / donation appeals: furniture in a paragraph of at most 600 characters.
_APPEAL = re.compile(
    r"help (?:us )?fund (?:our|the|this) (?:mission|journalism|reporting|work|newsroom)|"
    r"(?:gift|gifting) (?:a |the )?(?:membership|subscription)|"
    r"(?:readers|supporters|people) like you (?:make|keep|help)",
    re.IGNORECASE,
)
_APPEAL_WORDS = ("fund", "gift", "like you")  # as ``_CONTAINS_WORDS``, for ``_APPEAL``
# A credit line alone: "Jane Doe / Agency", "Photo: X | Y" (a few words, no sentence in it).
_CREDIT_LINE = re.compile(r"^(?:[\w.'’-]+ ){0,5}[\w.'’-]+ ?[|/] ?(?:[\w.'’-]+ ){0,5}[\w.'’-]+$")
#: a credit line's bare slash must sit between two capitalised words (``_names_both_sides``)
CREDIT_NAMES = True


def _names_both_sides(line: str) -> bool:
    """Whether a ``_CREDIT_LINE``'s separator parts two names: a slash set between two words
    ("Jane Doe/AFP") has a capital on both sides; "country/region", "and/or" are a sentence's."""
    i = max(line.find("/"), line.find("|"))
    if not CREDIT_NAMES or line[i] == "|" or line[i - 1] == " " or line[i + 1] == " ":
        return True
    return line[:i].split()[-1][:1].isupper() and line[i + 1:].split()[0][:1].isupper()


# Furniture when a paragraph of at most 200 characters starts with it.
_STARTS = re.compile(
    r"^(?:subscribe\b|sign up\b|share this\b|follow us\b|join us\b|join our\b|"
    r"(?:read|see) (?:also|more)\b\s*[:|\-–—]?|also read\b|related\s*[:|\-–—]|"
    r"listen to (?:this|the) (?:article|story)|advertisement\b|click here to\b|"
    r"copyright\b|©|\(c\) \d{4}|photo:|image:|credit:|photograph:)",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^[Bb][Yy]\s+[A-Z\u0400-\u04ff][\w.'’\-]+(?:\s+[A-Z\u0400-\u04ff][\w.'’\-]+){0,3}\b")
# A line that is only a date (and maybe a "label:" and a clock), in any language: the page's
# dateline or a "last updated" stamp, never prose. The month slot is any word of three letters
# or more (names in every language); the numbers must sit in a date's shape around it.
_DATE_ONLY = re.compile(
    r"^(?:[^\W\d_]+(?:\s+[^\W\d_]+)?\s?:\s*)?(?:[^\W\d_]{2,}\.?,\s+)?"
    r"(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}|"
    r"\d{1,2}\.?\s+(?:de\s+)?[^\W\d_]{3,}\.?,?\s+(?:de\s+)?\d{4}|[^\W\d_]{3,}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})"
    r"(?:,?\s*(?:[^\W\d_]{1,3}\s+)?\d{1,2}[:.h]\d{2}(?:\s*(?:[^\W\d_]{1,4}\.?){1,2})?)?\s*$"
)
_DATEISH = re.compile(r"\b\d{4}\b|\d{1,2}:\d{2}|min read", re.IGNORECASE)
_CREDIT_TAIL = re.compile(
    r"\s*\((?P<credit>(?:photo|image|credit|foto|фото)?:?\s*[^()]{1,120}?"
    r"(?:/|\b(?:courtesy|via|photo by|handout|pool)\b)[^()]{0,120})\)\s*$",
    re.IGNORECASE,
)
_CREDIT_LABEL = re.compile(
    r"\s*(?:\||—|–|-)?\s*\b(?:photo(?:graph)?|image|picture|credit|foto|фото)\s*(?:by|:)\s*"
    r"(?P<credit>[^.]{2,100})\.?\s*$",
    re.IGNORECASE,
)


# In a caption, a last parenthetical after the final sentence is the credit, e.g.
# "... in Kyiv. (State Emergency Service)", unless it reads like a caption note.
_CAPTION_PAREN = re.compile(r"(?<=[.!?\"”’)])\s*\((?P<credit>[^()]{2,100})\)\s*$")
_NOT_CREDIT = re.compile(
    r"^(?:illustrative|file|archive|archival|left|right|center|centre|top|bottom|pictured|"
    r"front|back|l|r|c|l-r|r-l|from left|from right|photo illustration|screenshot|video)\b",
    re.IGNORECASE,
)


def split_credit(caption: str | None) -> tuple[str | None, str | None]:
    """Split a trailing "(Photographer/Agency)" or "Photo: X" credit off a caption."""
    caption = clean_text(caption)
    if not caption:
        return None, None
    m = _CREDIT_TAIL.search(caption)
    if not m:
        m = _CAPTION_PAREN.search(caption)
        if m and (_NOT_CREDIT.match(m.group("credit")) or m.group("credit")[0].islower()):
            m = None
    if not m:
        m = _CREDIT_LABEL.search(caption)
    if not m:
        return caption, None
    credit = clean_text(m.group("credit"))
    credit = re.sub(r"^(?:photo|image|credit|foto|фото)\s*(?:by|:)\s*", "", credit, flags=re.IGNORECASE)
    rest = caption[: m.start()].strip() or None
    return rest, credit or None


@functools.lru_cache(maxsize=4096)  # a pure test; the DOM and trafilatura bodies share paragraphs
def _is_furniture(p: str) -> bool:
    n = len(p)
    if not any(ch.isalnum() for ch in p):
        return True
    if n <= 120 and _FULL.match(p):
        return True
    if n <= 60 and _DATE_ONLY.match(p):
        return True
    if n <= 350 and _may_contain(p, _CONTAINS_WORDS) and _CONTAINS.search(p):
        return True
    if n <= 600 and _may_contain(p, _APPEAL_WORDS) and _APPEAL.search(p):
        return True
    if n <= 200 and _STARTS.match(p):
        return True
    if n <= 80 and _CREDIT_LINE.match(p) and _names_both_sides(p):
        return True
    if _BYLINE.match(p) and (n <= 60 or (n <= 160 and _DATEISH.search(p))):
        return True
    # a photo caption with its "(Name/Agency)" credit
    return n <= 300 and "/" in p[-120:] and bool(_CREDIT_TAIL.search(p))  # the cheap test first


_SHORT_REPEAT = 40
_LONG_REPEAT = 250


def _headline_like(p: str) -> bool:
    return len(p) <= 160 and not p.endswith((".", "!", "?", ":", "…", '"', "”"))


def filter_paragraphs(paragraphs: Iterable[str], *, drop: Sequence[str | None] = (),
                      repeated: Mapping[str, int] | None = None) -> list[str]:
    """Drop furniture paragraphs, related-story teasers, ``drop`` texts and repeats; a text that
    ``repeated`` (casefolded text -> times, ``mainbody.repeated_in_flow``) says the page writes
    several times in the flow of its text is kept up to that many times."""
    drop_set = {clean_text(d).casefold() for d in drop if d}
    kept: list[str] = []
    seen: set[str] = set()
    allowed = Counter(repeated or {})
    for p in paragraphs:
        key = p.casefold()
        if allowed[key] > 0:
            allowed[key] -= 1
            if key in seen:
                kept.append(p)
                continue
        # short repeats are legitimate in lists (a nominee under two categories); a repeated
        # sentence or two is furniture (a teaser, a pull quote), unless the page writes it
        # twice among its paragraphs; a repeated paragraph of several sentences is the text
        # as the page has it
        if (key in seen and _SHORT_REPEAT < len(p) <= _LONG_REPEAT) or key in drop_set \
                or _is_furniture(p):
            continue
        if (kept and _headline_like(kept[-1]) and len(p) <= 600
                and (p.endswith("…") or (p.endswith("...") and not p.endswith(" ...")))):
            # a related-story teaser: a headline line, then truncated text
            seen.add(kept.pop().casefold())
            continue
        seen.add(key)
        kept.append(p)
    return kept


def trafilatura_paragraphs(root: HtmlElement, url: str | None = None, *,
                           recall: bool = False) -> list[str]:
    """Paragraphs found by trafilatura's main-content heuristics (it works on its own copy);
    ``recall`` runs it with ``favor_recall``."""
    import trafilatura  # imported lazily: only the generic path needs it

    try:
        # output_format "xml": trafilatura then keeps its body tree without also writing it
        # out as text (the "python" format's ``text``, which is not read here)
        doc = trafilatura.bare_extraction(
            root, url=url, output_format="xml", with_metadata=False, include_comments=False,
            include_images=False,
            include_tables=True, include_formatting=False, include_links=False, fast=TRAFILATURA_FAST,
            favor_recall=recall,
        )
    except (ValueError, TypeError, AttributeError, etree.LxmlError):
        return []
    if doc is None or getattr(doc, "body", None) is None:
        return []
    return paragraphs_of(doc.body)
