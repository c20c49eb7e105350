"""Dedupe decisions against both store tiers, without a crawl (pipelines/dedupe.py).

Items go through the same steps as in a crawl: ``IdentityPipeline.canonicalize`` settles the URL,
``article_document``/``snippet_document`` build the document, ``Deduper`` decides the batch and
``apply_plan`` writes it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from scrapy.utils.test import get_crawler

from crawler.extraction import content_hash, snippet_fingerprint
from crawler.items import Article, FeedSnippet
from pipelines.dedupe import DedupeConfig, Deduper, apply_plan, diff_versions, same_facts
from pipelines.history import article_history, format_history
from pipelines.identity import IdentityPipeline, article_document, snippet_document

T0 = datetime(2024, 11, 26, 7, 0, tzinfo=UTC)
PARAS = [
    "Russian forces launched a massive missile and drone attack on Kyiv overnight, damaging "
    "energy facilities in three districts of the capital, city officials said on Tuesday morning.",
    "Air defense units shot down 31 of the 40 drones and 9 of the 12 missiles, the Air Force said, "
    "adding that debris fell on a residential building in the Solomianskyi district.",
    "Mayor Vitali Klitschko said that rescue workers were at the scene and that at least four "
    "people had been injured, two of whom were taken to hospital with shrapnel wounds.",
    "Ukrenergo announced emergency power outages in the city and the surrounding oblast while "
    "engineers assessed the damage to a thermal power plant hit during the attack.",
    "It was the third large-scale attack on the capital this month, as Russia again targets the "
    "country's energy grid ahead of winter, according to the Energy Ministry.",
]
OTHER_STORY = [
    "Kyiv came under a combined Russian attack overnight for the third time this month, with "
    "explosions heard across the city as air defenses engaged targets, residents reported.",
    "According to the Air Force, Russia fired a dozen missiles and forty drones at the capital, "
    "most of which were destroyed, while several fell on the outskirts without damage.",
    "The energy ministry said power engineers were working to restore supply in districts where "
    "the attack caused outages, and asked residents to limit consumption in the evening.",
    "Officials in the capital urged people to stay in shelters until the all-clear and warned "
    "that falling debris remained a danger even when drones are intercepted.",
]


def article(url: str, paragraphs: list[str], *, title: str = "Russia attacks Kyiv energy facilities",
            site: str = "demo", fetched: datetime = T0, fetched_url: str | None = None) -> Article:
    body = "\n\n".join(paragraphs)
    return Article(url=url, fetched_url=fetched_url or url, site=site, title=title, body=body,
                   fetched_at=fetched, content_hash=content_hash(title, body), published=T0)


def snippet(headline: str, text: str, *, site: str = "demo", published: datetime = T0,
            fetched: datetime = T0, page: str = "https://news.example.com/") -> FeedSnippet:
    return FeedSnippet(site=site, headline=headline, text=text, published=published, time_shown="9:00 AM",
                       seen_on=[page], fetched_at=fetched,
                       fingerprint=snippet_fingerprint(site, headline, text))


class Harness:
    """A store tier plus the dedupe path a crawl's pipelines take."""

    def __init__(self, store, **settings) -> None:
        crawler = get_crawler(settings_dict=settings)
        crawler.spider = type("S", (), {"name": "demo", "allowed_domains": ["example.com", "mirror.test"]})()
        config = DedupeConfig.from_settings(crawler.settings)
        self.pipeline = IdentityPipeline(crawler, None, config, 200)  # type: ignore[arg-type]
        self.deduper = Deduper(config)
        self.store = store

    def _canonical(self, item):
        self.pipeline.canonicalize(item)
        return item

    def articles(self, *items: Article) -> dict[str, int]:
        docs = [article_document(self._canonical(i)) for i in items]
        plan = self.deduper.decide_articles(self.store, docs)
        summary = apply_plan(self.store, "articles", plan)
        assert summary.failed == 0, summary.errors
        return dict(plan.decisions)

    def snippets(self, *items: FeedSnippet) -> dict[str, int]:
        docs = [snippet_document(self._canonical(i)) for i in items]
        plan = self.deduper.decide_snippets(self.store, docs)
        summary = apply_plan(self.store, "feed_snippets", plan)
        assert summary.failed == 0, summary.errors
        return dict(plan.decisions)


@pytest.fixture
def harness(store_tier):
    store = store_tier.open()
    yield Harness(store)
    store.close()


def test_five_url_variants_are_stored_once(harness: Harness) -> None:
    base = "https://news.example.com/kyiv-attack/"
    variants = [base, base + "?utm_source=tw", "HTTPS://NEWS.example.com:443/kyiv-attack/#x",
                base + "amp/", base + "?fbclid=1&gclid=2"]
    assert harness.articles(*(article(u, PARAS) for u in variants[:2])) == {"new": 1, "unchanged": 1}
    assert harness.articles(*(article(u, PARAS) for u in variants[2:])) == {"unchanged": 3}
    (doc,) = harness.store.find("articles")
    assert doc["url"] == base and doc["times_seen"] == 5 and doc["revision"] == 1


