"""Choose the article body among several candidates, so no single heuristic can empty it.

Candidates (paragraph lists): the DOM scorer's (``mainbody``), the page's declared body
(JSON-LD / microdata ``articleBody``), trafilatura as it comes, and trafilatura with recall
favoured. The DOM scorer is tried first and kept when it is sure; trafilatura is asked only when
the DOM body is doubtful (short, just the description, or much smaller than the running text the
page holds), so the usual page pays for one extractor. The choice then compares the candidates by
their word 4-grams: a candidate that contains another and holds clearly more prose wins; a body
is never empty or description-only while another candidate holds substantial prose.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

from .text import word_count

__all__ = ["choose", "chunk_set", "is_description_only"]

_WORDS = re.compile(r"\w+")
#: a candidate with this many words of prose is "substantial": the body is never left empty
SUBSTANTIAL_WORDS = 50


def chunk_set(paragraphs: Sequence[str]) -> frozenset[str]:
    """Set of casefolded word 4-grams of ``paragraphs`` (1–3-word paragraphs: one item)."""
    return _chunk_set(tuple(paragraphs))


@lru_cache(maxsize=64)  # ``choose`` compares the same two or three candidates several times
def _chunk_set(paragraphs: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_chunks(paragraphs))


def _chunks(paragraphs: Sequence[str]) -> set[str]:
    return set(_iter_chunks(paragraphs))


def _iter_chunks(paragraphs: Sequence[str]) -> Iterator[str]:
    """The chunks of ``chunk_set`` in text order, repeats included."""
    for p in paragraphs:
        words = _WORDS.findall(p.casefold())
        if len(words) < 4:
            if words:
                yield " ".join(words)
            continue
        for i in range(len(words) - 3):
            yield " ".join(words[i:i + 4])


def is_description_only(paragraphs: Sequence[str], descriptions: Sequence[str]) -> bool:
    """True when the candidate says nothing beyond the page's description meta."""
    if not paragraphs or not descriptions:
        return False
    ref = chunk_set(descriptions)
    # True iff |mine - ref| <= 0.2 |mine|, that is |mine - ref| <= |mine & ref| / 4 <= |ref| / 4:
    # read in text order, a whole article stops after a few chunks its description lacks
    # instead of building the set of all its chunks (~0.6 ms per candidate on the dev sets)
    unseen: set[str] = set()
    for chunk in _iter_chunks(paragraphs):
        if chunk not in ref:
            unseen.add(chunk)
            if len(unseen) > len(ref) / 4:
                return False
    mine = chunk_set(paragraphs)
    if not mine:
        return False
    return len(mine - ref) <= 0.2 * len(mine)


