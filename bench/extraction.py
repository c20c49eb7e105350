"""Benchmark article-body extraction on the shared dev set (printed figures, not a test).

Scores newsmon's ``extract_article`` beside trafilatura, readability-lxml and newspaper4k on
``../shared/data/extraction-dev/`` with the metric its README gives (overlapping 4-word chunks,
per-page precision and recall averaged over pages, F1 of the two means), and times each
extractor call (median ms per page, same run, same process).

    .venv/bin/python bench/extraction.py                 # the table
    .venv/bin/python bench/extraction.py --halves        # plus a held-out split by publisher
    .venv/bin/python bench/extraction.py --only newsmon --pages   # per-page figures

Every extractor receives the page as fetched (bytes, gzip removed); readability-lxml and
newspaper4k, which want text, get it decoded as UTF-8 (all dev pages are UTF-8) outside the
timed call.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere

__all__ = ["Page", "Score", "chunks", "load_pages", "main", "score"]

DEV = ROOT.parent / "shared" / "data" / "extraction-dev"
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Page:
    """One dev-set page: its file name, publisher, URL, raw bytes and ground-truth body."""

    name: str
    publisher: str
    url: str
    html: bytes
    truth: str


@dataclass(frozen=True)
class Score:
    """Mean precision, mean recall and F1 of those means over a set of pages."""

    precision: float
    recall: float
    n: int

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def chunks(text: str) -> Counter[str]:
    """Multiset of overlapping 4-word chunks (``\\w+`` words, case kept); 1–3 words: one chunk."""
    words = _WORD.findall(text or "")
    if not words:
        return Counter()
    if len(words) < 4:
        return Counter([" ".join(words)])
    return Counter(" ".join(words[i:i + 4]) for i in range(len(words) - 3))


def page_pr(prediction: str, truth: str) -> tuple[float | None, float]:
    """(precision or None for an empty prediction, recall) of one page.

    The README divides TP, FP and FN by TP+FP+FN so that each page weighs the same; that
    factor cancels in TP/(TP+FP) and TP/(TP+FN), so the ratios are taken directly.
    """
    pred, gold = chunks(prediction), chunks(truth)
    tp = sum((pred & gold).values())
    n_pred, n_gold = sum(pred.values()), sum(gold.values())
    precision = tp / n_pred if n_pred else None
    recall = tp / n_gold if n_gold else 0.0
    return precision, recall


def score(results: Sequence[tuple[float | None, float]]) -> Score:
    """Aggregate per-page (precision, recall): precision over non-empty predictions only."""
    precisions = [p for p, _ in results if p is not None]
    recalls = [r for _, r in results]
    return Score(statistics.fmean(precisions) if precisions else 0.0,
                 statistics.fmean(recalls) if recalls else 0.0, len(results))


def load_pages(data_dir: Path = DEV) -> list[Page]:
    """All pages of the dev set, sorted by file name."""
    truth = json.loads((data_dir / "ground_truth.json").read_text(encoding="utf-8"))
    pages = []
    for path in sorted((data_dir / "html").glob("*.html.gz")):
        entry = truth[path.name]
        pages.append(Page(path.name, path.name.rsplit("_", 1)[0], entry["url"],
                          gzip.decompress(path.read_bytes()), "\n".join(entry["body"])))
    return pages


# ------------------------------------------------------------------------------ extractors
Extractor = Callable[[Page], str]


def _newsmon() -> Extractor:
    from crawler.extraction import extract_article

    return lambda page: extract_article(page.html, page.url)["body"]


def _trafilatura() -> Extractor:
    import trafilatura

    return lambda page: trafilatura.extract(page.html, url=page.url) or ""


def _readability() -> Extractor:
    from lxml.html import fromstring
    from readability import Document

    def run(page: Page) -> str:
        summary = Document(page.html.decode("utf-8", "replace"), url=page.url).summary(html_partial=True)
        return "\n".join(t.strip() for t in fromstring(summary).itertext() if t.strip())

    return run


def _newspaper() -> Extractor:
    from newspaper import Article  # newspaper4k; only its parser is used, never nlp()

    def run(page: Page) -> str:
        article = Article(page.url, fetch_images=False)
        article.download(input_html=page.html.decode("utf-8", "replace"))
        article.parse()
        return article.text or ""

    return run


EXTRACTORS: dict[str, tuple[str, Callable[[], Extractor]]] = {
    "newsmon": ("newsmon (crawler.extraction)", _newsmon),
    "trafilatura": ("trafilatura {v} (default settings)", _trafilatura),
    "readability": ("readability-lxml {v}", _readability),
    "newspaper": ("newspaper4k {v} (parser only)", _newspaper),
}
_DISTRIBUTIONS = {"trafilatura": "trafilatura", "readability": "readability-lxml",
                  "newspaper": "newspaper4k"}


def _label(key: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    template = EXTRACTORS[key][0]
    dist = _DISTRIBUTIONS.get(key)
    if not dist:
        return template
    try:
        return template.format(v=version(dist))
    except PackageNotFoundError:
        return template.format(v="").replace("  ", " ")


@dataclass
class Run:
    """One extractor's per-page outputs and timings."""

    label: str
    results: dict[str, tuple[float | None, float]]
    ms: list[float]
    error: str | None = None


