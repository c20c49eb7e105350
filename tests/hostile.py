"""Hypothesis strategies for hostile input: the pieces real hostile pages are made of.

Markup in attributes, script and style, broken JSON-LD, control characters, lone surrogates,
entities, extreme dates, deep nesting; ``pages()`` puts them together as a page, as text or bytes
in several encodings. ``PROPERTY`` is the shared setting (no example database: nothing written).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = ["BAD_CHARS", "PROPERTY", "ZONES", "extreme_dates", "fragments", "hostile_urls", "pages", "words"]

PROPERTY = settings(database=None, deadline=None, max_examples=60,
                    suppress_health_check=[HealthCheck.too_slow])
BAD_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff]")
ZONES = ["UTC", "Europe/Kyiv", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Not/AZone", ""]

# --- strategies ------------------------------------------------------------------------------

hostile_chars = st.characters(codec=None, exclude_categories=())  # any code point, surrogates too
words = st.text(alphabet=st.sampled_from(list("abc xyz<>&;\"'/=\x00\x01\x0b\u00a0\ufffd\u200bКиїв")) | hostile_chars,
                max_size=40)
extreme_dates = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59),
                 timezones=st.sampled_from([UTC, None])).map(lambda d: d.isoformat()),
    st.sampled_from(["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "0000-00-00",
                     "2024-02-30T25:61:61Z", "December 31, 9999 11:59 PM", "99999-01-01",
                     "2024-03-05T10:00:00+23:59", "-1", "1e400", "NaN", "\x00", "2 hours ago"]),
    words,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | words | extreme_dates,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["@type", "headline", "author", "name", "datePublished", "dateModified",
                         "articleBody", "description", "image", "@graph", "keywords", "url"]),
        inner, max_size=6),
    max_leaves=20,
)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;")


hostile_urls = st.sampled_from(["http://[bad/", "http://[::1", "http://x:99999/", "//[", "javascript:alert(1)",
                                "http://%zz/", "http://exa mple.test/", "data:text/html,<b>", "\x00", ""]) | words
# Elements whose URL attribute extraction resolves ({u}: a hostile URL).
_URL_TEMPLATES = (
    '<link rel="canonical" href="{u}">',
    '<meta property="og:url" content="{u}">',
    '<meta property="og:image" content="{u}">',
    '<base href="{u}">',
    '<a href="{u}">link</a>',
    '<img src="{u}" alt="x">',
    '<figure><img src="{u}"><figcaption>Caption</figcaption></figure>',
)
# Fragments that are a template around one piece of hostile text ({t}).
_TEMPLATES = {
    "text": "{t}",
    "p": "<p>{t}</p>",
    "h1": "<h1>{t}<script>alert(1)</script></h1>",
    "script": "<script>{t}</script>",
    "style": "<style>{t}</style>",
    "comment": "<!-- {t} -->",
    "ld_raw": '<script type="application/ld+json">{{"headline": "{t}", "datePublished": </script>',
}


@st.composite
def fragments(draw: st.DrawFn) -> str:
    """One piece of a hostile page: markup around hostile text, JSON-LD, dates, deep nesting."""
    kind = draw(st.sampled_from([*_TEMPLATES, "meta", "ld", "time", "deep", "entity", "byline", "url"]))
    text = draw(words)
    if kind in _TEMPLATES:
        return _TEMPLATES[kind].format(t=text)
    if kind == "url":
        return draw(st.sampled_from(_URL_TEMPLATES)).format(u=_attr(draw(hostile_urls)))
    if kind == "meta":
        prop = draw(st.sampled_from(["og:title", "og:description", "article:published_time", "author"]))
        return f'<meta property="{prop}" name="{prop}" content="{_attr(text)}">'
    if kind == "ld":
        return f'<script type="application/ld+json">{json.dumps(draw(json_values))}</script>'
    if kind == "time":
        return f'<time datetime="{_attr(draw(extreme_dates))}">{text}</time>'
    if kind == "deep":
        depth = draw(st.integers(min_value=1, max_value=400))
        return "<div>" * depth + text + "</div>" * depth
    if kind == "entity":
        return draw(st.sampled_from(["&amp;amp;", "&#0;", "&#xD800;", "&#1114112;", "&lt;script&gt;", "&bogus;"]))
    return f'<div class="byline">By {text} on {draw(extreme_dates)}</div>'


@st.composite
def pages(draw: st.DrawFn) -> str | bytes:
    body = "".join(draw(st.lists(fragments(), max_size=12)))
    html = f"<html><head>{draw(fragments())}</head><body><article>{body}</article></body></html>"
    form = draw(st.sampled_from(["str", "utf-8", "cp1251", "utf-16", "raw"]))
    if form == "str":
        return html
    if form == "raw":
        return draw(st.binary(max_size=2000))
    return html.encode(form, errors="surrogatepass" if form.startswith("utf") else "replace")
