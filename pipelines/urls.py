"""Canonical URLs: one spelling per page, so one article is one document.

``canonical_url`` normalizes any URL (scheme/host case, default port, fragment, tracking
parameters, sorted query, AMP variants, trailing slash by policy); ``article_url`` picks the
page's declared ``<link rel=canonical>``/``og:url`` when it lies on an allowed domain, else the
URL the page was fetched from. Requests are deduplicated on the same form
(``crawler.dupefilter``), so one article is neither fetched nor stored twice.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

__all__ = ["TRACKING_PARAMS", "TRAILING_SLASH_POLICIES", "article_url", "canonical_url", "on_domains"]

TrailingSlash = Literal["keep", "strip", "add"]
TRAILING_SLASH_POLICIES: tuple[str, ...] = ("keep", "strip", "add")

# Query parameters that only say where a click came from. utm_* is matched by prefix below.
TRACKING_PARAMS = (
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid", "ref_src",
    "_ga", "_gl", "oly_enc_id", "oly_anon_id", "vero_id", "__s", "gclsrc", "wbraid", "gbraid",
    "twclid", "ttclid", "li_fat_id", "_hsenc", "_hsmi", "mkt_tok", "cmpid", "ocid", "smid",
    "ncid", "sr_share", "at_medium", "at_campaign",
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
# AMP markers: ?amp / ?amp=1 / ?outputType=amp, a last path segment "amp", a leading "/amp/"
# segment, a ".amp" / ".amp.html" suffix, an "amp." host label.
_AMP_QUERY = {"amp": None, "outputtype": "amp", "output": "amp"}
_AMP_SUFFIX = re.compile(r"\.amp(\.html?)?$", re.I)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(key: str) -> bool:
    lowered = key.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES)


def _is_amp_param(key: str, value: str) -> bool:
    lowered = key.lower()
    if lowered not in _AMP_QUERY:
        return False
    wanted = _AMP_QUERY[lowered]
    return wanted is None or value.lower() == wanted


def _de_amp_path(path: str) -> str:
    if path.startswith("/amp/"):
        path = path[4:]
    stripped = re.sub(r"/amp/?$", "/", path)
    if stripped != path:
        path = stripped
    else:
        path = _AMP_SUFFIX.sub(lambda m: m.group(1) or "", path)
    return path or "/"


def canonical_url(url: str, *, trailing_slash: TrailingSlash | str = "keep") -> str:
    """Lower-case scheme/host, default port and fragment dropped, tracking and AMP parameters
    removed, AMP paths mapped to the page, query sorted (w3lib escapes and sorts the way Scrapy's
    dupefilter does); ``trailing_slash`` "strip"/"add" rewrites a path's last slash, "keep" not."""
    if trailing_slash not in TRAILING_SLASH_POLICIES:
        raise ValueError(f"trailing_slash must be one of {TRAILING_SLASH_POLICIES}, got {trailing_slash!r}")
    return _canonical(url, trailing_slash)


# A pure function of (url, policy), asked ~15 times per article page: the links of listings, the
# article's declared and fetched URL in clean and identity, every News Feed sighting's link.
# Bounded, so a long crawl's memory stays flat (a few MB at most).
@functools.lru_cache(maxsize=8192)
def _canonical(url: str, trailing_slash: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _is_tracking(k) and not _is_amp_param(k, v)]
    if len(kept) != len(pairs):
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment))
    parts = urlsplit(canonicalize_url(url, keep_fragments=False))
    host = (parts.hostname or "").lower()
    if host.startswith("amp."):
        host = host[4:]
    if parts.port and _DEFAULT_PORTS.get(parts.scheme) != parts.port:
        host = f"{host}:{parts.port}"
    path = _de_amp_path(parts.path or "/")
    if path != "/":
        last = path.rsplit("/", 1)[-1]
        if trailing_slash == "strip":
            path = path.rstrip("/") or "/"
        elif trailing_slash == "add" and not path.endswith("/") and "." not in last:
            path += "/"
    return urlunsplit((parts.scheme.lower(), host, path, parts.query, ""))


def on_domains(url: str, domains: Iterable[str]) -> bool:
    """Whether ``url``'s host is one of ``domains`` or a subdomain of one."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in (d.lower() for d in domains))


def article_url(
    declared: str | None,
    fetched: str,
    allowed_domains: Iterable[str] = (),
    *,
    trailing_slash: TrailingSlash | str = "keep",
) -> str:
    """The canonical URL of a page: its declared canonical (``<link rel=canonical>``/``og:url``)
    when that is an http(s) URL on an allowed domain, else the fetched URL; both normalized."""
    domains = list(allowed_domains)
    if declared and urlsplit(declared).scheme in ("http", "https") and (
        not domains or on_domains(declared, domains)
    ):
        return canonical_url(declared, trailing_slash=trailing_slash)
    return canonical_url(fetched, trailing_slash=trailing_slash)
