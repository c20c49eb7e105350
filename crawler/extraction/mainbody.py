"""Generic main-content extraction by DOM scoring, for pages without a profile body selector.

The article is where the *running text* is: paragraphs of some length with few links. Each such
paragraph adds its length to all its ancestors; the article container is the deepest element
holding most (``SHARE``) of that text. Inside it, blocks are kept unless they are link lists,
boilerplate-named subtrees (``strip_boilerplate``) or furniture phrases (``filter_paragraphs``),
so short paragraphs, quotes, lists and subheadings of the article survive. One pass over the
tree, no second parse: this is several times faster than trafilatura, which remains the
fallback when the page has too little running text for the scorer to be sure.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement

from .body import named_boilerplate
from .cards import CARDS_ARE_PAGE, Teasers, card_counts, in_teaser_card
from .text import clean_text

__all__ = [
    "CARDS_ARE_PAGE",
    "MIN_RUNNING_CHARS",
    "SHARE",
    "Block",
    "blocks_of",
    "confirms_deck",
    "drop_orphan_headings",
    "drop_trailing_labels",
    "find_container",
    "find_standfirst",
    "iter_after",
    "prose_siblings",
    "repeated_in_flow",
    "text_key",
    "update_stream",
]

#: the article container holds at least this share of the page's running text
SHARE = 0.72
#: below this much running text the scorer abstains (the caller falls back)
MIN_RUNNING_CHARS = 400
_PARA_MIN = 70  # characters: a paragraph shorter than this is not evidence of running text
_LINK_DENSITY_MAX = 0.3

# Subtrees whose running text is somebody else's (comments, teasers, sidebars): not evidence.
_FOREIGN_TAGS = frozenset({"nav", "aside", "footer", "form", "header", "menu", "dialog"})
_FOREIGN_NAME = re.compile(
    r"(?:^|[\s_\-])(?:comments?|comment-list|disqus|related|recommended|recirc|newsletter|"
    r"sidebar|footer|promo|outbrain|taboola|most-read|mostread|trending|teasers?|"
    r"more-stories|read-next|up-next|cookie|consent)(?=$|[\s_\-])",
    re.IGNORECASE,
)
_EVIDENCE = etree.XPath("//p | //pre | //div[text()[normalize-space()]] | //td[text()[normalize-space()]]")
_BLOCK = frozenset({
    "p", "div", "section", "article", "main", "header", "footer", "h1", "h2", "h3", "h4", "h5",
    "h6", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "table", "tr", "td", "th",
    "address", "details", "summary", "hr", "center", "figure", "figcaption", "aside", "nav",
})
_SKIP = frozenset({"script", "style", "noscript", "template"})


@dataclass(frozen=True)
class Block:
    """One paragraph-level text block: its cleaned text, link characters and tag."""

    text: str
    link_chars: int
    tag: str

    @property
    def link_density(self) -> float:
        """Share of the block's characters inside links."""
        return self.link_chars / max(len(self.text), 1)


def _own_text(el: HtmlElement) -> str:
    """Text directly in ``el`` (not in child elements): how div-and-<br> layouts hold paragraphs."""
    parts = [el.text or ""]
    parts.extend(child.tail or "" for child in el)
    return "".join(parts)


def _link_chars(el: HtmlElement) -> int:
    return sum(len(a.text_content().strip()) for a in el.iter("a"))


_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _weight(text: str) -> int:
    """Characters of running text, a CJK character counting as three (it is about a word: a
    Chinese or Japanese paragraph is a third of the length of the same text in English)."""
    n = len(text)
    if n and max(text) >= "\u3040":
        n += 2 * len(_CJK.findall(text))
    return n


#: a <form> holding this share of the page's text is the page's wrapper (ASP.NET puts every
#: page in one), not furniture; an <aside> or <header> that large is still a sidebar
_WRAPPER_SHARE = 0.5
_FORMS = etree.XPath("//body//form")


