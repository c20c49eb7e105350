"""Typed, validated access to a TOML table: the one reader behind site profiles and topic files.

Every misuse raises the owner's error class with the file, the dotted key and the problem
(``sites/x.toml: pagination.max_pages: must be an integer``), so a user never sees a traceback
for a typo, and unknown keys are reported instead of silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

__all__ = ["TomlTable", "kind_name"]


def kind_name(kind: type | tuple[type, ...]) -> str:
    """'a string', 'an integer or a number', … for messages."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", int: "an integer", float: "a number", list: "a list",
             dict: "a table", bool: "true or false"}
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


class TomlTable:
    """One table of a TOML document; subclasses set ``error_class(path, key, problem)``."""

    error_class: ClassVar[type[Exception]]

    def __init__(self, path: str, data: Mapping[str, Any], prefix: str = "") -> None:
        self.path, self.data, self.prefix = path, data, prefix
        self.seen: set[str] = set()

    def fail(self, key: str, problem: str) -> Exception:
        return self.error_class(self.path, self.prefix + key, problem)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None,
            *, required: bool = False) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if required:
                raise self.fail(key, "is required")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:  # bool is an int subclass in Python
            raise self.fail(key, f"must be {kind_name(kinds)}, not a boolean")
        if not isinstance(value, kinds):
            raise self.fail(key, f"must be {kind_name(kinds)}, got {type(value).__name__} {value!r}")
        return value

    def strings(self, key: str) -> list[str]:
        """A list of non-empty strings (empty list when absent)."""
        value = self.get(key, list, [])
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{key}[{i}]", f"must be a non-empty string, got {item!r}")
        return value

    def table(self, key: str) -> Self:
        """A sub-table (empty when absent), reporting its keys as ``key.sub``."""
        return type(self)(self.path, self.get(key, dict, {}), f"{self.prefix}{key}.")

    def tables(self, key: str) -> list[Self]:
        """An array of tables (``[[key]]``), reporting keys as ``key[i].sub``."""
        readers = []
        for i, item in enumerate(self.get(key, list, [])):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{i}]", f"must be a table ([[{key}]])")
            readers.append(type(self)(self.path, item, f"{self.prefix}{key}[{i}]."))
        return readers

    def unknown_keys(self) -> list[str]:
        """Keys of this table that no ``get`` asked for, sorted."""
        return sorted(set(self.data) - self.seen)

    def check_unknown(self) -> None:
        unknown = self.unknown_keys()
        if unknown:
            also = f"; also unknown: {', '.join(unknown[1:])}" if unknown[1:] else ""
            raise self.fail(unknown[0], f"unknown key (typo?){also}")
