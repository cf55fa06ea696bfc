"""psycopg2.extras' names that aiopg code uses: Json and the dict/namedtuple cursors."""

from __future__ import annotations

import json
import re
from collections import OrderedDict, namedtuple
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Callable, Optional

from .cursor import Cursor, RowFactory
from .extensions import Column

__all__ = [
    "DictCursor",
    "DictRow",
    "Json",
    "NamedTupleCursor",
    "RealDictCursor",
    "RealDictRow",
]


class Json:
    """Wraps a Python object to be sent as a json parameter.

    `dumps` (a callable) replaces json.dumps; subclasses may override `dumps()` instead.
    """

    def __init__(self, adapted: Any, dumps: Optional[Callable[[Any], str]] = None) -> None:
        self.adapted = adapted
        self._dumps = dumps or json.dumps

    def dumps(self, obj: Any) -> str:
        """The JSON text of `obj` (the engine sends `self.dumps(self.adapted)`)."""
        return self._dumps(obj)

    def prepare(self, conn: Any) -> None:
        """psycopg2 adapter protocol; quoting needs no connection here."""

    def getquoted(self) -> bytes:
        """The SQL literal psycopg2 would write for this value (standard-conforming quoting)."""
        return ("'" + self.dumps(self.adapted).replace("'", "''") + "'").encode()

    def __str__(self) -> str:
        return self.getquoted().decode("utf-8", "replace")


class DictRow(list):  # type: ignore[type-arg]
    """A row that is a list and also indexes by column name (the last of equal names)."""

    __slots__ = ("_index",)

    def __init__(self, values: Any, index: dict[str, int]) -> None:
        super().__init__(values)
        self._index = index

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            key = self._index[key]
        return super().__getitem__(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, str):
            key = self._index[key]
        super().__setitem__(key, value)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def keys(self) -> Iterator[str]:
        return iter(self._index)

    def values(self) -> Iterator[Any]:
        return iter(self[i] for i in self._index.values())

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter((name, self[i]) for name, i in self._index.items())

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self._index else default

    def copy(self) -> OrderedDict[str, Any]:  # type: ignore[override]
        return OrderedDict(self.items())

    def __reduce__(self) -> Any:
        return (DictRow, (list(self), self._index))


class RealDictRow(OrderedDict):  # type: ignore[type-arg]
    """A row that is a dict of column name -> value (the last of equal names wins)."""


def _name_index(description: Optional[tuple[Column, ...]]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, col in enumerate(description or ()):
        index[col.name] = i
    return index


class DictCursor(Cursor):
    """Rows are DictRow: index by position or by column name."""

    def _row_maker(self, description: Optional[tuple[Column, ...]]) -> RowFactory:
        index = _name_index(description)
        return lambda values: DictRow(values, index)


class RealDictCursor(Cursor):
    """Rows are RealDictRow, a dict keyed by column name."""

    def _row_maker(self, description: Optional[tuple[Column, ...]]) -> RowFactory:
        names = [col.name for col in description or ()]
        return lambda values: RealDictRow(zip(names, values))


# Characters that cannot appear in a Python identifier become '_' in field names.
_NOT_IDENT = re.compile(r"\W", re.UNICODE)


@lru_cache(maxsize=512)
def _record_type(names: tuple[str, ...]) -> Any:
    fields = []
    for name in names:
        field = _NOT_IDENT.sub("_", name) or "f"
        if field[0] == "_" or field[0].isdigit():  # namedtuple refuses both as a first char
            field = "f" + field
        fields.append(field)
    return namedtuple("Record", fields)


class NamedTupleCursor(Cursor):
    """Rows are named tuples `Record(col=...)`; odd column names become valid fields."""

    def _row_maker(self, description: Optional[tuple[Column, ...]]) -> RowFactory:
        record = _record_type(tuple(col.name for col in description or ()))
        return lambda values: record._make(values)
