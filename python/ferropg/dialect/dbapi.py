"""ferropg seen through a synchronous DB-API, for SQLAlchemy's asyncio dialect.

SQLAlchemy runs dialect code in a greenlet and calls the DB-API synchronously;
`await_only` hands each coroutine back to the event loop. Each execute() is one
coroutine (cursor, BEGIN if needed, statement, rows), so one switch per statement.

ferropg connections are always in autocommit, as aiopg's are. SQLAlchemy expects
psycopg2's implicit transactions, so the adapted connection sends BEGIN before the
first statement of a transaction and COMMIT/ROLLBACK from commit()/rollback(),
tracking the transaction it opened as psycopg2 does (not the server's status: after
PREPARE TRANSACTION psycopg2 still considers itself inside the transaction, and
SQLAlchemy's two-phase code relies on that).
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any, Optional

from sqlalchemy.engine import AdaptedConnection
from sqlalchemy.util.concurrency import await_only

from .. import errors
from ..connection import Connection, connect
from ..cursor import Cursor

__all__ = ["AdaptedDBAPI", "FerropgAdaptedConnection"]

_ISOLATION_LEVELS = ("READ COMMITTED", "READ UNCOMMITTED", "REPEATABLE READ", "SERIALIZABLE")


class FerropgCursor:
    """A client-side cursor: rows are buffered when execute() returns."""

    server_side = False
    __slots__ = ("_adapt", "_cursor", "_rows", "description", "rowcount", "lastrowid", "arraysize")

    def __init__(self, adapt: FerropgAdaptedConnection) -> None:
        self._adapt = adapt
        self._cursor: Optional[Cursor] = None
        self._rows: collections.deque[Any] = collections.deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: Optional[int] = None
        self.arraysize = 1

    def execute(self, operation: str, parameters: Any = None) -> None:
        await_only(self._execute(operation, parameters))

    def executemany(self, operation: str, seq_of_parameters: Any) -> None:
        await_only(self._executemany(operation, seq_of_parameters))

    async def _open(self) -> Cursor:
        if self._cursor is None:
            self._cursor = await self._adapt._connection.cursor()
        return self._cursor

    async def _execute(self, operation: str, parameters: Any) -> None:
        async with self._adapt._mutex:
            cur = await self._open()
            await self._adapt._begin_if_needed(cur)
            await cur.execute(operation, parameters)
            self._take(cur)
            self._rows = collections.deque(await cur.fetchall() if cur.description else ())

    async def _executemany(self, operation: str, seq_of_parameters: Any) -> None:
        async with self._adapt._mutex:
            cur = await self._open()
            await self._adapt._begin_if_needed(cur)
            await cur.executemany(operation, seq_of_parameters)
            self._take(cur)
            self._rows.clear()

    def _take(self, cur: Cursor) -> None:
        self.description = cur.description
        self.rowcount = cur.rowcount
        self.lastrowid = cur.lastrowid

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: Optional[int] = None) -> list[Any]:
        rows = self._rows
        count = min(self.arraysize if size is None else size, len(rows))
        return [rows.popleft() for _ in range(count)]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Any:
        while self._rows:
            yield self._rows.popleft()

    def close(self) -> None:
        self._rows.clear()
        if self._cursor is not None:
            self._cursor.close()  # an unnamed cursor closes at once
            self._cursor = None

    async def _async_soft_close(self) -> None:
        """SQLAlchemy >= 2.0.44 calls this before handing a result to asyncio code: the
        rows are already buffered and the ferropg cursor holds nothing on the server."""

    def setinputsizes(self, *sizes: Any) -> None:
        pass  # DB-API allows a no-op; types come from the values

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass

    def __enter__(self) -> FerropgCursor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class FerropgServerSideCursor(FerropgCursor):
    """A named ferropg cursor (DECLARE/FETCH): rows are fetched on demand."""

    server_side = True
    __slots__ = ("_name",)

    def __init__(self, adapt: FerropgAdaptedConnection, name: str) -> None:
        super().__init__(adapt)
        self._name = name

    async def _open(self) -> Cursor:
        if self._cursor is None:
            self._cursor = await self._adapt._connection.cursor(self._name)
        return self._cursor

    async def _execute(self, operation: str, parameters: Any) -> None:
        async with self._adapt._mutex:
            cur = await self._open()
            await self._adapt._begin_if_needed(cur)
            await cur.execute(operation, parameters)
            self._take(cur)
            # the DECLARE has no rows; the result's columns come with the first FETCH
            first = await cur.fetchmany(1)
            self.description = cur.description
            self._rows = collections.deque(first)

    async def _executemany(self, operation: str, seq_of_parameters: Any) -> None:
        raise errors.NotSupportedError("executemany() is not available on a server-side cursor")

    async def _fetch(self, size: Optional[int]) -> list[Any]:
        cur = self._cursor
        if cur is None:
            raise errors.InterfaceError("server-side cursor was not executed or is closed")
        async with self._adapt._mutex:
            return await (cur.fetchall() if size is None else cur.fetchmany(size))

    def fetchone(self) -> Any:
        if not self._rows:
            self._rows.extend(await_only(self._fetch(1)))
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: Optional[int] = None) -> list[Any]:
        size = self.arraysize if size is None else size
        missing = size - len(self._rows)
        if missing > 0:
            self._rows.extend(await_only(self._fetch(missing)))
        return super().fetchmany(size)

    def fetchall(self) -> list[Any]:
        self._rows.extend(await_only(self._fetch(None)))
        return super().fetchall()

    def __iter__(self) -> Any:
        while True:
            row = self.fetchone()
            if row is None:
                return
            yield row

    def close(self) -> None:
        self._rows.clear()
        cur, self._cursor = self._cursor, None
        if cur is not None:
            cur.close()  # ferropg sends the CLOSE before the connection's next statement


class FerropgAdaptedConnection(AdaptedConnection):
    """A ferropg Connection with psycopg2's synchronous transaction behaviour."""

    __slots__ = (
        "dbapi",
        "_mutex",
        "_control_cursor",
        "_in_transaction",
        "_autocommit",
        "isolation_level",
        "readonly",
        "deferrable",
    )

    _connection: Connection

    def __init__(self, dbapi: AdaptedDBAPI, connection: Connection) -> None:
        self.dbapi = dbapi
        self._connection = connection
        self._mutex = asyncio.Lock()
        self._control_cursor: Optional[Cursor] = None
        self._in_transaction = False  # we sent BEGIN and no COMMIT/ROLLBACK since
        self._autocommit = False
        self.isolation_level: Optional[str] = None  # None: the session's default
        self.readonly = False
        self.deferrable = False

    # -- cursors -----------------------------------------------------------------------

    def cursor(self, name: Optional[str] = None) -> FerropgCursor:
        """A client-side cursor, or a server-side one when `name` is given."""
        if name is not None:
            return FerropgServerSideCursor(self, name)
        return FerropgCursor(self)

    def _begin_sql(self) -> str:
        sql = "BEGIN"
        if self.isolation_level is not None:
            sql += " ISOLATION LEVEL " + self.isolation_level
        if self.readonly:
            sql += " READ ONLY"
        if self.deferrable:
            sql += " DEFERRABLE"
        return sql

    async def _begin_if_needed(self, cur: Cursor) -> None:
        if not self._autocommit and not self._in_transaction:
            await self._control(self._begin_sql())
            self._in_transaction = True

    async def _control(self, sql: str) -> None:
        """BEGIN/COMMIT/ROLLBACK/ping on a cursor of their own (statement cursors may be named)."""
        if self._control_cursor is None or self._control_cursor.closed:
            self._control_cursor = await self._connection.cursor()
        await self._control_cursor.execute(sql)

    # -- transactions ------------------------------------------------------------------

    @property
    def autocommit(self) -> bool:
        return self._autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        if value and self._in_transaction:
            self.rollback()  # psycopg2 refuses; SQLAlchemy only switches between transactions
        self._autocommit = bool(value)

    def set_isolation_level(self, level: str) -> None:
        """AUTOCOMMIT, or one of PostgreSQL's levels used by every following BEGIN."""
        self.rollback()
        if level == "AUTOCOMMIT":
            self._autocommit = True
            return
        if level not in _ISOLATION_LEVELS:
            raise errors.ProgrammingError(
                f"invalid isolation level {level!r}: expected AUTOCOMMIT or one of {', '.join(_ISOLATION_LEVELS)}"
            )
        self._autocommit = False
        self.isolation_level = level

    def commit(self) -> None:
        self._end("COMMIT")

    def rollback(self) -> None:
        self._end("ROLLBACK")

    def _end(self, sql: str) -> None:
        if self._in_transaction:
            await_only(self._run_end(sql))

    async def _run_end(self, sql: str) -> None:
        async with self._mutex:
            try:
                if not self._connection.closed:
                    await self._control(sql)
            finally:
                # whatever happened, the transaction we opened is over (a failed COMMIT
                # rolls back; a lost connection has none)
                self._in_transaction = False

    # -- liveness and closing ---------------------------------------------------------

    def ping(self) -> None:
        """A round trip outside any transaction; raises if the connection is unusable."""
        await_only(self._ping())

    async def _ping(self) -> None:
        async with self._mutex:
            await self._control("SELECT 1")

    @property
    def closed(self) -> bool:
        return self._connection.closed

    def close(self) -> None:
        self._in_transaction = False
        self._connection.close()  # immediate: sends Terminate and drops the socket

    def terminate(self) -> None:
        self.close()

    @property
    def server_version(self) -> int:
        return self._connection.server_version

    @property
    def notices(self) -> list[str]:
        return self._connection.notices


