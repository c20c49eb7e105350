"""HTML, RSS and sitemap markup of the demo site; pure functions of the site model and base URL."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime, timezone
from email.utils import format_datetime
from html import escape
from typing import TYPE_CHECKING

from .model import SITE_NAME, DemoArticle, DemoSnippet, kyiv

if TYPE_CHECKING:
    from .site import DemoSite

__all__ = [
    "article_page", "clock", "fmt_dt", "home_page", "listing_page", "news_archive_page", "not_found_page",
    "rss_feed", "snippets_rss", "sitemap", "sitemap_index",
]

BANNER = (
    '<div class="membership-banner"><p>Three years of reporting, funded by our readers \u2014 become a '
    "member now and help us prepare for 2025.</p><p>Goal: 1,000 new members for our birthday. Gift a "
    "membership to your friend and help us prepare for what 2025 might bring.</p>"
    '<a class="btn" href="#/portal/signup">Become a member</a> '
    '<a class="btn" href="#/portal/gift">Gift membership</a></div>'
)
APPEAL = (
    '<section class="membership-appeal"><h3>Three years of reporting, funded by our readers.</h3>'
    f"<p>Millions read the {SITE_NAME}, but only one in 10,000 readers makes a financial contribution. "
    "Thanks to our community we've been able to keep our reporting free and accessible to everyone. "
    "For our third birthday, we're looking for 1,000 new members to help fund our mission and to help "
    "us prepare for what 2025 might bring.</p>"
    '<a class="btn" href="#/portal/signup">Become a member</a> '
    '<a class="btn" href="#/portal/gift">Gift membership</a></section>'
)
AUDIO = ('<div class="audio-player"><p class="audio-player__note">This audio is created with AI '
         'assistance</p><audio controls preload="none"></audio></div>')
CTA = (
    '<div class="kg-card kg-cta-card membership-cta"><p>Three years. Millions of readers. All thanks '
    "to 12,000 supporters.</p><p>It\u2019s thanks to readers like you that we can celebrate another "
    "birthday this November. We\u2019re looking for another 1,000 members to help fund our mission, keep "
    "our journalism accessible for all, and prepare for whatever 2025 might bring. Consider gifting a "
    "membership today or help us spread the word.</p><p>Help us get 1,000 new members!</p>"
    '<a href="#/portal/signup">Become a member</a> <a href="#/portal/gift">Gift membership</a></div>'
)
TEASER_TEXT = (
    "On the surface, the visit exuded an air of business as usual. The delegation was met at dawn on "
    "the tarmac of Astana airport by Kazakhstan\u2019s President Kassym-Jomart Tokayev before being "
    "greeted by an official guard of honor. The trip coinci\u2026"
)
NEWSLETTER = (
    '<div class="newsletter-form"><form method="post" action="#"><p class="newsletter-form__label">'
    'Enter your email to subscribe</p><input type="email" name="email" placeholder="Email">'
    '<p class="newsletter-form__error">Please, enter correct email address</p>'
    '<button type="submit">Subscribe</button><p class="newsletter-form__note">* indicates required</p>'
    "</form></div>"
)
AUTHOR_BOX = (
    f'<section class="author-box"><h4 class="author-box__name">The {SITE_NAME} news desk</h4>'
    f'<p class="author-box__bio">The {SITE_NAME} news desk covers breaking news around the clock, '
    "with reporters in Kyiv and across Ukraine.</p></section>"
)
FOOTER = (
    '<footer class="site-footer"><section class="footer-newsletters"><h3>Newsletters</h3>'
    + NEWSLETTER + '<p class="newsletter-title">Explaining Ukraine podcast</p>' + NEWSLETTER
    + '<p class="newsletter-success">Successfuly subscribed</p><p>Thank you for signing up for this '
    "newsletter. We\u2019ve sent you a confirmation email.</p></section>"
    '<div class="payment-methods">visa masterCard americanExpress</div>'
    '<nav class="footer-nav"><a href="/feed/">RSS</a> <a href="/news-archive/">News archive</a></nav>'
    f"<p>\u00a9 2024 {SITE_NAME}</p></footer>"
)


def e(text: str) -> str:
    """Escape text for an HTML text node or attribute."""
    return escape(text, quote=True)


def fmt_dt(dt: datetime, fmt: str) -> str:
    """An instant in one of the site's ISO 8601 spellings (Kyiv offset or Z, with or without ms)."""
    if fmt.startswith("kyiv"):
        return dt.astimezone(kyiv()).isoformat(timespec="milliseconds" if fmt.endswith("_ms") else "seconds")
    utc = dt.astimezone(timezone.utc)
    ms = f".{utc.microsecond // 1000:03d}" if fmt.endswith("_ms") else ""
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + ms + "Z"


