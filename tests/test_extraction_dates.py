"""One date parser: zone abbreviations (the site's zone breaks ties), other languages' month
names, and out-of-range placeholders that must not raise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.extraction import extract_article, parse_datetime


@pytest.mark.parametrize(("text", "tz", "expected"), [
    ("01:38:07 PM IST Nov 20, 2019", "UTC", datetime(2019, 11, 20, 8, 8, 7, tzinfo=UTC)),  # India
    ("01:38:07 PM IST Nov 20, 2019", "Asia/Kolkata", datetime(2019, 11, 20, 8, 8, 7, tzinfo=UTC)),
    ("Nov 20, 2019 10:00 MSK", "UTC", datetime(2019, 11, 20, 7, 0, tzinfo=UTC)),
    ("2019-11-20 10:00 CET", "UTC", datetime(2019, 11, 20, 9, 0, tzinfo=UTC)),
    ("20 Dec 2023 17:18 EET", "UTC", datetime(2023, 12, 20, 15, 18, tzinfo=UTC)),
    ("March 5, 2021 10:00 AM EST", "UTC", datetime(2021, 3, 5, 15, 0, tzinfo=UTC)),
    ("July 5, 2021 10:00 AM CST", "Asia/Shanghai", datetime(2021, 7, 5, 2, 0, tzinfo=UTC)),  # China
    ("July 5, 2021 10:00 AM CST", "America/Chicago", datetime(2021, 7, 5, 15, 0, tzinfo=UTC)),
    ("20 листопада 2023, 17:18", "Europe/Kyiv", datetime(2023, 11, 20, 15, 18, tzinfo=UTC)),
    ("20 ноября 2023 17:18", "Europe/Moscow", datetime(2023, 11, 20, 14, 18, tzinfo=UTC)),
    ("5. März 2021 10:00", "Europe/Berlin", datetime(2021, 3, 5, 9, 0, tzinfo=UTC)),
    # a zone written in a date of another language is kept, not read as the site's wall clock
    ("20 листопада 2019, 13:38 EET", "UTC", datetime(2019, 11, 20, 11, 38, tzinfo=UTC)),
    ("20 ноября 2019 13:38 МСК", "Europe/Kyiv", datetime(2019, 11, 20, 10, 38, tzinfo=UTC)),
    ("20 листопада 2019, 13:38 +0300", "UTC", datetime(2019, 11, 20, 10, 38, tzinfo=UTC)),
    ("20. Juli 2019, 13:38 MESZ", "UTC", datetime(2019, 7, 20, 11, 38, tzinfo=UTC)),
    # month names in ASCII (dateutil's fuzzy mode would keep the day on a wrong month), "13h38"
    ("Publicado el 20 de noviembre de 2019 a las 13:38", "Europe/Madrid",
     datetime(2019, 11, 20, 12, 38, tzinfo=UTC)),
    ("5 maart 2021 13:38", "Europe/Amsterdam", datetime(2021, 3, 5, 12, 38, tzinfo=UTC)),
    ("20 de novembro de 2019 às 13h38", "America/Sao_Paulo", datetime(2019, 11, 20, 16, 38, tzinfo=UTC)),
    # US zones without the winter/summer letter follow the date's daylight saving time
    ("November 20, 2019 1:38 pm ET", "UTC", datetime(2019, 11, 20, 18, 38, tzinfo=UTC)),
    ("July 20, 2019 1:38 pm ET", "UTC", datetime(2019, 7, 20, 17, 38, tzinfo=UTC)),
])
def test_printed_dates(text: str, tz: str, expected: datetime) -> None:
    assert parse_datetime(text, tz, dayfirst=True) == expected


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                                  "0000-00-00", "31/12/9999 23:59", "not a date at all"])
def test_placeholders_never_raise(text: str) -> None:
    assert parse_datetime(text, "Pacific/Kiritimati") is None


def test_placeholder_date_in_jsonld_does_not_break_extraction() -> None:
    page = ('<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
            '"headline": "Budget passed", "datePublished": "9999-12-31T23:59:59-14:00"}</script>'
            '</head><body><article><h1>Budget passed</h1>'
            + "".join(f"<p>The council voted on Tuesday to approve the new budget after a long "
                      f"debate, item {i}.</p>" for i in range(5))
            + "</article></body></html>")
    r = extract_article(page, "https://news.example/budget", fetched_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert r["published"] is None and r["is_article"]


def _dated_page(jsonld_date: str, meta_date: str) -> str:
    return ('<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
            f'"headline": "Budget passed", "datePublished": "{jsonld_date}"}}</script>'
            f'<meta property="article:published_time" content="{meta_date}">'
            '</head><body><article><h1>Budget passed</h1>'
            + "".join(f"<p>The council voted on Tuesday to approve the new budget after a long "
                      f"debate, item {i}.</p>" for i in range(5))
            + "</article></body></html>")


@pytest.mark.parametrize(("jsonld", "meta", "expected"), [
    # JSON-LD without offset (read in the site's zone, a guess), meta with one: the same wall
    # time written with its zone, so the meta's instant
    ("2021-11-01T05:00:14", "2021-11-01T04:00:14Z", datetime(2021, 11, 1, 4, 0, 14, tzinfo=UTC)),
    # JSON-LD gives the day only, meta the clock on that day
    ("2022-02-03", "2022-02-03T14:54:56+00:00", datetime(2022, 2, 3, 14, 54, 56, tzinfo=UTC)),
    # both precise and different: the ranked source (JSON-LD) wins
    ("2021-11-01T05:00:14+01:00", "2021-11-01T09:30:00+00:00", datetime(2021, 11, 1, 4, 0, 14, tzinfo=UTC)),
    # a naive JSON-LD time and a meta time that is no zone shift of it: JSON-LD wins
    ("2021-11-01T05:00:14", "2021-11-01T04:17:00Z", datetime(2021, 11, 1, 5, 0, 14, tzinfo=UTC)),
])
def test_a_less_precise_source_borrows_a_later_ones_clock_or_offset(jsonld: str, meta: str,
                                                                     expected: datetime) -> None:
    r = extract_article(_dated_page(jsonld, meta), "https://news.example/budget",
                        fetched_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert r["published"] == expected


@pytest.mark.parametrize(("printed", "expected"), [
    # clock first, with seconds and a zone: read whole, not to the day only
    ("Updated: 01:38:07 PM IST Nov 20, 2019", datetime(2019, 11, 20, 8, 8, 7, tzinfo=UTC)),
    ("Posted 9:05 am on Nov 20, 2019", datetime(2019, 11, 20, 9, 5, tzinfo=UTC)),
    ("Nov 20, 2019 1:38 PM EST", datetime(2019, 11, 20, 18, 38, tzinfo=UTC)),
])
def test_a_date_printed_under_the_headline_is_read_with_its_clock_and_zone(printed: str, expected: datetime) -> None:
    page = ("<html><head><title>Budget passed</title></head><body><h1>Budget passed</h1>"
            f'<p class="byline">By Jane Doe</p><span class="date">{printed}</span>'
            + "".join(f"<p>The council voted on Tuesday to approve the new budget after a long "
                      f"debate, item {i}, and residents said what they thought of it.</p>" for i in range(8))
            + "</body></html>")
    r = extract_article(page, "https://news.example/budget-passed", fetched_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert r["published"] == expected and r["authors"] == ["Jane Doe"]
