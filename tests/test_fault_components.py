"""Unit tests of the hostile-input components, built from settings without a crawl.

The crawl over every fault together is ``tests/test_faults.py``; these pin each rule alone.
"""

from __future__ import annotations

import logging
import os
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.drops import DropExceptionsMiddleware, drop_item
from crawler.errors import ConfigError
from crawler.retry import RetryAfterMiddleware, parse_retry_after
from crawler.sniff import _CONTROL, ContentSniffMiddleware, control_count, sniff_binary
from pipelines.alerts import mask_url, redact


@pytest.mark.parametrize(("data", "kind"), [
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "png"),
    (b"%PDF-1.7\n...", "pdf"),
    (b"\xff\xd8\xff\xe0" + bytes(50), "jpeg"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
    (random.Random(5).randbytes(5000), "binary"),
    (b"<html><body><p>Plain page</p></body></html>", None),
    ("<p>Київ</p>".encode("cp1251"), None),
    ("<html><p>UTF-16 without BOM</p></html>".encode("utf-16-le"), None),
    ("\ufeff<html>BOM</html>".encode("utf-16"), None),
    (b"<p>" + b"text with a stray NUL\x00 in an ordinary sentence that goes on for a while, " * 50 + b"</p>", None),
    (b"", None),
])
def test_sniff_binary(data: bytes, kind: str | None) -> None:
    assert sniff_binary(data) == kind


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=5000) | st.lists(st.sampled_from([b"\x00", b"\x07", b"\x1b", b"\x7f", b"a", b"\n", b"\xff"]),
                                           max_size=600).map(b"".join))
def test_control_bytes_are_counted_as_byte_by_byte(data: bytes) -> None:
    """``control_count`` (bytes.translate, in C) is the per-byte count it replaced."""
    assert control_count(data) == sum(1 for byte in data if byte in _CONTROL)


def test_sniff_middleware_turns_binary_html_into_a_counted_non_text_response() -> None:
    crawler = get_crawler(settings_dict={"SNIFF_ENABLED": True, "SNIFF_MAX_CONTROL_RATIO": 0.05})
    crawler.stats.open_spider()
    mw = build_from_crawler(ContentSniffMiddleware, crawler)
    request = Request("http://example.test/a/")
    png = HtmlResponse(request.url, body=b"\x89PNG\r\n\x1a\n" + os.urandom(200), request=request,
                       headers={"Content-Type": "text/html"})
    out = mw.process_response(request, png)
    assert type(out) is Response and out.body == png.body and out.status == 200
    page = HtmlResponse(request.url, body=b"<p>fine</p>", request=request)
    assert mw.process_response(request, page) is page
    assert crawler.stats.get_value("newsmon/drop/not_text") == 1
    assert crawler.stats.get_value("newsmon/sniff/png") == 1


@pytest.mark.parametrize(("settings", "message"), [
    ({"SNIFF_MAX_CONTROL_RATIO": 2}, "SNIFF_MAX_CONTROL_RATIO: "),
    ({"RETRY_AFTER_MAX": -1}, "RETRY_AFTER_MAX: "),
    ({"RETRY_BACKOFF_BASE": "soon"}, "RETRY_BACKOFF_BASE: "),
    ({"CLEAN_MAX_BODY_CHARS": "lots"}, "CLEAN_MAX_BODY_CHARS: "),
])
def test_bad_settings_are_one_line_errors_naming_the_setting(settings: dict, message: str) -> None:
    import crawler.settings as project
    from pipelines.clean import CleanPipeline

    defaults = {name: getattr(project, name) for name in
                ("SNIFF_ENABLED", "SNIFF_MAX_CONTROL_RATIO", "RETRY_AFTER_MAX", "RETRY_BACKOFF_BASE",
                 "RETRY_BACKOFF_MAX", "CLEAN_ENABLED", "CLEAN_MAX_BODY_CHARS")}
    crawler = get_crawler(settings_dict={**defaults, **settings})
    with pytest.raises(ConfigError) as caught:
        for component in (ContentSniffMiddleware, RetryAfterMiddleware, CleanPipeline):
            build_from_crawler(component, crawler)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)  # crawler/checks.py's rule


def test_parse_retry_after() -> None:
    now = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    assert parse_retry_after(b"3") == 3.0
    assert parse_retry_after("Tue, 05 Mar 2024 10:00:30 GMT", now) == 30.0
    assert parse_retry_after("Tue, 05 Mar 2024 09:00:00 GMT", now) == 0.0  # in the past: now
    for junk in (None, b"", b"soon", b"-5", b"1.5e9999", "Mon, 99 Foo 2024"):
        assert parse_retry_after(junk, now) is None


