"""Regression table of article extraction on the three shared dev sets (printed, not a test).

The dev corpus is the three sets in ``../shared/data/`` taken together:

- ``extraction-dev`` (80 Fundus pages) and ``extraction-readability`` (130 Mozilla Readability
  test pages): the article-extraction-benchmark body metric (overlapping 4-word chunks, per-page
  precision and recall averaged over pages, F1 of the two means);
- ``extraction-trafilatura`` (945 pages of trafilatura's eval corpus): its own snippet metric
  (whitespace-normalised substring match of the ``with``/``without`` snippets, counts summed over
  pages, P = tp/(tp+fp), R = tp/(tp+fn)).

The extractors run over each set in the same process, interleaved page by page (a load change
on a shared machine hits them alike), each call timed (median and p90 ms/page). On the readability set, metadata is scored too: title exact match, author match and
date match (the day, and the minute in UTC), newsmon against trafilatura's metadata;
``bench/metadata.py`` scores metadata on the dev set against Fundus's per-publisher parsers.

    .venv/bin/python bench/extraction.py                          # the full table (~4 min)
    .venv/bin/python bench/extraction.py --set readability        # one set
    .venv/bin/python bench/extraction.py --set trafilatura --limit 200 --only newsmon
    .venv/bin/python bench/extraction.py --set dev --pages        # per-page figures
    .venv/bin/python bench/extraction.py --json /tmp/run.json     # per-page results and outputs
                                                                   # (body sha1, metadata), for diffs

Every extractor receives the page as saved (bytes, gzip removed); readability-lxml, which wants
text, gets it decoded outside the timed call. ``bench/EXTRACTION.md`` keeps the committed table.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere

__all__ = [
    "SETS",
    "Output",
    "Page",
    "Score",
    "chunks",
    "load_set",
    "main",
    "page_pr",
    "snippet_counts",
]

DATA = ROOT.parent / "shared" / "data"
#: short name -> (directory, metric): "aeb" = 4-word chunks, "snippets" = trafilatura's own
SETS: dict[str, tuple[str, str]] = {
    "dev": ("extraction-dev", "aeb"),
    "readability": ("extraction-readability", "aeb"),
    "trafilatura": ("extraction-trafilatura", "snippets"),
}
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Page:
    """One dev page: its file name, URL, raw bytes and ground truth (body text or snippets)."""

    name: str
    url: str
    html: bytes
    truth: str = ""
    with_: tuple[str, ...] = ()
    without: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def publisher(self) -> str:
        """The publisher part of a Fundus file name ("BBC_3.html.gz" -> "BBC")."""
        return self.name.rsplit("_", 1)[0]


@dataclass(frozen=True)
class Output:
    """What an extractor returned for one page: body text and (optionally) metadata."""

    text: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    date: str | None = None  # ISO date or datetime


@dataclass(frozen=True)
class Score:
    """Precision, recall (and F1) of one extractor on one set."""

    precision: float
    recall: float
    n: int

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


# --------------------------------------------------------------------------------- metrics
def chunks(text: str) -> Counter[str]:
    """Multiset of overlapping 4-word chunks (``\\w+`` words, case kept); 1–3 words: one chunk."""
    words = _WORD.findall(text or "")
    if not words:
        return Counter()
    if len(words) < 4:
        return Counter([" ".join(words)])
    return Counter(" ".join(words[i:i + 4]) for i in range(len(words) - 3))


def page_pr(prediction: str, truth: str) -> tuple[float | None, float]:
    """(precision or None for an empty prediction, recall) of one page, AEB metric.

    The README divides TP, FP and FN by TP+FP+FN so that each page weighs the same; that
    factor cancels in TP/(TP+FP) and TP/(TP+FN), so the ratios are taken directly.
    """
    pred, gold = chunks(prediction), chunks(truth)
    tp = sum((pred & gold).values())
    n_pred, n_gold = sum(pred.values()), sum(gold.values())
    return (tp / n_pred if n_pred else None), (tp / n_gold if n_gold else 0.0)


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text or "").strip()


def snippet_counts(prediction: str, page: Page) -> tuple[int, int, int, int]:
    """(tp, fn, fp, tn) of one page, trafilatura-corpus metric."""
    text = _norm(prediction)
    found = [bool(text) and _norm(s) in text for s in page.with_]
    leaked = [bool(text) and _norm(s) in text for s in page.without]
    tp = sum(found)
    fp = sum(leaked)
    return tp, len(found) - tp, fp, len(leaked) - fp


def aeb_score(results: Sequence[tuple[float | None, float]]) -> Score:
    """Aggregate per-page (precision, recall): precision over non-empty predictions only."""
    precisions = [p for p, _ in results if p is not None]
    recalls = [r for _, r in results]
    return Score(statistics.fmean(precisions) if precisions else 0.0,
                 statistics.fmean(recalls) if recalls else 0.0, len(results))


def snippet_score(counts: Sequence[tuple[int, int, int, int]]) -> Score:
    """Summed counts: P = tp/(tp+fp), R = tp/(tp+fn)."""
    tp, fn, fp, _ = (sum(c[i] for c in counts) for i in range(4))
    return Score(tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0,
                 len(counts))


# --------------------------------------------------------------------------------- loading
def load_set(key: str, data: Path = DATA) -> list[Page]:
    """All pages of one dev set, sorted by file name (empty when the set is absent)."""
    directory = data / SETS[key][0]
    truth_file = directory / "ground_truth.json"
    if not truth_file.is_file():
        return []
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    pages = []
    for path in sorted((directory / "html").glob("*.gz")):
        name = path.name[:-3]
        entry = truth.get(path.name) or truth.get(name) or truth.get(name.removesuffix(".html"))
        if entry is None:
            continue
        url = entry.get("url") or ""
        url = "" if url == "None" else url
        html = gzip.decompress(path.read_bytes())
        if key == "trafilatura":
            pages.append(Page(path.name, url or "https://example.org/", html,
                              with_=tuple(entry.get("with") or ()),
                              without=tuple(entry.get("without") or ())))
        else:
            meta = {k: (None if entry.get(k) in (None, "None", "") else entry.get(k))
                    for k in ("title", "byline", "published")}
            pages.append(Page(path.name, url or "https://example.org/article", html,
                              truth="\n".join(entry["body"]), meta=meta))
    return pages


# ------------------------------------------------------------------------------ extractors
Extractor = Callable[[Page], Output]


def _newsmon() -> Extractor:
    from crawler.extraction import extract_article

    def run(page: Page) -> Output:
        r = extract_article(page.html, page.url)
        published = r.get("published")
        return Output(r["body"], r.get("title"), tuple(r.get("authors") or ()),
                      published.isoformat() if published else None)

    return run


def _trafilatura(**options: Any) -> Callable[[], Extractor]:
    def make() -> Extractor:
        import trafilatura

        return lambda page: Output(trafilatura.extract(page.html, url=page.url, **options) or "")

    return make


def _readability() -> Extractor:
    from lxml.html import fromstring
    from readability import Document

    def run(page: Page) -> Output:
        summary = Document(page.html.decode("utf-8", "replace"), url=page.url).summary(html_partial=True)
        return Output("\n".join(t.strip() for t in fromstring(summary).itertext() if t.strip()))

    return run


def _newspaper() -> Extractor:
    from newspaper import Article  # newspaper4k; only its parser is used, never nlp()

    def run(page: Page) -> Output:
        article = Article(page.url, fetch_images=False)
        article.download(input_html=page.html.decode("utf-8", "replace"))
        article.parse()
        return Output(article.text or "")

    return run


EXTRACTORS: dict[str, tuple[str, Callable[[], Extractor]]] = {
    "newsmon": ("newsmon", _newsmon),
    "trafilatura": ("trafilatura {v}", _trafilatura()),
    "trafilatura-recall": ("trafilatura {v} favor_recall", _trafilatura(favor_recall=True)),
    "readability": ("readability-lxml {v}", _readability),
    "newspaper": ("newspaper4k {v}", _newspaper),
}
DEFAULT_EXTRACTORS = ("newsmon", "trafilatura", "trafilatura-recall", "readability")
_DISTRIBUTIONS = {"trafilatura": "trafilatura", "trafilatura-recall": "trafilatura",
                  "readability": "readability-lxml", "newspaper": "newspaper4k"}


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
    """One extractor's outputs and timings on one set."""

    label: str
    outputs: dict[str, Output]
    ms: list[float]
    error: str | None = None


