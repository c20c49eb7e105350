"""Content sniffing: bytes that are not text never reach the parsers, whatever the server declared.

A server may send a PNG, a PDF or random bytes as ``text/html``. Scrapy then builds an
``HtmlResponse`` and lxml fails on it (``ValueError: All strings must be XML compatible``), once
per such page. :class:`ContentSniffMiddleware` looks at the first bytes of every text response
after decompression: a known binary signature (PNG, JPEG, GIF, WebP, PDF, ZIP, gzip, …) or a
sample in which control bytes are common (more than ``SNIFF_MAX_CONTROL_RATIO``; text has almost
none, random bytes about 11 %) makes it a plain, non-text ``Response``, which the spider skips as it
skips any non-text page. Each is counted as ``newsmon/drop/not_text`` and by kind as
``newsmon/sniff/<kind>`` (``png``, ``pdf``, ``binary``, …), and logged once at INFO with the URL.

UTF-16 and UTF-32 pages (BOM, or NULs on every other byte) are text. A few stray NUL or control
bytes in a real page are left for the extractors, which remove them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured
from scrapy.http import Response, TextResponse


if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

__all__ = ["ContentSniffMiddleware", "control_count", "control_ratio", "sniff_binary"]

logger = logging.getLogger(__name__)

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF-", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"(\xb5/\xfd", "zstd"),
    (b"\x7fELF", "elf"),
    (b"OggS", "ogg"),
    (b"ID3", "mp3"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"wOFF", "woff"),
    (b"wOF2", "woff2"),
)
_TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_RIFF_KINDS = {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}
# C0 controls other than tab, LF, FF, CR (and ESC, used by ISO-2022 encodings), plus DEL.
_CONTROL = frozenset(set(range(0x09)) | {0x0B} | set(range(0x0E, 0x1B)) | set(range(0x1C, 0x20)) | {0x7F})
_CONTROL_BYTES = bytes(sorted(_CONTROL))  # bytes.translate deletes them: counted in C, not per byte
SAMPLE_BYTES = 4096


def control_count(data: bytes) -> int:
    """How many bytes of ``data`` are control characters (``_CONTROL``), counted in C."""
    return len(data) - len(data.translate(None, _CONTROL_BYTES))


def _utf16_like(sample: bytes) -> bool:
    """NULs on (nearly) only even or only odd offsets: UTF-16 text without a BOM."""
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2 or 1
    return max(even, odd) > 0.3 * half and min(even, odd) < 0.02 * half


def sniff_binary(data: bytes, max_control_ratio: float = 0.05) -> str | None:
    """The kind of binary content ``data`` starts with (``"png"``, ``"binary"``, …), or None for text."""
    head = data[:SAMPLE_BYTES]
    if not head or head.startswith(_TEXT_BOMS):
        return None
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return kind
    if head.startswith(b"RIFF") and head[8:12] in _RIFF_KINDS:
        return _RIFF_KINDS[head[8:12]]
    if head[4:8] == b"ftyp":
        return "mp4"
    if control_count(head) > max_control_ratio * len(head) and not _utf16_like(head):
        return "binary"
    return None


def control_ratio(settings: BaseSettings) -> float:
    """``SNIFF_MAX_CONTROL_RATIO`` through its rule (``crawler.checks``): ``ConfigError`` if bad."""
    from crawler.checks import check_setting

    return float(check_setting(settings, "SNIFF_MAX_CONTROL_RATIO"))


class ContentSniffMiddleware:
    """Downloader middleware: a text response whose bytes are binary becomes a non-text Response."""

    def __init__(self, crawler: Crawler, max_control_ratio: float) -> None:
        self.crawler = crawler
        self.max_control_ratio = max_control_ratio

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContentSniffMiddleware:
        settings = crawler.settings
        if not settings.getbool("SNIFF_ENABLED"):
            raise NotConfigured("SNIFF_ENABLED is off")
        return cls(crawler, control_ratio(settings))

    def process_response(self, request: Request, response: Response) -> Response:
        """Pass text through; turn binary bytes declared as text into a plain ``Response``."""
        if not isinstance(response, TextResponse):
            return response
        kind = sniff_binary(response.body, self.max_control_ratio)
        if kind is None:
            return response
        stats = self.crawler.stats
        stats.inc_value("newsmon/drop/not_text")
        stats.inc_value(f"newsmon/sniff/{kind}")
        logger.info("Skipped %s: %s bytes served as %s", response.url, kind,
                    (response.headers.get("Content-Type") or b"?").decode("latin-1"))
        # The same response as plain bytes (TextResponse-only arguments such as encoding dropped).
        return Response(**{name: getattr(response, name) for name in Response.attributes})