def test_retry_backoff_doubles_up_to_its_bound() -> None:
    crawler = get_crawler(settings_dict={"RETRY_BACKOFF_BASE": 0.5, "RETRY_BACKOFF_MAX": 3,
                                         "RETRY_AFTER_MAX": 60})
    mw = RetryAfterMiddleware.from_crawler(crawler)
    assert [mw.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_drop_middleware_counts_and_logs_one_line(caplog: pytest.LogCaptureFixture) -> None:
    crawler = get_crawler(settings_dict={"DROP_EXCEPTIONS_ENABLED": True})
    crawler.stats.open_spider()
    mw = DropExceptionsMiddleware.from_crawler(crawler)
    response = HtmlResponse("http://example.test/a/", body=b"<p>x</p>")
    with caplog.at_level(logging.INFO, logger="crawler.drops"):
        assert mw.process_spider_exception(response, ValueError("All strings must be XML compatible\nmore")) == []
    assert crawler.stats.get_value("newsmon/drop/page_error/ValueError") == 1
    (record,) = caplog.records
    assert record.getMessage() == "Dropped page http://example.test/a/: ValueError: All strings must be XML compatible"
    assert record.exc_info is None
    assert mw.process_spider_exception(response, CloseSpider("stop")) is None  # Scrapy handles it


def test_drop_item_counts_under_the_reason() -> None:
    from crawler.items import Article

    crawler = get_crawler()
    crawler.stats.open_spider()
    drop = drop_item(crawler, "no_body", Article(url="http://e/a/", fetched_url="", site="s", title="t", body=""))
    assert isinstance(drop, DropItem) and str(drop) == "no_body: http://e/a/"
    assert crawler.stats.get_value("newsmon/drop/no_body") == 1
    with pytest.raises(ValueError, match="drop reason"):
        drop_item(crawler, "bad reason!", {})


def test_webhook_secrets_are_masked() -> None:
    url = "https://bot:pa55word@hooks.example.test/services/T0/B0?token=abc123&channel=ops#frag"
    assert mask_url(url) == "https://***@hooks.example.test/services/T0/B0?token=***&channel=***"
    assert mask_url("http://hooks.example.test/x") == "http://hooks.example.test/x"
    message = "ValueError: invalid hostname: bot:pa55word@hooks.example.test, token abc123"
    assert redact(message, url) == "ValueError: invalid hostname: ***@hooks.example.test, token ***"


def test_extract_command_on_a_binary_file_is_one_line_and_exit_2(tmp_path) -> None:
    from tests.conftest import run_newsmon

    page = tmp_path / "image.html"
    page.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(3000))
    result = run_newsmon(["extract", str(page), "--url", "http://example.test/a/"], dict(os.environ))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"newsmon: error: {page}: not a text page (png bytes); nothing to extract"]


def test_profile_download_maxsize_becomes_the_spiders_setting() -> None:
    from crawler.errors import ProfileError
    from crawler.profiles import parse_profile
    from crawler.spiderloader import spider_class_for

    data = {"name": "big-pages", "base_url": "https://example.test/", "start": {"feeds": ["/feed"]}}
    assert "DOWNLOAD_MAXSIZE" not in spider_class_for(parse_profile("p.toml", data)).custom_settings
    profile = parse_profile("p.toml", {**data, "download_maxsize": 32 * 2**20})
    assert spider_class_for(profile).custom_settings["DOWNLOAD_MAXSIZE"] == 32 * 2**20
    with pytest.raises(ProfileError, match="download_maxsize: must be at least 1024 bytes"):
        parse_profile("p.toml", {**data, "download_maxsize": 10})


def test_decompression_failures_have_names() -> None:
    import gzip

    from crawler.compression import CorruptEncoding, DecompressedTooLarge, NamedHttpCompressionMiddleware

    crawler = get_crawler(settings_dict={"COMPRESSION_ENABLED": True, "DOWNLOAD_MAXSIZE": 1 << 20,
                                         "DOWNLOAD_WARNSIZE": 1 << 19})
    mw = NamedHttpCompressionMiddleware.from_crawler(crawler)
    request = Request("http://example.test/a/")

    def gzipped(body: bytes) -> Response:
        return HtmlResponse(request.url, body=body, request=request,
                            headers={"Content-Encoding": "gzip", "Content-Type": "text/html"})

    page = mw.process_response(request, gzipped(gzip.compress(b"<p>fine</p>")))
    assert page.body == b"<p>fine</p>"
    with pytest.raises(DecompressedTooLarge, match="DOWNLOAD_MAXSIZE"):
        mw.process_response(request, gzipped(gzip.compress(bytes(2 << 20))))
    with pytest.raises(CorruptEncoding, match="body is not valid gzip"):
        mw.process_response(request, gzipped(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x07" + bytes(100)))
