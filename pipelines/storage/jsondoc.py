"""Documents to and from the embedded store's JSON text (``SqliteStore``'s ``doc`` column).

Datetimes are stored as ``"\\x01D" + "YYYY-MM-DDTHH:MM:SS.mmmZ"`` (UTC, millisecond precision
like BSON, so both backends hold the same values); the fixed format makes lexical order time
order, so range filters on the indexed columns are plain index scans. Strings that themselves
start with ``\\x01`` are escaped with ``"\\x01S"`` so they never decode as datetimes.

Documents follow the rules both MongoDB and FerretDB accept (see deploy/ferretdb/README.md): no
NaN/Infinity, no NUL in strings, no keys with ``.`` or a leading ``$``, no arrays directly inside
arrays, integers within int64. A document breaking them fails alone, as on a server.

Two ways to each side, one result. ``encode`` / ``decode`` walk every value and say where a
document breaks a rule. ``dumps_doc`` / ``loads_doc`` are the store thread's hot path (every
article and every News Feed sighting goes through them): a check that visits only dicts and
mixed lists, then orjson's C walk does the rest (datetimes through its ``default`` hook); any
document the check is not sure of (a rule broken, an unusual type, a string with ``\\x01`` or
NUL) takes the full walk, so both ways give the same text and the same errors
(``tests/test_jsondoc.py`` pins it).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any

import orjson

__all__ = [
    "DT",
    "DT_END",
    "DocumentError",
    "check_doc",
    "decode",
    "doc_id",
    "dumps",
    "dumps_doc",
    "dumps_value",
    "encode",
    "encode_datetime",
    "encode_doc",
    "loads",
    "loads_doc",
    "validate_document",
]

DT = "\x01D"  # prefix of an encoded datetime
DT_END = "\x01E"  # every encoded datetime sorts in [DT, DT_END)
_ESC = "\x01S"  # prefix of a string that started with \x01
_INT64 = 2**63


class DocumentError(ValueError):
    """A document value the store does not take (the document fails alone)."""

    def __init__(self, problem: str, path: list[str] | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path = path or []  # keys / [index] from the document root, filled while unwinding

    def __str__(self) -> str:
        where = "".join(p if p.startswith("[") else f".{p}" for p in self.path).lstrip(".")
        return f"{where}: {self.problem}" if where else self.problem


def encode_datetime(value: datetime) -> str:
    """Encode a datetime (naive = UTC) in the fixed, lexically ordered storage format."""
    if value.tzinfo is UTC:  # the usual case: isoformat (C) writes the same digits
        return f"{DT}{value.isoformat(timespec='milliseconds')[:-6]}Z"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    # Explicit zero padding: strftime's %Y does not pad years below 1000 on every platform.
    return (
        f"{DT}{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
        f"{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )


# --- the full walk: exact errors ------------------------------------------------------------------


def encode(value: Any) -> Any:
    """Return ``value`` in its JSON storage form, or raise DocumentError (with the path)."""
    kind = type(value)
    if kind is str:
        if "\x00" in value:
            raise DocumentError("NUL character in string")
        return _ESC + value if value[:1] == "\x01" else value
    if kind is dict or isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str or not key or key[0] == "$" or "." in key or "\x00" in key:
                raise DocumentError(
                    f"key {key!r} is not a string, is empty, starts with '$' or holds '.'/NUL"
                )
            kind_ = type(item)
            # The common scalars inline, without a call per field.
            if kind_ is str and "\x00" not in item and item[:1] != "\x01":
                out[key] = item
                continue
            if (kind_ is float and math.isfinite(item)) or (kind_ is int and -_INT64 <= item < _INT64):
                out[key] = item
                continue
            try:
                out[key] = encode(item)
            except DocumentError as exc:
                exc.path.insert(0, key)
                raise
        return out
    if kind is list or kind is tuple:
        items = []
        for i, item in enumerate(value):
            if isinstance(item, (list, tuple)):
                raise DocumentError("arrays directly inside arrays are not storable", [f"[{i}]"])
            if type(item) is str and "\x00" not in item and item[:1] != "\x01":
                items.append(item)
                continue
            try:
                items.append(encode(item))
            except DocumentError as exc:
                exc.path.insert(0, f"[{i}]")
                raise
        return items
    if value is None or kind is bool:
        return value
    if kind is datetime:
        return encode_datetime(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not -_INT64 <= value < _INT64:
            raise DocumentError("integer out of int64 range")
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DocumentError(f"{value!r} is not storable (NaN/Infinity)")
        return float(value)
    if isinstance(value, datetime):
        return encode_datetime(value)
    if isinstance(value, date):
        raise DocumentError("a date without time is not storable; use a datetime")
    raise DocumentError(f"unsupported type {kind.__name__}")


def decode(value: Any) -> Any:
    """Invert ``encode``: marker strings back to datetimes / plain strings (a new value)."""
    if isinstance(value, str):
        return _decode_str(value) if value[:1] == "\x01" else value
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _decode_str(value: str) -> Any:
    if value.startswith(DT):
        # The fixed form encode_datetime writes; fromisoformat (C) reads it ~25x faster than
        # strptime.
        return datetime.fromisoformat(value[2:])
    if value.startswith(_ESC):
        return value[2:]
    return value


def encode_doc(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Encode a document without its ``_id`` (held in the key column)."""
    encoded = encode({k: v for k, v in doc.items() if k != "_id"})
    assert isinstance(encoded, dict)
    return encoded