def _wrappers(root: HtmlElement, body: HtmlElement) -> frozenset[HtmlElement]:
    found = _FORMS(root)
    if not found:
        return frozenset()
    need = _WRAPPER_SHARE * len(body.text_content())
    return frozenset(el for el in found if len(el.text_content()) >= need)


def _foreign(el: HtmlElement, body: HtmlElement,
             wrappers: frozenset[HtmlElement] = frozenset()) -> bool:
    for anc in el.iterancestors():
        if anc is body:
            return False
        if anc in wrappers:
            continue
        if anc.tag in _FOREIGN_TAGS:
            return True
        if anc.tag in ("article", "main"):
            continue  # containers named after their own furniture ("article has-comments")
        names = anc.get("class")
        if names and _FOREIGN_NAME.search(names):
            return True
        ident = anc.get("id")
        if ident and _FOREIGN_NAME.search(ident):
            return True
    return False


_KEY_WORDS = re.compile(r"\w+")


def drop_trailing_labels(paragraphs: list[str]) -> list[str]:
    """``paragraphs`` less the label they end with: a line of a few words and no sentence end
    ("Weitere Informationen", "Contact:", "More on this topic") left last after a paragraph of
    prose is the title of a block whose content was removed or never was the article's (what
    ``drop_orphan_headings`` does for headings, for any line, whichever candidate the body came
    from). A run of short lines (verse, a list, table rows) is the text itself and is kept."""
    if len(paragraphs) >= 2 and _is_label(paragraphs[-1]) and _is_prose(paragraphs[-2]):
        return paragraphs[:-1]
    return paragraphs


def _is_prose(text: str) -> bool:
    return len(_WORDS.findall(text)) > _LABEL_WORDS and bool(_PROSE_END.search(text))


def _is_label(text: str) -> bool:
    # a label fits on a line: a last paragraph of one enormous word is text, not a title
    return (len(text) <= _LABEL_CHARS and len(_WORDS.findall(text)) <= _LABEL_WORDS
            and not _PROSE_END.search(text))


def text_key(text: str) -> str:
    """A paragraph's identity for matching DOM text against structured data: its first words."""
    return " ".join(_KEY_WORDS.findall(text.casefold())[:12])


def find_container(root: HtmlElement, skip: frozenset[str] = frozenset(),
                   min_chars: int = MIN_RUNNING_CHARS,
                   teasers: Teasers | None = None) -> tuple[HtmlElement | None, int]:
    """The deepest element holding ``SHARE`` of the page's running text, and that text's size.

    Paragraphs whose ``text_key`` is in ``skip`` (e.g. live-blog updates) are not evidence, nor
    are paragraphs of teaser cards (``cards.in_teaser_card``) unless they hold ``CARDS_ARE_PAGE`` of
    the running text; ``teasers``, when given, gets the cards' share of the running text and the
    ``text_key`` of those left out.
    Returns ``(None, chars)`` when the page has less than ``min_chars`` of it.
    """
    body = root.find("body")
    if body is None:
        return None, 0
    weight: dict[HtmlElement, int] = {}
    total = 0
    wrappers = _wrappers(root, body)
    cards = card_counts(root)
    card_sizes: dict[HtmlElement, int] = {}
    evidence: list[tuple[HtmlElement, int]] = []
    in_cards: list[tuple[HtmlElement, int]] = []
    for el in _EVIDENCE(root):
        if el.tag in ("div", "td"):
            n = _weight(clean_text(_own_text(el)))
            links = 0
        else:
            text = el.text_content()
            n = _weight(text.strip())
            links = _link_chars(el) if n >= _PARA_MIN else 0
        if n < _PARA_MIN or links > _LINK_DENSITY_MAX * n or _foreign(el, body, wrappers):
            continue
        if skip and text_key(_own_text(el) if el.tag in ("div", "td") else el.text_content()) in skip:
            continue
        (in_cards if cards and in_teaser_card(el, body, cards, card_sizes) else evidence).append((el, n))
    card_chars = sum(n for _, n in in_cards)
    running_chars = card_chars + sum(n for _, n in evidence)
    if teasers is not None and running_chars:
        teasers.share = card_chars / running_chars
    if card_chars < CARDS_ARE_PAGE * running_chars:
        # teaser cards beside an article's running text: furniture (a stream of stories)
        if teasers is not None:
            teasers.keys.update(text_key(el.text_content()) for el, _ in in_cards)
    else:  # the cards are the page (a forum thread, a gallery of captioned slides)
        evidence.extend(in_cards)
    for el, n in evidence:
        total += n
        node = el if el.tag in ("div", "td") else el.getparent()
        while node is not None:
            weight[node] = weight.get(node, 0) + n
            if node is body:
                break
            node = node.getparent()
    if total < max(min_chars, 1):
        return None, total
    need = SHARE * total
    best = body
    # the deepest qualifying element: walk down from <body> while a child still qualifies
    while True:
        child = next((c for c in best if weight.get(c, 0) >= need), None)
        if child is None:
            return best, total
        best = child