def run_extractor(key: str, pages: Sequence[Page]) -> Run:
    """Run one extractor over ``pages`` (a warm-up call first, so imports are not timed)."""
    label = _label(key)
    try:
        fn = EXTRACTORS[key][1]()
        fn(pages[0])
    except Exception as exc:  # noqa: BLE001 - a missing comparison tool is reported, not fatal
        return Run(label, {}, [], error=f"unavailable: {type(exc).__name__}: {exc}"[:120])
    results: dict[str, tuple[float | None, float]] = {}
    ms: list[float] = []
    for page in pages:
        start = time.perf_counter()
        try:
            text = fn(page)
        except Exception:  # noqa: BLE001 - a crash on one page scores as an empty prediction
            text = ""
        ms.append((time.perf_counter() - start) * 1000)
        results[page.name] = page_pr(text, page.truth)
    return Run(label, results, ms)


def _row(label: str, s: Score, ms: float | None) -> str:
    timing = f"{ms:.1f}" if ms is not None else "–"
    return f"| {label} | {s.f1:.3f} | {s.precision:.3f} | {s.recall:.3f} | {timing} |"


def _halves(pages: Sequence[Page]) -> tuple[set[str], set[str]]:
    """Publishers split in two fixed halves (alternating in sorted order)."""
    pubs = sorted({p.publisher for p in pages})
    return set(pubs[0::2]), set(pubs[1::2])


def main(argv: Sequence[str] | None = None) -> int:
    """Print the benchmark table (and optionally held-out halves and per-page figures)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEV, help="dev-set directory")
    ap.add_argument("--only", action="append", choices=sorted(EXTRACTORS),
                    help="run only these extractors (repeatable)")
    ap.add_argument("--halves", action="store_true", help="also score two publisher halves")
    ap.add_argument("--pages", action="store_true", help="print per-page P/R of each extractor")
    ap.add_argument("--body-merge", choices=("dom", "declared", "choose", "filter"),
                    help="override crawler.extraction.article.BODY_MERGE (DOM vs articleBody)")
    ap.add_argument("--live-blog", choices=("intro", "all"),
                    help="override crawler.extraction.article.LIVE_BLOG_BODY")
    args = ap.parse_args(argv)
    from crawler.extraction import article as _article
    if args.body_merge:
        _article.BODY_MERGE = args.body_merge
    if args.live_blog:
        _article.LIVE_BLOG_BODY = args.live_blog
    if not (args.data / "ground_truth.json").is_file():
        print(f"dev set not found at {args.data}", file=sys.stderr)
        return 2
    pages = load_pages(args.data)
    runs = [run_extractor(k, pages) for k in (args.only or list(EXTRACTORS))]
    print(f"{len(pages)} pages, {len({p.publisher for p in pages})} publishers ({args.data})")
    print("| extractor | F1 | P | R | ms/page (median) |")
    print("|---|---|---|---|---|")
    for run in runs:
        if run.error:
            print(f"| {run.label} | {run.error} | | | |")
        else:
            print(_row(run.label, score(list(run.results.values())), statistics.median(run.ms)))
    if args.halves:
        a, b = _halves(pages)
        for name, half in (("A", a), ("B", b)):
            print(f"\nhalf {name}: {', '.join(sorted(half))}")
            for run in runs:
                if not run.error:
                    res = [run.results[p.name] for p in pages if p.publisher in half]
                    print(_row(run.label, score(res), None))
    if args.pages:
        for run in runs:
            if run.error:
                continue
            print(f"\n{run.label}")
            for name, (p, r) in run.results.items():
                print(f"  {name:28s} P={'-' if p is None else f'{p:.3f}'} R={r:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