def clock(dt: datetime) -> str:
    """Kyiv wall-clock time as the site prints it, e.g. ``5:29 PM``."""
    local = dt.astimezone(kyiv())
    return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def long_date(dt: datetime) -> str:
    """``December 20, 2023 5:18 PM`` in Kyiv time."""
    local = dt.astimezone(kyiv())
    return f"{local:%B} {local.day}, {local.year} {clock(dt)}"


def news_feed(snippets: Sequence[DemoSnippet]) -> str:
    """The News Feed widget showing ``snippets`` (newest first)."""
    items = []
    for s in snippets:
        inner = (f'<p class="news-feed__headline"><strong>{e(s.headline)}</strong></p>'
                 f'<p class="news-feed__text">{e(s.text)}</p>')
        body = (f'<a class="news-feed__link" href="{s.path}">{inner}</a>' if s.path
                else f'<div class="news-feed__body">{inner}</div>')
        items.append(f'<div class="news-feed__item"><time class="news-feed__time">{s.time_shown}</time>{body}</div>')
    return ('<aside class="news-feed"><h2 class="news-feed__title">News Feed</h2>' + "".join(items)
            + '<button class="news-feed__more">Show More</button><a href="/news-archive/">MORE NEWS</a></aside>')


def card(a: DemoArticle, href: str | None = None) -> str:
    """One listing item."""
    local = a.published.astimezone(kyiv())
    return (f'<article class="card"><a class="card__section" href="/{a.section_slug}/">{e(a.section)}</a>'
            f'<h3 class="card__title"><a href="{href or a.path}">{e(a.title)}</a></h3>'
            f'<p class="card__excerpt">{e(a.summary)}</p><div class="card__meta"><span class="card__authors">'
            f'{e(", ".join(a.authors))}</span> <time class="card__date" datetime="{local:%Y-%m-%d}">'
            f"{local:%b} {local.day}, {local.year}</time></div></article>")


def layout(site: DemoSite, base: str, path: str, title: str, head: str, main: str, *,
           lang: str = "en", charset_meta: str = '<meta charset="utf-8">', after_main: str = "") -> str:
    """The page shell shared by every HTML page: banner, header, main, News Feed, footer."""
    nav = "".join(f'<a href="/{s.slug}/">{e(s.name)}</a>' for s in site.sections)
    picks = "".join(f'<div class="pick"><h4 class="pick__title"><a href="{a.path}">{e(a.title)}</a></h4></div>'
                    for a in site.editors_picks())
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n{charset_meta}\n<title>{e(title)}</title>\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<link rel="alternate" type="application/rss+xml" title="{SITE_NAME}" href="{base}/feed/">\n'
        f"{head}</head>\n<body>\n{BANNER}\n"
        '<a class="skip-link" href="#main">Skip to content</a>\n'
        f'<header class="site-header"><a class="site-logo" href="/">{SITE_NAME}</a>'
        f'<nav class="site-nav">{nav}<a href="/tag/video/">Video</a></nav></header>\n'
        f'<main id="main" class="site-main">\n{main}\n</main>\n{after_main}'
        f"{news_feed(site.window(path))}\n"
        f'<section class="editors-picks"><h2>Editors\' Picks</h2>{picks}</section>\n{FOOTER}\n</body>\n</html>\n'
    )


def _meta(prop: str, content: str, attr: str = "property") -> str:
    return f'<meta {attr}="{prop}" content="{e(content)}">\n'


def _jsonld(doc: dict) -> str:
    text = json.dumps(doc, ensure_ascii=False, indent=None).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>\n'


