"""Metadata against Fundus's hand-written parsers on the 80 pages of ``extraction-dev`` (printed).

The held-out metadata set of issue 11 takes its truth from per-publisher parsers (Fundus); this is
the same kind of truth on the dev set: for each page, Fundus's parser of that page's publisher
(found by the page URL's host, the parser version valid at the page's ``crawl_date``) runs on the
stored HTML, offline. newsmon's ``extract_article`` and ``trafilatura.extract_metadata`` are then
scored against it in the same run:

- title exact: whitespace-normalised, case-folded equality;
- author-set F1: per page, the F1 of the two sets of names (each name case-folded, "By" and
  punctuation dropped); both empty is 1, one empty is 0; averaged over pages;
- published to the minute: both instants in UTC, truncated to the minute, equal. Fundus gives a
  naive time for some publishers (Washington Times): it is read as UTC, which is what those
  pages' markup means by it as far as anyone can tell.

Fundus pins older lxml/python-dateutil than the project uses, so it usually lives in a venv of its
own; this script then runs Fundus there in a child process (``--fundus-python``) and newsmon and
trafilatura here, with the project's own dependencies. Nothing Fundus outputs is written to disk.

    .venv/bin/python bench/metadata.py --fundus-python /tmp/fundus-venv/bin/python
    .venv/bin/python bench/metadata.py --pages          # every page that any source misses
    .venv/bin/python bench/metadata.py --match Reuters --pages

Without ``../shared`` or without an interpreter that imports ``fundus``, it says so and exits 0.
``python3 -m venv /tmp/fundus-venv && /tmp/fundus-venv/bin/pip install -r bench/fundus-requirements.txt``
makes that venv.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "extraction-dev"
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
_BY = re.compile(r"^\s*by\b[:\s]*", re.IGNORECASE)

__all__ = ["Meta", "author_f1", "fundus_truth", "main", "same_minute", "title_key"]


@dataclass(frozen=True)
class Meta:
    """One source's title, author names and published instant (ISO string) for one page."""

    title: str | None
    authors: tuple[str, ...]
    published: str | None


