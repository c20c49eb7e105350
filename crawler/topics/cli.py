"""Plain functions behind ``newsmon topics list|test|build|explain`` and ``newsmon flags``.

``list``, ``test`` and ``flags`` are click commands in crawler/cli.py; ``build`` and ``explain``
are defined here (``COMMANDS``) and added to the ``topics`` group there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from crawler.errors import ConfigError
from crawler.topics.config import load_topics, topic_paths
from crawler.topics.matcher import TopicMatch, TopicMatcher, item_fields

if TYPE_CHECKING:
    from pipelines.storage.config import StoreConfig

__all__ = ["COMMANDS", "flags_rows", "format_explain", "format_flags", "parse_since", "topics_build",
           "topics_explain", "topics_list_rows", "topics_test"]

def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``30m``/``24h``/``7d``/``2w`` before now, or an ISO date/datetime (naive = UTC)."""
    from crawler.when import parse_since as parse

    return parse(value, now=now)


def topics_list_rows(settings: Any) -> list[dict[str, Any]]:
    """One row per configured topic (``TOPICS_FILE``): slug, name, terms, threshold, fields, file."""
    rows = []
    for t in load_topics(settings.get("TOPICS_FILE")):
        rows.append({
            "slug": t.slug, "name": t.name, "description": t.description,
            "terms": len(t.terms), "spellings": sum(len(x.forms) or len(x.spellings) for x in t.terms),
            "exclusions": len(t.exclusions), "min_score": t.min_score, "fields": list(t.fields),
            "field_weights": dict(t.field_weights), "file": t.path,
        })
    return rows


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def topics_test(in_stream: IO[str], out_stream: IO[str], topics_file: str | None,
                explain: bool = False, tally: dict[str, int] | None = None) -> int:
    """Read JSON lines, write each back with ``topics: [{slug, score, terms}]``; return the count.

    Each line is a JSON object with ``title`` (or ``headline``) and ``text``; ``summary``/``lead``
    and ``body`` are read too (see ``item_fields``), other fields are kept. The matcher and
    thresholds are the pipeline's. With ``explain``, ``terms`` lists {term, count, field, context,
    matched, weight} objects instead of names. ``tally``, when given, receives ``lines`` and
    ``matched`` (lines with at least one topic).
    """
    matcher = TopicMatcher(load_topics(topics_file))
    count = 0
    for lineno, line in enumerate(in_stream, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"line {lineno}: not JSON: {exc}") from exc
        if not isinstance(record, dict):
            raise ConfigError(f"line {lineno}: expected a JSON object")
        topics = []
        for m in matcher.flagged(item_fields(record)):
            entry = m.summary()
            if explain:
                entry["terms"] = [h.as_dict() for h in m.hits]
            topics.append(entry)
        record["topics"] = topics
        if tally is not None:
            tally["matched"] = tally.get("matched", 0) + bool(topics)
        out_stream.write(json.dumps(record, ensure_ascii=False, default=_json_default) + "\n")
        count += 1
    if tally is not None:
        tally["lines"] = count
        tally.setdefault("matched", 0)
    return count


def flags_rows(store_config: StoreConfig, topic: str | None, since: datetime | None,
               limit: int) -> list[dict[str, Any]]:
    """Flagged items, newest first: flagged_at, topic, score, kind, site, title, url, terms."""
    from pipelines.storage.flags import open_flag_store

    with open_flag_store(store_config) as store:
        docs = store.find(topic=topic, since=since, limit=limit)
    return [{
        "flagged_at": d.get("flagged_at"), "topic": d.get("topic"), "score": d.get("score"),
        "last_score": d.get("last_score"), "kind": d.get("kind"), "site": d.get("site"),
        "title": d.get("title"), "url": d.get("url"), "published": d.get("published"),
        "item_id": d.get("item_id"),
        "terms": [{"term": t.get("term"), "count": t.get("count"), "field": t.get("field")}
                  for t in d.get("terms", [])],
    } for d in docs]


def _term_list(terms: Iterable[dict[str, Any]]) -> str:
    seen: dict[str, int] = {}
    for t in terms:
        seen[t["term"]] = seen.get(t["term"], 0) + int(t.get("count") or 0)
    return ", ".join(f"{k}×{v}" for k, v in seen.items())


