"""Per-worker throughput on the demo site, for the README's scale-out capacity estimate.

    .venv/bin/python bench/scaleout.py [--articles 160] [--workers 2]

Serves the demo site locally, starts a redis-server of its own (Debian's binary, Unix socket in a
temp dir) and crawls the site three ways into fresh embedded stores, in this one run: a plain
`newsmon crawl demo` (the baseline), one `--shared` worker, and N `--shared` workers together.
Prints wall time (process start to exit, Python start-up included), pages fetched (the site's
request counter) and pages per second per worker. Figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _redis(workdir: Path) -> tuple[subprocess.Popen[str], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("bench/scaleout.py: redis-server not installed (apt-get install redis-server)")
    sock = workdir / "redis.sock"
    proc = subprocess.Popen([binary, "--port", "0", "--unixsocket", str(sock), "--dir", str(workdir),
                             "--save", "", "--appendonly", "no"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "ready to accept connections" in line.lower():
            return proc, f"unix://{sock}"
    sys.exit("bench/scaleout.py: redis-server did not start")


def _crawl(base_url: str, data_dir: Path, redis_url: str, workers: int) -> float:
    """Run ``workers`` crawls at once (0 = one plain crawl); returns the wall time in seconds."""
    env = dict(os.environ, NEWSMON_DATA_DIR=str(data_dir), NEWSMON_REDIS_URL=redis_url)
    cmd = [sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "demo",
           "-a", f"base_url={base_url}/"]
    shared = ["--shared"] if workers else []
    started = time.perf_counter()
    procs = [subprocess.Popen([*cmd, *shared], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for _ in range(max(1, workers))]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"bench/scaleout.py: a crawl failed ({proc.returncode}): {err[-500:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=160)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from crawler.demo import build_site, serve

    site = build_site(seed=7, n_articles=args.articles)
    with tempfile.TemporaryDirectory(prefix="newsmon-scaleout-") as tmp:
        workdir = Path(tmp)
        redis, redis_url = _redis(workdir)
        try:
            rows = []
            for label, workers in (("plain crawl", 0), ("1 shared worker", 1),
                                   (f"{args.workers} shared workers", args.workers)):
                with serve(site) as server:
                    seconds = _crawl(server.base_url, workdir / label.replace(" ", "-"), redis_url, workers)
                    rows.append((label, max(1, workers), server.requests, seconds))
        finally:
            redis.terminate()
            redis.wait()
    print(f"demo site, {args.articles} articles; wall time includes Python start-up")
    print(f"{'run':<20} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'pages/s per worker':>19}")
    for label, workers, pages, seconds in rows:
        print(f"{label:<20} {pages:>6} {seconds:>8.1f} {pages / seconds:>8.1f} {pages / seconds / workers:>19.1f}")
    per_worker = rows[1][2] / rows[1][3]
    print(f"capacity: workers = sites x pages per crawl / interval seconds / {per_worker:.1f}")


if __name__ == "__main__":
    main()
