"""The command lines users and scripts rely on: `newsmon …` and `scrapy …` from the project root."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest

from tests.conftest import ROOT, run_newsmon


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["crawl", "nosuchsite"], "unknown site 'nosuchsite'"),
        (["crawl", "demo", "-a", "since=yesterday-ish"], "since='yesterday-ish': not an ISO date"),
        (["crawl", "demo", "-a", "max_articles=0"], "max_articles='0': must be at least 1"),
        (["crawl", "demo", "-a", "colour=red"], "unknown spider argument -a colour"),
        (["crawl", "demo", "-a", "novalue"], "expected key=value"),
        (["export", "articles", "--since", "last tuesday"], "not an ISO date"),
        (["crawl", "demo", "-s", "MONGO_URI=postgres://x"], "MONGO_URI: must start with mongodb://"),
    ],
)
def test_user_mistakes_give_one_line_and_status_2(embedded, args, message) -> None:
    result = run_newsmon(args, embedded.env(), timeout=60)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_store_is_one_line_without_credentials(embedded, demo_server) -> None:
    """A crawl does not wait for the store: it says so in one line and journals what it finds
    (tests/test_store_faults.py has the crawls that recover it); `export` needs the store."""
    env = embedded.env() | {"NEWSMON_MONGO_URI": "mongodb://alice:s3cret@127.0.0.1:9/?serverSelectionTimeoutMS=300"}
    result = run_newsmon(["crawl", "demo", "-a", f"base_url={demo_server.base_url}/", "-a", "max_pages=2"],
                         env, timeout=180)
    assert result.returncode == 1, result.stderr  # failed: the store was never usable
    warning = [line for line in result.stderr.splitlines() if "The store is unavailable" in line]
    assert len(warning) == 1 and "127.0.0.1:9" in warning[0] and "journaled" in warning[0]
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr + result.stdout
    result = run_newsmon(["export", "articles"], env, timeout=60)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "s3cret" not in result.stderr and "127.0.0.1:9" in result.stderr


def test_every_subcommand_has_help(embedded) -> None:
    for command in ([], ["crawl"], ["demo"], ["export"], ["sites"]):
        result = run_newsmon([*command, "--help"], embedded.env(), timeout=60)
        assert result.returncode == 0 and "Usage:" in result.stdout, command


def test_sites_lists_profiles(embedded) -> None:
    result = run_newsmon(["sites"], embedded.env() | {"COLUMNS": "200"}, timeout=60)
    assert result.returncode == 0
    assert "kyivindependent.com" in result.stdout and "demo" in result.stdout


def test_crawl_limits_and_export(embedded, demo_site, demo_server) -> None:
    result = run_newsmon(
        ["crawl", "demo", "-a", f"base_url={demo_server.base_url}/", "-a", "max_articles=5",
         "-a", "max_pages=1", "-a", "since=2024-06-01"],
        embedded.env(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "articles new" in result.stdout
    exported = run_newsmon(["export", "articles", "--site", "demo"], embedded.env())
    assert exported.returncode == 0, exported.stderr
    docs = [json.loads(line) for line in exported.stdout.splitlines()]
    assert 1 <= len(docs) <= 5
    for doc in docs:
        assert doc["published"].endswith("Z") and doc["published"] >= "2024-06-01"
        assert {"_id", "url", "title", "body", "authors", "first_seen", "schema_version"} <= doc.keys()
        assert not {"minhash", "shingles", "dedupe_keys"} & doc.keys(), "dedupe internals are not exported"
    published = [doc["published"] for doc in docs]
    assert published == sorted(published, reverse=True)

    limited = run_newsmon(["export", "snippets", "--limit", "3", "--since", "2024-11-25"], embedded.env())
    snippets = [json.loads(line) for line in limited.stdout.splitlines()]
    assert len(snippets) == 3
    assert all(datetime.fromisoformat(s["published"]).year == 2024 for s in snippets)
    runs = run_newsmon(["export", "runs"], embedded.env())
    (run,) = [json.loads(line) for line in runs.stdout.splitlines()]
    assert run["outcome"] == "finished" and run["args"]["max_articles"] == "5"

    wide = embedded.env() | {"COLUMNS": "200"}
    table = run_newsmon(["runs", "--site", "demo", "--last", "5", "--wide"], wide, timeout=60)
    assert table.returncode == 0 and "finished" in table.stdout and "manual" in table.stdout
    status = run_newsmon(["status"], wide, timeout=60)
    rows = {line.split("│")[1].strip(): line for line in status.stdout.splitlines() if line.count("│") == 7}
    assert "finished" in rows["demo"] and "never" in rows["kyivindependent"]


def test_scrapy_list_and_crawl_from_project_root(embedded, demo_server) -> None:
    listed = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT, env=embedded.env(),
                            capture_output=True, text=True, timeout=60)
    assert listed.stdout.split() == ["demo", "kyivindependent"]
    crawled = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "demo", "-a", f"base_url={demo_server.base_url}/",
         "-a", "max_articles=3", "-s", "LOG_LEVEL=WARNING"],
        cwd=ROOT, env=embedded.env(), capture_output=True, text=True, timeout=300,
    )
    assert crawled.returncode == 0, crawled.stderr[-3000:]
    store = embedded.open()
    try:
        assert store.count("articles") == 3
        assert store.count("feed_snippets") > 0
    finally:
        store.close()


def test_demo_twice_second_run_adds_nothing(embedded) -> None:
    import socket

    with socket.socket() as sock:  # a free port, the same for both runs
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    first = run_newsmon(["demo", "--port", port], embedded.env())
    assert first.returncode == 0, first.stderr[-3000:]
    assert "articles new" in first.stdout and str(embedded.data_dir) in first.stdout.replace("\n", "")
    second = run_newsmon(["demo", "--port", port], embedded.env())
    assert second.returncode == 0, second.stderr[-3000:]
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
            for line in second.stdout.splitlines() if line.count("│") == 3}
    assert rows["articles new"] == "0" and rows["News Feed snippets new"] == "0"
    assert int(rows["pages not modified (HTTP 304)"]) >= 5  # incremental: listings unchanged


def test_scrapy_crawl_rejects_bad_arguments_without_traceback(embedded) -> None:
    for args, message in ((["demo", "-a", "since=soon"], "since='soon'"),
                          (["nosuchsite"], "unknown site 'nosuchsite'")):
        result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", *args], cwd=ROOT,
                                env=embedded.env(), capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        assert message in result.stderr and "Traceback" not in result.stderr


def test_demo_serve_says_where_and_serves(embedded) -> None:
    import signal
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "crawler.cli", "demo", "--serve", "--port", str(port)],
                              cwd=ROOT, env=embedded.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        first = server.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in first
        assert "scrapy crawl demo" in server.stdout.readline()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/feed/", timeout=10) as response:
            assert b"<rss" in response.read()
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        finally:
            if server.poll() is None:  # it did not stop: fail, but leave no server behind
                server.kill()
                server.wait()
    assert "Traceback" not in server.stderr.read()


def test_extract_prints_the_article_as_json(embedded) -> None:
    page = ROOT / "tests" / "fixtures" / "extraction" / "kyivindependent_article.html"
    result = run_newsmon(["extract", str(page), "--url", "https://kyivindependent.com/putin-talks/"],
                         embedded.env(), timeout=60)
    assert result.returncode == 0, result.stderr
    article = json.loads(result.stdout)
    assert article["authors"] == ["Martin Fornusek"]
    assert article["published"] == "2023-12-20T15:18:00Z"
    assert "Become a member" not in article["body"] and "confidence" in article


def test_crawl_with_rendering_and_no_browser_is_one_line(embedded, tmp_path) -> None:
    from crawler.profiles import SHIPPED_SITES_DIR

    profile = (SHIPPED_SITES_DIR / "demo.toml").read_text().replace(
        'name = "demo"', 'name = "jsdemo"\nrender = "auto"')
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "jsdemo.toml").write_text(profile)
    env = embedded.env() | {"NEWSMON_SITES_DIR": str(tmp_path / "sites"),
                            "NEWSMON_BROWSER": str(tmp_path / "no-such-chromium")}
    result = run_newsmon(["crawl", "jsdemo"], env, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "rendering requested by profile jsdemo but no browser" in result.stderr


def test_flags_show_the_flagged_items_of_a_demo_crawl(embedded, demo_site, demo_server) -> None:
    crawl = run_newsmon(["crawl", "demo", "-a", f"base_url={demo_server.base_url}/"], embedded.env())
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    text = run_newsmon(["flags", "--topic", "central-asia", "--limit", "0"], embedded.env(), timeout=60)
    assert text.returncode == 0, text.stderr
    flagged_titles = {a.title for a in demo_site.articles if a.mentions_central_asia}
    assert flagged_titles and all(title in text.stdout for title in flagged_titles)
    as_json = run_newsmon(["flags", "--json", "--since", "3650d", "--limit", "0"], embedded.env(), timeout=60)
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert {r["title"] for r in rows if r["kind"] == "article"} == flagged_titles
    assert all(r["topic"] == "central-asia" and r["score"] > 0 and r["terms"] for r in rows)


def test_topics_list_and_test(embedded) -> None:
    listed = run_newsmon(["topics", "list"], embedded.env() | {"COLUMNS": "200"}, timeout=60)
    assert listed.returncode == 0 and "central-asia" in listed.stdout
    lines = "\n".join([
        json.dumps({"title": "Tokayev meets Mirziyoyev in Tashkent", "text": "Talks on water.", "id": 1}),
        json.dumps({"title": "Zelensky marks Holodomor Remembrance Day", "text": "They failed.", "id": 2}),
    ])
    result = subprocess.run([sys.executable, "-m", "crawler.cli", "topics", "test", "-"], input=lines,
                            cwd=ROOT, env=embedded.env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["id"] == 1 and first["topics"][0]["slug"] == "central-asia"
    assert {"Tokayev", "Mirziyoyev"} <= set(first["topics"][0]["terms"])
    assert second["topics"] == []


def test_a_run_whose_process_is_gone_is_reaped_as_killed(embedded) -> None:
    """A crawl killed with SIGKILL never records its end; the next command that reads runs says
    `killed` instead of `running` forever."""
    import socket
    import subprocess
    import sys
    from datetime import UTC, datetime

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    store = embedded.open()
    try:
        store.insert_run({"_id": "dead-run", "site": "demo", "trigger": "manual", "outcome": "running",
                          "started_at": datetime.now(UTC), "finished_at": None,
                          "host": socket.gethostname(), "pid": gone.pid})
        store.insert_run({"_id": "other-host", "site": "demo", "trigger": "manual", "outcome": "running",
                          "started_at": datetime.now(UTC), "finished_at": None,
                          "host": "some-other-machine", "pid": gone.pid})
    finally:
        store.close()
    result = run_newsmon(["runs", "--json"], embedded.env())
    assert result.returncode == 0, result.stderr
    outcomes = {r["_id"]: r["outcome"] for r in map(json.loads, result.stdout.splitlines())}
    assert outcomes == {"dead-run": "killed", "other-host": "running"}, "only this host's dead pids"


def test_an_unreachable_site_is_a_failed_run(embedded) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run_newsmon(["crawl", "demo", "-a", f"base_url=http://127.0.0.1:{port}/"], embedded.env(), timeout=180)
    assert result.returncode == 1 and "crawl of demo: failed" in result.stdout, result.stdout[-2000:]
    store = embedded.open()
    try:
        (run,) = store.find("crawl_runs")
    finally:
        store.close()
    assert run["outcome"] == "failed" and run["summary"]["pages"] == 0