def dumps(value: Any) -> str:
    """JSON text of an encoded value (orjson: 5-10x the stdlib's speed on 4 KB articles)."""
    return orjson.dumps(value).decode("utf-8")


loads = orjson.loads


def doc_id(doc: Mapping[str, Any]) -> str:
    """The document's ``_id``, or DocumentError."""
    value = doc.get("_id")
    if not isinstance(value, str) or not value or "\x00" in value:
        raise DocumentError(f"_id must be a non-empty string, got {value!r}")
    return value


def validate_document(doc: Mapping[str, Any]) -> None:
    """Raise DocumentError unless ``doc`` keeps the rules both servers and this store take.

    MongoStore checks documents with this too, so one document fails alike on every backend.
    """
    doc_id(doc)
    check_doc(doc)


# --- the hot path -----------------------------------------------------------------------------

# Values orjson writes exactly as ``encode`` + ``dumps`` would (strings: see the text checks in
# ``dumps_doc``; datetimes: through ``_datetime``).
_PLAIN = frozenset({str, bool, type(None), datetime})
_NUMBERS = frozenset({int, float, bool, type(None)})


_GOOD_KEYS: set[str] = set()  # keys that passed the key rule (a schema has few: bounded below)


def _good_keys(value: dict[Any, Any]) -> bool:
    if _GOOD_KEYS.issuperset(value):  # one C pass over the keys of the usual schema
        return True
    for key in value:
        if type(key) is not str or not key or key[0] == "$" or "." in key:
            return False
    if len(_GOOD_KEYS) < 4096:
        _GOOD_KEYS.update(value)
    return True


def _plain_dict(value: dict[Any, Any]) -> bool:
    """Whether orjson alone gets this dict right (False: let the full walk decide)."""
    if not _good_keys(value):
        return False
    return all(type(item) in _PLAIN or _plain_item(item) for item in value.values())


def _plain_list(value: list[Any] | tuple[Any, ...]) -> bool:
    kinds = set(map(type, value))  # one C pass: most lists hold one type (URLs, int64 keys)
    if kinds <= _PLAIN:
        return True
    if kinds == {int}:
        return -_INT64 <= min(value) and max(value) < _INT64
    if list in kinds or tuple in kinds:
        return False  # arrays inside arrays: the full walk says where
    return all(type(item) in _PLAIN or _plain_item(item) for item in value)