def _cover(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of ``a`` found in ``b``."""
    return len(a & b) / len(a) if a else 0.0


#: the DOM body is trusted alone when its text is this share of the page's running text
#: (below: pruning or the container lost much of it; above: it took in more than prose)
SURE_SHARE = (0.6, 2.0)
#: the DOM scorer abstains below this much running text (``mainbody.MIN_RUNNING_CHARS``)
SURE_RUNNING = 400
#: a DOM body is doubtful when the page's whole text is more than this many times its size
#: (the scorer saw little running text because the article is written in a form it misses)
PAGE_SHARE = 8
#: two candidates of word counts within this ratio tell the same story: the DOM one is kept
AGREE = (0.8, 1.25)
#: a declared body the DOM body covers less of than this is the one the page means
DECLARED_COVER = 0.5
MIN_WORDS = 15
#: a body this share of which the other candidate holds is contained in it; the container
#: wins when it has this many times the words ("clearly more prose")
CONTAINED = 0.95
SUPERSET_MORE = 1.1


#: a paragraph this long (characters) is running text (``mainbody``'s evidence threshold)
RUNNING_PARAGRAPH = 70


def _extra_is_prose(paragraphs: Sequence[str], known: frozenset[str]) -> bool:
    """True when most of what ``paragraphs`` add to ``known`` (by characters) is running text,
    not captions, credits or link lines."""
    # one paragraph at a time: not cached, it would push the candidates out of the cache
    extra = [p for p in paragraphs if _cover(frozenset(_chunks([p])), known) < 0.5]
    total = sum(len(p) for p in extra)
    return total > 0 and sum(len(p) for p in extra if len(p) >= RUNNING_PARAGRAPH) >= 0.5 * total


_TRUNCATED = ("...", "…", "[…]", "[...]")


def _is_excerpt(declared: Sequence[str], dom: Sequence[str]) -> bool:
    """A declared body that breaks off ("…") and is shorter than the DOM body is an excerpt (a
    teaser of this or another story that a CMS put in ``articleBody``), not the text the page
    means: it never wins over the page's own text."""
    return declared[-1].rstrip().endswith(_TRUNCATED) and \
        sum(len(p) for p in declared) < sum(len(p) for p in dom)


def choose(dom: list[str], running: int, declared: list[str],
           trafilatura: Callable[[bool], list[str]], descriptions: Sequence[str],
           *, dom_conf: float, declared_conf: float, traf_conf: float,
           page_chars: int = 0) -> tuple[list[str], float]:
    """The body among the candidates (see the module docstring), with its confidence.

    ``trafilatura(recall)`` computes that candidate on demand; it is called only when the DOM
    (or declared) body is doubtful: fewer than ``SUBSTANTIAL_WORDS`` words, description-only,
    the scorer short of running text, the declared body missed, a DOM text outside
    ``SURE_SHARE`` of the running text, or a page whose whole text (``page_chars``) is more than
    ``PAGE_SHARE`` times the DOM body. Then the two bodies are compared: trafilatura's wins when
    it holds the DOM body (``CONTAINED``) and clearly more (``SUPERSET_MORE``); of similar
    length (``AGREE``) the DOM's is kept; otherwise trafilatura's, unless the DOM body is more
    than twice as long and mostly text trafilatura did not see (a second article part it
    skipped). The rule is not symmetric: a DOM body holding trafilatura's and more is more
    often the article plus furniture (measured: lower F1 on all three dev sets).
    A declared body that neither the DOM nor trafilatura body covers is taken as it is.
    """
    base, conf = dom, dom_conf
    if declared and not _is_excerpt(declared, dom) and word_count(" ".join(declared)) >= MIN_WORDS \
            and _cover(chunk_set(declared), chunk_set(dom)) < DECLARED_COVER:
        base, conf = declared, declared_conf
        missed = True
    else:
        missed = False
    if is_description_only(base, descriptions):
        base = []
    words = word_count(" ".join(base))
    share = sum(len(p) for p in dom) / max(running, 1)
    sure = (words >= SUBSTANTIAL_WORDS and running >= SURE_RUNNING and not missed
            and SURE_SHARE[0] <= share < SURE_SHARE[1]
            and page_chars < PAGE_SHARE * sum(len(p) for p in dom))
    if sure:
        return base, conf
    traf = trafilatura(False)
    if word_count(" ".join(traf)) < SUBSTANTIAL_WORDS:
        recall = trafilatura(True)
        if word_count(" ".join(recall)) > word_count(" ".join(traf)):
            traf = recall
    traf_words = 0 if is_description_only(traf, descriptions) else word_count(" ".join(traf))
    if missed and words >= MIN_WORDS and _cover(chunk_set(base), chunk_set(traf)) < DECLARED_COVER:
        traf_words = 0  # neither DOM candidate holds the text the page declares: that text wins
    if words < MIN_WORDS or traf_words < MIN_WORDS:
        chosen = (traf, traf_conf) if traf_words > words else (base, conf)
    else:
        ratio = words / traf_words
        superset = (ratio * SUPERSET_MORE <= 1 and _cover(chunk_set(base), chunk_set(traf)) >= CONTAINED
                    and _extra_is_prose(traf, chunk_set(base)))
        if superset:
            chosen = (traf, traf_conf)  # trafilatura's holds all of the DOM body and more
        elif AGREE[0] <= ratio < AGREE[1] or (
                ratio >= 2 and _cover(chunk_set(base), chunk_set(traf)) < 0.4):
            chosen = (base, conf)
        else:
            chosen = (traf, traf_conf)
    if chosen[0]:
        return chosen
    # never empty while any candidate holds text (a description-only one is still better)
    pool = [(dom, dom_conf), (declared, declared_conf), (traf, traf_conf)]
    return max(pool, key=lambda c: word_count(" ".join(c[0])))