def run_extractors(keys: Sequence[str], pages: Sequence[Page]) -> dict[str, Run]:
    """Run the extractors over ``pages``, interleaved page by page, so that a load change on a
    shared machine hits every extractor alike; a warm-up call first, so imports are not timed."""
    runs: dict[str, Run] = {}
    fns: dict[str, Extractor] = {}
    for key in keys:
        label = _label(key)
        try:
            fns[key] = EXTRACTORS[key][1]()
            fns[key](pages[0])
        except Exception as exc:  # noqa: BLE001 - a missing comparison tool is reported, not fatal
            runs[key] = Run(label, {}, [], error=f"unavailable: {type(exc).__name__}: {exc}"[:120])
            fns.pop(key, None)
            continue
        runs[key] = Run(label, {}, [])
    for page in pages:
        for key, fn in fns.items():
            start = time.perf_counter()
            try:
                out = fn(page)
            except Exception as exc:  # noqa: BLE001 - a crash scores as an empty prediction
                print(f"  {key} raised on {page.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                out = Output("")
            runs[key].ms.append((time.perf_counter() - start) * 1000)
            runs[key].outputs[page.name] = out
    return runs


def _p90(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def score_run(metric: str, pages: Sequence[Page], run: Run) -> tuple[Score, int, dict[str, Any]]:
    """(score, empty bodies, per-page figures) of one run."""
    per_page: dict[str, Any] = {}
    empty = 0
    if metric == "aeb":
        results = []
        for page in pages:
            text = run.outputs[page.name].text
            empty += not _WORD.search(text or "")
            pr = page_pr(text, page.truth)
            results.append(pr)
            per_page[page.name] = {"p": pr[0], "r": pr[1], "words": len(_WORD.findall(text or ""))}
        return aeb_score(results), empty, per_page
    counts = []
    for page in pages:
        text = run.outputs[page.name].text
        empty += not _WORD.search(text or "")
        c = snippet_counts(text, page)
        counts.append(c)
        per_page[page.name] = {"tp": c[0], "fn": c[1], "fp": c[2],
                               "words": len(_WORD.findall(text or ""))}
    return snippet_score(counts), empty, per_page


def _fingerprint(out: Output) -> dict[str, Any]:
    """What ``--json`` keeps of one output besides its scores: the body's sha1 and the metadata."""
    return {"body_sha1": hashlib.sha1(out.text.encode("utf-8")).hexdigest(), "title": out.title,
            "authors": list(out.authors), "date": out.date}


# -------------------------------------------------------------------------------- metadata
_BY = re.compile(r"^\s*by\b[:\s]*", re.IGNORECASE)
_NAME_STOP = frozenset({"by", "and", "with"})


def _title_key(text: str | None) -> str:
    return _norm(text or "").casefold()


def _author_words(names: Sequence[str]) -> frozenset[str]:
    words = set()
    for n in names:
        words |= {w.casefold() for w in _WORD.findall(_BY.sub("", n))}
    return frozenset(words - _NAME_STOP)


def _pair(pred: str | None, truth: str) -> tuple[datetime, datetime] | None:
    """(prediction, truth) as datetimes, or None when either does not parse."""
    if not pred:
        return None
    try:
        return datetime.fromisoformat(pred), datetime.fromisoformat(truth)
    except ValueError:
        return None


def _same_day(pred: str | None, truth: str) -> bool:
    """Same calendar date as the truth, read in the truth's own offset."""
    if (pair := _pair(pred, truth)) is None:
        return False
    p, t = pair
    if p.tzinfo is not None and t.tzinfo is not None:
        p = p.astimezone(t.tzinfo)
    return p.date() == t.date()


_CLOCK_IN_ISO = re.compile(r"\d[T ]\d{2}:\d{2}")


def _same_minute(pred: str | None, truth: str) -> bool:
    """The same instant to the minute in UTC. A naive value (some truths have no offset) is read
    as UTC, as bench/metadata.py reads Fundus's naive times; day-only truths are not asked."""
    if (pair := _pair(pred, truth)) is None:
        return False
    p, t = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in pair)
    return p.astimezone(UTC).replace(second=0, microsecond=0) == t.astimezone(UTC).replace(
        second=0, microsecond=0)


def metadata_rows(pages: Sequence[Page], runs: dict[str, Run]) -> list[str]:
    """Title exact, author match and date match (day, and minute in UTC) of newsmon and
    trafilatura's metadata (its date asked to the second: htmldate's default is the day)."""
    import trafilatura
    from trafilatura.settings import set_date_params

    traf: dict[str, Output] = {}
    for page in pages:
        try:
            doc = trafilatura.extract_metadata(page.html, default_url=page.url, date_config={
                **set_date_params(True), "outputformat": "%Y-%m-%dT%H:%M:%S%z"})
        except Exception:  # noqa: BLE001 - a failure finds nothing
            doc = None
        if doc is None:
            traf[page.name] = Output("")
            continue
        authors = tuple(a.strip() for a in (doc.author or "").split(";") if a.strip())
        traf[page.name] = Output("", doc.title, authors, doc.date)
    sources = {"trafilatura metadata": traf}
    if "newsmon" in runs and not runs["newsmon"].error:
        sources = {"newsmon": runs["newsmon"].outputs, **sources}
    titled = [p for p in pages if p.meta.get("title")]
    bylined = [p for p in pages if p.meta.get("byline")]
    dated = [p for p in pages if p.meta.get("published")]
    timed = [p for p in dated if _CLOCK_IN_ISO.search(p.meta["published"])]
    naive = sum(datetime.fromisoformat(p.meta["published"]).tzinfo is None for p in timed)
    rows = [(f"metadata ({len(titled)} titles, {len(bylined)} bylines, {len(dated)} dates in the truth, "
             f"{len(timed)} with a clock time, {naive} of them without offset: read as UTC)"),
            "| source | title exact | author match | authors where none | date match (day) | date match (minute, UTC) |",
            "|---|---|---|---|---|---|"]
    for name, outs in sources.items():
        title = sum(_title_key(outs[p.name].title) == _title_key(p.meta["title"]) for p in titled)
        author = sum(bool(outs[p.name].authors)
                     and _author_words(outs[p.name].authors) == _author_words([p.meta["byline"]])
                     for p in bylined)
        spurious = sum(bool(outs[p.name].authors) for p in pages if not p.meta.get("byline"))
        day = sum(_same_day(outs[p.name].date, p.meta["published"]) for p in dated)
        minute = sum(_same_minute(outs[p.name].date, p.meta["published"]) for p in timed)
        rows.append(f"| {name} | {title / max(len(titled), 1):.3f} | "
                    f"{author / max(len(bylined), 1):.3f} | {spurious} | {day / max(len(dated), 1):.3f} | "
                    f"{minute / max(len(timed), 1):.3f} |")
    return rows


# ------------------------------------------------------------------------------------ main
def main(argv: Sequence[str] | None = None) -> int:
    """Print the regression table (per set: F1/P/R, empty bodies, median and p90 ms/page)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="folder holding the dev sets")
    ap.add_argument("--set", action="append", choices=sorted(SETS), dest="sets",
                    help="score only these sets (repeatable; default: all present)")
    ap.add_argument("--only", action="append", choices=sorted(EXTRACTORS),
                    help="run only these extractors (repeatable)")
    ap.add_argument("--limit", type=int, help="only the first N pages of each set")
    ap.add_argument("--match", help="only pages whose file name contains this text")
    ap.add_argument("--pages", action="store_true", help="print per-page figures")
    ap.add_argument("--json", type=Path, help="write per-page figures of every run to this file")
    args = ap.parse_args(argv)
    keys = args.only or list(DEFAULT_EXTRACTORS)
    dump: dict[str, Any] = {}
    found_any = False
    for set_key in args.sets or list(SETS):
        pages = load_set(set_key, args.data)
        if not pages:
            print(f"{SETS[set_key][0]}: not found under {args.data}, skipped\n")
            continue
        found_any = True
        if args.match:
            pages = [p for p in pages if args.match in p.name]
        if args.limit:
            pages = pages[:args.limit]
        if not pages:
            continue
        metric = SETS[set_key][1]
        runs = run_extractors(keys, pages)
        metric_name = "4-word chunks" if metric == "aeb" else "its with/without snippets"
        print(f"{SETS[set_key][0]}: {len(pages)} pages, metric: {metric_name}")
        print("| extractor | F1 | P | R | empty bodies | median ms | p90 ms |")
        print("|---|---|---|---|---|---|---|")
        for k, run in runs.items():
            if run.error:
                print(f"| {run.label} | {run.error} | | | | | |")
                continue
            s, empty, per_page = score_run(metric, pages, run)
            # the output itself too (body hash, metadata): two runs' files then show whether a
            # speed change left every page's result as it was
            dump.setdefault(set_key, {})[k] = {
                name: {**fig, **_fingerprint(run.outputs[name])} for name, fig in per_page.items()}
            print(f"| {run.label} | {s.f1:.3f} | {s.precision:.3f} | {s.recall:.3f} | {empty} | "
                  f"{statistics.median(run.ms):.1f} | {_p90(run.ms):.1f} |")
            if args.pages:
                for name, fig in per_page.items():
                    print(f"    {name:48s} " + " ".join(
                        f"{a}={'-' if b is None else (f'{b:.3f}' if isinstance(b, float) else b)}"
                        for a, b in fig.items()))
        if set_key == "readability":
            print()
            print("\n".join(metadata_rows(pages, runs)))
        print()
    if args.json:
        args.json.write_text(json.dumps(dump, indent=1), encoding="utf-8")
    if not found_any:
        print(f"no dev set found under {args.data}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