def _plain_item(item: Any) -> bool:
    kind = type(item)
    if kind is int:
        return -_INT64 <= item < _INT64
    if kind is float:
        return math.isfinite(item)
    if kind is dict:
        return _plain_dict(item)
    if kind is list or kind is tuple:
        return _plain_list(item)
    return False  # unusual types: the full walk decides


_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def _fast(value: Any) -> bytes | None:
    """orjson's text of a value ``_plain_*`` accepted, or None where the full walk must decide."""
    datetimes = 0

    def default(item: Any) -> str:
        nonlocal datetimes
        if type(item) is not datetime:
            raise TypeError  # a date or time: the full walk says why
        datetimes += 1
        return encode_datetime(item)

    try:
        raw = orjson.dumps(value, default=default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return None
    # orjson writes control characters as \u00XX: a NUL, or a \x01 that is not one of the
    # datetime markers (one per datetime), needs the full walk (its error, its escape). A
    # literal backslash-u0001 in a string also lands there, harmlessly.
    if b"\\u0000" in raw or raw.count(b"\\u0001") != datetimes:
        return None
    return raw


def dumps_doc(doc: Mapping[str, Any]) -> bytes:
    """The stored JSON of a document (without ``_id``) as UTF-8, or DocumentError.

    Bytes, not str: SQLite takes them as text with ``CAST(? AS TEXT)``, which saves decoding
    and re-encoding every document in Python.
    """
    if type(doc) is dict:
        body = doc
        if "_id" in doc:
            body = dict(doc)
            del body["_id"]
        raw = _fast(body) if _plain_dict(body) else None
        if raw is not None:
            return raw
    return orjson.dumps(encode_doc(doc))


def dumps_value(value: Any) -> str:
    """The stored JSON text of one value (a field's), or DocumentError."""
    raw = _fast(value) if type(value) in _PLAIN or _plain_item(value) else None
    return (raw if raw is not None else orjson.dumps(encode(value))).decode("utf-8")


def check_doc(doc: Mapping[str, Any]) -> None:
    """Raise DocumentError (TypeError for text orjson cannot write) unless ``doc`` is storable:
    ``dumps_doc`` without writing the datetimes (orjson's own form is as good for the checks)."""
    if type(doc) is dict and _plain_dict(doc):
        try:
            if b"\\u0000" not in orjson.dumps(doc):
                return
        except orjson.JSONEncodeError:
            pass
    orjson.dumps(encode_doc(doc))


def loads_doc(raw: bytes | str, fields: Collection[str] | None = None) -> dict[str, Any]:
    """The document a stored JSON holds (only ``fields`` of it, if given: the others are never
    decoded), datetimes decoded to aware UTC."""
    doc = orjson.loads(raw)
    if fields is not None:
        doc = {k: v for k, v in doc.items() if k in fields}
    if (b"\\u0001" if type(raw) is bytes else "\\u0001") in raw:  # type: ignore[operator]
        _decode_dict(doc)
    return doc  # type: ignore[no-any-return]


def _decode_dict(value: dict[str, Any]) -> None:
    """``decode`` in place, on what orjson just loaded (nobody else holds it)."""
    for key, item in value.items():
        if type(item) is not str or item[:1] == "\x01":
            value[key] = _decode_item(item)


def _decode_list(value: list[Any]) -> None:
    kinds = set(map(type, value))
    if kinds <= _NUMBERS:
        return
    if kinds == {str} and "\x01" not in "".join(value):  # one C pass over a list of URLs
        return
    for i, item in enumerate(value):
        if type(item) is not str or item[:1] == "\x01":
            value[i] = _decode_item(item)


def _decode_item(item: Any) -> Any:
    kind = type(item)
    if kind is str:
        return _decode_str(item)
    if kind is dict:
        _decode_dict(item)
    elif kind is list:
        _decode_list(item)
    return item
