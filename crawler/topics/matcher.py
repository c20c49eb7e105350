"""Match every configured topic against an item's text in one pass, with an explainable score.

How it stays cheap with many terms: every spelling of every term and exclusion phrase of every
topic is compiled once into a single regex shaped as a trie (``(?:ka(?:zakh(?:stan…)…)…)``), so at
each word start the engine follows one branch per character instead of trying each term. That
pass only finds the word starts where *some* spelling matches; each such position is then
resolved against the few spellings that share its first one to three letters (a dict lookup
and a handful of anchored ``match`` calls). Work per document grows with its length and with
the number of hits, not with the number of terms (bench/topics.py measures it).

Matching is case-insensitive and whole-word. Inflections: Latin spellings take an optional
possessive or plural (``Kazakhstan's``, ``Kazakhs``); Cyrillic spellings take Ukrainian/Russian
case endings, the stem's final vowel being replaceable (``Астана`` → ``Астани``, ``Астаною``;
``Токаєв`` → ``Токаєва``); a trailing ``*`` on a word takes any ending (``казахстанськ*``). A space
or hyphen inside a spelling matches any run of spaces and hyphens (``Nur-Sultan`` = ``Nur Sultan``).

Score of a topic = sum over (term, field) of ``weight × field_weight × min(count, max_count)``;
``support`` terms count only when a primary term survived. A term occurrence inside an exclusion
phrase, or right after/before an exclusion context, is cancelled; an ``item``-scope exclusion
phrase cancels the topic for the whole item.

Compiled terms (``Term.forms``, written by ``newsmon topics build`` from a gazetteer and a
reviewed entity file, every case form and derived adjective already generated) go to a second,
exact structure: a dict from a form's first word to the forms that start with it. A text is split
into lowercase words once; one set test finds whether any word starts a form at all, and only
those words are looked up. That is one pass too, and a dict lookup costs the same with 300 terms
or 30,000, so the gazetteer does not slow the scan down.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crawler.topics.config import FIELDS, Topic

__all__ = ["Cancelled", "TermHit", "TopicMatch", "TopicMatcher", "form_words", "item_fields"]

# Ukrainian and Russian noun endings (singular cases, nominative/genitive plural, instrumental).
# Deliberately without -ин/-ич/-енко etc., so a stem never grows into a surname (Бухара/Бухарин).
_CYR_ENDINGS = ("а", "я", "у", "ю", "е", "є", "і", "ї", "и", "ы", "й", "ь", "ом", "ем", "єм", "ём",
                "ім", "им", "ым", "ой", "ою", "ей", "ею", "єю", "ів", "ов", "ев", "ах", "ях", "ам", "ям",
                "ами", "ями")
_CYR_SUFFIX = "(?:" + "|".join(sorted(_CYR_ENDINGS, key=len, reverse=True)) + ")?"
_CYR_STRIPPABLE = frozenset("аяеєіїиыйь")  # a final letter that is itself an ending
_LAT_SUFFIX = "(?:['\u2019\u02bc]s|s)?"  # Kazakhstan's, Kazakhs
_STAR = r"\w{0,12}"
_SEP = r"[\s\-\u2010\u2011]+"
_APOS = "['\u2019\u02bc\u2018]"
_APOS_CHARS = "\u2019\u02bc\u2018"
# Between an exclusion context and the term: spaces, hyphens, commas, quotes (ресторан «Самарканд»).
_GAP = "[\\s\\-\u2010\u2011,:\"'\u00ab\u00bb\u201c\u201d\u201e\u2019]*"
_KEY_LEN = 3  # spellings are bucketed by up to this many leading literal characters
_CONTEXT = 60  # characters of context kept on each side of a hit
_WORD = re.compile(r"\w+")
# Apostrophes split words (Kazakhstan's = kazakhstan + s, Oʻzbekiston = o + zbekiston); ё reads as е.
_LEX_REPLACE = (("\u2019", "'"), ("\u02bc", "'"), ("\u02bb", "'"), ("\u2018", "'"), ("ё", "е"))
_JOIN = frozenset(" \t\n\r-\u2010\u2011\u00a0")  # what may stand between the words of one form


def _lex_lower(text: str) -> str:
    """Lowercase ``text`` for the lexicon, keeping every character at its position."""
    low = text.lower()
    if len(low) != len(text):  # a character whose lowercase is longer ('İ'): keep it as it is
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    for old, new in _LEX_REPLACE:  # str.replace: a C scan each, far cheaper than str.translate
        if old in low:
            low = low.replace(old, new)
    return low


def form_words(text: str) -> tuple[str, ...]:
    """The lexicon's words of a form or a phrase: ``"Ust-Kamenogorsk's"`` → ``("ust", "kamenogorsk", "s")``."""
    return tuple(_WORD.findall(_lex_lower(text)))


