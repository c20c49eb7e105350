"""Dedupe: one document per story, its edits kept as revisions, across runs and at any size.

Every article and News Feed snippet is decided against what is stored (and against documents
of earlier batches still on their way to the store, ``PendingDocs``) by the identity stage
(``pipelines.identity``), in batches on the store thread (two candidate queries per batch: by
``_id``, then by key for the items not found so; never the reactor thread), before topics see it:

- ``unchanged``: its ``_id`` (hash of the canonical URL; the snippet fingerprint) or an alias URL
  is known with the same content hash -> only ``last_seen``/``times_seen`` move.
- ``revision``: the same ``_id`` with another content hash, or a near duplicate (estimated share
  of the smaller text's 3-word shingles found in the other >= ``DEDUPE_NEAR_THRESHOLD``, with
  MinHash Jaccard >= 0.5) from the same site -> updated in place, ``revision`` +1,
  ``updated_at`` set, the previous version kept in ``article_revisions`` with what changed.
  Snippets: a near duplicate (shingle containment >= ``DEDUPE_SNIPPET_THRESHOLD``, the same
  numbers and names) from the same site published within ``DEDUPE_SNIPPET_WINDOW_HOURS`` ->
  text replaced, earlier texts kept in ``versions``.
- ``exact_duplicate``: the content hash is stored under another URL -> the URL becomes an alias.
- ``near_duplicate``: a near duplicate from another site -> an alias with its similarity.
- ``new``: none of these.

Lookups go through ``dedupe_keys`` (int64s: content hash, alias URLs, one per LSH band of the
MinHash signature), indexed in both stores: a new item meets only documents sharing a key.
Decisions are counted, once they reached the store, as ``newsmon/dedupe/<decision>`` (articles)
and ``newsmon/dedupe/snippets/<decision>``. A replayed sighting (``REPLAYED``) no newer than the
stored ``last_seen`` with nothing new in it (a journal replayed twice) writes nothing. When a duplicate turns out to
be the earlier publication, the document takes its URL and keeps the other as an alias; an
unchanged sighting fills fields the stored document lacks (``section`` and a few more).
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from pipelines.minhash import minhash_signature

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from pipelines.storage.base import Store, WriteSummary

__all__ = [
    "DECISIONS",
    "BatchPlan",
    "DedupeConfig",
    "Deduper",
    "PendingDocs",
    "REPLAYED",
    "SIGNED",
    "Signer",
    "article_signer",
    "band_plan",
    "diff_versions",
    "same_facts",
]

logger = logging.getLogger(__name__)

DECISIONS = ("new", "exact_duplicate", "near_duplicate", "revision", "unchanged")
# Marks a document rebuilt from the journal (``pipelines.identity``); removed before any write.
REPLAYED = "__replayed"
# An article's Signer.sign result computed ahead by the extraction worker (crawler/workers.py), set
# by identity only for a document whose title and body are the ones it was computed from; removed
# before any write.
SIGNED = "__signed"
_WORD = re.compile(r"\w+", re.UNICODE)
SIGNED_CACHE_SIZE = 4096  # distinct texts whose signature a Signer remembers (Signer.sign)
_SHORT = 160  # characters of a paragraph kept in a change summary
# Article fields read for deciding (bodies only for revision targets).
_ARTICLE_FIELDS = (
    "shingles", "url", "site", "content_hash", "minhash", "dedupe_keys", "aliases", "revision", "updated_at",
    "first_seen", "last_seen", "fetched_at", "title", "section", "authors", "published", "summary",
    "image_url", "language",
)
_SNIPPET_FIELDS = (
    "shingles", "site", "headline", "text", "published", "minhash", "dedupe_keys", "revision", "versions",
    "updated_at", "first_seen", "last_seen", "fetched_at", "url", "seen_on",
)


def band_plan(threshold: float, num_perm: int, target: float = 0.99) -> tuple[int, int]:
    """(bands, rows): the most selective LSH banding that still makes a pair at ``threshold``
    a candidate with probability >= ``target`` (so recall is decided by the check, not LSH)."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= target:
            return bands, rows
    return num_perm, 1


