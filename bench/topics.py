"""Topic matching: quality on the labeled set, and throughput with 1,000+ terms.

Quality goes through ``crawler.topics.cli.topics_test`` -- the code path of ``newsmon topics
test`` -- over ``bench/data/topics_labeled.jsonl`` (en/uk/ru headlines with a sentence or two,
labelled by the definition in crawler/topics/central-asia.toml), and reports precision and
recall per topic and language. Throughput: documents/s on one core for article-sized documents,
with the shipped topics alone and with synthetic topics added to pass 1,000 and 5,000 terms.

    .venv/bin/python bench/topics.py [--docs 2000]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.topics.cli import topics_test  # noqa: E402
from crawler.topics.config import Term, load_topics  # noqa: E402
from crawler.topics.matcher import TopicMatcher  # noqa: E402

DATA = ROOT / "bench" / "data" / "topics_labeled.jsonl"


def quality(show_errors: bool) -> None:
    out = io.StringIO()
    with DATA.open(encoding="utf-8") as fh:
        topics_test(fh, out, None)
    stats: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp fp fn n
    errors = []
    for line in out.getvalue().splitlines():
        rec = json.loads(line)
        got = {t["slug"] for t in rec["topics"]}
        want = set(rec["labels"])
        for slug in got | want | {"central-asia"}:
            for lang in (rec["lang"], "all"):
                s = stats[(slug, lang)]
                s[3] += 1
                if slug in got and slug in want:
                    s[0] += 1
                elif slug in got:
                    s[1] += 1
                elif slug in want:
                    s[2] += 1
            if (slug in got) != (slug in want):
                errors.append((rec["id"], "FP" if slug in got else "FN", rec["title"], rec["topics"]))
    print(f"Quality on {DATA.relative_to(ROOT)} (via topics_test):")
    print(f"{'topic':<14} {'lang':<4} {'items':>5} {'pos':>4} {'TP':>4} {'FP':>3} {'FN':>3} {'precision':>9} {'recall':>7}")
    for (slug, lang), (tp, fp, fn, n) in sorted(stats.items(), key=lambda kv: (kv[0][0], kv[0][1] == "all", kv[0][1])):
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        print(f"{slug:<14} {lang:<4} {n:>5} {tp + fn:>4} {tp:>4} {fp:>3} {fn:>3} {p:>9.3f} {r:>7.3f}")
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


def _synthetic_terms(count: int, rng: random.Random) -> tuple[Term, ...]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    cyr = "абвгдежзийклмнопрстуфхцчшщ"
    terms = []
    for i in range(count):
        alphabet = cyr if i % 3 == 0 else letters
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(5, 11)))
        if i % 7 == 0:
            name += " " + "".join(rng.choice(alphabet) for _ in range(6))
        terms.append(Term(term=f"{name}{i}", weight=1.0, aliases=(f"{name}x{i}",)))
    return tuple(terms)


def throughput(n_docs: int) -> None:
    rng = random.Random(7)
    docs = _documents(n_docs, rng)
    chars = sum(len(d["title"]) + len(d["lead"]) + len(d["body"]) for d in docs) / len(docs)
    base = load_topics(None)
    print(f"\nThroughput, one core, {n_docs} documents of ~{chars:.0f} characters (title, lead, body):")
    for extra in (0, 1000, 5000):
        topics = list(base)
        if extra:
            topics.append(replace(base[0], slug="synthetic", terms=_synthetic_terms(extra, rng), exclusions=()))
        t0 = time.perf_counter()
        matcher = TopicMatcher(topics)
        compile_s = time.perf_counter() - t0
        terms = sum(len(t.terms) for t in topics)
        t0 = time.perf_counter()
        flagged = sum(1 for d in docs if matcher.flagged(d))
        elapsed = time.perf_counter() - t0
        print(f"  {terms:>5} terms / {matcher.spelling_count:>5} spellings: {n_docs / elapsed:>7.0f} docs/s "
              f"({chars * n_docs / elapsed / 1e6:.1f} MB/s), compile {compile_s:.2f}s, flagged {flagged}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--errors", action="store_true", help="list misclassified items")
    args = parser.parse_args()
    quality(args.errors)
    throughput(args.docs)


if __name__ == "__main__":
    main()
