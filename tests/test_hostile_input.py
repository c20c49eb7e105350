"""Property tests: extraction and dates on generated hostile input never raise.

Hypothesis builds pages out of the pieces real hostile pages are made of (``tests/hostile.py``)
and drives ``extract_article``, ``extract_news_feed`` and ``parse_datetime`` with them. The
property: no exception escapes, and dates that come out are aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from crawler.extraction import extract_article, extract_news_feed, parse_datetime
from tests.hostile import PROPERTY, ZONES, extreme_dates, hostile_urls, pages, words

# --- properties ----------------------------------------------------------------------------------


@PROPERTY
@given(page=pages(), zone=st.sampled_from(ZONES), charset=st.sampled_from([None, "utf-8", "latin-1", "bogus"]))
def test_extract_article_never_raises(page: str | bytes, zone: str, charset: str | None) -> None:
    result = extract_article(page, "http://example.test/a/x/", timezone=zone, headers_encoding=charset)
    assert isinstance(result["is_article"], bool)
    for key in ("published", "modified"):
        when = result[key]
        assert when is None or (when.tzinfo is not None and when.utcoffset() == timedelta(0))


@PROPERTY
@given(items=st.lists(st.tuples(words, words, words, st.sampled_from(["10:15", "25:99", "9.05 p.m.", ""]),
                                hostile_urls.map(lambda u: u.replace("'", "&#39;"))), max_size=8),
       zone=st.sampled_from(ZONES))
def test_news_feed_reader_never_raises(items: list[tuple[str, str, str, str]], zone: str) -> None:
    lis = "".join(f"<li><time>{t}</time><h3><script>{s}</script>{h}</h3><p><b>{h}</b>{x}</p>"
                  f"<a href='{u}'>more</a></li>" for h, x, s, t, u in items)
    html = f"<html><body><aside class='feed'><ul>{lis}</ul></aside></body></html>"
    rows = extract_news_feed(html, "http://example.test/", timezone=zone, page_time=datetime.now(UTC),
                             selectors={"item": "aside.feed li", "time": "time::text", "headline": "h3",
                                        "text": "p", "link": "a::attr(href)"})
    assert isinstance(rows, list)


@PROPERTY
@given(value=extreme_dates, zone=st.sampled_from(ZONES), dayfirst=st.booleans())
def test_date_parser_never_raises(value: str, zone: str, dayfirst: bool) -> None:
    when = parse_datetime(value, zone, dayfirst=dayfirst)
    assert when is None or when.utcoffset() == timedelta(0)


def test_date_overflow_gives_no_date() -> None:
    assert parse_datetime("9999-12-31T23:59:59-14:00") is None
    assert parse_datetime("9999-12-31T23:59:59", "America/New_York") is None
    assert parse_datetime("2024-03-05T10:00:00+02:00") == datetime(2024, 3, 5, 8, tzinfo=UTC)


_PROSE = "".join(f"<p>Paragraph {i}: engineers restored power to the district after the strike, "
                 "officials said, and crews kept working through the night on the substation.</p>"
                 for i in range(6))


def test_deep_nesting_still_extracts() -> None:
    page = ("<html><head><title>Deep</title></head><body>" + "<div>" * 5000
            + f"<article><h1>Deep nesting still extracts</h1>{_PROSE}</article>" + "</div>" * 5000 + "</body></html>")
    result = extract_article(page, "http://example.test/a/deep/")
    assert result["is_article"], result["reason"]
    assert result["title"] == "Deep nesting still extracts" and "Paragraph 5" in result["body"]


def test_declared_charset_that_does_not_decode_is_redetected() -> None:
    text = ("Енергетики відновили живлення після атаки на підстанцію, повідомили в міністерстві. " * 3)
    page = ('<html><head><meta charset="utf-8"><title>Київ</title></head><body><article><h1>Київ сьогодні</h1>'
            + "".join(f"<p>{text} {i}</p>" for i in range(5)) + "</article></body></html>").encode("cp1251")
    for header in ("utf-8", None):
        result = extract_article(page, "http://example.test/a/cp1251/", headers_encoding=header)
        assert result["is_article"], result["reason"]
        assert "Енергетики відновили" in result["body"] and "\ufffd" not in result["body"]


def test_control_characters_do_not_break_extraction() -> None:
    prose = _PROSE.replace("the", "th\x01e")
    page = f"<html><body><article><h1>Title\x1b here</h1>{prose}<script></script>\x1b</article></body></html>"
    assert extract_article(page, "http://example.test/a/c/")["is_article"]


_NOT_XML_PIECES = st.sampled_from(["\x00", "\x08", "\x0b", "\x0c", "\x1f", "\t", "\n", "\r", "\x7f",
                                   "\ud800", "\udfff", "\ufffe", "\uffff", "\ufffd", "\U0001f600", "é", "я",
                                   "<p>", " "])


@PROPERTY
@given(text=st.one_of(
    st.lists(st.one_of(_NOT_XML_PIECES, st.characters(blacklist_categories=()), st.text(max_size=20)),
             max_size=40).map("".join),
    st.text(st.sampled_from([chr(c) for c in range(0x80)]), max_size=60)))  # all ASCII: the bytes path
def test_strip_not_xml_is_the_regex_it_speeds_up(text: str) -> None:
    """The vectorised look (crawler/extraction/document.py) removes exactly what the regex removes,
    and gives back the very string when there is nothing to remove."""
    from crawler.extraction.document import _NOT_XML, strip_not_xml

    expected = _NOT_XML.sub("", text)
    got = strip_not_xml(text)
    assert got == expected
    if expected == text:
        assert got is text
