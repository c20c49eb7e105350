"""``newsmon report``: one self-contained HTML page of what the crawls and the topics did.

Charts are drawn by pygal as static SVG inlined in the page (no script, no external file, no
server), so the file can be mailed or opened from disk. pygal was picked over matplotlib because
SVG is its native output (matplotlib's SVG backend draws text as paths and brings a dozen
compiled dependencies) and it needs no other package.

Days are UTC calendar days; an article or snippet counts on the day newsmon first saw it
(``first_seen``), a flag on the day it was raised (``flagged_at``), a run on the day it started.
"""

from __future__ import annotations

import html
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

__all__ = ["CHARTS", "ReportData", "collect", "render"]

#: The charts of the page, in order: element id -> title.
CHARTS = {
    "chart-articles": "Articles per site per day",
    "chart-snippets": "News Feed snippets per site per day",
    "chart-flags": "Topic flags per topic per day",
    "chart-health": "Crawl runs per site by health",
    "chart-durations": "Crawl durations per site (seconds)",
}
_LATEST_FLAGS = 25


@dataclass
class SiteRuns:
    runs: int = 0
    failures: int = 0  # health failed, or the run failed / was killed / timed out
    health: Counter[str] = field(default_factory=Counter)
    durations: list[float] = field(default_factory=list)


@dataclass
class ReportData:
    since: datetime
    until: datetime
    days: list[date]
    articles: dict[str, Counter[date]]  # site -> day -> count
    snippets: dict[str, Counter[date]]
    flags: dict[str, Counter[date]]  # topic -> day -> count
    runs: dict[str, SiteRuns]
    latest_flags: list[dict[str, Any]]


def _day(value: Any) -> date | None:
    if not isinstance(value, datetime):
        return None
    return (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)).date()


def _per_day(docs: Iterable[Mapping[str, Any]], key: str, when: str) -> dict[str, Counter[date]]:
    out: dict[str, Counter[date]] = defaultdict(Counter)
    for doc in docs:
        day = _day(doc.get(when))
        if day is not None:
            out[str(doc.get(key))][day] += 1
    return dict(sorted(out.items()))


def _failing(run: Mapping[str, Any]) -> bool:
    return (run.get("health") or {}).get("status") == "failed" or run.get("outcome") in (
        "failed", "killed", "timed_out")


def collect(store: Any, since: datetime, until: datetime | None = None) -> ReportData:
    """Everything the page shows, read from ``store`` for ``since`` .. ``until`` (default now)."""
    until = until or datetime.now(UTC)
    window = {"$gte": since, "$lte": until}
    articles = _per_day(store.find("articles", {"first_seen": window}), "site", "first_seen")
    snippets = _per_day(store.find("feed_snippets", {"first_seen": window}), "site", "first_seen")
    flag_docs = list(store.find("topic_flags", {"flagged_at": window}, sort=[("flagged_at", -1)]))
    flags = _per_day(flag_docs, "topic", "flagged_at")
    runs: dict[str, SiteRuns] = defaultdict(SiteRuns)
    for run in store.find("crawl_runs", {"started_at": window}):
        if run.get("outcome") == "running":
            continue
        site = runs[str(run.get("site"))]
        site.runs += 1
        site.failures += _failing(run)
        site.health[(run.get("health") or {}).get("status") or "not judged"] += 1
        started, finished = run.get("started_at"), run.get("finished_at")
        if isinstance(started, datetime) and isinstance(finished, datetime):
            site.durations.append(max(0.0, (finished - started).total_seconds()))
    first, last = since.astimezone(UTC).date(), until.astimezone(UTC).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return ReportData(since, until, days, articles, snippets, flags, dict(sorted(runs.items())),
                      flag_docs[:_LATEST_FLAGS])


# --- drawing -----------------------------------------------------------------------------------


def _config(title: str) -> Any:
    import pygal  # type: ignore[import-untyped]
    from pygal.style import CleanStyle  # type: ignore[import-untyped]

    config = pygal.Config()
    config.title = title
    config.style = CleanStyle
    config.js = []  # no script: the page stays self-contained and static
    config.disable_xml_declaration = True  # inline <svg>
    config.width, config.height = 900, 360
    config.x_label_rotation = 30
    config.legend_at_bottom = True
    config.print_values = False
    config.no_data_text = "nothing in this period"
    return config


def _svg(chart: Any) -> str:
    return str(chart.render(is_unicode=True))


def _day_bars(title: str, series: Mapping[str, Counter[date]], days: list[date]) -> str:
    import pygal  # type: ignore[import-untyped]

    chart = pygal.StackedBar(_config(title))
    chart.x_labels = [d.isoformat() for d in days]
    for name, counts in series.items():
        chart.add(name, [counts.get(d, 0) for d in days])
    return _svg(chart)