# --- compiling spellings ------------------------------------------------------------------------

_SEP_T, _STAR_T, _APOS_T = "\x00sep", "\x00star", "\x00apos"  # tokens that are not literal characters


def _tokens(spelling: str) -> list[str]:
    """Lowercased literal characters and the special tokens of one spelling."""
    text = unicodedata.normalize("NFC", spelling.strip()).lower()
    out: list[str] = []
    for ch in text:
        if ch.isspace() or ch in "-\u2010\u2011":
            if out and out[-1] != _SEP_T:
                out.append(_SEP_T)
        elif ch == "*":
            out.append(_STAR_T)
        elif ch == "'" or ch in _APOS_CHARS:
            out.append(_APOS_T)
        else:
            out.append(ch)
    return out


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _with_suffix(tokens: list[str], inflect: bool) -> list[str]:
    """Tokens plus one final suffix token (a regex fragment) for the spelling's inflections."""
    if not tokens or tokens[-1] == _STAR_T or not inflect:
        return [*tokens, "\x00sfx:"]
    last = tokens[-1]
    if _is_cyrillic(last):
        stem = tokens[:-1] if last in _CYR_STRIPPABLE and len(tokens) > 2 else tokens
        return [*stem, "\x00sfx:" + _CYR_SUFFIX]
    if last.isascii() and last.isalpha():
        return [*tokens, "\x00sfx:" + _LAT_SUFFIX]
    return [*tokens, "\x00sfx:"]


def _fragment(token: str) -> str:
    if token == _SEP_T:
        return _SEP
    if token == _STAR_T:
        return _STAR
    if token == _APOS_T:
        return _APOS
    if token.startswith("\x00sfx:"):
        return token[5:] + r"(?!\w)"
    return re.escape(token)


def _spelling_regex(tokens: list[str]) -> str:
    return "".join(_fragment(t) for t in tokens)


def _trie_regex(sequences: Iterable[list[str]]) -> str:
    """One regex alternation shaped as a trie over token sequences."""
    trie: dict[str, Any] = {}
    for seq in sequences:
        node = trie
        for tok in seq:
            node = node.setdefault(tok, {})
        node[""] = {}  # end marker

    def emit(node: dict[str, Any]) -> str:
        alts = [_fragment(tok) + emit(child) for tok, child in sorted(node.items()) if tok]
        if "" in node:
            alts.append("")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    return emit(trie)


def _key(text: str) -> str:
    """The lookup form of leading literal characters (lowercase, apostrophes unified)."""
    return text.lower().translate(_KEY_TABLE)


_KEY_TABLE = str.maketrans({c: "'" for c in _APOS_CHARS})


def _literal_prefix(tokens: list[str]) -> str:
    prefix = ""
    for tok in tokens:
        if tok.startswith("\x00") or len(prefix) == _KEY_LEN:
            break
        prefix += tok
    return prefix


# --- results ------------------------------------------------------------------------------------


@dataclass
class TermHit:
    """Why a topic was flagged: one term in one field."""

    term: str
    field: str
    count: int
    weight: float
    context: str
    matched: str  # the first surface form found, e.g. "Токаєва"
    source: str = ""  # compiled terms: where the entry came from

    def as_dict(self) -> dict[str, Any]:
        return {"term": self.term, "count": self.count, "field": self.field, "context": self.context,
                "matched": self.matched, "weight": self.weight}


@dataclass(frozen=True)
class Cancelled:
    """A term occurrence that a context rule cancelled, and the rule."""

    term: str
    field: str
    matched: str
    rule: str
    context: str


@dataclass
class TopicMatch:
    """The outcome of one topic for one item."""

    slug: str
    score: float
    threshold: float
    hits: list[TermHit] = field(default_factory=list)
    excluded_by: str | None = None  # the item-scope exclusion phrase that cancelled the topic
    cancelled: list[Cancelled] = field(default_factory=list)  # mentions cancelled by a context rule

    @property
    def flagged(self) -> bool:
        return self.excluded_by is None and self.score >= self.threshold

    @property
    def terms(self) -> list[str]:
        """Distinct matched terms, strongest first."""
        best: dict[str, float] = {}
        for h in self.hits:
            best[h.term] = best.get(h.term, 0.0) + h.weight
        return sorted(best, key=lambda t: (-best[t], t))

    def summary(self) -> dict[str, Any]:
        """What an item carries in ``topics``: slug, score and the matched terms."""
        return {"slug": self.slug, "score": self.score, "terms": self.terms}


