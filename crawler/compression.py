"""Scrapy's HttpCompressionMiddleware, with its two failures named.

It replaces the stock middleware (same place, 590). Scrapy already stops decompressing at
``DOWNLOAD_MAXSIZE`` (so a gzip bomb costs at most that much memory) and raises a bare
``IgnoreRequest``; a corrupt body raises whatever zlib, gzip or brotli raise (``zlib.error``,
counted by the spider as the uninformative ``newsmon/errors/error``). Here they become
:class:`DecompressedTooLarge` and :class:`CorruptEncoding`, so the spider's errback counts them as
``newsmon/errors/DecompressedTooLarge`` and ``newsmon/errors/CorruptEncoding`` and logs one line
with the URL. Neither is retried: the same bytes would come back.
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

__all__ = ["CorruptEncoding", "DecompressedTooLarge", "NamedHttpCompressionMiddleware"]


class DecompressedTooLarge(IgnoreRequest):
    """The body grew past DOWNLOAD_MAXSIZE while being decompressed (e.g. a gzip bomb)."""


class CorruptEncoding(IgnoreRequest):
    """The body does not decode as its Content-Encoding says (corrupt or truncated gzip, …)."""


def _decoder_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [zlib.error, OSError, EOFError, struct.error]
    try:
        import brotli
    except ImportError:  # pragma: no cover - Scrapy then uses brotlicffi or no brotli at all
        pass
    else:
        errors.append(brotli.error)
    return tuple(errors)


_DECODER_ERRORS = _decoder_errors()


class NamedHttpCompressionMiddleware(HttpCompressionMiddleware):
    """Decompression bounded by DOWNLOAD_MAXSIZE; oversize and corrupt bodies raise named errors."""

    def process_response(  # type: ignore[override]  # without the deprecated spider argument
            self, request: Request, response: Response) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:  # the only IgnoreRequest the parent raises: over DOWNLOAD_MAXSIZE
            raise DecompressedTooLarge(str(exc)) from exc
        except _DECODER_ERRORS as exc:
            encoding = b",".join(response.headers.getlist("Content-Encoding")).decode("latin-1")
            raise CorruptEncoding(f"body is not valid {encoding or 'compressed data'}: {exc}") from exc
