"""Small validators for setting values: each takes a value as Scrapy holds it (a string from
``-s NAME=value``, or the Python value of ``crawler/settings.py``) and returns it in its Python type,
or raises ``Invalid("problem")`` with the problem alone; ``crawler.checks`` adds the setting's name.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.errors import ConfigError

__all__ = [
    "Invalid", "Validator", "boolean", "choice", "dict_of", "directory", "http_url", "integer",
    "list_of", "log_level", "mongo_uri", "number", "optional", "redis_url", "text", "topics_file", "writable_file",
]

Validator = Callable[[Any], Any]  # value -> typed value; raises Invalid("problem")


class Invalid(ValueError):
    """A value breaks its rule; the message is the problem, without the setting's name."""


def _show(value: Any) -> str:
    return repr(value) if not isinstance(value, str) or len(value) <= 80 else repr(value[:77] + "...")


# --- validators: each returns the value in its Python type, or raises Invalid ------------------


def boolean(value: Any) -> bool:
    """What Scrapy's ``getbool`` accepts: 0/1, True/False, '0'/'1', 'true'/'false', 'True'/'False'."""
    if value in (True, False, 0, 1, "0", "1", "True", "true", "False", "false"):
        return value in (True, 1, "1", "True", "true")
    raise Invalid(f"expected a boolean (true/false/1/0), got {_show(value)}")


def integer(minimum: int | None = None, maximum: int | None = None) -> Validator:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise Invalid(f"expected an integer, got {_show(value)}")
        try:
            number = int(value)
        except ValueError:
            raise Invalid(f"expected an integer, got {_show(value)}") from None
        _in_range(number, minimum, maximum, "..")
        return number
    return check


def number(minimum: float | None = None, maximum: float | None = None, *, above: bool = False) -> Validator:
    """A finite number; ``above``: strictly greater than ``minimum``."""
    def check(value: Any) -> float:
        try:
            result = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            result = math.nan
        if not math.isfinite(result):
            raise Invalid(f"expected a number, got {_show(value)}")
        if above and minimum is not None and maximum is not None:
            if not minimum < result <= maximum:
                raise Invalid(f"must be in ({minimum:g}, {maximum:g}], got {result:g}")
        elif above and minimum is not None and not result > minimum:
            raise Invalid(f"must be > {minimum:g}, got {result:g}")
        _in_range(result, None if above else minimum, maximum, " to ")
        return result
    return check


def _in_range(value: float, minimum: float | None, maximum: float | None, sep: str) -> None:
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise Invalid(f"must be in {minimum:g}{sep}{maximum:g}, got {value:g}")
    if minimum is not None and value < minimum:
        raise Invalid(f"must be at least {minimum:g}, got {value:g}")
    if maximum is not None and value > maximum:
        raise Invalid(f"must be at most {maximum:g}, got {value:g}")


def choice(*options: str) -> Validator:
    def check(value: Any) -> str:
        if value not in options:
            raise Invalid(f"expected one of {', '.join(options)}, got {_show(value)}")
        return str(value)
    return check


def text(pattern: str | None = None, hint: str = "") -> Validator:
    """A non-empty string (matching ``pattern`` when given)."""
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise Invalid(f"expected a non-empty string, got {_show(value)}")
        if pattern and not re.fullmatch(pattern, value):
            raise Invalid(f"{_show(value)}: {hint}")
        return value
    return check


def optional(inner: Validator) -> Validator:
    """``None`` (or an empty ``-s NAME=``) means unset; anything else must pass ``inner``."""
    def check(value: Any) -> Any:
        return None if value is None or value == "" else inner(value)
    return check


def list_of(item: Validator) -> Validator:
    """A list, or a comma-separated string as ``-s`` gives it (Scrapy's ``getlist``)."""
    def check(value: Any) -> list[Any]:
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, (list, tuple)):
            raise Invalid(f"expected a list or comma-separated string, got {_show(value)}")
        return [item(v.strip() if isinstance(v, str) else v) for v in value
                if not (isinstance(v, str) and not v.strip())]
    return check