def article_jsonld(a: DemoArticle, base: str) -> dict:
    """The article's schema.org document in its style's author form (list, person, string, graph, org)."""
    s, url = a.style, a.url(base)
    people = [{"@type": "Person", "name": p.name, "url": f"{base}/author/{p.slug}/"} for p in a.byline]
    node: dict = {"@type": s.ld_type, "headline": a.title, "url": url,
                  "mainEntityOfPage": {"@type": "WebPage", "@id": url},
                  "datePublished": fmt_dt(a.published, s.published_fmt)}
    if a.modified:
        node["dateModified"] = fmt_dt(a.modified, s.published_fmt)
    if a.image_url:
        node["image"] = {"@type": "ImageObject", "url": a.image_url, "width": 1200, "height": 800}
    node["articleSection"] = a.section
    node["keywords"] = list(a.tags) if s.keywords_list else ", ".join(a.tags)
    node["description"] = a.summary
    node["inLanguage"] = a.language
    node["publisher"] = {"@type": "Organization", "name": SITE_NAME,
                         "logo": {"@type": "ImageObject", "url": f"{base}/content/images/logo.png"}}
    if s.ld_author == "graph":
        node["@id"] = url + "#article"
        node["author"] = [{"@id": f"{base}/#/schema/person/{p.slug}"} for p in a.byline]
        persons = [{"@type": "Person", "@id": f"{base}/#/schema/person/{p.slug}", "name": p.name} for p in a.byline]
        return {"@context": "https://schema.org", "@graph": [
            {"@type": "WebSite", "@id": f"{base}/#website", "name": SITE_NAME, "url": f"{base}/"},
            {"@type": "WebPage", "@id": url, "url": url, "name": a.title}, node, *persons]}
    author: object = {"list": people, "person": people[0], "string": f"By {a.byline[0].name}",
                      "org": {"@type": "Organization", "name": a.byline[0].name}}[s.ld_author]
    return {"@context": "https://schema.org", **node, "author": author}


def _byline(a: DemoArticle) -> str:
    links = [f'<a class="byline__author" href="/author/{p.slug}/">{e(p.name)}'
             f'{", " + e(p.role) if a.style.role_suffix and p.role else ""}</a>' for p in a.byline]
    names = links[0] if len(links) == 1 else ", ".join(links[:-1]) + " and " + links[-1]
    local = a.published.astimezone(kyiv())
    dt_attr = "" if a.style.date_style == "byline_text" else f' datetime="{local:%Y-%m-%d}"'
    words = sum(len(p.split()) for p in a.paragraphs)
    return (f'<div class="byline">by {names} <time class="byline__date"{dt_attr}>{long_date(a.published)}</time> '
            f'<span class="byline__read">{max(1, math.ceil(words / 200))} min read</span></div>')


def _paragraph(a: DemoArticle, i: int) -> str:
    text = e(a.paragraphs[i])
    if i in a.style.links:
        phrase, href = a.style.links[i]
        text = text.replace(e(phrase), f'<a href="{href}">{e(phrase)}</a>', 1)
    if i in a.style.emphasis:
        phrase = e(a.style.emphasis[i])
        text = text.replace(phrase, f"<em>{phrase}</em>", 1)
    return text


def _body(a: DemoArticle, teaser_path: str, teaser_title: str) -> tuple[str, bool]:
    """The ``c-content`` block; returns ``(html, cut)`` where ``cut`` ends the document there."""
    s = a.style
    start, end = s.list_span or (-1, -1)
    parts = ['<div class="c-content ">', AUDIO]
    stop = s.truncate_at if s.truncate_at is not None else len(a.paragraphs)
    for i in range(stop):
        if i == start:
            parts.append("<ul>")
        parts.append(f"<li>{_paragraph(a, i)}</li>" if start <= i < end else f"<p>{_paragraph(a, i)}</p>")
        if i == end - 1:
            parts.append("</ul>")
        if i == s.cta_after:
            parts.append(CTA)
    if s.truncate_at is not None:
        parts.append(f"<p>{e(s.cut_tail)}")
        return "\n".join(parts), True
    parts.append(f'<figure class="kg-card kg-bookmark-card"><a class="kg-bookmark-container" href="{teaser_path}">'
                 f'<div class="kg-bookmark-content"><div class="kg-bookmark-title">{e(teaser_title)}</div>'
                 f'<div class="kg-bookmark-description">{e(TEASER_TEXT)}</div></div></a></figure>')
    parts.append(NEWSLETTER)
    parts.append("</div>")
    return "\n".join(parts), False


