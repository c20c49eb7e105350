"""Topic files: load and validate the TOML that defines what a topic is.

One file holds one topic. ``TOPICS_FILE`` names one or more files or directories (a list, or a
comma-separated string); ``None`` means the shipped default, ``crawler/topics/central-asia.toml``.
Every problem is a ``TopicFileError`` (a ``ConfigError``) naming the file, the key and what is
wrong, so a user tuning a topic sees ``central-asia.toml: terms[3].weight: must be > 0``.

Format (see ``central-asia.toml`` for a full, commented example)::

    slug = "central-asia"              # [a-z0-9-], the name stored with every flag
    name = "Central Asia"
    description = "..."
    min_score = 3.0                    # a topic is flagged at score >= min_score
    fields = ["title", "lead", "body"] # which fields are read (default all three)
    max_count = 3                      # occurrences counted per term and field
    [field_weights]                    # default title 3, lead 2, body 1
    [[terms]]                          # term, weight, aliases, support, inflect
    [[exclusions]]                     # phrases / before / after, scope "mention" or "item"
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.errors import ConfigError
from crawler.tomltable import TomlTable

__all__ = [
    "DEFAULT_TOPICS_FILE",
    "FIELDS",
    "Exclusion",
    "Term",
    "Topic",
    "TopicFileError",
    "load_topic",
    "load_topics",
    "parse_topic",
    "topic_paths",
]

#: The shipped default topic (Central Asia). Only a path: nothing is read at import.
DEFAULT_TOPICS_FILE = Path(__file__).resolve().parent / "central-asia.toml"
#: The canonical fields a topic reads: title (title/headline), lead (summary / snippet text), body.
FIELDS = ("title", "lead", "body")
DEFAULT_FIELD_WEIGHTS = {"title": 3.0, "lead": 2.0, "body": 1.0}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SCOPES = ("mention", "item")


class TopicFileError(ConfigError):
    """A topic file failed validation; names the file and the key."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        super().__init__(f"{path}: {key}: {problem}")


@dataclass(frozen=True)
class Term:
    """One weighted term and its spellings; ``support`` terms only count next to a primary one."""

    term: str
    weight: float
    aliases: tuple[str, ...] = ()
    support: bool = False
    inflect: bool = True

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.term, *self.aliases)


@dataclass(frozen=True)
class Exclusion:
    """Phrases or contexts that cancel a term occurrence (scope "mention") or the whole topic."""

    phrases: tuple[str, ...] = ()  # a term occurrence inside one of these is cancelled
    before: tuple[str, ...] = ()  # a term occurrence right after one of these is cancelled
    after: tuple[str, ...] = ()  # a term occurrence right before one of these is cancelled
    scope: str = "mention"  # "item": any phrase occurrence cancels the topic for the item
    note: str = ""


@dataclass(frozen=True)
class Topic:
    """A validated topic definition."""

    slug: str
    name: str
    description: str
    terms: tuple[Term, ...]
    exclusions: tuple[Exclusion, ...] = ()
    min_score: float = 3.0
    fields: tuple[str, ...] = FIELDS
    field_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_FIELD_WEIGHTS))
    max_count: int = 3
    path: str = ""