def test_off_domain_canonical_falls_back_to_the_fetched_url(harness: Harness) -> None:
    item = article("https://spam.test/x/", PARAS, fetched_url="https://news.example.com/real/?utm_medium=a")
    harness.articles(item)
    (doc,) = harness.store.find("articles")
    assert doc["url"] == "https://news.example.com/real/"


def test_edited_article_is_one_document_with_two_revisions(harness: Harness) -> None:
    url = "https://news.example.com/kyiv-attack/"
    assert harness.articles(article(url, PARAS)) == {"new": 1}
    edited = [*PARAS[:2], PARAS[2].replace("four", "five"), *PARAS[3:],
              "President Volodymyr Zelensky called on partners to speed up deliveries of air defense."]
    later = T0 + timedelta(hours=3)
    assert harness.articles(article(url, edited, title="Russia attacks Kyiv energy grid", fetched=later)) == \
        {"revision": 1}
    assert harness.articles(article(url, edited, title="Russia attacks Kyiv energy grid",
                                    fetched=later + timedelta(hours=1))) == {"unchanged": 1}
    (doc,) = harness.store.find("articles")
    assert doc["revision"] == 2 and doc["updated_at"] == later and doc["times_seen"] == 3
    assert doc["title"] == "Russia attacks Kyiv energy grid"
    (rev,) = harness.store.find("article_revisions")
    assert rev["article_id"] == doc["_id"] and rev["revision"] == 1
    assert rev["title"] == "Russia attacks Kyiv energy facilities" and rev["body"] == "\n\n".join(PARAS)
    changes = rev["changes"]
    assert changes["title"] == {"from": "Russia attacks Kyiv energy facilities", "to": "Russia attacks Kyiv energy grid"}
    assert len(changes["added"]) == 1 and changes["added"][0].startswith("President Volodymyr Zelensky")
    assert changes["removed"] == [] and len(changes["edited"]) == 1
    assert "five people" in changes["edited"][0]["to"]

    history = article_history(harness.store, url + "?utm_source=x")
    assert history is not None
    assert [r["revision"] for r in history["revisions"]] == [2, 1]
    text = format_history(history)
    assert "title changed" in text and "1 paragraph added" in text and "1 paragraph edited" in text
    assert article_history(harness.store, "https://news.example.com/nothing/") is None


def test_exact_copy_under_another_url_is_an_alias(harness: Harness) -> None:
    harness.articles(article("https://news.example.com/kyiv-attack/", PARAS))
    copy = article("https://mirror.test/wire/kyiv/", PARAS, site="mirror")
    assert harness.articles(copy) == {"exact_duplicate": 1}
    assert harness.articles(copy) == {"unchanged": 1}  # the alias is known now
    (doc,) = harness.store.find("articles")
    assert [(a["url"], a["site"], a["kind"]) for a in doc["aliases"]] == \
        [("https://mirror.test/wire/kyiv/", "mirror", "exact")]


def test_the_url_a_story_was_first_published_under_wins(harness: Harness) -> None:
    """The copy is crawled first; the original, published earlier, then takes over the URL."""
    copy = article("https://mirror.test/wire/kyiv/", PARAS, site="mirror")
    copy.published = T0 + timedelta(hours=2)
    harness.articles(copy)
    assert harness.articles(article("https://news.example.com/kyiv-attack/", PARAS)) == {"exact_duplicate": 1}
    (doc,) = harness.store.find("articles")
    assert (doc["url"], doc["site"], doc["published"]) == ("https://news.example.com/kyiv-attack/", "demo", T0)
    assert [(a["url"], a["site"]) for a in doc["aliases"]] == [("https://mirror.test/wire/kyiv/", "mirror")]
    assert harness.articles(article("https://news.example.com/kyiv-attack/", PARAS,
                                    fetched=T0 + timedelta(hours=3))) == {"unchanged": 1}


def test_a_later_sighting_fills_what_the_first_lacked(harness: Harness) -> None:
    """Found first through the feed (no section), then on a listing that names it."""
    url = "https://news.example.com/kyiv-attack/"
    harness.articles(article(url, PARAS))
    from_listing = article(url, PARAS, fetched=T0 + timedelta(hours=1))
    from_listing.section = "ukraine"
    assert harness.articles(from_listing) == {"unchanged": 1}
    elsewhere = article(url, PARAS, fetched=T0 + timedelta(hours=2))
    elsewhere.section = "world"
    harness.articles(elsewhere)
    (doc,) = harness.store.find("articles")
    assert doc["section"] == "ukraine", "a field once set is never overwritten by a sighting"