# ------------------------------------------------------------------ the child: Fundus only
def _emit_truth(directory: Path) -> int:
    """Print {file name: Fundus's title/authors/publishing_date} as JSON (runs in Fundus's venv;
    imports nothing of the project, whose dependencies may differ there)."""
    from urllib.parse import urlsplit

    from fundus import PublisherCollection

    by_host = {}
    for publisher in PublisherCollection:
        by_host.setdefault(urlsplit(publisher.domain).hostname or "", publisher)

    def find(url: str) -> Any:
        host = urlsplit(url).hostname or ""
        while host:
            found = by_host.get(host) or by_host.get("www." + host)
            if found:
                return found
            host = host.partition(".")[2]
        return None

    truth = json.loads((directory / "ground_truth.json").read_text(encoding="utf-8"))
    out: dict[str, Any] = {}
    for name, entry in sorted(truth.items()):
        publisher = find(entry["url"])
        if publisher is None:
            out[name] = {"error": f"no Fundus publisher for {entry['url']}"}
            continue
        html = gzip.decompress((directory / "html" / name).read_bytes()).decode("utf-8", "replace")
        crawl_date = datetime.fromisoformat(entry["crawl_date"])
        try:
            parsed = publisher.parser(crawl_date).parse(html, "suppress")
        except Exception as exc:  # noqa: BLE001 - reported per page, the others still score
            out[name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
            continue
        date = parsed.get("publishing_date")
        out[name] = {"publisher": publisher.name, "title": parsed.get("title"),
                     "authors": list(parsed.get("authors") or []),
                     "published": date.isoformat() if date else None}
    json.dump(out, sys.stdout)
    return 0


def fundus_truth(python: str, directory: Path) -> dict[str, Any] | str:
    """Fundus's values per page, computed by ``python``; a string says why there are none."""
    try:
        probe = subprocess.run([python, "-c", "import fundus"], capture_output=True, text=True,
                               check=False)
    except OSError as exc:  # no such interpreter: a user mistake, one line
        return f"cannot run {python}: {exc.strerror}"
    if probe.returncode != 0:
        return f"fundus is not importable by {python}"
    child = subprocess.run([python, __file__, "--emit-truth", str(directory)],
                           capture_output=True, text=True, check=False)
    if child.returncode != 0:
        return f"Fundus failed: {child.stderr.strip().splitlines()[-1:] or child.returncode}"
    return json.loads(child.stdout)


# ----------------------------------------------------------------------------- the metrics
def title_key(text: str | None) -> str:
    """A title as compared: whitespace normalised, case-folded."""
    return _SPACE.sub(" ", text or "").strip().casefold()


def _name_key(name: str) -> str:
    return " ".join(_WORD.findall(_BY.sub("", name).casefold()))


def author_f1(pred: Sequence[str], truth: Sequence[str]) -> float:
    """F1 of two author-name sets (1.0 when both are empty)."""
    p = {k for k in map(_name_key, pred) if k}
    t = {k for k in map(_name_key, truth) if k}
    if not p and not t:
        return 1.0
    common = len(p & t)
    return 2 * common / (len(p) + len(t)) if common else 0.0


def _utc_minute(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def same_minute(pred: str | None, truth: str | None) -> bool:
    """Whether two ISO instants name the same UTC minute (a naive one is read as UTC)."""
    p, t = _utc_minute(pred), _utc_minute(truth)
    return p is not None and p == t


# --------------------------------------------------------------------------- the sources
def _pages(directory: Path) -> list[tuple[str, str, bytes, datetime]]:
    truth = json.loads((directory / "ground_truth.json").read_text(encoding="utf-8"))
    pages = []
    for name, entry in sorted(truth.items()):
        fetched = datetime.fromisoformat(entry["crawl_date"]).replace(tzinfo=UTC)
        pages.append((name, entry["url"], gzip.decompress((directory / "html" / name).read_bytes()),
                      fetched))
    return pages


def _newsmon(pages: Sequence[tuple[str, str, bytes, datetime]]) -> tuple[dict[str, Meta], dict[str, Meta]]:
    """newsmon's fields: (authors as stored, authors else ``byline_org``)."""
    sys.path.insert(0, str(ROOT))
    from crawler.extraction import extract_article

    plain: dict[str, Meta] = {}
    with_org: dict[str, Meta] = {}
    for name, url, html, fetched in pages:
        r = extract_article(html, url, fetched_at=fetched)
        published = r["published"].isoformat() if r.get("published") else None
        authors = tuple(r.get("authors") or ())
        plain[name] = Meta(r.get("title"), authors, published)
        with_org[name] = Meta(r.get("title"), authors or tuple(r.get("byline_org") or ()), published)
    return plain, with_org


def _trafilatura(pages: Sequence[tuple[str, str, bytes, datetime]]) -> dict[str, Meta]:
    """trafilatura's metadata, its date asked to the second (htmldate's default is the day)."""
    import trafilatura
    from trafilatura.settings import set_date_params

    out: dict[str, Meta] = {}
    for name, url, html, fetched in pages:
        config = {**set_date_params(True), "outputformat": "%Y-%m-%dT%H:%M:%S%z",
                  "max_date": fetched.strftime("%Y-%m-%d")}
        doc = trafilatura.extract_metadata(html.decode("utf-8", "replace"), default_url=url,
                                           date_config=config)
        if doc is None:
            out[name] = Meta(None, (), None)
            continue
        authors = tuple(a.strip() for a in (doc.author or "").split(";") if a.strip())
        out[name] = Meta(doc.title, authors, doc.date)
    return out


# ------------------------------------------------------------------------------------ main
def main(argv: Sequence[str] | None = None) -> int:
    """Print title exact, author-set F1 and published-to-the-minute of newsmon and trafilatura."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEV, help="the extraction-dev folder")
    ap.add_argument("--fundus-python", default=os.environ.get("NEWSMON_FUNDUS_PYTHON", sys.executable),
                    help="an interpreter that imports fundus (default: $NEWSMON_FUNDUS_PYTHON, "
                         "else this one)")
    ap.add_argument("--match", help="only pages whose file name contains this text")
    ap.add_argument("--pages", action="store_true", help="print every page a source gets wrong")
    ap.add_argument("--emit-truth", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.emit_truth:
        return _emit_truth(args.emit_truth)
    if not (args.data / "ground_truth.json").is_file():
        print(f"skipped: no extraction-dev set under {args.data}")
        return 0
    truth = fundus_truth(args.fundus_python, args.data)
    if isinstance(truth, str):
        print(f"skipped: {truth} (pip install fundus, or --fundus-python PATH)")
        return 0
    failed = {n: t["error"] for n, t in truth.items() if "error" in t}
    for name, why in failed.items():
        print(f"  no truth for {name}: {why}", file=sys.stderr)
    pages = [p for p in _pages(args.data) if p[0] in truth and p[0] not in failed
             and (not args.match or args.match in p[0])]
    gold = {n: Meta(t["title"], tuple(t["authors"]), t["published"]) for n, t in truth.items()
            if n not in failed}
    newsmon, newsmon_org = _newsmon(pages)
    sources = {"newsmon": newsmon, "newsmon, authors else byline_org": newsmon_org,
               "trafilatura metadata": _trafilatura(pages)}
    print(f"extraction-dev: {len(pages)} pages, truth = Fundus's parser of each page's publisher "
          f"({len(failed)} pages without one)")
    print("| source | title exact | author-set F1 | published (minute, UTC) |")
    print("|---|---|---|---|")
    for label, outs in sources.items():
        titles = [title_key(outs[n].title) == title_key(gold[n].title) for n, *_ in pages]
        f1s = [author_f1(outs[n].authors, gold[n].authors) for n, *_ in pages]
        dated = [n for n, *_ in pages if gold[n].published]
        minutes = [same_minute(outs[n].published, gold[n].published) for n in dated]
        print(f"| {label} | {statistics.fmean(titles):.3f} | {statistics.fmean(f1s):.3f} | "
              f"{statistics.fmean(minutes) if minutes else 0:.3f} |")
    if args.pages:
        for name, *_ in pages:
            g = gold[name]
            for label in ("newsmon", "trafilatura metadata"):
                o = sources[label][name]
                wrong = []
                if title_key(o.title) != title_key(g.title):
                    wrong.append(f"title {o.title!r} != {g.title!r}")
                if author_f1(o.authors, g.authors) < 1:
                    wrong.append(f"authors {list(o.authors)} != {list(g.authors)}")
                if g.published and not same_minute(o.published, g.published):
                    wrong.append(f"published {o.published} != {g.published}")
                if wrong:
                    print(f"  {name} {label}: " + "; ".join(wrong))
    return 0


if __name__ == "__main__":
    sys.exit(main())