@dataclass(frozen=True)
class DedupeConfig:
    """The ``DEDUPE_*`` settings, read once through their rules (defaults: crawler/settings.py)."""

    enabled: bool
    near_threshold: float
    snippet_threshold: float
    snippet_window_hours: float
    num_perm: int
    shingle_size: int
    revisions_max: int
    aliases_max: int
    trailing_slash: str
    trailing_slash_by_site: Mapping[str, str]

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> DedupeConfig:
        """Read the settings through their rules (``crawler.checks``); a bad value raises
        ``ConfigError`` naming the setting."""
        from crawler.checks import check_setting

        def get(name: str) -> Any:
            return check_setting(settings, f"DEDUPE_{name}")

        return cls(
            enabled=get("ENABLED"), near_threshold=get("NEAR_THRESHOLD"),
            snippet_threshold=get("SNIPPET_THRESHOLD"), snippet_window_hours=get("SNIPPET_WINDOW_HOURS"),
            num_perm=get("NUM_PERM"), shingle_size=get("SHINGLE_SIZE"), revisions_max=get("REVISIONS_MAX"),
            aliases_max=get("ALIASES_MAX"), trailing_slash=get("TRAILING_SLASH"),
            trailing_slash_by_site=dict(get("TRAILING_SLASH_BY_SITE") or {}),
        )

    @property
    def article_signing(self) -> tuple[int, int, float]:
        """What an article's MinHash signature and band keys depend on: (permutations, words per
        shingle, near threshold); the extraction worker signs with the same (``SIGNED``)."""
        return self.num_perm, self.shingle_size, self.near_threshold


# --- signatures -----------------------------------------------------------------------------


def _key(kind: bytes, data: bytes) -> int:
    """A signed int64 lookup key (fits BSON int64 and SQLite INTEGER)."""
    return int.from_bytes(hashlib.blake2b(kind + data, digest_size=8).digest(), "big", signed=True)


def hash_key(content_hash: str) -> int:
    """The ``dedupe_keys`` entry of a content hash / snippet fingerprint."""
    return _key(b"h", content_hash.encode())


def url_key(url: str) -> int:
    """The ``dedupe_keys`` entry of an alias URL."""
    return _key(b"u", url.encode())


class Signer:
    """MinHash signatures over word shingles and their LSH band keys (datasketch's values, numpy's speed)."""

    def __init__(self, num_perm: int, shingle_size: int, threshold: float, kind: str) -> None:
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self.bands, self.rows = band_plan(threshold, num_perm)
        self._prefix = f"{kind}:{num_perm}:{self.rows}:".encode()
        self._signed: dict[str, tuple[str, int, tuple[int, ...]]] = {}

    def shingles(self, text: str) -> set[bytes]:
        words = _WORD.findall(text.lower())
        k = self.shingle_size
        if len(words) < k:
            return {" ".join(words).encode()} if words else set()
        return {" ".join(words[i : i + k]).encode() for i in range(len(words) - k + 1)}

    def signature(self, text: str) -> np.ndarray:
        """The MinHash signature (uint32 × num_perm) of ``text``'s shingle set."""
        return self._signature(self.shingles(text))

    def _signature(self, shingles: set[bytes]) -> np.ndarray:
        return minhash_signature(shingles, self.num_perm, seed=1)

    def sign(self, text: str) -> tuple[str, int, tuple[int, ...]]:
        """``text``'s (encoded signature, shingle count, band keys), computed once per distinct text
        of the last SIGNED_CACHE_SIZE: a News Feed item is seen on hundreds of pages of one crawl."""
        signed = self._signed.get(text)
        if signed is None:
            signed = self.compute(text)
            if len(self._signed) >= SIGNED_CACHE_SIZE:
                del self._signed[next(iter(self._signed))]  # the oldest entry
            self._signed[text] = signed
        return signed

    def compute(self, text: str) -> tuple[str, int, tuple[int, ...]]:
        """``sign``'s result, computed afresh (the extraction worker's, which meets each text once)."""
        shingles = self.shingles(text)
        signature = self._signature(shingles)
        return self.encode(signature), len(shingles), tuple(self.band_keys(signature))

    def band_keys(self, signature: np.ndarray) -> list[int]:
        """One key per LSH band: documents sharing one are candidates."""
        r = self.rows
        return [
            _key(self._prefix + bytes([band]), signature[band * r : (band + 1) * r].tobytes())
            for band in range(self.bands)
        ]

    @staticmethod
    def encode(signature: np.ndarray) -> str:
        """The signature as stored (``minhash``): base64 of little-endian uint32s."""
        return base64.b64encode(signature.astype("<u4").tobytes()).decode("ascii")

    @staticmethod
    def decode(text: Any) -> np.ndarray | None:
        if not isinstance(text, str):
            return None
        try:
            return np.frombuffer(base64.b64decode(text), dtype="<u4")
        except ValueError:
            return None

    @staticmethod
    def similarity(a: np.ndarray, b: np.ndarray | None) -> float:
        """Estimated Jaccard similarity of two signatures."""
        if b is None or a.shape != b.shape:
            return 0.0
        return float(np.count_nonzero(a == b)) / len(a)

    @staticmethod
    def containment(a: np.ndarray, size_a: Any, b: np.ndarray | None, size_b: Any) -> float:
        """Estimated share of the smaller shingle set found in the other (from the Jaccard
        estimate and both set sizes: |A∩B| = J(|A|+|B|)/(1+J))."""
        jaccard = Signer.similarity(a, b)
        if not isinstance(size_b, int) or not size_a or not size_b:
            return jaccard
        return min(1.0, jaccard * (size_a + size_b) / (1 + jaccard) / min(size_a, size_b))