def test_near_copy_on_another_site_is_linked_and_same_site_is_a_revision(harness: Harness) -> None:
    harness.articles(article("https://news.example.com/kyiv-attack/", PARAS))
    near = [*PARAS[:4], PARAS[4] + " Repairs are expected to take several days."]
    assert harness.articles(article("https://mirror.test/kyiv/", near, site="mirror")) == {"near_duplicate": 1}
    moved = [*PARAS[:3], PARAS[3].replace("engineers", "technicians"), PARAS[4]]
    assert harness.articles(article("https://news.example.com/kyiv-attack-updated/", moved)) == {"revision": 1}
    (doc,) = harness.store.find("articles")
    assert doc["url"] == "https://news.example.com/kyiv-attack/" and doc["revision"] == 2
    kinds = {a["url"]: a["kind"] for a in doc["aliases"]}
    assert kinds == {"https://mirror.test/kyiv/": "near", "https://news.example.com/kyiv-attack-updated/": "revision"}


def test_two_stories_about_one_event_stay_two(harness: Harness) -> None:
    decisions = harness.articles(article("https://news.example.com/kyiv-attack/", PARAS),
                                 article("https://news.example.com/kyiv-attack-2/", OTHER_STORY,
                                         title="Kyiv under combined attack for third time this month"))
    assert decisions == {"new": 2}
    assert harness.store.count("articles") == 2


def test_duplicates_within_one_batch(harness: Harness) -> None:
    decisions = harness.articles(article("https://news.example.com/a/", PARAS),
                                 article("https://mirror.test/a/", PARAS, site="mirror"),
                                 article("https://news.example.com/a/?utm_source=x", PARAS))
    assert decisions == {"new": 1, "exact_duplicate": 1, "unchanged": 1}
    assert harness.store.count("articles") == 1


def test_corrected_snippet_stays_one_document(harness: Harness) -> None:
    headline, text = "Explosions heard in Kharkiv.", "Mayor Ihor Terekhov urged residents to stay in shelters."
    assert harness.snippets(snippet(headline, text.replace("residents", "resdients"))) == {"new": 1}
    later = T0 + timedelta(minutes=20)
    assert harness.snippets(snippet(headline, text, fetched=later, page="https://news.example.com/a/")) == \
        {"revision": 1}
    longer = text + " The attack damaged a school and two houses."
    assert harness.snippets(snippet(headline, longer, fetched=later, page="https://news.example.com/b/")) == \
        {"revision": 1}
    assert harness.snippets(snippet(headline, longer, fetched=later)) == {"unchanged": 1}
    assert harness.snippets(snippet(headline, text.replace("residents", "resdients"))) == {"unchanged": 1}
    (doc,) = harness.store.find("feed_snippets")
    assert doc["text"] == longer and doc["revision"] == 3
    assert [v["text"] for v in doc["versions"]] == [text.replace("residents", "resdients"), text]
    assert len(doc["seen_on"]) == 3


def test_different_snippets_stay_apart(harness: Harness) -> None:
    decisions = harness.snippets(
        snippet("Ukraine returns 3 POWs home.", "According to preliminary data, the exchange took place."),
        snippet("Ukraine returns 26 POWs home.", "According to preliminary data, the exchange took place."),
        snippet("Explosions heard in Kharkiv.", "Officials urged residents to stay in shelters."),
        snippet("Explosions heard in Odesa.", "Officials urged residents to stay in shelters."),
        snippet("Explosions heard in Kharkiv.", "Officials urged residents to stay in shelters.", site="other"),
    )
    assert decisions == {"new": 5}


def test_snippet_outside_the_window_is_new(harness: Harness) -> None:
    harness.snippets(snippet("Explosions heard in Kharkiv.", "Residents urged to stay in shelters."))
    late = T0 + timedelta(days=3)
    assert harness.snippets(snippet("Explosions heard in Kharkiv.", "Residents urged to stay in shelters now.",
                                    published=late, fetched=late)) == {"new": 1}


def test_revisions_are_capped(store_tier) -> None:
    store = store_tier.open()
    try:
        h = Harness(store, DEDUPE_REVISIONS_MAX=2)
        url = "https://news.example.com/live/"
        for n in range(5):
            h.articles(article(url, [*PARAS, f"Update number {n} from the scene."], fetched=T0 + timedelta(minutes=n)))
        (doc,) = store.find("articles")
        assert doc["revision"] == 5
        assert sorted(r["revision"] for r in store.find("article_revisions")) == [3, 4]
    finally:
        store.close()


def test_helpers() -> None:
    assert same_facts("Explosions in Kharkhiv.", "Explosions in Kharkiv, officials said.")
    assert not same_facts("Ukraine returns 3 POWs.", "Ukraine returns 26 POWs.")
    changes = diff_versions("A", "one\n\ntwo\n\nthree", "A", "one\n\ntwo!\n\nthree\n\nfour")
    assert changes["title"] is None and changes["added"] == ["four"]
    assert changes["edited"] == [{"from": "two", "to": "two!"}] and changes["summary"] == \
        "1 paragraph added; 1 paragraph edited"
    with pytest.raises(Exception, match="DEDUPE_NEAR_THRESHOLD"):
        DedupeConfig.from_settings(get_crawler(settings_dict={"DEDUPE_NEAR_THRESHOLD": 1.5}).settings)
