"""Story cards: a linked headline and a short summary, repeated in a stream beside the article.

A stream of them ("more stories", a feed of teasers) can hold more running text than the article
itself, so the DOM scorer must not count it; when the cards hold nearly all the running text they
are the page (a forum thread, a gallery of captioned slides) and count as usual.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml.html import HtmlElement

from .text import clean_text

__all__ = ["CARDS_ARE_PAGE", "Teasers", "card_counts", "in_teaser_card"]

_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
#: a stream of teaser cards has at least this many linked headings under one parent
_STREAM_CARDS = 3
#: characters a card holds beside its one paragraph (headline, source, date, buttons)
_CARD_EXTRA = 300
#: cards holding this share of the running text are the page itself (a forum thread, a gallery
#: of captioned slides, a listicle of linked items), not a stream beside an article. Shares
#: measured on 9 dev pages: streams beside an article 0.07-0.70; a forum thread, a slide
#: gallery and a page of cards 0.93-0.96 (the threshold sits in the gap, not on one page)
CARDS_ARE_PAGE = 0.8


@dataclass
class Teasers:
    """What the DOM scorer saw of a page's teaser cards (``mainbody.find_container``)."""

    #: ``text_key`` of the teaser paragraphs left out of the running text (furniture elsewhere too)
    keys: set[str] = field(default_factory=set)
    #: share of the page's running text inside teaser cards; None: the scorer did not run
    share: float | None = None

    @property
    def are_page(self) -> bool | None:
        """Whether the cards hold the page's running text (a listing, a forum thread, a
        gallery) rather than stand beside it; None when not measured."""
        return None if self.share is None else self.share >= CARDS_ARE_PAGE


def card_counts(root: HtmlElement) -> dict[HtmlElement, int]:
    """How many linked headings (a story card's headline) each element holds."""
    counts: dict[HtmlElement, int] = {}
    # a walk over the headings, not an XPath over every element: this runs on every page
    for h in root.iter(_HEADINGS):
        ancestors = list(h.iterancestors())
        if not (any(a.get("href") is not None for a in h.iter("a"))
                or any(a.tag == "a" and a.get("href") is not None for a in ancestors)):
            continue
        for anc in ancestors:
            counts[anc] = counts.get(anc, 0) + 1
    return counts


def in_teaser_card(el: HtmlElement, body: HtmlElement, cards: dict[HtmlElement, int],
                   sizes: dict[HtmlElement, int]) -> bool:
    """True when ``el`` is the one paragraph of a story card in a stream of them: the card (the
    widest ancestor holding one linked heading, the nearest one) holds little text beside it,
    and its parent holds ``_STREAM_CARDS`` linked headings or more (a feed of teasers
    beside the article, which can hold more text than the article itself). An article's
    linked subheading has several paragraphs under it, or is one of few. ``sizes`` caches the
    text size of the cards met (one dict per page)."""
    for anc in el.iterancestors():
        if anc is body:
            return False
        n = cards.get(anc, 0)
        if not n:
            continue
        if n > 1:
            return False
        parent = anc.getparent()
        while parent is not None and parent is not body and cards.get(parent, 0) == 1:
            anc, parent = parent, parent.getparent()  # the card: the widest block of one headline
        if parent is None or cards.get(parent, 0) < _STREAM_CARDS:
            return False
        # beside its paragraph a card holds a headline, a source, a date: little text.
        # ``sizes`` remembers each card's text size: every paragraph of an article holding one
        # linked heading meets the same (large) ancestor
        if anc not in sizes:
            sizes[anc] = len(clean_text(anc.text_content()))
        return sizes[anc] <= len(clean_text(el.text_content())) + _CARD_EXTRA
    return False
