"""``detect_language`` (one scan for non-Latin scripts, function words looked up in the counts)
equals the straightforward version it replaced, on arbitrary and on page-like text."""

from __future__ import annotations

import re
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.extraction.language import _CYRILLIC, _RU_ONLY, _SCRIPTS, _STOPWORDS, _TOKEN, _UK_ONLY, detect_language


def reference(text: str, *, fallback: str | None = None, sample: int = 3000) -> str | None:
    """``detect_language`` as it was until the throughput work (issue 13)."""
    text = text[:sample]
    letters = sum(1 for ch in text if ch.isalpha())
    if letters < 20:
        return fallback
    for pattern, lang in _SCRIPTS:
        if len(pattern.findall(text)) > letters * 0.3:
            if lang == "ar" and re.search(r"[پچژگ]", text):
                return "fa"
            return lang
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    if not tokens:
        return fallback
    if len(_CYRILLIC.findall(text)) > letters * 0.5:
        uk, ru = len(_UK_ONLY.findall(text)), len(_RU_ONLY.findall(text))
        if uk > ru and uk >= 2:
            return "uk"
        if ru > uk and ru >= 2:
            return "ru"
        candidates: tuple[str, ...] = ("uk", "ru", "bg")
    else:
        candidates = tuple(k for k in _STOPWORDS if k not in ("uk", "ru", "bg"))
    counts = Counter(tokens)
    scores = {lang: sum(n for t, n in counts.items() if t in _STOPWORDS[lang]) for lang in candidates}
    best = max(scores, key=scores.__getitem__)
    if scores[best] < max(3, len(tokens) * 0.05):
        return fallback
    return best


# Function words of every language, letters of every script the detector knows, punctuation a
# page carries: texts that land on each branch.
_WORDS = sorted({w for words in _STOPWORDS.values() for w in words})
_PIECES = st.sampled_from([*_WORDS, "İstanbul", "’", "–", "€", "Ё", "ї", "ъ", "漢字", "ひらがな", "한국", "שלום",
                           "مرحبا", "پ", "Ελλάδα", "ไทย", "हिंदी", "ქართ", "Հայ", "2024", "_", "  ", "\n"])
_PAGEISH = st.lists(_PIECES, max_size=200).map(" ".join)
_ANY = st.text(st.characters(codec=None, exclude_categories=()), max_size=400)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_PAGEISH, _ANY, st.tuples(_PAGEISH, _ANY).map("".join)), st.sampled_from([None, "en"]))
def test_detect_language_equals_the_version_it_replaced(text: str, fallback: str | None) -> None:
    assert detect_language(text, fallback=fallback) == reference(text, fallback=fallback)
    assert detect_language(text, fallback=fallback, sample=60) == reference(text, fallback=fallback, sample=60)
