"""Topic matching: quality on the labeled sets, and throughput with the full gazetteer compiled in.

Quality goes through ``crawler.topics.cli.topics_test`` -- the code path of ``newsmon topics
test`` -- and reports precision and recall per topic and language, and per class where a set
labels classes. The sets (``bench/data/``):

- ``topics_dev.jsonl``: 618 en/uk/ru news items written for issue 16 to the Central Asia
  definition, with the hard classes (places below the capitals, people below the heads of state,
  organisations, inflected forms; businesses, historical titles, foreign places, products, the
  "Astana format", birthplaces, shared surnames) in each language;
- ``topics_fresh.jsonl``: 90 items written after the rules were frozen and not tuned on;
- ``topics_labeled.jsonl``: the first 302 items, kept as a regression set;
- ``topics_black_sea.jsonl``: the "Black Sea shipping and ports" topic's own small set.

Throughput: documents/s on one core for article-sized documents, with the shipped topics alone
and with synthetic topics added to pass 1,000 and 5,000 more terms. ``--baseline REF`` runs the
same measurements on the code and topic files of a git revision (e.g. ``main``) in the same run,
so the two figures are comparable:

    .venv/bin/python bench/topics.py [--docs 2000] [--repeat 3] [--baseline main] [--errors]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
SETS = {"dev": "topics_dev.jsonl", "fresh": "topics_fresh.jsonl", "regression": "topics_labeled.jsonl",
        "black-sea": "topics_black_sea.jsonl"}
BLACK_SEA = ROOT / "crawler" / "topics" / "black-sea-shipping.toml"


def _import(code: Path):  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(code))
    from crawler.topics.cli import topics_test
    from crawler.topics.config import Term, load_topics
    from crawler.topics.matcher import TopicMatcher

    return topics_test, Term, load_topics, TopicMatcher


def quality(code: Path, name: str, topics_file: str | None, show_errors: bool) -> None:
    topics_test, *_ = _import(code)
    path = DATA / SETS[name]
    out = io.StringIO()
    with path.open(encoding="utf-8") as fh:
        topics_test(fh, out, topics_file)
    stats: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp fp fn n
    errors = []
    slugs: set[str] = set()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    for rec in records:
        slugs |= set(rec["labels"])
    for rec in records:
        got = {t["slug"] for t in rec["topics"]} & slugs
        want = set(rec["labels"])
        for slug in slugs:
            keys = [rec["lang"], "all"] + ([f"{rec['lang']}:{rec['class']}"] if "class" in rec else [])
            for key in keys:
                s = stats[(slug, key)]
                s[3] += 1
                if slug in got and slug in want:
                    s[0] += 1
                elif slug in got:
                    s[1] += 1
                elif slug in want:
                    s[2] += 1
            if (slug in got) != (slug in want):
                errors.append((rec["id"], rec.get("class", ""), "FP" if slug in got else "FN", rec["title"],
                               [(t["slug"], t["terms"]) for t in rec["topics"]]))
    print(f"\nQuality on bench/data/{SETS[name]} ({len(records)} items, via topics_test):")
    print(f"{'topic':<18} {'lang/class':<22} {'items':>5} {'pos':>4} {'TP':>4} {'FP':>3} {'FN':>3} "
          f"{'precision':>9} {'recall':>7}")
    order = {"en": 0, "uk": 1, "ru": 2, "all": 9}
    for (slug, key), (tp, fp, fn, n) in sorted(
            stats.items(), key=lambda kv: (kv[0][0], ":" in kv[0][1], order.get(kv[0][1].split(":")[0], 5), kv[0][1])):
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        if ":" in key and tp + fn == 0:  # a class of negatives: precision and recall say nothing there
            print(f"{slug:<18} {key:<22} {n:>5} {0:>4} {tp:>4} {fp:>3} {fn:>3}   false alarms {fp}/{n}")
            continue
        print(f"{slug:<18} {key:<22} {n:>5} {tp + fn:>4} {tp:>4} {fp:>3} {fn:>3} {p:>9.3f} {r:>7.3f}")
    if show_errors:
        for e in errors:
            print("  ", *e)


def _documents(n: int, rng: random.Random) -> list[dict[str, str]]:
    words = ("the government said on Tuesday that talks with partners would continue next week while "
             "officials in the capital warned of further strikes on energy infrastructure and ports "
             "Україна уряд заявив переговори тривають Россия заявила что переговоры продолжатся").split()
    docs = []
    for i in range(n):
        body = " ".join(rng.choice(words) for _ in range(600))
        if i % 10 == 0:
            body += " Kazakhstan's President Tokayev met officials in Astana."
        docs.append({"title": " ".join(rng.choice(words) for _ in range(10)),
                     "lead": " ".join(rng.choice(words) for _ in range(30)), "body": body})
    return docs


def _synthetic_terms(term_class, count: int, rng: random.Random) -> tuple:  # type: ignore[no-untyped-def]
    letters = "abcdefghijklmnopqrstuvwxyz"
    cyr = "абвгдежзийклмнопрстуфхцчшщ"
    terms = []
    for i in range(count):
        alphabet = cyr if i % 3 == 0 else letters
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(5, 11)))
        if i % 7 == 0:
            name += " " + "".join(rng.choice(alphabet) for _ in range(6))
        terms.append(term_class(term=f"{name}{i}", weight=1.0, aliases=(f"{name}x{i}",)))
    return tuple(terms)


def throughput(code: Path, n_docs: int, repeat: int) -> None:
    _, Term, load_topics, TopicMatcher = _import(code)
    rng = random.Random(7)
    docs = _documents(n_docs, rng)
    chars = sum(len(d["title"]) + len(d["lead"]) + len(d["body"]) for d in docs) / len(docs)
    t0 = time.perf_counter()
    base = load_topics(None)
    load_s = time.perf_counter() - t0
    print(f"\nThroughput, one core, {n_docs} documents of ~{chars:.0f} characters (title, lead, body), "
          f"best of {repeat} passes; "
          f"loading the shipped topics took {load_s * 1000:.0f} ms:")
    for extra in (0, 1000, 5000):
        topics = list(base)
        if extra:
            topics.append(replace(base[0], slug="synthetic", terms=_synthetic_terms(Term, extra, rng),
                                  exclusions=()))
        t0 = time.perf_counter()
        matcher = TopicMatcher(topics)
        compile_s = time.perf_counter() - t0
        terms = sum(len(t.terms) for t in topics)
        elapsed = float("inf")
        for _ in range(repeat):  # the best of several passes: the machine is shared, noise only slows
            t0 = time.perf_counter()
            flagged = sum(1 for d in docs if matcher.flagged(d))
            elapsed = min(elapsed, time.perf_counter() - t0)
        print(f"  {terms:>5} terms / {matcher.spelling_count:>5} spellings and forms: {n_docs / elapsed:>7.0f} docs/s "
              f"({chars * n_docs / elapsed / 1e6:.1f} MB/s), compile {compile_s:.2f}s, flagged {flagged}")


def _baseline(ref: str, args: argparse.Namespace) -> None:
    """The same bench on the code and topic files of ``ref`` (its crawler/ tree, from git)."""
    with tempfile.TemporaryDirectory(prefix="bench-topics-") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "crawler"], check=True,
                                 capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", ref], check=True,
                             capture_output=True, text=True).stdout.strip()
        print(f"=== baseline: {ref} ({rev}) ===", flush=True)
        sets = ",".join(s for s in args.sets.split(",") if s in ("dev", "fresh", "regression"))
        cmd = [sys.executable, __file__, "--code", tmp, "--docs", str(args.docs), "--sets", sets,
               "--repeat", str(args.repeat)]
        subprocess.run(cmd + (["--errors"] if args.errors else []), check=True, env={**os.environ, "PYTHONPATH": tmp})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="passes per throughput figure (the best counts)")
    parser.add_argument("--errors", action="store_true", help="list misclassified items")
    parser.add_argument("--sets", default="dev,fresh,regression,black-sea", help="comma list of: " + ", ".join(SETS))
    parser.add_argument("--baseline", metavar="REF", help="also run on the code of this git revision (e.g. main)")
    parser.add_argument("--code", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        _baseline(args.baseline, args)
        print(f"\n=== this tree ({ROOT}) ===", flush=True)
    for name in filter(None, args.sets.split(",")):
        topics_file = str(BLACK_SEA) if name == "black-sea" else None
        quality(args.code, name, topics_file, args.errors)
    throughput(args.code, args.docs, args.repeat)


if __name__ == "__main__":
    main()
