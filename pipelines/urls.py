"""Canonical URLs: one spelling per page, so one article is one document."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

__all__ = ["TRACKING_PARAMS", "canonical_url"]

# Query parameters that only say where a click came from. utm_* is matched by prefix below.
TRACKING_PARAMS = (
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid", "ref_src",
    "_ga", "_gl", "oly_enc_id", "oly_anon_id", "vero_id", "__s",
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """Lower-case scheme/host, default port and fragment dropped, tracking parameters removed,
    query sorted (w3lib does the escaping and sorting the same way Scrapy's dupefilter does)."""
    url = url.strip()
    cleaned = url_query_cleaner(url, TRACKING_PARAMS, remove=True, keep_fragments=False)
    if "utm_" in cleaned:
        keys = {k for k, _ in parse_qsl(cleaned.partition("?")[2], keep_blank_values=True)}
        cleaned = url_query_cleaner(cleaned, [k for k in keys if k.lower().startswith("utm_")], remove=True)
    parts = urlsplit(canonicalize_url(cleaned, keep_fragments=False))
    host = (parts.hostname or "").lower()
    if parts.port and _DEFAULT_PORTS.get(parts.scheme) != parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", parts.query, ""))
