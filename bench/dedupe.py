"""Dedupe benchmark: decision quality on a corpus of known structure, and per-item cost as the
store grows to 10k, 100k and 1M documents (printed figures, not a timed test).

    .venv/bin/python bench/dedupe.py [--sizes 10000,100000,1000000] [--probes 1000] [--dir DIR]

1. Quality: ``--stories`` distinct stories (grouped by topic, so same-topic stories share
   vocabulary) are stored through the real path (``Deduper`` + ``apply_plan`` into the embedded
   store, batches of 200). Then probes are decided: exact copies under other URLs, near copies
   from another site (a sentence edited, a paragraph added, the headline changed, or two of
   these) and new distinct stories on the same topics. Precision and recall of the duplicate
   decisions are printed.
2. Scale: the store is filled with filler documents whose signatures and band keys are
   bulk-loaded straight into the SQLite tables (random signatures, i.e. distinct stories), up to
   each size; at each size the same probes are decided (read-only: ``decide_articles``, in
   batches of 100, two candidate queries per batch: ids, then keys) and the per-item cost is printed with the
   process's peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# Run as a script, bench/ would come first on sys.path and its modules could shadow packages
# (e.g. bench/incremental.py vs Twisted's "incremental"): put the project root there instead.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from crawler.extraction import content_hash  # noqa: E402
from pipelines.dedupe import DedupeConfig, Deduper, Signer, apply_plan, hash_key  # noqa: E402
from pipelines.storage import SqliteStore  # noqa: E402
from pipelines.store import article_id  # noqa: E402

TOPICS = {
    "attack": "missile drone attack overnight air defense shot down debris district injured rescue "
              "Kyiv Kharkiv Odesa oblast governor explosions shelter energy facility damaged".split(),
    "aid": "aid package military assistance partners billion weapons deliveries Pentagon Brussels "
           "minister announced support artillery ammunition tanks ceremony signed".split(),
    "energy": "power outages grid substation Ukrenergo blackout repair engineers winter heating "
              "generation imports consumption schedule restored thermal plant".split(),
    "economy": "budget inflation central bank hryvnia growth exports grain corridor tax revenue "
               "investors bonds debt restructuring forecast ministry finance".split(),
}
COMMON = ("the a of in on and to said was were has have by for with at from that it as "
          "officials according reported statement on Monday Tuesday after during while").split()


def _sentence(rng: random.Random, topic: list[str]) -> str:
    words = [rng.choice(topic) if rng.random() < 0.45 else rng.choice(COMMON) for _ in range(rng.randint(12, 24))]
    words.insert(rng.randint(0, len(words)), str(rng.randint(2, 900)))
    return " ".join(words).capitalize() + "."


def _story(rng: random.Random, topic: list[str]) -> tuple[str, list[str]]:
    title = " ".join(rng.choice(topic) for _ in range(7)).capitalize()
    paragraphs = [" ".join(_sentence(rng, topic) for _ in range(rng.randint(2, 4)))
                  for _ in range(rng.randint(6, 10))]
    return title, paragraphs


def _near(rng: random.Random, topic: list[str], title: str, paras: list[str]) -> tuple[str, list[str], str]:
    paras = list(paras)
    kinds = rng.choice([["edit"], ["add"], ["headline"], ["edit", "headline"], ["edit", "add"]])
    for kind in kinds:
        if kind == "edit":
            i = rng.randrange(len(paras))
            sentences = paras[i].split(". ")
            sentences[rng.randrange(len(sentences))] = _sentence(rng, topic).rstrip(".")
            paras[i] = ". ".join(sentences)
        elif kind == "add":
            paras.insert(rng.randint(0, len(paras)), _sentence(rng, topic))
        else:
            title = " ".join(rng.choice(topic) for _ in range(7)).capitalize()
    return title, paras, "+".join(kinds)


def _doc(url: str, site: str, title: str, paras: list[str]) -> dict:
    body = "\n\n".join(paras)
    return {"_id": article_id(url), "url": url, "fetched_url": url, "site": site, "title": title,
            "body": body, "content_hash": content_hash(title, body), "schema_version": 1,
            "fetched_at": None}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    """Resident memory now (Linux /proc), to see what the decision phase itself adds."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def build(stories: int, probes: int, seed: int = 42):
    rng = random.Random(seed)
    topics = list(TOPICS)
    base, probe = [], []
    for n in range(stories):
        topic = topics[n % len(topics)]
        title, paras = _story(rng, TOPICS[topic])
        base.append((topic, _doc(f"https://origin.test/{topic}/story-{n}/", "origin", title, paras)))
    for n in range(probes):
        topic, doc = base[rng.randrange(len(base))]
        paras = doc["body"].split("\n\n")
        kind = ("exact", "near", "distinct")[n % 3]
        url = f"https://mirror.test/{topic}/copy-{n}/"
        if kind == "exact":
            probe.append(("exact", "exact", _doc(url, "mirror", doc["title"], paras)))
        elif kind == "near":
            title, near, how = _near(rng, TOPICS[topic], doc["title"], paras)
            probe.append(("near", how, _doc(url, "mirror", title, near)))
        else:
            title, fresh = _story(rng, TOPICS[topic])
            probe.append(("distinct", "distinct", _doc(url, "mirror", title, fresh)))
    return base, probe


def decide(deduper: Deduper, store: SqliteStore, probe: list, batch: int = 100) -> tuple[list[str], float]:
    from collections import Counter

    decisions: list[str] = []
    started = time.perf_counter()
    for start in range(0, len(probe), batch):
        chunk = [dict(p[2]) for p in probe[start : start + batch]]
        for doc in chunk:
            plan = deduper.decide_articles(store, [doc])  # one item per decision: no batch help
            decisions.append(next(iter(Counter(plan.decisions))))
    return decisions, (time.perf_counter() - started) * 1000 / len(probe)


