"""ResultProxy and RowProxy: a cursor's rows with SQLAlchemy's type processing applied."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional

from sqlalchemy.sql import expression, sqltypes

from . import exc

if TYPE_CHECKING:
    from ..cursor import Cursor
    from .connection import SAConnection

__all__ = ["ResultMetaData", "ResultProxy", "RowProxy"]

Processor = Optional[Callable[[Any], Any]]
# One column's lookup record: (result processor, index; None when the name is ambiguous).
_Rec = tuple[Processor, Optional[int]]


class RowProxy(Mapping):
    """One result row: a Mapping from column names to values, also indexed by position
    or by the Column object (`row[0]`, `row["name"]`, `row[users.c.name]`, `row.name`).

    Rows compare equal to rows and sequences with the same values; they are not hashable.
    """

    __slots__ = ("_metadata", "_row")

    def __init__(self, metadata: ResultMetaData, row: tuple[Any, ...]) -> None:
        self._metadata = metadata
        self._row = row  # values already through their result processors

    def __iter__(self) -> Iterator[str]:
        return iter(self._metadata.keys)

    def __len__(self) -> int:
        return len(self._row)

    def __getitem__(self, key: Any) -> Any:
        try:
            index = self._metadata.index(key)
        except TypeError:  # an unhashable key (a slice): no column has it
            raise exc.NoSuchColumnError(f"Could not locate column in row for column {key!r}") from None
        return self._row[index]

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(e.args[0]) from None

    def __contains__(self, key: object) -> bool:
        return self._metadata.has_key(key)

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RowProxy):
            return self._row == other._row
        if isinstance(other, Sequence) and not isinstance(other, str):
            return self._row == tuple(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def as_tuple(self) -> tuple[Any, ...]:
        """The row's values, in column order."""
        return self._row

    def __repr__(self) -> str:
        return repr(self._row)