#: a sibling paragraph this long (characters) that ends like a sentence and has few links is
#: the article's too, though too short to count as running text (readability's sibling rule)
_SIBLING_MIN = 40
#: the run of prose siblings climbs to the parent when every sibling joined it
CLIMB = True
_HEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_SENTENCE = re.compile(r"[.!?…:][\"”’')\]]*$")


def _prose(el: HtmlElement) -> bool:
    """True when ``el`` holds running text the scorer would count, or is itself a prose <p>."""
    if not isinstance(el.tag, str) or el.tag in _SKIP or el.tag in _FOREIGN_TAGS:
        return False
    names = (el.get("class") or "") + " " + (el.get("id") or "")
    if names.strip() and _FOREIGN_NAME.search(names):
        return False
    candidates = [el] if el.tag in ("p", "pre") else [e for e in el.iter("p", "pre")]
    for p in candidates:
        text = p.text_content().strip()
        n = _weight(text)
        if n < _SIBLING_MIN or (p is not el and n < _PARA_MIN):
            continue
        if _link_chars(p) <= _LINK_DENSITY_MAX * n and (n >= _PARA_MIN or _SENTENCE.search(text)) \
                and (p is el or not _foreign(p, el)):
            return True
    return SENTENCE_LISTS and any(_sentence_list(lst) and (lst is el or not _foreign(lst, el))
                                  for lst in el.iter("ul", "ol"))


#: a list whose every item is a sentence (key points above the text) is prose beside the container
SENTENCE_LISTS = True


def _sentence_list(lst: HtmlElement) -> bool:
    """Two items or more, each a sentence of its own (``_SIBLING_MIN`` characters, a sentence
    end, few links): a summary written as bullets, not a list of links or headlines."""
    items = [li for li in lst if li.tag == "li"]
    if len(items) < 2:
        return False
    for li in items:
        text = li.text_content().strip()
        n = _weight(text)
        if n < _SIBLING_MIN or not _SENTENCE.search(text) or _link_chars(li) > _LINK_DENSITY_MAX * n:
            return False
    return True


#: a container that is part of a table (its body, a row) looks for prose beside the table: the
#: introduction above a list written as a table. Measured: one page changes (readability set
#: wikipedia-4, R 0.549 -> 0.574; set 0.93090 -> 0.93100), dev and trafilatura set unchanged
TABLE_SIBLINGS = True
_TABLE_PARTS = frozenset({"tbody", "thead", "tfoot", "tr"})


def prose_siblings(container: HtmlElement) -> tuple[list[HtmlElement], list[HtmlElement]]:
    """Siblings of ``container`` that hold prose, before and after it: the article's lead or
    last paragraphs often sit beside the element holding most of its text (an intro above a
    paywall block, a blog's own words around a long quote). A run of them must touch the
    container: the first sibling without prose ends it, so a teaser further on never joins.
    When every sibling joins, the parent is the article's too: the run goes on at its level."""
    before: list[HtmlElement] = []
    after: list[HtmlElement] = []
    node = container
    if TABLE_SIBLINGS:
        while node.tag in _TABLE_PARTS and node.getparent() is not None:
            node = node.getparent()  # a table's body: its caption and head are no prose
    while True:
        parent = node.getparent()
        if parent is None or node.tag == "body" or parent.tag == "body":
            return before, after
        siblings = [c for c in parent if isinstance(c.tag, str)]
        i = siblings.index(node)
        b, b_whole = _run(siblings[:i][::-1], controls=CONTROLS_JOIN)
        a, a_whole = _run(siblings[i + 1:])
        before[:0] = b[::-1]
        after.extend(a)
        if not (b_whole and a_whole) or not CLIMB:
            return before, after
        node = parent