def _health_bars(runs: Mapping[str, SiteRuns]) -> str:
    import pygal  # type: ignore[import-untyped]

    chart = pygal.StackedBar(_config(CHARTS["chart-health"]))
    chart.x_labels = list(runs)
    for status in ("passed", "warnings", "failed", "not judged"):
        if any(r.health.get(status) for r in runs.values()):
            chart.add(status, [r.health.get(status, 0) for r in runs.values()])
    return _svg(chart)


def _durations(runs: Mapping[str, SiteRuns]) -> str:
    import pygal  # type: ignore[import-untyped]

    chart = pygal.Box(_config(CHARTS["chart-durations"]))
    for site, r in runs.items():
        if r.durations:
            chart.add(site, r.durations)
    return _svg(chart)


def _runs_table(runs: Mapping[str, SiteRuns]) -> str:
    rows = []
    for site, r in runs.items():
        median = f"{statistics.median(r.durations):.0f}" if r.durations else "-"
        longest = f"{max(r.durations):.0f}" if r.durations else "-"
        health = ", ".join(f"{k} {v}" for k, v in sorted(r.health.items()))
        rows.append(f"<tr><td>{html.escape(site)}</td><td>{r.runs}</td><td>{r.failures}</td>"
                    f"<td>{median}</td><td>{longest}</td><td>{html.escape(health)}</td></tr>")
    body = "".join(rows) or '<tr><td colspan="6">no runs in this period</td></tr>'
    return ("<table><thead><tr><th>site</th><th>runs</th><th>failing</th><th>median s</th>"
            f"<th>longest s</th><th>health</th></tr></thead><tbody>{body}</tbody></table>")


def _flags_table(flags: list[dict[str, Any]]) -> str:
    rows = []
    for flag in flags:
        url, title = flag.get("url"), html.escape(str(flag.get("title") or flag.get("item_id") or ""))
        link = f'<a href="{html.escape(str(url))}">{title}</a>' if url else title
        counts: Counter[str] = Counter()
        for term in flag.get("terms") or []:  # one entry per field it matched in: summed per term
            counts[str(term.get("term"))] += int(term.get("count") or 1)
        terms = ", ".join(f"{term}×{n}" for term, n in counts.most_common())
        when = flag.get("flagged_at")
        when_text = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if isinstance(when, datetime) else "-"
        score = flag.get("last_score", flag.get("score"))
        rows.append(f"<tr><td>{when_text}</td><td>{html.escape(str(flag.get('topic')))}</td>"
                    f"<td>{html.escape(str(flag.get('site')))}</td><td>{link}</td>"
                    f"<td>{html.escape(terms)}</td>"
                    f"<td>{'' if score is None else f'{float(score):.1f}'}</td></tr>")
    body = "".join(rows) or '<tr><td colspan="6">no flags in this period</td></tr>'
    return ('<table id="latest-flags"><thead><tr><th>flagged (UTC)</th><th>topic</th><th>site</th>'
            f"<th>item</th><th>matched terms</th><th>score</th></tr></thead><tbody>{body}</tbody></table>")


_CSS = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:960px;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}figure{margin:1rem 0}svg{max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f4f4f4}.meta{color:#666}"""


def render(data: ReportData) -> str:
    """The whole page: every chart of ``CHARTS`` as inline SVG, the runs table, the latest flags."""
    charts = {
        "chart-articles": _day_bars(CHARTS["chart-articles"], data.articles, data.days),
        "chart-snippets": _day_bars(CHARTS["chart-snippets"], data.snippets, data.days),
        "chart-flags": _day_bars(CHARTS["chart-flags"], data.flags, data.days),
        "chart-health": _health_bars(data.runs),
        "chart-durations": _durations(data.runs),
    }
    figures = {key: f'<figure id="{key}">{svg}</figure>' for key, svg in charts.items()}
    span = f"{data.since:%Y-%m-%d %H:%M} – {data.until:%Y-%m-%d %H:%M} UTC"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>newsmon report {data.until:%Y-%m-%d}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>
<body><h1>newsmon report</h1><p class="meta">{html.escape(span)}; days are UTC, items counted on the day
newsmon first saw them.</p>
<h2>Articles and snippets</h2>{figures["chart-articles"]}{figures["chart-snippets"]}
<h2>Topics</h2>{figures["chart-flags"]}
<h2>Crawl health</h2>{figures["chart-health"]}{figures["chart-durations"]}{_runs_table(data.runs)}
<h2>Latest flagged items</h2>{_flags_table(data.latest_flags)}
</body></html>
"""
