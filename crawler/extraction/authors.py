"""Turn raw byline strings into person names, and desk/staff/agency bylines apart."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .text import clean_text

__all__ = ["clean_authors", "is_organization", "split_byline"]

_PREFIX = re.compile(
    r"^\s*(?:(?:written|reported|reporting|words|story|text|photos?|compiled|edited|posted)\s+)?"
    r"by\s*[:\-]?\s+|^\s*(?:author|authors|byline)\s*:\s*",
    re.IGNORECASE,
)
_SPLIT_AND = re.compile(r"\s+(?:and|&|with|und|mit|et|avec|y|con|e|i|і|и|та|з|с)\s+|\s*;\s*|"
                        r"\s*\|\s*|\s+/\s+", re.IGNORECASE)
_ROLE_WORDS = re.compile(
    r"\b(?:reporter|editor|correspondent|writer|journalist|contributor|columnist|producer|"
    r"analyst|photographer|photojournalist|intern|staff|chief|senior|deputy|managing|bureau|"
    r"director|host|anchor|fellow|freelance|freelancer|author|researcher|commentator|"
    r"contributing|associate|assistant|head of|news desk|desk|special to)\b",
    re.IGNORECASE,
)
_FOR_SUFFIX = re.compile(r"\s+(?:for|from|at|in|of)\s+(?:the\s+)?[A-Z][\w.\- ]+$")
_ORG_WORDS = re.compile(
    r"\b(?:news|staff|desk|team|agency|agencies|press|associated|"
    r"times|post|independent|media|newsroom|editorial|editors|board|wire|service|online|"
    r"magazine|journal|herald|tribune|gazette|daily|tv|radio|network|group|inc|ltd|llc|"
    r"foundation|institute|contributors)\b",
    re.IGNORECASE,
)
_HONORIFIC = re.compile(r"^(?:dr|mr|mrs|ms|mx|prof|sir|dame)\.?\s+", re.IGNORECASE)
_DATEISH = re.compile(r"\d{4}|\d{1,2}:\d{2}|\bmin read\b", re.IGNORECASE)


def is_organization(name: str) -> bool:
    """True when ``name`` reads like a newsroom or agency rather than a person: newsroom words,
    a short all-caps name (AFP, TASS), or one capitalised word alone (a person's byline names
    two or more: "Reuters", "Interfax", "Ukrinform" are agencies)."""
    return (bool(_ORG_WORDS.search(name)) or (name.isupper() and len(name) <= 6)
            or (" " not in name.strip() and "-" not in name and name[:1].isupper()))


def _is_role(part: str) -> bool:
    return bool(_ROLE_WORDS.search(part))


def _tidy(name: str) -> str:
    name = clean_text(name).strip(" ,;:-–—|·•\"'")
    name = _PREFIX.sub("", name).strip(" ,;:-–—|·•")
    if name.casefold() in ("by", "and", "with", "from", "author", "authors", "written by"):
        return ""
    if name.isupper() and len(name) > 6:
        name = name.title()
    return name


_WITH_PAREN = re.compile(r"\(\s*(?:with|avec|con|mit|and|et|y)\s+([^()]+)\)", re.IGNORECASE)
_URL_PAREN = re.compile(r"\s*\((?:https?://|www\.)[^()]*\)")


def _split(raw: str) -> list[str]:
    raw = _PREFIX.sub("", clean_text(raw))
    raw = _URL_PAREN.sub("", _WITH_PAREN.sub(r" and \1", raw))  # "A (avec B et C)": three names
    names: list[str] = []
    for chunk in _SPLIT_AND.split(raw):
        parts = [p.strip() for p in chunk.split(",") if p.strip()]
        if not parts:
            continue
        for i, part in enumerate(parts):
            if i > 0 and _is_role(part):
                continue  # "Jane Doe, Senior Reporter"
            if (_is_role(part) and not is_organization(part) and len(part.split()) <= 3
                    and not re.search(r"[A-Z][a-z]+\s+[A-Z][a-z]+", part)):
                continue  # a role alone ("Staff Writer") is no name; "Staff" orgs are kept
            names.append(part)
    return names


def split_byline(raw: Iterable[str], *, organizations: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """(person names, organisation bylines) from raw byline strings: no "By", no role suffix,
    "A and B" split, deduplicated. ``organizations`` are names known to be one (JSON-LD
    ``Organization``); others are told by their words ("news desk", "Staff", "Reuters")."""
    people: list[str] = []
    orgs: list[str] = []
    seen: set[str] = set()
    organizations = list(organizations)
    org_set = {clean_text(o).casefold() for o in organizations}
    for item in raw:
        if not item or item.lstrip().lower().startswith(("http://", "https://", "/")):
            continue
        for part in _split(item):
            name = _tidy(part)
            stripped = _FOR_SUFFIX.sub("", name)
            if stripped and stripped != name and not is_organization(stripped):
                name = stripped
            if not name or len(name) > 80 or _DATEISH.search(name):
                continue
            if not any(ch.isalpha() for ch in name):
                continue
            key = _HONORIFIC.sub("", name).casefold()
            if key in seen:
                continue
            seen.add(key)
            if key in org_set or is_organization(name) or len(name.split()) > 5:
                orgs.append(name)
            else:
                people.append(name)
    for org in organizations:
        name = _tidy(org)
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            orgs.append(name)
    return people, orgs


def clean_authors(raw: Iterable[str], *, organizations: Iterable[str] = ()) -> list[str]:
    """Person names only from raw byline strings (see ``split_byline``)."""
    return split_byline(raw, organizations=organizations)[0]