#: a block with a picture, video or embed and at most this much text (a caption, a credit)
_MEDIA_CAPTION = 200
_MEDIA = etree.XPath("boolean(descendant-or-self::*[self::img or self::picture or self::figure or "
                     "self::video or self::iframe])")


def _has_media(el: HtmlElement) -> bool:
    return bool(_MEDIA(el))


#: a lone link or button before the container does not end its run of prose siblings (a "Read
#: more" expander between the text's first paragraphs and the rest it reveals). Measured: one
#: page of the 1,155 changes (readability set herald-sun-1, F1 0.871 -> 0.989), none worse
CONTROLS_JOIN = True
#: a control's text is this short at most ("Read more", "Continue reading")
_CONTROL_CHARS = 25
_CONTROL = etree.XPath("boolean(descendant-or-self::*[self::a or self::button or @role='button' or "
                       "@onclick])")


def _is_control(el: HtmlElement) -> bool:
    """A link or button alone (its whole text is link or button text)."""
    if not _CONTROL(el):
        return False
    inner = "".join(t for c in el.iter("a", "button") for t in c.itertext())
    return len(inner.strip()) >= len(el.text_content().strip()) or el.get("role") == "button" \
        or el.get("onclick") is not None


def _run(seq: list[HtmlElement], controls: bool = False) -> tuple[list[HtmlElement], bool]:
    """The prose elements of ``seq`` up to the first one without prose, and whether it ran to
    the end. ``controls``: a lone link or button does not end the run either (the siblings
    before the container: a "Read more" expander sits between the text it cut in two; after
    the article, share buttons and "more" links lead to teasers)."""
    out: list[HtmlElement] = []
    pending: list[HtmlElement] = []  # subheadings: kept when prose follows them
    for el in seq:
        if el.tag in _HEADINGS:
            pending.append(el)
            continue
        text = el.text_content().strip()
        if not text:
            continue  # an empty spacer or ad slot does not break the run
        if len(text) <= _MEDIA_CAPTION and _has_media(el):
            continue  # nor does a picture with its caption between two parts of the text
        if controls and len(text) <= _CONTROL_CHARS and _is_control(el):
            continue  # nor a "Read more" button above the rest of the text it expands
        if not _prose(el):
            return out, False
        out.extend(pending)
        pending.clear()
        out.append(el)
    return out, not pending


def repeated_in_flow(el: HtmlElement) -> dict[str, int]:
    """Casefolded texts of the ``<p>`` elements of ``el`` that occur twice or more in the flow
    of the text (a parent holding another ``<p>`` of running text, ``_PARA_MIN``), with how many
    times: a paragraph the page writes twice among its paragraphs, as the reader sees it. The
    repeats that are furniture are set off: a pull quote, a teaser's summary, a caption sit alone
    in a box of their own, and the deck the body repeats is one element read twice."""
    prose: Counter[HtmlElement] = Counter()  # parent -> its <p> children of running text
    texts: list[tuple[HtmlElement, str, bool]] = []
    for p in el.iter("p"):
        parent = p.getparent()
        if parent is None:
            continue
        text = clean_text(p.text_content())
        long = _weight(text) >= _PARA_MIN
        prose[parent] += long
        texts.append((parent, text, long))
    counts = Counter(text.casefold() for parent, text, long in texts
                     if text and prose[parent] - long >= 1)
    return {k: n for k, n in counts.items() if n >= 2}