def article_page(site: DemoSite, a: DemoArticle, base: str) -> str:
    """A Ghost-style article page with the seed's boilerplate in and around the body."""
    s, url = a.style, a.url(base)
    head = f'<meta name="description" content="{e(a.summary)}">\n<link rel="canonical" href="{url}">\n'
    head += _meta("og:site_name", SITE_NAME) + _meta("og:type", "article") + _meta("og:title", a.title)
    head += _meta("og:description", a.summary) + _meta("og:url", url)
    if a.image_url:
        head += _meta("og:image", a.image_url)
    if s.date_style in ("full", "meta"):
        head += _meta("article:published_time", fmt_dt(a.published, s.meta_fmt))
        if a.modified:
            head += _meta("article:modified_time", fmt_dt(a.modified, s.meta_fmt))
        head += _meta("article:section", a.section) + "".join(_meta("article:tag", t) for t in a.tags)
    head += _meta("twitter:card", "summary_large_image", "name") + _meta("twitter:title", a.title, "name")
    if s.date_style in ("full", "jsonld"):
        head += _jsonld(article_jsonld(a, base))
    if s.breadcrumbs:
        head += _jsonld({"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "Home", "item": f"{base}/"},
            {"@type": "ListItem", "position": 2, "name": a.section, "item": f"{base}/{a.section_slug}/"},
            {"@type": "ListItem", "position": 3, "name": a.title, "item": url}]})
    figure = ""
    if a.image_url:
        figure = (f'<figure class="post-image"><img src="{a.image_url}" alt="{e(a.title)}">'
                  f"<figcaption>{e(a.image_caption or '')} ({e(a.image_credit or '')})</figcaption></figure>")
    body, cut = _body(a, site.teaser_path(), site.teaser_title)
    main = (f'<a class="edit-post" href="/ghost/#/editor/post/{s.post_id}">Edit post</a>\n'
            f'<article class="post" id="post-{s.post_id}">\n<header class="post-header">'
            f'<a class="post-section" href="/{a.section_slug}/">{e(a.section)}</a>\n'
            f'<h1 class="post-title">{e(a.title)}</h1>\n{_byline(a)}</header>\n{figure}\n{body}')
    charset = ('<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
               if s.encoding == "cp1251" else '<meta charset="utf-8">')
    page = layout(site, base, a.path, f"{a.title} | {SITE_NAME}", head, "@@MAIN@@", lang=a.language,
                  charset_meta=charset, after_main=APPEAL + "\n")
    if cut:
        return page[: page.index("@@MAIN@@")] + main
    tags = "".join(f'<a class="post-tag" href="/tag/{t}/">{e(n)}</a>' for t, n in zip(a.tag_slugs, a.tags))
    main += (f'\n<div id="reading-progress-end"></div>\n<div class="post-tags">{tags}</div>\n{AUTHOR_BOX}\n'
             "</article>")
    return page.replace("@@MAIN@@", main)


def listing_page(site: DemoSite, base: str, path: str, name: str, root: str, items: Sequence[DemoArticle],
                 page: int, pages: int, hrefs: dict[str, str]) -> str:
    """One page of a section, tag or author listing, ten cards and pagination links."""
    def page_path(n: int) -> str:
        return root if n == 1 else f"{root}page/{n}/"
    head = f'<link rel="canonical" href="{base}{path}">\n' + _meta("og:type", "website")
    head += _meta("og:title", name) + _meta("og:url", base + path)
    nav = []
    if page > 1:
        head += f'<link rel="prev" href="{base}{page_path(page - 1)}">\n'
        nav.append(f'<a class="pagination__prev" rel="prev" href="{page_path(page - 1)}">Newer posts</a>')
    nav.append(f'<span class="pagination__page">Page {page} of {pages}</span>')
    if page < pages:
        head += f'<link rel="next" href="{base}{page_path(page + 1)}">\n'
        nav.append(f'<a class="pagination__next" rel="next" href="{page_path(page + 1)}">Older posts</a>')
    cards = "\n".join(card(a, hrefs.get(a.path)) for a in items)
    main = (f'<header class="listing-header"><h1 class="listing-title">{e(name)}</h1></header>\n'
            f'<div class="post-feed">\n{cards}\n</div>\n<nav class="pagination">{" ".join(nav)}</nav>')
    title = name if page == 1 else f"{name} (Page {page})"
    return layout(site, base, path, f"{title} | {SITE_NAME}", head, main)


def home_page(site: DemoSite, base: str, extra_links: dict[str, str]) -> str:
    """Home: latest stories, a block per section, and "More stories" (where the broken links live)."""
    head = f'<link rel="canonical" href="{base}/">\n' + _meta("og:type", "website") + _meta("og:url", base + "/")
    blocks = [f'<section class="home-latest"><h2>Latest</h2><div class="post-feed">'
              f'{"".join(card(a) for a in site.articles[:10])}</div></section>']
    for s in site.sections:
        items = [a for a in site.articles if a.section_slug == s.slug][:3]
        blocks.append(f'<section class="home-section"><h2><a href="/{s.slug}/">{e(s.name)}</a></h2>'
                      f'{"".join(card(a) for a in items)}</section>')
    more = "".join(f'<li><a href="{p}">{e(t)}</a></li>' for p, t in extra_links.items())
    blocks.append(f'<section class="more-stories"><h2>More stories</h2><ul>{more}</ul></section>')
    return layout(site, base, "/", f"{SITE_NAME} | News from Ukraine", head, "\n".join(blocks))