# --- the matcher --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    topic: int  # index into the matcher's topics
    kind: str  # "term" or "exclude"
    name: str  # canonical term, or the exclusion phrase
    weight: float
    support: bool
    scope: str  # exclusions: "mention" or "item"
    regex: re.Pattern[str] | None  # None for a compiled (lexicon) form
    source: str = ""


class TopicMatcher:
    """All topics compiled once; ``match(fields)`` scores each topic for one item."""

    def __init__(self, topics: Sequence[Topic]) -> None:
        self.topics = list(topics)
        sequences: list[list[str]] = []
        self._buckets: dict[str, list[_Entry]] = defaultdict(list)
        self._rules: list[list[tuple[re.Pattern[str] | None, re.Pattern[str] | None, str]]] = []
        self._lexicon: dict[str, list[tuple[tuple[str, ...], _Entry]]] = defaultdict(list)
        for index, topic in enumerate(self.topics):
            for term in topic.terms:
                if term.forms:
                    entry = _Entry(index, "term", term.term, term.weight, term.support, "", None, term.source)
                    for form in term.forms:
                        self._add_form(form, entry)
                    continue
                for spelling in term.spellings:
                    self._add(sequences, spelling, term.inflect,
                              index, "term", term.term, term.weight, term.support, "")
            rules: list[tuple[re.Pattern[str] | None, re.Pattern[str] | None, str]] = []
            for ex in topic.exclusions:
                for phrase in ex.phrases:
                    self._add(sequences, phrase, True, index, "exclude", phrase, 0.0, False, ex.scope)
                before = [_spelling_regex(_with_suffix(_tokens(p), True)) for p in ex.before]
                after = [_spelling_regex(_with_suffix(_tokens(p), True)) for p in ex.after]
                if before or after:
                    rules.append((
                        re.compile(r"(?<!\w)(?:" + "|".join(before) + ")" + _GAP + r"\Z", re.IGNORECASE)
                        if before else None,
                        re.compile(_GAP + "(?:" + "|".join(after) + r")(?!\w)", re.IGNORECASE) if after else None,
                        ex.note or ", ".join([*ex.before, *ex.after])[:60]))
            self._rules.append(rules)
        for bucket in self._lexicon.values():
            bucket.sort(key=lambda fe: -len(fe[0]))
        self._first_words = frozenset(self._lexicon)
        self.form_count = sum(len(b) for b in self._lexicon.values())
        self.spelling_count = len(sequences) + self.form_count
        # Zero-width: every word start where some spelling matches, overlapping ones included.
        self._scan = re.compile(r"(?<!\w)(?=" + _trie_regex(sequences) + ")", re.IGNORECASE) \
            if sequences else None

    def _add(self, sequences: list[list[str]], spelling: str, inflect: bool, topic: int, kind: str,
             name: str, weight: float, support: bool, scope: str) -> None:
        tokens = _tokens(spelling)
        seq = _with_suffix(tokens, inflect)
        sequences.append(seq)
        regex = re.compile(_spelling_regex(seq), re.IGNORECASE)
        self._buckets[_literal_prefix(tokens)].append(
            _Entry(topic, kind, name, weight, support, scope, regex))

    def _add_form(self, form: str, entry: _Entry) -> None:
        # Compiled forms are already lexicon words joined by single spaces (the builder writes
        # them with form_words); splitting is what keeps loading 45,000 forms cheap.
        words = tuple(form.split(" ")) if form.islower() and "  " not in form else form_words(form)
        if words:
            self._lexicon[words[0]].append((words, entry))

    # --- scanning -------------------------------------------------------------------------------

    def hits(self, text: str) -> list[tuple[int, int, _Entry]]:
        """Every (start, end, entry) of every spelling in ``text``, overlapping ones included.

        Hand-written spellings come first, so at an equal span a topic file's own term is the one
        that counts (and that ``explain`` shows), not a generated homonym."""
        if not text:
            return []
        found = []
        if self._scan is not None:
            buckets = self._buckets
            for m in self._scan.finditer(text):
                start = m.start()
                head = _key(text[start:start + _KEY_LEN])
                for n in range(1, len(head) + 1):
                    for entry in buckets.get(head[:n], ()):
                        hit = entry.regex.match(text, start)  # type: ignore[union-attr]
                        if hit:
                            found.append((start, hit.end(), entry))
        if self._first_words:
            found.extend(self._lexicon_hits(text))
        return found

    def _lexicon_hits(self, text: str) -> list[tuple[int, int, _Entry]]:
        low = _lex_lower(text)
        words = _WORD.findall(low)
        first = self._first_words
        if first.isdisjoint(words):
            return []
        # Only the few words that start a form are looked at; their offsets come from one more pass.
        spans = [m.span() for m in _WORD.finditer(low)]
        found = []
        lexicon = self._lexicon
        for i in [i for i, word in enumerate(words) if word in first]:
            for seq, entry in lexicon[words[i]]:
                n = len(seq)
                if n > 1:
                    if tuple(words[i:i + n]) != seq or any(
                            not _JOIN.issuperset(low[spans[j][1]:spans[j + 1][0]]) for j in range(i, i + n - 1)):
                        continue
                found.append((spans[i][0], spans[i + n - 1][1], entry))
        return found

    def match(self, fields: Mapping[str, str | None]) -> list[TopicMatch]:
        """Score every topic against canonical fields (title, lead, body); one result per topic."""
        per_topic: dict[int, dict[str, list[tuple[int, int, _Entry]]]] = defaultdict(dict)
        for name in FIELDS:
            text = fields.get(name) or ""
            if not text:
                continue
            for start, end, entry in self.hits(text):
                per_topic[entry.topic].setdefault(name, []).append((start, end, entry))
        results = []
        for index, topic in enumerate(self.topics):
            results.append(self._score(index, topic, per_topic.get(index, {}), fields))
        return results

    def flagged(self, fields: Mapping[str, str | None]) -> list[TopicMatch]:
        """Only the topics at or above their minimum score."""
        return [m for m in self.match(fields) if m.flagged]

    def _score(self, index: int, topic: Topic, by_field: dict[str, list[tuple[int, int, _Entry]]],
               fields: Mapping[str, str | None]) -> TopicMatch:
        result = TopicMatch(topic.slug, 0.0, topic.min_score)
        counts: dict[tuple[str, str], list[Any]] = {}
        for name in topic.fields:
            found = by_field.get(name)
            if not found:
                continue
            text = fields.get(name) or ""
            excluded = [(s, e, en.name) for s, e, en in found if en.kind == "exclude"]
            for s, e, en in found:
                if en.kind == "exclude" and en.scope == "item":
                    result.excluded_by = en.name
                    return result
            kept: list[tuple[int, int, _Entry]] = []
            cancelled_at: set[tuple[int, int]] = set()
            # Longest first at each start, so "Kassym-Jomart Tokayev" absorbs the "Tokayev" inside it.
            for s, e, en in sorted((h for h in found if h[2].kind == "term"), key=lambda h: (h[0], -h[1])):
                if kept and s < kept[-1][1]:
                    continue
                phrase = next((p for xs, xe, p in excluded if xs < e and s < xe), None)
                rule = f"inside {phrase!r}" if phrase else self._in_context(index, text, s, e)
                if rule:
                    if (s, e) not in cancelled_at:  # one line per span, not per homonym
                        cancelled_at.add((s, e))
                        result.cancelled.append(Cancelled(en.name, name, text[s:e], rule, _context(text, s, e)))
                    continue
                kept.append((s, e, en))
            for s, e, en in kept:
                slot = counts.setdefault((en.name, name), [0, en, s, e])
                slot[0] += 1
        if not counts:
            return result
        primary = any(not slot[1].support for slot in counts.values())
        score = 0.0
        for (term, name), (count, en, s, e) in counts.items():
            if en.support and not primary:
                continue
            weight = en.weight * topic.field_weights[name] * min(count, topic.max_count)
            score += weight
            text = fields.get(name) or ""
            result.hits.append(TermHit(term, name, count, round(weight, 3), _context(text, s, e), text[s:e],
                                       en.source))
        result.score = round(score, 3)
        result.hits.sort(key=lambda h: (FIELDS.index(h.field), -h.weight, h.term))
        return result

    def _in_context(self, index: int, text: str, start: int, end: int) -> str:
        """The note of the first before/after rule that cancels this occurrence, or ""."""
        window = text[max(0, start - 80):start]
        for before, after, note in self._rules[index]:
            if before is not None and before.search(window):
                return note
            if after is not None and after.match(text, end) is not None:
                return note
        return ""


def _context(text: str, start: int, end: int) -> str:
    """A short, single-line snippet around one hit, with ellipses where it was cut."""
    lo, hi = max(0, start - _CONTEXT), min(len(text), end + _CONTEXT)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    snippet = " ".join(text[lo:hi].split())
    return ("…" if lo > 0 else "") + snippet + ("…" if hi < len(text) else "")


def item_fields(record: Mapping[str, Any]) -> dict[str, str]:
    """Canonical fields of an item or a JSON record.

    title = ``title`` or ``headline``; lead = ``summary``, ``lead`` or ``text`` (a News Feed
    snippet's text is a lead-length paragraph); body = ``body``.
    """

    def first(*names: str) -> str:
        for n in names:
            value = record.get(n)
            if isinstance(value, str) and value.strip():
                return value
        return ""

    return {"title": first("title", "headline"), "lead": first("summary", "lead", "text"),
            "body": first("body")}