class ResultMetaData:
    """Column names, types and lookup keys of one result, built from the cursor's
    description and, for SQLAlchemy constructs, the compiled statement's columns."""

    __slots__ = ("keys", "_processors", "_keymap")

    def __init__(self, dialect: Any, description: Sequence[Any], result_columns: Optional[list[Any]]) -> None:
        self.keys: list[str] = []
        self._processors: list[Processor] = []
        self._keymap: dict[Any, _Rec] = {}
        by_name = {entry[0]: entry for entry in result_columns or ()}
        positional = result_columns is not None and len(result_columns) == len(description)
        objects_map: dict[Any, _Rec] = {}
        for i, column in enumerate(description):
            name, coltype = column[0], column[1]
            entry = result_columns[i] if positional else by_name.get(name)  # type: ignore[index]
            type_ = entry[3] if entry is not None else sqltypes.NULLTYPE
            objects = entry[2] if entry is not None else ()
            key = _primary_key(name, objects)
            processor = type_._cached_result_processor(dialect, coltype)
            rec: _Rec = (processor, i)
            self._processors.append(processor)
            self.keys.append(key)
            self._keymap[i] = rec
            if self._keymap.setdefault(key, rec) != rec:
                self._keymap[key] = (None, None)  # two columns share the name
            for obj in objects:
                if isinstance(obj, expression.ColumnElement):
                    if objects_map.setdefault(obj, rec) != rec:
                        objects_map[obj] = (None, None)
        for obj, rec in objects_map.items():
            self._keymap.setdefault(obj, rec)

    def process(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(value if p is None else p(value) for p, value in zip(self._processors, row))

    def index(self, key: Any) -> int:
        rec = self._keymap.get(key)
        if rec is None:
            rec = self._fallback(key)
            if rec is None:
                raise exc.NoSuchColumnError(
                    f"Could not locate column in row for column {_printable(key)!r}"
                )
        if rec[1] is None:
            raise exc.InvalidRequestError(
                f"Ambiguous column name {_printable(key)!r} in result set! "
                "try 'use_labels' option on select statement."
            )
        return rec[1]

    def has_key(self, key: Any) -> bool:
        try:
            return key in self._keymap or self._fallback(key) is not None
        except TypeError:
            return False

    def _fallback(self, key: Any) -> Optional[_Rec]:
        """A Column or column() not seen in the statement (a text() query, say): match
        it by its table-qualified label, then by its key."""
        if not isinstance(key, expression.ColumnElement):
            return None
        label = getattr(key, "_label", None)
        for name in (label, getattr(key, "key", None)):
            if isinstance(name, str) and name in self._keymap:
                rec = self._keymap[name]
                self._keymap[key] = rec
                return rec
        return None


def _primary_key(name: str, objects: Sequence[Any]) -> str:
    """The name rows use for a column: as aiopg.sa, a table Column's `key` when it was
    given one (Column("user name", key="username")), else the name in the result."""
    first = objects[0] if objects else None
    if isinstance(first, expression.ColumnClause) and getattr(first, "table", None) is not None:
        if first.name == name and isinstance(first.key, str):
            return first.key
    return name


def _printable(key: Any) -> str:
    try:
        return str(key)
    except Exception:
        return f"unprintable element {type(key).__name__}"


class ResultProxy:
    """The result of SAConnection.execute(): rows as RowProxy, values through their
    SQLAlchemy types' result processors (DateTime, Enum, JSON, TypeDecorator, ...).

    Iterate with `async for`; fetching the last row closes it.
    """

    def __init__(
        self, connection: SAConnection, cursor: Cursor, dialect: Any, result_map: Optional[list[Any]] = None
    ) -> None:
        self._dialect = dialect
        self._connection = connection
        self._cursor: Optional[Cursor] = cursor
        self._rowcount = cursor.rowcount
        self._metadata: Optional[ResultMetaData] = None
        description = cursor.description
        if description is not None:
            self._metadata = ResultMetaData(dialect, description, result_map)
        else:
            self.close()

    @property
    def dialect(self) -> Any:
        """The SQLAlchemy dialect the statement was compiled with."""
        return self._dialect

    @property
    def cursor(self) -> Optional[Cursor]:
        """The underlying ferropg cursor (None once closed)."""
        return self._cursor

    def keys(self) -> tuple[str, ...]:
        """The column names of the rows (empty when the statement returns none)."""
        return tuple(self._metadata.keys) if self._metadata is not None else ()

    @property
    def rowcount(self) -> int:
        """Rows matched by an UPDATE or DELETE (as the cursor's rowcount)."""
        return self._rowcount

    @property
    def returns_rows(self) -> bool:
        """True when the statement produced rows that fetch*() can read."""
        return self._metadata is not None

    @property
    def closed(self) -> bool:
        """True once closed: rows exhausted, close() called, or no rows to return."""
        return self._cursor is None or self._cursor.closed

    def close(self) -> None:
        """Close the underlying cursor; rows already fetched stay usable."""
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            self._connection._close_cursor(cursor)

    def _live_cursor(self) -> Cursor:
        if self._metadata is None:
            raise exc.ResourceClosedError(
                "This result object does not return rows. It has been closed automatically."
            )
        if self._cursor is None:
            raise exc.ResourceClosedError("This result object is closed.")
        return self._cursor

    def _rows(self, rows: list[Any]) -> list[RowProxy]:
        metadata = self._metadata
        assert metadata is not None
        return [RowProxy(metadata, metadata.process(row)) for row in rows]

    async def fetchall(self) -> list[RowProxy]:
        """All remaining rows; closes the result."""
        rows = await self._live_cursor().fetchall()
        self.close()
        return self._rows(rows)

    async def fetchone(self) -> Optional[RowProxy]:
        """The next row, or None (closing the result) when there are no more."""
        row = await self._live_cursor().fetchone()
        if row is None:
            self.close()
            return None
        return self._rows([row])[0]

    async def fetchmany(self, size: Optional[int] = None) -> list[RowProxy]:
        """Up to `size` rows (the cursor's arraysize by default); an empty list, closing
        the result, when there are no more."""
        cursor = self._live_cursor()
        rows = await (cursor.fetchmany() if size is None else cursor.fetchmany(size))
        if not rows:
            self.close()
        return self._rows(rows)

    async def first(self) -> Optional[RowProxy]:
        """The first row (or None), closing the result whatever remains."""
        try:
            return await self.fetchone()
        finally:
            self.close()

    async def scalar(self) -> Any:
        """The first column of the first row (or None), closing the result."""
        row = await self.first()
        return row[0] if row is not None else None

    def __aiter__(self) -> ResultProxy:
        return self

    async def __anext__(self) -> RowProxy:
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<ResultProxy {state} keys={self.keys()!r}>"
