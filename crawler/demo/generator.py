"""``build_site``: a seeded "Demo Independent" with articles, listings, News Feed and broken pages."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from .model import NOW, ArticleStyle, Author, DemoArticle, DemoSnippet, Section, kyiv
from .prose import CENTRAL_ASIA_WORDS, Prose, ap_date, first_sentence, slugify
from .site import DemoSite

__all__ = ["build_site", "DemoSite"]

SECTIONS = [
    Section("news", "News"), Section("ukraine", "Ukraine"), Section("russia", "Russia"),
    Section("europe", "Europe"), Section("business", "Business"), Section("opinion", "Opinion"),
]
TAGS = {
    "war": "War", "politics": "Politics", "energy": "Energy", "central-asia": "Central Asia",
    "sanctions": "Sanctions", "economy": "Economy", "video": "Video",
    "human-rights": "Human Rights", "diplomacy": "Diplomacy", "culture": "Culture",
}
TOPIC_TAGS = {
    "attack": ["war"], "aid": ["war", "diplomacy"], "energy": ["energy", "war"],
    "economy": ["economy"], "europe": ["diplomacy", "sanctions"], "russia": ["human-rights", "politics"],
    "society": ["culture"], "opinion": ["politics"], "central_asia": ["central-asia", "diplomacy"],
}
PEOPLE = [
    ("Olena Hrytsenko", "Senior Reporter"), ("Daria Marchenko", "Reporter"),
    ("Kateryna Bondar", "Deputy Editor"), ("Tom Whitaker", "Europe Correspondent"),
    ("Yuliia Savchenko", "Reporter"), ("Andriy Kovalenko", "News Editor"),
    ("Natalia Melnyk", "Business Reporter"), ("Iryna Shevchuk", "Senior Reporter"),
    ("Lucy Harrington", "Reporter"), ("Dmytro Lysenko", "Reporter"),
    ("Anastasiia Pavlenko", "Senior Editor"), ("Serhii Moroz", "Reporter"),
    ("Chris Delaney", "Contributing Writer"), ("Maria Kostiuk", "Reporter"),
]
ORGS = ["The Demo Independent news desk", "Demo Independent Staff"]
PHOTOGRAPHERS = [
    "Mikhail Svetlov/Getty Images", "Roman Pilipey/AFP via Getty Images",
    "Ukrainian Presidential Office", "Oleksii Filippov/Getty Images", "State Emergency Service",
    "Genya Savilov/AFP", "Global Images Ukraine via Getty Images",
]
CAPTIONS = [
    "Rescue workers at the site of a Russian attack in {city}, Ukraine, on {date}, {year}.",
    "A damaged residential building in {city}, Ukraine, on {date}, {year}.",
    "Officials attend a meeting in {capital} on {date}, {year}.",
    "Residents walk past a destroyed shop in {city} on {date}, {year}.",
    "Energy workers repair power lines in {oblast} on {date}, {year}.",
]
TEASER_TITLE = "Russia, West fight for Kazakhstan as Astana plays both sides"
CP1251_TITLE = "Уряд схвалив програму відновлення енергетики до зими"
CP1251_PARAGRAPHS = [
    "Кабінет міністрів України 12 вересня схвалив програму відновлення енергетичної "
    "інфраструктури, пошкодженої внаслідок російських атак, повідомили в уряді.",
    "Програма передбачає ремонт підстанцій, будівництво захисних споруд та встановлення "
    "когенераційних установок у громадах.",
    "За даними Міністерства енергетики, з початку року Росія здійснила понад 40 масованих атак "
    "на енергетичні об’єкти.",
    "«Ми маємо пройти зиму з мінімальними відключеннями», — заявив міністр енергетики Тарас Глушко.",
    "Фінансування надійде з державного бюджету та від міжнародних партнерів, зокрема Світового банку.",
    "Уряд також доручив обласним адміністраціям підготувати пункти незламності до 1 листопада.",
]
N_SNIPPETS = 40


def _kyiv(y: int, mo: int, d: int, h: int, mi: int) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=kyiv()).astimezone(timezone.utc)


def _style(rng: random.Random, n_authors: int, org: bool) -> ArticleStyle:
    s = ArticleStyle()
    s.date_style = rng.choices(["full", "jsonld", "meta", "byline_dt", "byline_text"],
                               [55, 15, 10, 10, 10])[0]
    s.published_fmt = rng.choice(["kyiv", "z", "z_ms", "kyiv_ms"])
    s.meta_fmt = rng.choice(["z_ms", "z_ms", "kyiv", "z"])
    s.ld_type = "NewsArticle" if rng.random() < 0.85 else "Article"
    if org:
        s.ld_author = "org"
    elif n_authors == 1:
        s.ld_author = rng.choices(["list", "person", "string", "graph"], [50, 20, 15, 15])[0]
    else:
        s.ld_author = rng.choices(["list", "graph"], [85, 15])[0]
    s.role_suffix = not org and rng.random() < 0.2
    s.keywords_list = rng.random() < 0.3
    s.breadcrumbs = rng.random() < 0.3
    return s


def _times(rng: random.Random, s: ArticleStyle, published: datetime) -> tuple[datetime, datetime | None]:
    """Give ``published`` the precision its markup can express; draw ``modified`` if shown."""
    if s.date_style.startswith("byline"):
        return published.replace(second=0, microsecond=0), None
    fmts = {"full": [s.published_fmt, s.meta_fmt], "jsonld": [s.published_fmt], "meta": [s.meta_fmt]}
    fractional = all(f.endswith("_ms") for f in fmts[s.date_style])
    def precise(dt: datetime) -> datetime:
        ms = rng.choice([0, rng.randint(1, 999)]) if fractional else 0
        return dt.replace(second=rng.randint(0, 59), microsecond=ms * 1000)
    published = precise(published)
    modified = None
    if rng.random() < 0.5:
        modified = precise(min(published + timedelta(minutes=rng.randint(5, 4000)), NOW - timedelta(minutes=2)))
        modified = max(modified, published)
    return published, modified


def _decorate(rng: random.Random, a: DemoArticle, paths: list[str]) -> None:
    """Pick inline links/emphasis and the position of the in-body membership appeal."""
    s = a.style
    span = s.list_span or (0, 0)
    for i, text in enumerate(a.paragraphs):
        if span[0] - 1 <= i < span[1] or i == 0:
            continue
        words = text.split(" ")
        if len(words) < 8 or rng.random() > 0.3:
            continue
        start = rng.randint(0, len(words) - 4)
        phrase = " ".join(words[start:start + rng.randint(2, 3)])
        if rng.random() < 0.7:
            s.links[i] = (phrase, rng.choice(paths))
        else:
            s.emphasis[i] = phrase
    last = len(a.paragraphs) - 1 if s.truncate_at is None else s.truncate_at - 1
    s.cta_after = rng.randint(0, max(0, last - 1))
    if span[1] and span[0] - 1 <= s.cta_after < span[1] - 1:
        s.cta_after = span[1] - 1


def build_site(seed: int = 7, n_articles: int = 160) -> DemoSite:
    """Build the whole demo site for ``seed``; pure computation, no I/O."""
    rng = random.Random(seed)
    prose = Prose(rng)
    people = [Author(n, slugify(n), role) for n, role in PEOPLE]
    orgs = [Author(n, slugify(n.removeprefix("The ")), org=True) for n in ORGS]
    start, end = _kyiv(2023, 1, 10, 8, 0), NOW - timedelta(minutes=40)
    span = int((end - start).total_seconds() // 60)
    stamps = sorted((start + timedelta(minutes=rng.randint(0, span)) for _ in range(n_articles - 4)),
                    reverse=True)
    # Fixed cases: a summer byline-only article whose Kyiv date differs from its UTC date, the
    # seed's winter byline, the teaser story, the cp1251 story, and two very recent stories.
    fixed = {"summer_byline": _kyiv(2024, 7, 14, 1, 20), "winter_byline": _kyiv(2023, 12, 20, 17, 18),
             "teaser": _kyiv(2024, 11, 10, 12, 41), "cp1251": _kyiv(2024, 9, 12, 14, 5)}
    stamps = stamps[:2] + [NOW - timedelta(minutes=55)] + stamps[2:]
    plan: list[tuple[datetime, str]] = [(t, "") for t in stamps[: n_articles - 4]]
    plan += [(t, k) for k, t in fixed.items()]
    plan.sort(key=lambda p: p[0], reverse=True)

    articles: list[DemoArticle] = []
    titles: set[str] = set()
    slugs: set[str] = set()  # last path segments so far (a set: sites of 5,000 articles)
    for idx, (when, kind) in enumerate(plan):
        section = rng.choice(SECTIONS)
        topic, title, slots = prose.title(section.slug, titles)
        local = when.astimezone(kyiv())
        slots["date"], slots["weekday"] = ap_date(local.month, local.day), f"{local:%A}"
        if kind == "teaser":
            section, topic, title = SECTIONS[3], "central_asia", TEASER_TITLE
        org = rng.random() < 0.06
        byline = [rng.choice(orgs)] if org else rng.sample(people, rng.choices([1, 2, 3], [70, 20, 10])[0])
        style = _style(rng, len(byline), org)
        if kind == "summer_byline":
            style.date_style = "byline_text"
        elif kind == "winter_byline":
            style.date_style = "byline_dt"
        elif kind in ("teaser", "cp1251"):
            style.date_style = "full"
        published, modified = _times(rng, style, when)
        n_par = rng.randint(4, 14)
        paragraphs, style.list_span = prose.paragraphs(topic, n_par, slots)
        tag_slugs = list(TOPIC_TAGS[topic])
        if rng.random() < 0.12:
            tag_slugs.append("video")
        slug = slugify(title)
        if slug in slugs:
            slug = f"{slug}-{idx}"
        lang = "en"
        if kind == "cp1251":
            title, paragraphs, style.list_span = CP1251_TITLE, list(CP1251_PARAGRAPHS), None
            slug, section, tag_slugs, lang = "uriad-skhvalyv-prohramu-vidnovlennia-enerhetyky", SECTIONS[1], ["energy"], "uk"
            byline, style.encoding = [Author("Олена Гриценко", "olena-hrytsenko-uk", "")], "cp1251"
            style.ld_author, style.role_suffix = "list", False
        titles.add(title)
        if idx >= len(plan) - 8:
            style.legacy_prefix = rng.choice(["national", "uncategorized"])
        path = f"/{style.legacy_prefix}/{slug}/" if style.legacy_prefix else f"/{slug}/"
        slugs.add(slug)
        style.post_id = f"{rng.getrandbits(96):024x}"
        image = caption = credit = None
        if rng.random() < 0.93 or kind:
            image = f"https://assets.demo-independent.test/content/images/{when:%Y/%m}/{slug[:48]}.jpg"
            caption = CAPTIONS[rng.randrange(len(CAPTIONS))].format(year=when.year, **slots)
            if rng.random() < 0.15:
                caption += " (Illustrative purposes only)"
            credit = rng.choice(PHOTOGRAPHERS)
        if kind == "cp1251":
            caption, credit = "Ремонт підстанції в Київській області, 10 вересня 2024 року.", "Ukrenergo"
        articles.append(DemoArticle(
            path=path, title=title, authors=[a.name for a in byline], published=published,
            modified=modified, section=section.name, tags=[TAGS[t] for t in tag_slugs],
            paragraphs=paragraphs, image_url=image, image_caption=caption, image_credit=credit,
            language=lang, summary=first_sentence(paragraphs[0]),
            mentions_central_asia=any(w in " ".join(paragraphs) for w in CENTRAL_ASIA_WORDS),
            section_slug=section.slug, tag_slugs=tag_slugs, byline=byline, style=style,
        ))

    # The truncated article: a long, list-free English story, cut inside its sixth paragraph.
    trunc = next(a for a in articles[20:] if a.style.encoding == "utf-8" and a.style.date_style == "full"
                 and not a.style.legacy_prefix and a.title != TEASER_TITLE)
    full, span = prose.paragraphs("energy", 10)
    while span:
        full, span = prose.paragraphs("energy", 10)
    trunc.paragraphs, trunc.style.list_span = full[:10], None
    trunc.style.truncate_at, trunc.truncated = 5, True
    paths = [a.path for a in articles]
    for a in articles:
        _decorate(rng, a, paths)
    cut = full[5]
    trunc.style.cut_tail = cut[: len(cut) // 2].rstrip()
    trunc.paragraphs = full[:5]
    trunc.summary = first_sentence(full[0])
    trunc.mentions_central_asia = False

    snippets = _snippets(rng, prose, articles)
    redirect_target = next(a for a in articles[25:] if a is not trunc and a.language == "en"
                           and not a.style.legacy_prefix)
    broken = {
        f"/old/{redirect_target.path.strip('/').split('/')[-1]}/": "redirect",
        "/kherson-ferry-service-resumes/": "404",
        "/kharkiv-metro-live-updates/": "500",
        "/live-updates-november-25/": "empty",
        "/ukraine-war-latest-archive/": "soft404",
        trunc.path: "truncated",
        next(a.path for a in articles if a.style.encoding == "cp1251"): "cp1251",
    }
    return DemoSite(
        articles=articles, snippets=snippets, sections=SECTIONS, tags=TAGS,
        authors={a.slug: a for a in people + orgs + [Author("Олена Гриценко", "olena-hrytsenko-uk")]},
        broken=broken, redirects={next(iter(broken)): redirect_target.path}, teaser_title=TEASER_TITLE,
    )


def _snippets(rng: random.Random, prose: Prose, articles: list[DemoArticle]) -> list[DemoSnippet]:
    """Forty News Feed items, newest first, from 09:1x Kyiv on Nov. 26 back into Nov. 25 evening."""
    out: list[DemoSnippet] = []
    when = datetime(2024, 11, 26, 9, rng.randint(8, 20), tzinfo=kyiv())
    seen: set[str] = set()
    recent = [a.path for a in articles[:14] if a.language == "en"]
    while len(out) < N_SNIPPETS:
        headline, text = prose.snippet()
        if headline in seen:
            continue
        seen.add(headline)
        h12 = when.hour % 12 or 12
        shown = f"{h12}:{when.minute:02d} {'AM' if when.hour < 12 else 'PM'}"
        path = rng.choice(recent) if rng.random() < 0.55 else None
        out.append(DemoSnippet(headline, text, when.astimezone(timezone.utc), shown, path))
        when -= timedelta(minutes=rng.randint(13, 31))
    if out[-1].published.astimezone(kyiv()).date() == out[0].published.astimezone(kyiv()).date():
        raise AssertionError("News Feed snippets must span midnight in Kyiv")
    return out