def dict_of(item: Validator) -> Validator:
    """A dict, or a JSON object as ``-s`` gives it (Scrapy's ``getdict``); keys are named."""
    def check(value: Any) -> dict[str, Any]:
        given = value
        if isinstance(value, str):
            import json

            try:
                value = json.loads(value)
            except ValueError:
                pass
        if hasattr(value, "copy_to_dict"):  # a Scrapy BaseSettings
            value = value.copy_to_dict()
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a dict (a JSON object with -s), got {_show(given)}")
        result = {}
        for key, v in value.items():
            try:
                result[str(key)] = item(v)
            except Invalid as exc:
                raise Invalid(f"{key!r}: {exc}") from None
        return result
    return check


def directory(*, must_exist: bool) -> Validator:
    """A directory that exists (``must_exist``: it is only read), else one newsmon can create
    and write in."""
    def check(value: Any) -> str:
        path = Path(text()(value)).expanduser()
        if path.exists() and not path.is_dir():
            raise Invalid(f"{str(path)!r} is not a directory")
        if must_exist and not path.is_dir():
            raise Invalid(f"{str(path)!r}: no such directory")
        if not must_exist:
            _writable(path)
        return str(value)
    return check


def writable_file(value: Any) -> str:
    """A file path newsmon can create or append to (its directory is created if missing)."""
    path = Path(text()(value)).expanduser()
    if path.is_dir():
        raise Invalid(f"{str(path)!r} is a directory, expected a file path")
    _writable(path.parent)
    return str(value)


def _writable(path: Path) -> None:
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise Invalid(f"{str(path)!r} cannot be created: {str(existing)!r} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise Invalid(f"{str(path)!r} is not writable ({str(existing)!r} refuses writes)")


def http_url(value: Any) -> str:
    url = text()(value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(f"{_show(url)}: expected an http:// or https:// URL")
    return url


def mongo_uri(value: Any) -> str:
    """A MongoDB URI pymongo accepts, parsed without connecting (and without SRV DNS look-ups);
    the password never appears in the problem."""
    from pipelines.storage.mongo import mask_uri

    uri = text()(value)
    if not uri.startswith(("mongodb://", "mongodb+srv://")):
        raise Invalid(f"must start with mongodb:// or mongodb+srv://, got {_show(mask_uri(uri))}")
    try:
        if uri.startswith("mongodb+srv://"):
            from pymongo.uri_parser_shared import _validate_uri

            _validate_uri(uri)
        else:
            from pymongo.uri_parser import parse_uri

            parse_uri(uri)
    except Exception as exc:  # pymongo raises ValueError, InvalidURI or ConfigurationError
        message = re.sub(r"\.? (Hint:|Refer to).*", "", str(exc)).strip() or type(exc).__name__
        for secret in _uri_password(uri):
            message = message.replace(secret, "***")
        raise Invalid(f"{mask_uri(uri)}: {message}") from None
    return uri


def redis_url(value: Any) -> str:
    """A Redis URL redis-py accepts (redis://, rediss://, unix://), parsed without connecting;
    the password never appears in the problem."""
    from redis.connection import parse_url

    from pipelines.storage.mongo import mask_uri

    url = text()(value)
    try:
        parse_url(url)
    except ValueError as exc:
        message = str(exc)
        for secret in _uri_password(url):
            message = message.replace(secret, "***")
        raise Invalid(f"{mask_uri(url)}: {message}") from None
    return url


def _uri_password(uri: str) -> list[str]:
    from urllib.parse import unquote

    rest = uri.partition("://")[2]
    query = rest.find("?")
    userinfo, at, _ = rest[: query if query != -1 else len(rest)].rpartition("@")
    password = userinfo.partition(":")[2] if at else ""
    return [s for s in {password, unquote(password)} if len(s) >= 3]


def topics_file(value: Any) -> Any:
    """A ``TOPICS_FILE`` value whose topic files all load (None: the shipped default)."""
    from crawler.topics.config import TopicFileError, load_topics

    try:
        load_topics(value)
    except TopicFileError as exc:
        where = exc.path if exc.key in ("-", "TOPICS_FILE") else f"{exc.path}: {exc.key}"
        raise Invalid(f"{where}: {exc.problem}") from None
    except ConfigError as exc:
        raise Invalid(str(exc)) from None
    return value


def log_level(value: Any) -> Any:
    names = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
    if isinstance(value, int) and not isinstance(value, bool) or \
            isinstance(value, str) and value in logging.getLevelNamesMapping():
        return value
    hint = f" (levels are upper case: {value.upper()})" if isinstance(value, str) and \
        value.upper() in names else ""
    raise Invalid(f"expected one of {', '.join(names)}, got {_show(value)}{hint}")