def format_flags(rows: list[dict[str, Any]]) -> str:
    """A plain-text listing of ``flags_rows``, or a note when empty.

    Three lines per flag, so an 80-column terminal shows it whole: when, topic, score, site and
    kind; the title; the matched terms and the URL.
    """
    if not rows:
        return "No flagged items."
    out = []
    for r in rows:
        when = r["flagged_at"].strftime("%Y-%m-%d %H:%M") if isinstance(r["flagged_at"], datetime) else "?"
        out.append(f"{when}  {r['topic']}  score {r['score']:.1f}  {r['site']}  {r['kind']}")
        out.append(f"  {r['title']}")
        out.append(f"  terms: {_term_list(r['terms'])}")
        if r.get("url"):
            out.append(f"  {r['url']}")
    return "\n".join(out)


# --- topics build / explain --------------------------------------------------------------------


def topics_build(topics_file: str | None) -> list[Any]:
    """Regenerate the compiled term file of every topic (named by ``topics_file``) that has a [build]."""
    import tomllib

    from crawler.topics.build import build_topic

    reports = []
    for path in topic_paths(topics_file):
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            load_topics(str(path))  # raises the usual TopicFileError
            raise
        if "build" in raw:
            reports.append(build_topic(path))
    return reports


def topics_explain(text: str, topics_file: str | None, title: str = "", lead: str = "") -> list[TopicMatch]:
    """Every topic's match for TEXT (read as the body; ``title``/``lead`` as those fields)."""
    matcher = TopicMatcher(load_topics(topics_file))
    return matcher.match({"title": title, "lead": lead, "body": text})


def format_explain(matches: list[TopicMatch]) -> str:
    """Plain text: per topic the score, then every term, form, source and rule that fired."""
    out = []
    for m in matches:
        verdict = "FLAGGED" if m.flagged else "not flagged"
        out.append(f"{m.slug}: score {m.score:g} (min {m.threshold:g}) {verdict}")
        if m.excluded_by:
            out.append(f"  item exclusion: {m.excluded_by!r} cancels the topic for the whole item")
        for h in m.hits:
            source = f"  [{h.source}]" if h.source else ""
            out.append(f"  + {h.term}  {h.field} x{h.count}  +{h.weight:g}  form {h.matched!r}{source}")
            out.append(f"      {h.context}")
        for c in m.cancelled:
            out.append(f"  - {c.term}  {c.field}  form {c.matched!r}  cancelled by rule: {c.rule}")
            out.append(f"      {c.context}")
        if not (m.hits or m.cancelled or m.excluded_by):
            out.append("  (no term matched)")
    return "\n".join(out)


@click.command("build")
@click.option("--topics-file", default=None,
              help="Topic file or directory (default: the shipped topics in crawler/topics/).")
def build_command(topics_file: str | None) -> None:
    """Regenerate compiled term files from each topic's [build] sources (gazetteer, entity files).

    Needs the build extra: pip install 'newsmon[build]'."""
    reports = topics_build(topics_file or str(Path(__file__).resolve().parent))
    if not reports:
        click.echo("no topic has a [build] table: nothing to build", err=True)
    for r in reports:
        sources = ", ".join(f"{k} {v}" for k, v in sorted(r.by_source.items()))
        click.echo(f"wrote {r.path}: {r.terms} terms, {r.forms} forms ({sources}); "
                   f"{len(r.demoted)} names demoted to support, {len(r.dropped)} names or forms dropped")
        for name, why in r.demoted:
            click.echo(f"  support: {name}: {why}")


@click.command("explain")
@click.argument("text")
@click.option("--title", default="", help="Also read this as the item's title.")
@click.option("--lead", default="", help="Also read this as the item's lead.")
@click.option("--topics-file", default=None, help="Topic file or directory (default: TOPICS_FILE).")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
def explain_command(text: str, title: str, lead: str, topics_file: str | None, as_json: bool) -> None:
    """Show every term, word form and context rule that fires on TEXT (read as the body)."""
    if topics_file is None:
        import os

        from scrapy.utils.project import get_project_settings

        os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
        topics_file = get_project_settings().get("TOPICS_FILE")
    matches = topics_explain(text, topics_file, title=title, lead=lead)
    if as_json:
        from dataclasses import asdict

        for m in matches:
            click.echo(json.dumps({**asdict(m), "flagged": m.flagged}, ensure_ascii=False))
    else:
        click.echo(format_explain(matches))


#: The click commands crawler/cli.py adds to ``newsmon topics`` (it wraps them in its error handling).
COMMANDS = (build_command, explain_command)