def _facts(text: str) -> tuple[set[str], set[str]]:
    """Numbers and capitalized words (names, places) of a text."""
    tokens = _WORD.findall(text)
    return {t for t in tokens if t[0].isdigit()}, {t.lower() for t in tokens if t[0].isupper()}


def same_facts(a: str, b: str) -> bool:
    """Whether the shorter text's numbers all appear in the longer one and its capitalized words
    nearly so (a fixed typo still matches): "26 POWs" is not a correction of "3 POWs"."""
    if len(a) > len(b):
        a, b = b, a
    (numbers_a, names_a), (numbers_b, names_b) = _facts(a), _facts(b)
    if not numbers_a <= numbers_b:
        return False
    return all(
        name in names_b
        or any(difflib.SequenceMatcher(None, name, other).ratio() >= 0.8 for other in names_b)
        for name in names_a
    )


# --- change summaries -----------------------------------------------------------------------


def _short(text: str) -> str:
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def diff_versions(old_title: str, old_body: str, new_title: str, new_body: str) -> dict[str, Any]:
    """What changed from one version to the next: title from/to, paragraphs added, removed and
    edited (short texts), and a one-line ``summary``."""
    old_paras = [p for p in (old_body or "").split("\n\n") if p.strip()]
    new_paras = [p for p in (new_body or "").split("\n\n") if p.strip()]
    added: list[str] = []
    removed: list[str] = []
    edited: list[dict[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old_paras, b=new_paras, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "insert":
            added.extend(new_paras[j1:j2])
        elif op == "delete":
            removed.extend(old_paras[i1:i2])
        elif op == "replace":
            pairs = min(i2 - i1, j2 - j1)
            for k in range(pairs):
                edited.append({"from": _short(old_paras[i1 + k]), "to": _short(new_paras[j1 + k])})
            removed.extend(old_paras[i1 + pairs : i2])
            added.extend(new_paras[j1 + pairs : j2])
    title = {"from": old_title, "to": new_title} if (old_title or "") != (new_title or "") else None
    parts = []
    if title:
        parts.append("title changed")
    for count, word in ((len(added), "added"), (len(removed), "removed"), (len(edited), "edited")):
        if count:
            parts.append(f"{count} paragraph{'s' if count != 1 else ''} {word}")
    return {
        "title": title,
        "added": [_short(p) for p in added],
        "removed": [_short(p) for p in removed],
        "edited": edited,
        "summary": "; ".join(parts) or "wording changed",
    }


# --- deciding a batch ------------------------------------------------------------------------


@dataclass
class BatchPlan:
    """The writes one batch makes, in order, and the decision taken per item."""

    upserts: list[dict[str, Any]] = field(default_factory=list)
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)  # _id -> fields to $set
    revisions: list[dict[str, Any]] = field(default_factory=list)
    prune: dict[str, int] = field(default_factory=dict)  # article _id -> delete revisions below
    decisions: Counter[str] = field(default_factory=Counter)
    # Per input document, in order: (decision, _id of the document it is stored as) and the
    # upsert it makes (None when nothing is written: a replayed sighting already counted).
    outcomes: list[tuple[str, str]] = field(default_factory=list)
    item_upserts: list[dict[str, Any] | None] = field(default_factory=list)
    touched: dict[str, dict[str, Any]] = field(default_factory=dict)  # final state of each document
    uses_pending: bool = False  # decided against documents of an earlier, unwritten batch


class PendingDocs:
    """Documents of one collection decided in earlier batches but not yet written.

    Identity decides batch N+1 while batch N is still on its way to the store; N's documents are
    looked up here so a story seen twice in quick succession is still one story. Copies go in and
    out, so no decision ever mutates a document another batch is writing. Lookups run on the
    store thread while the reactor thread adds and releases batches: a lock keeps them apart.
    """

    def __init__(self) -> None:
        self._docs: dict[str, tuple[int, dict[str, Any]]] = {}
        self._keys: dict[int, set[str]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, seq: int, docs: Mapping[str, Mapping[str, Any]]) -> None:
        with self._lock:
            for doc_id, doc in docs.items():
                self._docs[doc_id] = (seq, dict(doc))
                for key in doc.get("dedupe_keys") or ():
                    self._keys.setdefault(key, set()).add(doc_id)

    def release(self, seq: int) -> None:
        """Forget the documents whose latest batch ``seq`` was written (or journaled)."""
        with self._lock:
            for doc_id in [i for i, (s, _) in self._docs.items() if s == seq]:
                _, doc = self._docs.pop(doc_id)
                for key in doc.get("dedupe_keys") or ():
                    holders = self._keys.get(key)
                    if holders is not None:
                        holders.discard(doc_id)
                        if not holders:
                            del self._keys[key]

    def match(self, ids: Iterable[str], keys: Iterable[int]) -> dict[str, dict[str, Any]]:
        with self._lock:
            wanted = {i for i in ids if i in self._docs}
            for key in keys:
                wanted |= self._keys.get(key, set())
            return {i: dict(self._docs[i][1]) for i in wanted if i in self._docs}


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def article_signer(num_perm: int, shingle_size: int, threshold: float) -> Signer:
    """The Signer of article documents (title, a newline, body)."""
    return Signer(num_perm, shingle_size, threshold, "a")


class Deduper:
    """Decides batches of article / snippet documents against the store (worker thread only)."""

    def __init__(self, config: DedupeConfig) -> None:
        self.config = config
        self.articles = article_signer(*config.article_signing)
        # Snippet corrections are judged on containment (a sentence added halves the Jaccard of a
        # short text), so their LSH bands are cut for Jaccard 0.5 and checked by containment.
        self.snippets = Signer(config.num_perm, 2, 0.5, "s")

    # --- shared -----------------------------------------------------------------------------

    def _candidates(self, store: Store, collection: str, docs: list[dict[str, Any]],
                    fields: Sequence[str], pending: PendingDocs | None,
                    plan: BatchPlan) -> dict[str, dict[str, Any]]:
        """Stored documents sharing an id or key with the batch, and the pending ones (decided
        in an earlier batch, not yet written: they are newer than what the store holds).

        Keys are looked up only for the documents not found under their own ``_id``: one found
        is decided against that document alone (unchanged or a revision of it), so its keys
        could only bring candidates no decision reads. On a crawl most items are such repeats
        (the News Feed widget shows the same snippets on every page): their ~40 keys each
        were most of the lookup.
        """
        ids = [d["_id"] for d in docs]
        found = {d["_id"]: d for d in store.find_candidates(collection, ids, [], fields=fields)}
        mine = pending.match(ids, ()) if pending is not None else {}
        keys = [k for d in docs if d["_id"] not in found and d["_id"] not in mine for k in d["dedupe_keys"]]
        if keys:
            found.update((d["_id"], d) for d in store.find_candidates(collection, [], keys, fields=fields))
            if pending is not None:
                mine.update(pending.match((), keys))
        if pending is not None:
            plan.uses_pending = bool(mine)
            found.update(mine)
        return found

    @staticmethod
    def _index(docs: Iterable[Mapping[str, Any]]) -> dict[int, set[str]]:
        index: dict[int, set[str]] = {}
        for doc in docs:
            for key in doc.get("dedupe_keys") or ():
                index.setdefault(key, set()).add(doc["_id"])
        return index

    # --- articles ---------------------------------------------------------------------------

    @staticmethod
    def article_similarity(a: np.ndarray, size_a: Any, b: np.ndarray | None, size_b: Any) -> float:
        """Containment of the smaller shingle set in the other when the two overlap enough to
        be versions of one text (Jaccard >= 0.5), else the Jaccard estimate: an added paragraph
        or an edited sentence costs little, a paragraph quoted in another story does not merge."""
        jaccard = Signer.similarity(a, b)
        if jaccard < 0.5:
            return jaccard
        return Signer.containment(a, size_a, b, size_b)

    def prepare_article(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Add ``minhash``, ``dedupe_keys``, ``revision``, ``updated_at``, ``aliases``."""
        signed = doc.pop(SIGNED, None)  # the extraction worker's, for this title and body
        if signed is None:
            signed = self.articles.sign(f"{doc.get('title') or ''}\n{doc.get('body') or ''}")
        doc["minhash"], doc["shingles"], bands = signed
        doc["dedupe_keys"] = [hash_key(doc.get("content_hash") or ""), *bands]
        doc.setdefault("revision", 1)
        doc.setdefault("updated_at", doc.get("fetched_at"))
        doc.setdefault("aliases", [])
        return doc

    def decide_articles(self, store: Store, docs: Sequence[Mapping[str, Any]],
                        pending: PendingDocs | None = None) -> BatchPlan:
        """Decide each article of a batch; earlier items of the batch (and ``pending``
        documents of earlier batches) count as stored."""
        plan = BatchPlan()
        items = [self.prepare_article(dict(d)) for d in docs]
        lookups = [dict(d, dedupe_keys=[*d["dedupe_keys"], url_key(d["url"])]) for d in items]
        state = self._candidates(store, "articles", lookups, _ARTICLE_FIELDS, pending, plan)
        stored = set(state)
        index = self._index(state.values())
        bodies: dict[str, tuple[str, str]] = {}
        threshold = self.config.near_threshold
        for doc in items:
            replayed = bool(doc.pop(REPLAYED, False))
            seen = _aware(doc.get("fetched_at")) or datetime.now(UTC)
            signature = Signer.decode(doc["minhash"])
            assert signature is not None
            target: dict[str, Any] | None = state.get(doc["_id"])
            decision = ""
            if target is None:
                alias_of = index.get(url_key(doc["url"]), set())
                target = next((state[i] for i in sorted(alias_of)), None)
                if target is not None and target.get("content_hash") == doc.get("content_hash"):
                    decision = "unchanged"
                elif target is not None:
                    target = None  # an alias page that changed: judged on its content below
            elif target.get("content_hash") == doc.get("content_hash"):
                decision = "unchanged"
            else:
                decision = "revision"
            similarity = 1.0
            if not decision:
                exact = index.get(doc["dedupe_keys"][0], set())
                if exact:
                    target, decision = state[sorted(exact)[0]], "exact_duplicate"
                else:
                    best, best_id = 0.0, None
                    for cand_id in sorted({i for k in doc["dedupe_keys"][1:] for i in index.get(k, ())}):
                        cand = state[cand_id]
                        score = self.article_similarity(signature, doc["shingles"],
                                                        Signer.decode(cand.get("minhash")), cand.get("shingles"))
                        if score > best:
                            best, best_id = score, cand_id
                    if best_id is not None and best >= threshold:
                        target, similarity = state[best_id], best
                        decision = "revision" if target.get("site") == doc.get("site") else "near_duplicate"
            plan.decisions[decision or "new"] += 1
            if not decision:
                state[doc["_id"]] = doc
                plan.upserts.append(doc)
                plan.outcomes.append(("new", doc["_id"]))
                plan.item_upserts.append(doc)
                plan.touched[doc["_id"]] = doc
                bodies[doc["_id"]] = (doc.get("title") or "", doc.get("body") or "")
                for key in doc["dedupe_keys"]:
                    index.setdefault(key, set()).add(doc["_id"])
                continue
            assert target is not None
            upsert: dict[str, Any] | None
            if decision == "unchanged":
                if target["_id"] in stored and not target.get("minhash"):
                    # Stored before dedupe existed: give it its signature and keys now.
                    plan.updates.setdefault(target["_id"], {}).update(
                        minhash=doc["minhash"], dedupe_keys=doc["dedupe_keys"],
                        revision=target.get("revision") or 1, aliases=target.get("aliases") or [])
                    target.update(minhash=doc["minhash"], dedupe_keys=doc["dedupe_keys"])
                filled = self._fill(plan, target, doc, stored)
                last = _aware(target.get("last_seen"))
                # A replayed sighting no newer than the stored one was counted already (a
                # journal replayed twice): it writes nothing.
                counted = replayed and last is not None and seen <= last
                upsert = None if counted and not filled else self._touch(target, seen)
            elif decision in ("exact_duplicate", "near_duplicate"):
                self._add_alias(plan, target, doc, decision, similarity, seen, stored, index)
                upsert = self._touch(target, seen)
            else:
                upsert = self._revise(plan, store, target, doc, seen, stored, index, bodies)
            if upsert is not None:
                plan.upserts.append(upsert)
            plan.outcomes.append((decision, target["_id"]))
            plan.item_upserts.append(upsert if decision == "revision" else None)
            plan.touched[target["_id"]] = target
        return plan

    # Fields a later sighting may fill when the stored document lacks them (a feed link names no
    # section, a listing does); never overwritten once set, so an unchanged page stays unchanged.
    _FILLABLE = ("section", "authors", "published", "summary", "image_url", "language")

    def _fill(self, plan: BatchPlan, target: dict[str, Any], doc: Mapping[str, Any],
              stored: set[str]) -> dict[str, Any]:
        fill = {name: doc[name] for name in self._FILLABLE
                if name in target and not target.get(name) and doc.get(name)}
        if fill:
            target.update(fill)
            if target["_id"] in stored:
                plan.updates.setdefault(target["_id"], {}).update(fill)
        return fill

    @staticmethod
    def _touch(target: Mapping[str, Any], seen: datetime) -> dict[str, Any]:
        """A document that only moves ``last_seen``/``times_seen`` of ``target`` (same hash)."""
        return {"_id": target["_id"], "url": target.get("url"),
                "content_hash": target.get("content_hash"), "fetched_at": seen}

    def _add_alias(self, plan: BatchPlan, target: dict[str, Any], doc: Mapping[str, Any],
                   kind: str, similarity: float, seen: datetime, stored: set[str],
                   index: dict[int, set[str]]) -> None:
        aliases = list(target.get("aliases") or [])
        if doc["url"] == target.get("url") or any(a.get("url") == doc["url"] for a in aliases):
            return
        if len(aliases) >= self.config.aliases_max:
            return
        keys = [*(target.get("dedupe_keys") or []), url_key(doc["url"])]
        fields: dict[str, Any] = {}
        mine, theirs = _aware(doc.get("published")), _aware(target.get("published"))
        if mine is not None and theirs is not None and mine < theirs:
            # The newcomer is where the story was first published: the document takes its URL
            # (and site) and keeps the copy it was first found under as the alias.
            aliases.append({"url": target.get("url"), "site": target.get("site"),
                            "kind": kind.removesuffix("_duplicate"), "similarity": round(similarity, 3),
                            "first_seen": _aware(target.get("first_seen")) or seen})
            fields = {"url": doc["url"], "site": doc.get("site"), "fetched_url": doc.get("fetched_url"),
                      "published": doc.get("published")}
        else:
            aliases.append({"url": doc["url"], "site": doc.get("site"), "kind": kind.removesuffix("_duplicate"),
                            "similarity": round(similarity, 3), "first_seen": seen})
        target["aliases"], target["dedupe_keys"] = aliases, keys
        target.update(fields)
        index.setdefault(url_key(doc["url"]), set()).add(target["_id"])
        if target["_id"] in stored:
            plan.updates.setdefault(target["_id"], {}).update(aliases=aliases, dedupe_keys=keys, **fields)

    def _revise(self, plan: BatchPlan, store: Store, target: dict[str, Any], doc: dict[str, Any],
                seen: datetime, stored: set[str], index: dict[int, set[str]],
                bodies: dict[str, tuple[str, str]]) -> dict[str, Any]:
        """The revision's upsert; the previous version goes to ``plan.revisions``."""
        target_id = target["_id"]
        if target_id not in bodies and "body" in target:  # a pending document holds its body
            bodies[target_id] = (target.get("title") or "", target.get("body") or "")
        if target_id not in bodies:
            full = store.find_candidates("articles", [target_id], [], fields=("title", "body"))
            bodies[target_id] = ((full[0].get("title") or "", full[0].get("body") or "")
                                 if full else ("", ""))
        old_title, old_body = bodies[target_id]
        old_revision = int(target.get("revision") or 1)
        plan.revisions.append({
            "_id": f"{target_id}:{old_revision}",
            "article_id": target_id,
            "revision": old_revision,
            "url": target.get("url"),
            "fetched_url": doc.get("fetched_url"),
            "title": old_title,
            "body": old_body,
            "content_hash": target.get("content_hash"),
            "valid_from": _aware(target.get("updated_at")) or _aware(target.get("first_seen")),
            "replaced_at": seen,
            "changes": diff_versions(old_title, old_body, doc.get("title") or "", doc.get("body") or ""),
        })
        plan.prune[target_id] = old_revision + 1 - self.config.revisions_max
        aliases = list(target.get("aliases") or [])
        keys = [k for k in doc["dedupe_keys"]] + [url_key(a["url"]) for a in aliases if a.get("url")]
        if doc["url"] != target.get("url") and not any(a.get("url") == doc["url"] for a in aliases):
            aliases.append({"url": doc["url"], "site": doc.get("site"), "kind": "revision",
                            "similarity": 1.0, "first_seen": seen})
            keys.append(url_key(doc["url"]))
        new = dict(doc, _id=target_id, url=target.get("url") or doc["url"], revision=old_revision + 1,
                   updated_at=seen, aliases=aliases, dedupe_keys=keys)
        for key in target.get("dedupe_keys") or ():
            index.get(key, set()).discard(target_id)
        for key in keys:
            index.setdefault(key, set()).add(target_id)
        target.clear()
        target.update(new)
        bodies[target_id] = (doc.get("title") or "", doc.get("body") or "")
        if target_id in stored:
            plan.updates.pop(target_id, None)  # the upsert sets every field
        return dict(new)

    # --- snippets ---------------------------------------------------------------------------

    def prepare_snippet(self, doc: dict[str, Any]) -> dict[str, Any]:
        text = f"{doc.get('headline') or ''}\n{doc.get('text') or ''}"
        doc["minhash"], doc["shingles"], bands = self.snippets.sign(text)
        doc["dedupe_keys"] = [hash_key(doc["_id"]), *bands]
        doc.setdefault("revision", 1)
        doc.setdefault("updated_at", doc.get("fetched_at"))
        return doc

    def decide_snippets(self, store: Store, docs: Sequence[Mapping[str, Any]],
                        pending: PendingDocs | None = None) -> BatchPlan:
        """Decide each snippet of a batch: seen again, corrected (near, same site, in the time
        window) or new."""
        plan = BatchPlan()
        items = [self.prepare_snippet(dict(d)) for d in docs]
        state = self._candidates(store, "feed_snippets", items, _SNIPPET_FIELDS, pending, plan)
        stored = set(state)
        index = self._index(state.values())
        window = timedelta(hours=self.config.snippet_window_hours)
        for doc in items:
            replayed = bool(doc.pop(REPLAYED, False))
            seen = _aware(doc.get("fetched_at")) or datetime.now(UTC)
            target = state.get(doc["_id"])
            if target is None:
                same = index.get(doc["dedupe_keys"][0], set())
                target = state[sorted(same)[0]] if same else None
            if target is not None:
                plan.decisions["unchanged"] += 1
                last = _aware(target.get("last_seen"))
                pages = set(target.get("seen_on") or ()) if "seen_on" in target else None
                counted = (replayed and last is not None and seen <= last and pages is not None
                           and set(doc.get("seen_on") or ()) <= pages)
                if not counted:  # a replayed sighting no newer than the stored one counts once
                    plan.upserts.append(dict(doc, _id=target["_id"]))
                plan.outcomes.append(("unchanged", target["_id"]))
                plan.item_upserts.append(None)
                plan.touched[target["_id"]] = target
                continue
            signature = Signer.decode(doc["minhash"])
            assert signature is not None
            best, best_id = 0.0, None
            published = _aware(doc.get("published"))
            for cand_id in sorted({i for k in doc["dedupe_keys"][1:] for i in index.get(k, ())}):
                cand = state[cand_id]
                if cand.get("site") != doc.get("site"):
                    continue
                other = _aware(cand.get("published"))
                if published and other and abs(published - other) > window:
                    continue
                if not same_facts(f"{doc.get('headline')} {doc.get('text')}",
                                  f"{cand.get('headline')} {cand.get('text')}"):
                    continue
                score = Signer.containment(signature, doc["shingles"], Signer.decode(cand.get("minhash")),
                                           cand.get("shingles"))
                if score > best:
                    best, best_id = score, cand_id
            if best_id is None or best < self.config.snippet_threshold:
                plan.decisions["new"] += 1
                state[doc["_id"]] = doc
                plan.upserts.append(doc)
                plan.outcomes.append(("new", doc["_id"]))
                plan.item_upserts.append(doc)
                plan.touched[doc["_id"]] = doc
                for key in doc["dedupe_keys"]:
                    index.setdefault(key, set()).add(doc["_id"])
                continue
            plan.decisions["revision"] += 1
            target = state[best_id]
            versions = list(target.get("versions") or [])
            versions.append({"headline": target.get("headline"), "text": target.get("text"),
                             "replaced_at": seen})
            versions = versions[-self.config.revisions_max :]
            # Earlier texts stay findable by their fingerprints (a stale page shows them).
            old_signature = Signer.decode(target.get("minhash"))
            old_bands = set(self.snippets.band_keys(old_signature)) if old_signature is not None else set()
            old_hashes = [k for k in target.get("dedupe_keys") or () if k not in old_bands]
            keys = list(dict.fromkeys([*doc["dedupe_keys"], hash_key(best_id), *old_hashes]))
            fields = {"headline": doc.get("headline"), "text": doc.get("text"),
                      "revision": int(target.get("revision") or 1) + 1, "updated_at": seen,
                      "versions": versions, "minhash": doc["minhash"], "dedupe_keys": keys,
                      "shingles": doc["shingles"]}
            if doc.get("url") and not target.get("url"):
                fields["url"] = doc["url"]
            target.update(fields)
            for key in keys:
                index.setdefault(key, set()).add(best_id)
            if best_id in stored:
                plan.updates.setdefault(best_id, {}).update(fields)
            plan.upserts.append(dict(doc, _id=best_id))
            plan.outcomes.append(("revision", best_id))
            plan.item_upserts.append(None)
            plan.touched[best_id] = target
        return plan


def apply_plan(store: Store, collection: str, plan: BatchPlan) -> WriteSummary:
    """Write a decided batch: upserts, field updates, then revisions and their pruning."""
    upsert = store.upsert_articles if collection == "articles" else store.upsert_snippets
    summary = upsert(plan.upserts)
    if plan.updates:
        result = store.update_fields(collection, list(plan.updates.items()))
        summary.failed += result.failed
        summary.errors.extend(result.errors)
    if plan.revisions:
        result = store.insert_documents("article_revisions", plan.revisions)
        for doc_id, message in result.errors:
            # A journal replayed twice offers the same revision again: already kept.
            level = logging.DEBUG if message == "duplicate _id" else logging.WARNING
            logger.log(level, "Could not keep revision %s: %s", doc_id, message)
        for article_id, below in plan.prune.items():
            if below > 1:
                store.delete("article_revisions", {"article_id": article_id, "revision": {"$lt": below}})
    return summary