def not_found_page(site: DemoSite, base: str, path: str) -> str:
    """Ghost's "Page not found" page (served with 404, or 200 for the soft-404 case)."""
    main = ('<section class="error-page"><h1 class="error-title">Page not found</h1><p>The page you are '
            'looking for may have been moved or deleted.</p><a href="/">Go to the front page \u2192</a></section>')
    return layout(site, base, path, f"Page not found | {SITE_NAME}", '<meta name="robots" content="noindex">\n', main)


def news_archive_page(site: DemoSite, base: str) -> str:
    """``/news-archive/``: every News Feed item with its full timestamp."""
    items = []
    for s in site.snippets:
        local = s.published.astimezone(kyiv())
        link = f' <a class="news-archive__link" href="{s.path}">Read more</a>' if s.path else ""
        items.append(f'<div class="news-archive__item"><time class="news-archive__time" '
                     f'datetime="{fmt_dt(s.published, "z")}">{local:%b} {local.day}, {local.year}, {s.time_shown}'
                     f'</time><h3 class="news-archive__headline">{e(s.headline)}</h3>'
                     f'<p class="news-archive__text">{e(s.text)}</p>{link}</div>')
    head = f'<link rel="canonical" href="{base}/news-archive/">\n'
    head += f'<link rel="alternate" type="application/rss+xml" href="{base}/news-archive/rss/">\n'
    main = '<h1 class="listing-title">News archive</h1>\n' + "\n".join(items)
    return layout(site, base, "/news-archive/", f"News archive | {SITE_NAME}", head, main)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _rss(base: str, self_path: str, title: str, items: list[str], built: datetime) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">\n<channel>\n'
            f"<title>{_cdata(title)}</title><description>{_cdata('News from Ukraine')}</description>"
            f"<link>{base}/</link><generator>Ghost 5.96</generator>"
            f"<lastBuildDate>{format_datetime(built, usegmt=True)}</lastBuildDate>"
            f'<atom:link href="{base}{self_path}" rel="self" type="application/rss+xml"/><ttl>60</ttl>\n'
            + "\n".join(items) + "\n</channel>\n</rss>\n")


def rss_feed(site: DemoSite, base: str) -> str:
    """``/feed/``: RSS 2.0 with the latest 30 articles, ``pubDate`` in RFC 822."""
    items = []
    for a in site.articles[:30]:
        cats = "".join(f"<category>{_cdata(t)}</category>" for t in a.tags)
        media = f'<media:content url="{e(a.image_url)}" medium="image"/>' if a.image_url else ""
        items.append(f"<item><title>{_cdata(a.title)}</title><description>{_cdata(a.summary)}</description>"
                     f"<link>{a.url(base)}</link><guid isPermaLink=\"false\">{a.style.post_id}</guid>{cats}"
                     f"<dc:creator>{_cdata(', '.join(a.authors))}</dc:creator>"
                     f"<pubDate>{format_datetime(a.published.astimezone(timezone.utc), usegmt=True)}</pubDate>"
                     f"{media}</item>")
    return _rss(base, "/feed/", SITE_NAME, items, site.now)


def snippets_rss(site: DemoSite, base: str) -> str:
    """``/news-archive/rss/``: the News Feed items as RSS."""
    items = [f"<item><title>{_cdata(s.headline)}</title><description>{_cdata(s.text)}</description>"
             + (f"<link>{base}{s.path}</link>" if s.path else "")
             + f"<pubDate>{format_datetime(s.published, usegmt=True)}</pubDate></item>" for s in site.snippets]
    return _rss(base, "/news-archive/rss/", f"News Feed | {SITE_NAME}", items, site.now)


def sitemap_index(base: str, names: Sequence[str], lastmod: datetime) -> str:
    """``/sitemap.xml``: the index of the per-kind sitemaps."""
    maps = "".join(f"<sitemap><loc>{base}/{n}</loc><lastmod>{fmt_dt(lastmod, 'z_ms')}</lastmod></sitemap>"
                   for n in names)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/'
            f'sitemap/0.9">{maps}</sitemapindex>\n')


def sitemap(base: str, entries: Sequence[tuple[str, datetime]]) -> str:
    """A urlset of ``(path, lastmod)`` entries."""
    urls = "\n".join(f"<url><loc>{base}{p}</loc><lastmod>{fmt_dt(m, 'z_ms')}</lastmod></url>" for p, m in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{urls}\n</urlset>\n")