def quality(probe: list, decisions: list[str]) -> None:
    truth = [p[0] for p in probe]
    dup_pred = [d in ("exact_duplicate", "near_duplicate", "revision") for d in decisions]
    dup_true = [t in ("exact", "near") for t in truth]
    tp = sum(p and t for p, t in zip(dup_pred, dup_true))
    fp = sum(p and not t for p, t in zip(dup_pred, dup_true))
    fn = sum(t and not p for p, t in zip(dup_pred, dup_true))
    near_idx = [i for i, t in enumerate(truth) if t == "near"]
    near_hit = sum(decisions[i] == "near_duplicate" for i in near_idx)
    exact_idx = [i for i, t in enumerate(truth) if t == "exact"]
    exact_hit = sum(decisions[i] == "exact_duplicate" for i in exact_idx)
    distinct_idx = [i for i, t in enumerate(truth) if t == "distinct"]
    merged = sum(decisions[i] != "new" for i in distinct_idx)
    print(f"  duplicates (exact+near): precision {tp / max(tp + fp, 1):.4f}  recall {tp / max(tp + fn, 1):.4f}")
    print(f"  near copies: recall {near_hit / max(len(near_idx), 1):.4f} ({near_hit}/{len(near_idx)}); "
          f"precision {near_hit / max(sum(d == 'near_duplicate' for d in decisions), 1):.4f}")
    print(f"  exact copies: {exact_hit}/{len(exact_idx)} found; distinct same-topic stories merged: "
          f"{merged}/{len(distinct_idx)}")
    by_kind: dict[str, list[int]] = {}
    for (_, how, _), d in zip(probe, decisions):
        if how not in ("exact", "distinct"):
            by_kind.setdefault(how, [0, 0])[0] += d == "near_duplicate"
            by_kind[how][1] += 1
    print("  near recall by edit: " + ", ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(by_kind.items())))


def fill(path: Path, deduper: Deduper, start: int, stop: int, seed: int) -> None:
    """Bulk-load filler documents [start, stop) straight into the SQLite tables."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    rng = np.random.default_rng(seed + start)
    signer = deduper.articles
    chunk = 20_000
    for lo in range(start, stop, chunk):
        hi = min(stop, lo + chunk)
        sigs = rng.integers(0, 2**32, size=(hi - lo, signer.num_perm), dtype=np.uint32)
        rows, keys = [], []
        for n, sig in zip(range(lo, hi), sigs):
            url = f"https://filler.test/story-{n}/"
            doc_id = article_id(url)
            chash = hashlib.sha256(url.encode()).hexdigest()
            dk = [hash_key(chash), *signer.band_keys(sig)]
            rows.append((doc_id, json.dumps({"url": url, "site": "filler", "content_hash": chash,
                                             "minhash": Signer.encode(sig), "dedupe_keys": dk,
                                             "revision": 1, "aliases": [], "shingles": 400}, separators=(",", ":"))))
            keys.extend(("articles", k, doc_id) for k in dk)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO articles (_id, doc) VALUES (?, ?)", rows)
        conn.executemany("INSERT OR IGNORE INTO dedupe_keys (coll, key, _id) VALUES (?, ?, ?)", keys)
        conn.execute("COMMIT")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--stories", type=int, default=5000, help="stored stories of known structure")
    parser.add_argument("--probes", type=int, default=1500)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="newsmon-bench-"))
    path = workdir / "newsmon.sqlite3"
    from scrapy.settings import Settings

    config = DedupeConfig.from_settings(Settings())  # crawler/settings.py's defaults
    deduper = Deduper(config)
    print(f"dedupe bench: threshold {config.near_threshold}, {config.num_perm} permutations, "
          f"{deduper.articles.bands} bands x {deduper.articles.rows} rows, {config.shingle_size}-word shingles")
    base, probe = build(args.stories, args.probes)
    store = SqliteStore(path)
    store.open()
    started = time.perf_counter()
    for start in range(0, len(base), 200):
        apply_plan(store, "articles", deduper.decide_articles(store, [d for _, d in base[start : start + 200]]))
    per_store = (time.perf_counter() - started) * 1000 / len(base)
    print(f"stored {len(base)} stories through the pipeline path: {per_store:.2f} ms/item "
          f"(decide + write, batches of 200)")
    stored = len(base)
    # Peak RSS includes the bulk loader that fills the store; "decide +MB" is what deciding the
    # probes at that size added to resident memory (the decision path's own footprint).
    print(f"{'stored docs':>12} {'ms/item':>8} {'peak RSS MB':>12} {'decide +MB':>11}")
    for size in sizes:
        if size > stored:
            store.close()
            fill(path, deduper, stored, size, seed=7)
            stored = size
            store = SqliteStore(path)
            store.open()
        decide(deduper, store, probe[:50])  # warm the page cache
        before = _current_rss_mb()
        decisions, ms = decide(deduper, store, probe)
        print(f"{stored:>12} {ms:>8.2f} {_rss_mb():>12.0f} {_current_rss_mb() - before:>11.1f}")
        if size == sizes[0]:
            quality(probe, decisions)
    store.close()
    if args.dir:
        print(f"data: {workdir}")
    else:
        import shutil

        shutil.rmtree(workdir)  # a 1M-document store is ~2.4 GB


if __name__ == "__main__":
    main()