def update_stream(root: HtmlElement, keys: frozenset[str]) -> HtmlElement | None:
    """The element holding a live blog's update stream: the common ancestor of the paragraphs
    whose ``text_key`` is one of the structured data's update texts (two matches at least)."""
    if not keys:
        return None
    matched = [el for el in root.iter("p", "h2", "h3", "h4", "li", "blockquote")
               if text_key(el.text_content()) in keys]
    if len(matched) < 2:
        return None
    common = list(matched[0].iterancestors())
    for el in matched[1:]:
        ancestors = set(el.iterancestors())
        common = [a for a in common if a in ancestors]
    return common[0] if common else None


#: a single <br> breaks a line inside the paragraph, two in a row end it (HTML's meaning, and
#: Readability's): lines written with <br> are one block, so a line of a paragraph is not judged
#: alone as furniture, a label or a repeat (an address, a verse, a sentence run on after a <br>)
LINE_BREAKS = True
_LINE = "\x00"  # the line mark in the buffer: no parsed text holds a NUL


def _double_break(br: HtmlElement) -> bool:
    """Whether ``br`` is one of two in a row (nothing but spaces between them)."""
    nxt = br.getnext()
    if nxt is not None and nxt.tag in ("br", "lb") and not (br.tail or "").strip():
        return True
    prev = br.getprevious()
    return prev is not None and prev.tag in ("br", "lb") and not (prev.tail or "").strip()


def blocks_of(el: HtmlElement) -> list[Block]:
    """Paragraph-level blocks of ``el`` in document order, with their link characters."""
    out: list[Block] = []
    buf: list[str] = []
    links = [0]
    tags = ["p"]

    def flush(tag: str) -> None:
        if buf:
            raw = "".join(buf)
            buf.clear()
            if LINE_BREAKS and _LINE in raw:  # lines of one paragraph; a "___" line is no text
                text = " ".join(line for line in map(clean_text, raw.split(_LINE))
                                if any(ch.isalnum() for ch in line))
            else:
                text = clean_text(raw)
            if text:
                out.append(Block(text, min(links[0], len(text)), tags[0]))
        links[0] = 0
        tags[0] = tag

    def walk(node: etree._Element, in_link: bool) -> None:
        tag = node.tag
        if not isinstance(tag, str) or tag in _SKIP:
            return  # the caller adds the tail
        if tag in ("br", "lb"):
            if LINE_BREAKS and not _double_break(node):
                buf.append(_LINE)
            else:
                flush("p")
        else:
            block = tag in _BLOCK
            if block:
                flush(tag)
            link = in_link or tag == "a"
            _add(node.text, link)
            for child in node:
                walk(child, link)
                _add(child.tail, link)
            if block:
                flush("p")
            elif tag in ("td", "th"):
                buf.append(" ")

    def _add(text: str | None, in_link: bool) -> None:
        if text:
            buf.append(text)
            if in_link:
                links[0] += len(text.strip())

    _add(el.text, False)
    for child in el:
        walk(child, False)
        _add(child.tail, False)
    flush("p")
    return out


_HEADING_RANK = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
#: a line of at most this many words, not ending like a sentence, is a label (a heading written
#: as a bold paragraph) when a dropped link list follows it
_LABEL_WORDS = 4
_LABEL_CHARS = 80  # a line's length, at most
_PROSE_END = re.compile(r"[.!?…][\"”’')\]]*$")  # a label may end in a colon, a sentence not


