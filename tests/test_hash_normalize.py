"""``hash_normalize`` (translate table over distinct characters) equals the per-character loop it
replaced on arbitrary text: content hashes and snippet fingerprints stored before stay valid."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.extraction.text import content_hash, hash_normalize

_WS = re.compile(r"\s+")


def reference(text: str) -> str:
    """The per-character loop ``hash_normalize`` was until the throughput work (issue 13)."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        out.append(" " if cat[0] in "PSZC" or ch.isspace() else ch)
    return _WS.sub(" ", "".join(out)).strip()


# Every code point, lone surrogates included, with extra weight on the ones a page mixes.
_ANY = st.text(st.characters(codec=None, exclude_categories=()), max_size=200)
_PAGEISH = st.text(st.sampled_from("aZ9 \t\n\u00a0\u2009.,;'’\"«»-–—_$€©™…\u200b\ufeff\u0301ßİﬁＡ①²ё漢ㄱ\U0001f600"),
                   max_size=200)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_ANY, _PAGEISH, st.tuples(_ANY, _PAGEISH).map("".join)))
def test_hash_normalize_equals_the_loop_it_replaced(text: str) -> None:
    assert hash_normalize(text) == reference(text)


def test_content_hash_is_pinned() -> None:
    # The stored form: a change here would make every stored article look revised.
    assert hash_normalize("  Kyiv’s NEWS — ﬁrst!  ") == "kyiv s news first"
    assert content_hash("Title", "Body text.") == content_hash("TITLE!", " body   TEXT ")
