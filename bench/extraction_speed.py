"""CPU cost of article extraction on the three shared dev sets, and a check that a speed change
left every output as it was (printed figures, not a timed test).

Each page of ``extraction-dev``, ``extraction-readability`` and ``extraction-trafilatura`` is
extracted ``--reps`` times by ``extract_article`` (the crawl's own call, with a fixed fetch time
so that relative dates read the same in every run); the script prints the CPU ms per page of
each set (the median page and the mean). ``--outputs F`` writes one digest per page of the
whole extracted dict (every field, not only the body); ``--against F`` compares this run's
digests with such a file and names the pages whose output changed. An A/B of a speed change:

    git stash; .venv/bin/python bench/extraction_speed.py --outputs /tmp/before.json; git stash pop
    .venv/bin/python bench/extraction_speed.py --against /tmp/before.json

(run the two alternately, twice, on a shared machine: only figures of one run compare).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.extraction import DATA, SETS, load_set  # noqa: E402

#: relative dates ("2 hours ago") count back from this, the same in every run
FETCHED_AT = datetime(2026, 12, 1, tzinfo=UTC)


def digest(article: dict[str, Any]) -> str:
    """A stable digest of every field of one extracted article."""
    text = json.dumps(article, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2, help="extractions of each page (default 2; the fastest counts)")
    parser.add_argument("--set", action="append", choices=sorted(SETS), help="only this set (repeatable)")
    parser.add_argument("--outputs", type=Path, help="write the per-page output digests to this JSON file")
    parser.add_argument("--against", type=Path, help="compare the outputs with a file written by --outputs")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be 1 or more")
    before: dict[str, str] = {}
    if args.against is not None:
        try:
            before = json.loads(args.against.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            parser.error(f"--against {args.against}: {exc}")

    from crawler.extraction import extract_article

    digests: dict[str, str] = {}
    for key in args.set or sorted(SETS):
        pages = load_set(key)
        if not pages:
            print(f"{key}: not found under {DATA} (skipped)")
            continue
        costs = []
        for page in pages:
            best = float("inf")
            for _ in range(args.reps):
                start = time.thread_time_ns()
                article = extract_article(page.html, page.url, fetched_at=FETCHED_AT)
                best = min(best, (time.thread_time_ns() - start) / 1e6)
            costs.append(best)
            digests[f"{key}/{page.name}"] = digest(article)
        print(f"{key:12} {len(pages):4} pages  CPU ms/page: median {statistics.median(costs):6.2f}  "
              f"mean {statistics.fmean(costs):6.2f}")
    if args.outputs is not None:
        args.outputs.write_text(json.dumps(digests, indent=0, sort_keys=True), encoding="utf-8")
        print(f"outputs: {len(digests)} digests written to {args.outputs}")
    if args.against is not None:
        changed = sorted(name for name, value in digests.items() if name in before and before[name] != value)
        missing = sorted(set(digests) ^ set(before))
        print(f"against {args.against}: {len(digests) - len(changed) - len(set(digests) - set(before))} "
              f"pages the same, {len(changed)} changed, {len(missing)} in one run only")
        for name in changed[:20]:
            print(f"  changed: {name}")
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