class AdaptedDBAPI:
    """The module-like object SQLAlchemy calls the DB-API: psycopg2's globals and errors."""

    apilevel = "2.0"
    threadsafety = 1
    paramstyle = "pyformat"

    Warning = errors.Warning
    Error = errors.Error
    InterfaceError = errors.InterfaceError
    DatabaseError = errors.DatabaseError
    DataError = errors.DataError
    OperationalError = errors.OperationalError
    IntegrityError = errors.IntegrityError
    InternalError = errors.InternalError
    ProgrammingError = errors.ProgrammingError
    NotSupportedError = errors.NotSupportedError

    # PEP 249 type objects: SQLAlchemy 2 does not use them, the test suite looks for them
    STRING = "STRING"
    BINARY = "BINARY"
    NUMBER = "NUMBER"
    DATETIME = "DATETIME"
    ROWID = "ROWID"

    def __init__(self) -> None:
        import ferropg

        self.driver = ferropg
        self.__version__ = ferropg.__version__

    @staticmethod
    def Binary(value: Any) -> bytes:  # noqa: N802 - the DB-API's name
        return bytes(value)

    def connect(self, *args: Any, **kwargs: Any) -> FerropgAdaptedConnection:
        """Open a ferropg connection (or call `async_creator_fn`) from inside the greenlet."""
        creator = kwargs.pop("async_creator_fn", None)
        if creator is not None:
            awaitable = creator(*args, **kwargs)
        else:
            awaitable = connect(*args, **kwargs)
        connection = await_only(awaitable)
        if not isinstance(connection, Connection):
            raise errors.InterfaceError(
                f"async_creator_fn must return a ferropg.Connection, got {type(connection).__name__}"
            )
        return FerropgAdaptedConnection(self, connection)