def drop_orphan_headings(blocks: list[Block], keep: Callable[[Block], bool]) -> list[Block]:
    """The blocks ``keep`` accepts, less the headings that introduce only what ``keep`` drops.

    An article's subheading introduces text; a heading whose section holds nothing but link
    lists (dropped by ``keep``) before the next heading of its rank or the end of the body is the
    label of a "more on this" or "related" block. A heading left last, with nothing after it, is
    one too (its cards were removed earlier). A short line without a sentence end is such a
    label when a dropped link list follows it (a heading written as a bold paragraph).
    """
    kept: list[tuple[Block, int, bool]] = []  # block, rank (0: no heading), link list after it
    keeps = [keep(b) for b in blocks]
    for i, b in enumerate(blocks):
        if not keeps[i]:
            if kept:
                kept[-1] = (kept[-1][0], kept[-1][1], True)
            continue
        rank = _HEADING_RANK.get(b.tag, 0)
        if not rank and i + 1 < len(blocks) and not keeps[i + 1] \
                and len(_WORDS.findall(b.text)) <= _LABEL_WORDS and not _PROSE_END.search(b.text):
            rank = 6
        kept.append((b, rank, False))
    out: list[Block] = []
    for j, (b, rank, links_after) in enumerate(kept):
        if rank:
            if j + 1 == len(kept):
                continue  # last: nothing of its own can follow
            nxt = kept[j + 1][1]
            if links_after and nxt and nxt <= rank:
                continue
        out.append(b)
    return out


def iter_after(blocks: list[Block], marker: str | None) -> Iterator[Block]:
    """Blocks after the one whose text is ``marker`` (the headline), or all when absent."""
    if marker:
        key = marker.casefold()
        for i, b in enumerate(blocks):
            if b.text.casefold() == key:
                yield from blocks[i + 1:]
                return
    yield from blocks


_WORDS = re.compile(r"\w+")
_STANDFIRST_TAGS = ("p", "h2", "div", "span")


def _similar(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` share most of their words (the same deck, or description)."""
    wa, wb = set(_WORDS.findall(a.casefold())), set(_WORDS.findall(b.casefold()))
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= 0.8


def confirms_deck(text: str, descriptions: Sequence[str]) -> bool:
    """Whether ``text`` is the page's description shown as a paragraph: a deck's length, and
    most of its words those of one of ``descriptions``."""
    return 40 <= len(text) <= 600 and any(_similar(text, d) for d in descriptions)


def find_standfirst(h1: HtmlElement | None, container: HtmlElement,
                    descriptions: list[str]) -> str | None:
    """The visible deck between the headline and the article container: a block the page's own
    description meta confirms, or (``UNCONFIRMED_LEAD``) a paragraph that reads like a lead
    (``_is_lead``). A kicker, byline, caption, ad slot or sign-up box in that gap never qualifies."""
    if h1 is None or not (descriptions or UNCONFIRMED_LEAD):
        return None
    start, end = h1.sourceline or 0, container.sourceline or 0
    if not start or end < start:
        return None
    for el in h1.getroottree().iter(*_STANDFIRST_TAGS):
        line = el.sourceline or 0
        if line < start:
            continue
        if line > end or el is container:
            break
        text = clean_text(el.text_content())
        if confirms_deck(text, descriptions):
            return text
        if UNCONFIRMED_LEAD and el.tag == "p" and _is_lead(el, text):
            return text
    return None


#: a lead paragraph above the container counts without the description's confirmation
#: (measured: trafilatura set F1 0.931 -> 0.933, recall 0.946 -> 0.950; dev and readability
#: sets unchanged)
UNCONFIRMED_LEAD = True
_LEAD_CHARS = (80, 600)
#: a lead sits in none of these (a caption, a teaser, a quote box, a sign-up form)
_NOT_LEAD = frozenset({"figure", "figcaption", "aside", "nav", "form", "footer", "a", "button", "li",
                       "blockquote", "table"})
#: a paragraph beside form controls is the form's text (a newsletter or sign-up box)
_FORM_CONTROLS = etree.XPath("descendant::*[self::input or self::button or self::select or "
                             "self::textarea][1]")


def _is_lead(el: HtmlElement, text: str) -> bool:
    """A sentence or two of prose (``_LEAD_CHARS``, a sentence end), few links, outside the
    page's furniture (``_NOT_LEAD`` tags, boilerplate-named blocks, forms)."""
    return (_LEAD_CHARS[0] <= len(text) <= _LEAD_CHARS[1] and bool(_SENTENCE.search(text))
            and _link_chars(el) <= 0.1 * len(text) and not _FORM_CONTROLS(el.getparent())
            and not any(a.tag in _NOT_LEAD or named_boilerplate(a)
                        for a in el.iterancestors() if a.tag != "body"))
