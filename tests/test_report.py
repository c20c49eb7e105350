"""`newsmon report`: one self-contained HTML page from a demo crawl, with every chart's SVG, and the
same page in headless Chromium without console errors (skipped where Chromium is not installed)."""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.report import CHARTS
from tests.conftest import StoreTier, run_newsmon


@pytest.fixture(scope="module")
def report_file(tmp_path_factory, demo_server) -> Path:
    """A demo crawl, one older failed run of another day, and the report written from them."""
    base = tmp_path_factory.mktemp("report")
    tier = StoreTier("embedded", base / "data")
    crawled = run_newsmon(["crawl", "demo", "-a", f"base_url={demo_server.base_url}/"], tier.env())
    assert crawled.returncode == 0, crawled.stderr[-3000:]
    store = tier.open()
    try:
        started = datetime.now(UTC) - timedelta(days=2)
        store.insert_run({"_id": "older", "site": "demo", "trigger": "schedule", "started_at": started,
                          "finished_at": started + timedelta(seconds=30), "outcome": "finished",
                          "health": {"status": "failed", "monitors": []}})
    finally:
        store.close()
    out = base / "report.html"
    result = run_newsmon(["report", "--since", "7d", "-o", str(out)], tier.env())
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stderr
    return out


def test_report_has_every_chart_and_the_latest_flags(report_file: Path) -> None:
    page = report_file.read_text(encoding="utf-8")
    for chart_id, title in CHARTS.items():
        figure = re.search(rf'<figure id="{chart_id}"><svg [^>]*>(.*?)</svg></figure>', page, re.DOTALL)
        assert figure, chart_id
        assert f"<title>{title}</title>" in figure.group(1)
        assert 'class="no_data"' not in figure.group(1), f"{chart_id} drew no data"
    # Self-contained: nothing is loaded from elsewhere (links to articles are fine).
    assert not re.search(r'<(script|img|link|iframe)[^>]+(src|href)=', page)
    assert "@import" not in page and "url(http" not in page
    # Crawl health: two runs of demo, one failing (the older one's health failed).
    assert re.search(r"<tr><td>demo</td><td>2</td><td>1</td>", page)
    # The latest flags, each with a link and its matched terms.
    table = page[page.index('<table id="latest-flags">'):]
    rows = re.findall(r'<tr><td>[\d-]+ [\d:]+</td><td>([\w-]+)</td><td>demo</td><td><a href="(http[^"]+)">'
                      r"[^<]+</a></td><td>([^<]+×\d[^<]*)</td>", table)
    assert rows and all(topic == "central-asia" for topic, _, _ in rows), table[:2000]


def _chromium() -> str | None:
    for path in (os.environ.get("NEWSMON_BROWSER"), "/usr/bin/chromium", shutil.which("chromium")):
        if path and Path(path).exists():
            return path
    return None


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed here (/usr/bin/chromium); "
                    "CI installs it (deploy/dev.sh ensure_chromium) and runs this test")
def test_report_loads_in_chromium_without_console_errors(report_file: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.goto(report_file.as_uri(), wait_until="load")
            for chart_id in CHARTS:
                box = page.locator(f"#{chart_id} svg").bounding_box()
                assert box and box["width"] > 300 and box["height"] > 100, chart_id
            assert page.locator("#latest-flags a").count() >= 1
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
