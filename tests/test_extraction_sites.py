"""The kyivindependent profile on a seed-shaped Ghost page, the demo site, and the extract command."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.errors import ConfigError
from crawler.extraction import extract_article
from crawler.extraction.cli import extract_command
from crawler.profiles import load_profile

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "extraction"
SITES = Path(__file__).resolve().parents[1] / "crawler" / "sites"
KI_PAGE = FIXTURES / "kyivindependent_article.html"
KI_URL = "https://kyivindependent.com/putin-holds-private-talks-with-kazakhstans-ex-president/"
SEED_BOILERPLATE = [
    "become a member", "Gift membership", "Skip to content", "Edit post", "Illustrative purposes",
    "Getty Images", "This audio is created with AI assistance", "Russia, West fight for Kazakhstan",
    "The trip coinci", "Three years of reporting", "only one in 10,000 readers", "12,000 supporters",
    "Help us get 1,000 new members", "visa", "News Feed", "Zelensky", "Crimean Tatar", "MORE NEWS",
    "Show More", "Editors' Picks", "Enter your email", "indicates required", "Subscribe",
    "Script Text", "©",
]


def _profile_selectors() -> tuple[dict[str, str], str]:
    profile = load_profile(SITES / "kyivindependent.toml")
    return dict(profile.selectors), profile.timezone


@pytest.mark.parametrize("use_profile", [True, False], ids=["profile", "generic"])
def test_kyivindependent_clean_body_byline_and_utc_date(use_profile: bool) -> None:
    selectors, tz = _profile_selectors()
    result = extract_article(KI_PAGE.read_bytes(), KI_URL, selectors=selectors if use_profile else None,
                             timezone=tz, fetched_at=datetime(2023, 12, 21, tzinfo=UTC))
    expected = json.loads((FIXTURES / "kyivindependent_article.body.json").read_text(encoding="utf-8"))
    assert result["paragraphs"] == expected
    for junk in SEED_BOILERPLATE:
        assert junk.casefold() not in result["body"].casefold(), junk
    assert result["title"] == "Putin holds 'private' talks with Kazakhstan's ex-president"
    assert result["authors"] == ["Martin Fornusek"]
    assert result["published"] == datetime(2023, 12, 20, 15, 18, tzinfo=UTC)
    assert result["language"] == "en"


def test_kyivindependent_printed_kyiv_time_is_utc_without_structured_data() -> None:
    """Only the printed "December 20, 2023 5:18 PM" (Kyiv wall time) and a date-only attribute."""
    html = KI_PAGE.read_text(encoding="utf-8")
    head, rest = html.split("<script type=\"application/ld+json\">", 1)
    html = head + rest.split("</script>", 1)[1]
    html = html.replace('<meta property="article:published_time" content="2023-12-20T15:18:00.000Z">', "")
    selectors, tz = _profile_selectors()
    result = extract_article(html, KI_URL, selectors=selectors, timezone=tz,
                             fetched_at=datetime(2023, 12, 21, tzinfo=UTC))
    assert result["published"] == datetime(2023, 12, 20, 15, 18, tzinfo=UTC)
    assert result["authors"] == ["Martin Fornusek"]


def test_demo_site_articles_extract_exactly(full_demo_site) -> None:
    site = full_demo_site
    profile = load_profile(SITES / "demo.toml")
    base = "http://127.0.0.1:8000"
    wrong = []
    for truth in site.articles[:60]:
        page = site.render(truth.path, base)
        html = page.body if hasattr(page, "body") else page
        r = extract_article(html, base + truth.path, selectors=dict(profile.selectors),
                            timezone=profile.timezone)
        # the demo's desk bylines ("The Demo Independent news desk") are no person's name
        got = (r["title"], r["authors"] or r["byline_org"], r["published"],
               r["body"].split("\n\n")[: len(truth.paragraphs)])
        want = (truth.title, truth.authors, truth.published,
                truth.paragraphs[: len(r["body"].split("\n\n"))])
        if got != want:
            wrong.append(truth.path)
    assert not wrong, wrong[:5]


def test_extract_command_json(tmp_path: Path) -> None:
    text = extract_command(str(KI_PAGE), KI_URL, None)
    data = json.loads(text)
    assert data["published"] == "2023-12-20T15:18:00Z"
    assert data["authors"] == ["Martin Fornusek"]
    assert list(data) == sorted(data)
    cp = tmp_path / "page.html"
    cp.write_bytes(KI_PAGE.read_text(encoding="utf-8").replace('<meta charset="utf-8">', "")
                   .replace("’", "'").encode("cp1251"))
    assert json.loads(extract_command(str(cp), KI_URL, "windows-1251"))["authors"] == ["Martin Fornusek"]


def test_extract_command_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read page file"):
        extract_command(str(tmp_path / "missing.html"), "https://x.test/", None)


def test_kyivindependent_shipped_news_feed_selectors_on_fixture_page() -> None:
    """The profile's own [news_feed] selectors on the seed-shaped page: headline and text apart."""
    from crawler.extraction import extract_news_feed

    profile = load_profile(SITES / "kyivindependent.toml")
    items = extract_news_feed(KI_PAGE.read_bytes(), KI_URL, selectors=dict(profile.news_feed),
                              timezone=profile.timezone,
                              page_time=datetime(2023, 11, 25, 20, 0, tzinfo=UTC))
    assert [i["headline"] for i in items] == ["Zelensky marks Holodomor Remembrance Day.",
                                              "Crimean Tatar editor goes missing in occupied Crimea."]
    assert items[0]["text"].startswith('"They wanted to destroy us.')
    assert items[1]["text"].startswith("Ediye Muslimova, the editor-in-chief")
    for item in items:
        assert not item["text"].startswith(item["headline"])
    assert items[0]["url"] == "https://kyivindependent.com/zelensky-holodomor/"
    assert [i["published"] for i in items] == [datetime(2023, 11, 25, 15, 29, tzinfo=UTC),
                                               datetime(2023, 11, 25, 3, 50, tzinfo=UTC)]