class _Reader(TomlTable):
    """A topic-file table: errors are TopicFileErrors, and strings must be matchable spellings."""

    error_class = TopicFileError

    def number(self, key: str, default: float | None = None, *, required: bool = False,
               positive: bool = True) -> float:
        value = float(self.get(key, (int, float), default, required=required))
        if positive and not value > 0:
            raise self.fail(key, f"must be > 0, got {value!r}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:  # type: ignore[override]
        value = super().strings(key)
        for i, item in enumerate(value):
            problem = spelling_problem(item)
            if problem:
                raise self.fail(f"{key}[{i}]", f"{item!r}: {problem}")
        return tuple(value)


def spelling_problem(text: str) -> str | None:
    """Why a term or phrase cannot be matched as written, or None."""
    stripped = text.strip()
    if not re.match(r"\w", stripped):
        return "must start with a letter or digit"
    if "*" in stripped.rstrip("*") and re.search(r"\*(?=\w)", stripped):
        return "'*' is only allowed at the end of a word"
    if "**" in stripped:
        return "use a single '*'"
    return None


def parse_topic(path: str, data: Mapping[str, Any]) -> Topic:
    """A Topic from the parsed TOML of ``path``; raises TopicFileError."""
    r = _Reader(path, data)
    slug = r.get("slug", str, required=True)
    if not _SLUG.match(slug):
        raise r.fail("slug", f"{slug!r}: use 1-63 lowercase letters, digits or '-'")
    name = r.get("name", str, slug)
    description = r.get("description", str, "")
    min_score = r.number("min_score", 3.0)
    max_count = r.get("max_count", int, 3)
    if max_count < 1:
        raise r.fail("max_count", f"must be >= 1, got {max_count}")
    fields = r.strings("fields") if "fields" in data else FIELDS
    for i, name_ in enumerate(fields):
        if name_ not in FIELDS:
            raise r.fail(f"fields[{i}]", f"{name_!r}: must be one of {', '.join(FIELDS)}")
    if not fields:
        raise r.fail("fields", "must name at least one field")
    weights = dict(DEFAULT_FIELD_WEIGHTS)
    fw = _Reader(path, r.get("field_weights", dict, {}), "field_weights.")
    for key in FIELDS:
        if key in fw.data:
            weights[key] = fw.number(key)
    fw.check_unknown()

    terms: list[Term] = []
    seen: dict[str, str] = {}
    for t in r.tables("terms"):
        term = t.get("term", str, required=True)
        problem = spelling_problem(term)
        if problem:
            raise t.fail("term", f"{term!r}: {problem}")
        entry = Term(term=term, weight=t.number("weight", required=True), aliases=t.strings("aliases"),
                     support=t.get("support", bool, False), inflect=t.get("inflect", bool, True))
        t.check_unknown()
        for spelling in entry.spellings:
            key = spelling.casefold()
            if key in seen:
                raise t.fail("aliases" if spelling != term else "term",
                             f"{spelling!r} is already a spelling of {seen[key]!r}")
            seen[key] = term
        terms.append(entry)
    if not terms:
        raise r.fail("terms", "a topic needs at least one [[terms]] entry")

    exclusions: list[Exclusion] = []
    for x in r.tables("exclusions"):
        ex = Exclusion(phrases=x.strings("phrases"), before=x.strings("before"), after=x.strings("after"),
                       scope=x.get("scope", str, "mention"), note=x.get("note", str, ""))
        x.check_unknown()
        if ex.scope not in _SCOPES:
            raise x.fail("scope", f"{ex.scope!r}: must be one of {', '.join(_SCOPES)}")
        if not (ex.phrases or ex.before or ex.after):
            raise x.fail("phrases", "an exclusion needs phrases, before or after")
        if ex.scope == "item" and (ex.before or ex.after):
            raise x.fail("scope", "scope 'item' takes phrases only (before/after cancel one mention)")
        exclusions.append(ex)
    r.check_unknown()
    return Topic(slug=slug, name=name, description=description.strip(), terms=tuple(terms),
                 exclusions=tuple(exclusions), min_score=min_score, fields=tuple(fields),
                 field_weights=weights, max_count=max_count, path=path)


def load_topic(path: Path) -> Topic:
    """Read and validate one topic file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TopicFileError(str(path), "-", f"cannot be read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TopicFileError(str(path), "-", f"is not valid TOML: {exc}") from exc
    return parse_topic(str(path), data)


def topic_paths(setting: str | os.PathLike[str] | Sequence[str] | None) -> list[Path]:
    """The topic files named by a ``TOPICS_FILE`` value (files, directories, comma lists)."""
    if setting is None or setting == "" or setting == []:
        return [DEFAULT_TOPICS_FILE]
    items: Iterable[str]
    if isinstance(setting, (str, os.PathLike)):
        items = str(setting).split(",")
    else:
        items = [str(s) for s in setting]
    paths: list[Path] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(path.glob("*.toml"))
            if not found:
                raise TopicFileError(str(path), "TOPICS_FILE", "directory holds no *.toml topic file")
            paths.extend(found)
        else:
            paths.append(path)
    return paths or [DEFAULT_TOPICS_FILE]


def load_topics(setting: str | os.PathLike[str] | Sequence[str] | None = None) -> list[Topic]:
    """Every topic named by a ``TOPICS_FILE`` value; slugs must be unique."""
    topics: list[Topic] = []
    where: dict[str, str] = {}
    for path in topic_paths(setting):
        topic = load_topic(path)
        if topic.slug in where:
            raise TopicFileError(str(path), "slug", f"{topic.slug!r} is also the slug of {where[topic.slug]}")
        where[topic.slug] = str(path)
        topics.append(topic)
    return topics
