"""aiopg's Cursor on ferropg's engine, with psycopg2's result attributes.

An unnamed cursor buffers each statement's rows on the client, as psycopg2 does. A
named cursor is a real server-side cursor: DECLARE ... CURSOR FOR the query, then
FETCH/MOVE on demand (aiopg cannot do this; ferropg can).
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Optional

from .errors import DataError, InterfaceError, NotSupportedError, ProgrammingError
from .extensions import TRANSACTION_STATUS_IDLE, TRANSACTION_STATUS_INERROR, Column
from .log import logger
from .transaction import IsolationLevel, Transaction, _commit, _rollback
from .utils import _ContextManager, create_completed_future

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["Cursor"]


class _Outcome:
    """rowcount, statusmessage and lastrowid where they do not come from one engine Result."""

    __slots__ = ("rowcount", "statusmessage", "lastrowid")

    def __init__(self, rowcount: int, statusmessage: Optional[str], lastrowid: Optional[int]) -> None:
        self.rowcount = rowcount
        self.statusmessage = statusmessage
        self.lastrowid = lastrowid


_NO_OUTCOME = _Outcome(-1, None, None)

RowFactory = Optional[Callable[[tuple[Any, ...]], Any]]


class Cursor:
    """Runs statements on its connection and holds the last one's results.

    Made by `Connection.cursor()`; subclasses (ferropg.extras) change the row type
    by overriding `_row_maker`.
    """

    def __init__(
        self,
        conn: Connection,
        name: Optional[str] = None,
        scrollable: Optional[bool] = None,
        withhold: bool = False,
        *,
        timeout: float,
        echo: bool = False,
        isolation_level: Optional[IsolationLevel] = None,
    ) -> None:
        self._conn = conn
        self._native = conn._native
        self._name = name
        self._scrollable = scrollable
        self._withhold = withhold
        self._timeout = timeout
        self._echo = echo
        self._closed = False
        self._transaction = Transaction(self, isolation_level or IsolationLevel.default)
        self.arraysize = 1
        self.itersize = 2000
        self._tzinfo_factory: Any = datetime.timezone
        # the last statement's outcome
        self._rows: list[Any] = []
        self._pos = 0
        self._raw_desc: Any = None
        self._row_factory: RowFactory = None
        self._factory_for: Any = None  # the raw description _row_factory was made for
        # rowcount, statusmessage and lastrowid: the engine's Result, or an _Outcome
        self._outcome: Any = _NO_OUTCOME
        self._query: Optional[bytes] = None
        self._query_src: Optional[tuple[str, Any]] = None  # (sql, params) for `query`
        # named cursors only
        self._declared = False
        self._began = False  # we sent BEGIN for it, so close() ends that transaction
        self._epoch = 0  # the connection's epoch when DECLARE ran

    # -- statements --------------------------------------------------------------------

    async def execute(
        self, operation: str | bytes, parameters: Any = None, *, timeout: Optional[float] = None
    ) -> None:
        """Run one statement (several if `;`-separated); rows are kept for fetch*()."""
        if type(operation) is not str:
            operation = _sql_text(operation)
        if self._name is not None:
            await self._declare(operation, parameters, timeout)
            return
        if self._closed:  # a closed connection: the engine raises the same error
            raise InterfaceError("cursor already closed")
        native = self._native
        if self._echo:
            self._log(operation, parameters)
        # The previous result goes now, as psycopg2 drops it: kept alive until the new one
        # arrives, a large result doubles the heap the garbage collector walks meanwhile.
        self._rows = []
        # conn._request(), inlined: this runs once per query
        conn = self._conn
        try:
            if conn._cleanup is not None:
                await conn._after_cleanup("cursor.execute")
            result = await native.execute(
                operation, parameters, self._timeout if timeout is None else timeout, "cursor.execute"
            )
        except BaseException as exc:
            self._fail(operation, parameters)
            if isinstance(exc, asyncio.CancelledError):
                conn._start_cleanup()
            raise
        # self._take(), inlined: this runs once per query
        self._rows = result.take_rows()  # the Result stays as _outcome: it must not keep them
        self._pos = 0
        self._raw_desc = result.description
        self._outcome = result
        self._query = None
        self._query_src = (operation, parameters)

    async def executemany(
        self, operation: str | bytes, seq_of_parameters: Iterable[Any], *, timeout: Optional[float] = None
    ) -> None:
        """Run the statement once per parameter set, pipelined in one round trip.

        As psycopg2: rowcount is the sum over the runs and there are no rows to fetch.
        """
        if self._name is not None:
            raise ProgrammingError("can't call .executemany() on named cursors")
        self._check_open()
        operation = _sql_text(operation)
        seq = list(seq_of_parameters)
        self._reset()
        if not seq:
            self._outcome = _Outcome(0, None, None)
            return
        native = self._conn._native
        if self._echo:
            for params in seq:
                self._log(operation, params)
        result = await self._conn._request(
            "cursor.executemany",
            native.execute_many,
            (operation, seq),
            self._timeout if timeout is None else timeout,
        )
        self._outcome = result
        self._set_query(operation, seq[-1])  # psycopg2 shows the last run

    async def callproc(
        self, procname: str, parameters: Any = None, *, timeout: Optional[float] = None
    ) -> Any:
        """SELECT * FROM procname(args); a mapping passes named arguments (`"a" := value`).

        Returns `parameters`, as psycopg2 does (input parameters are not modified).
        """
        if self._name is not None:
            raise ProgrammingError("can't call .callproc() on named cursors")
        if parameters is None:
            sql, params = f"SELECT * FROM {procname}()", None
        elif isinstance(parameters, Mapping):
            args = ",".join(f"{quote_ident(str(k), percent=True)}:=%s" for k in parameters)
            sql, params = f"SELECT * FROM {procname}({args})", list(parameters.values())
        else:
            params = list(parameters)
            sql = f"SELECT * FROM {procname}({','.join(['%s'] * len(params))})"
        self._check_open()
        try:
            result = await self._exec("cursor.callproc", sql, params, timeout)
        except BaseException:
            self._fail(sql, params)
            raise
        self._take(result, sql, params)
        return parameters

    def mogrify(self, operation: str | bytes, parameters: Any = None) -> bytes:
        """The statement with its parameters as literals, exactly as `query` would show it."""
        self._check_open()
        return self._conn._native.mogrify(_sql_text(operation), parameters)  # type: ignore[no-any-return]

    async def _exec(self, what: str, sql: str, params: Any, timeout: Optional[float]) -> Any:
        native = self._conn._native
        if self._echo:
            self._log(sql, params)
        return await self._conn._request(
            what, native.execute, (sql, params), self._timeout if timeout is None else timeout
        )

    def _log(self, sql: str, params: Any) -> None:
        logger.info("%s", self._conn._native.mogrify(sql, params).decode("utf-8", "replace"))

    def _check_open(self) -> None:
        if self._closed or self._conn.closed:
            raise InterfaceError("cursor already closed")

    def _take(self, result: Any, sql: str, params: Any) -> None:
        self._rows = result.take_rows()  # the Result stays as _outcome: it must not keep them
        self._pos = 0
        self._raw_desc = result.description
        # the engine counts the rows of every row-returning result, as psycopg2 does
        self._outcome = result
        self._query = None  # rendered on first read: most callers never look at it
        self._query_src = (sql, params)

    def _set_query(self, sql: str, params: Any) -> None:
        # `query` is rendered on first read: most callers never look at it.
        self._query = None
        self._query_src = (sql, params)

    def _reset(self) -> None:
        self._rows = []
        self._pos = 0
        self._raw_desc = None
        self._outcome = _Outcome(-1, None, self._outcome.lastrowid)

    def _fail(self, sql: str, params: Any) -> None:
        """After a failed statement: no results, and `query` shows what was attempted."""
        self._reset()
        self._set_query(sql, params)

    # -- results -----------------------------------------------------------------------

    def _results(self) -> list[Any]:
        self._check_open()
        if self._raw_desc is None:
            raise ProgrammingError("no results to fetch")
        if self._factory_for is not self._raw_desc:
            self._row_factory = self._row_maker(self.description)
            self._factory_for = self._raw_desc
        return self._rows

    def _row_maker(self, description: Optional[tuple[Column, ...]]) -> RowFactory:
        """Subclass hook: a function turning one tuple into the row type (None: tuples)."""
        return None

    def _shape(self, rows: list[Any]) -> list[Any]:
        factory = self._row_factory
        return rows if factory is None else [factory(r) for r in rows]

    async def fetchone(self) -> Any:
        """The next row, or None when the result set is exhausted."""
        if self._name is not None:
            rows = await self._fetch_named("1")
            return rows[0] if rows else None
        rows = self._results()
        if self._pos >= len(rows):
            return None
        row = rows[self._pos]
        self._pos += 1
        factory = self._row_factory
        return row if factory is None else factory(row)

    async def fetchmany(self, size: Optional[int] = None) -> list[Any]:
        """Up to `size` (default `arraysize`) next rows."""
        if size is None:
            size = self.arraysize
        if self._name is not None:
            return await self._fetch_named(str(int(size)))
        rows = self._results()
        chunk = rows[self._pos : self._pos + size]
        self._pos += len(chunk)
        return self._shape(chunk)

    async def fetchall(self) -> list[Any]:
        """All remaining rows."""
        if self._name is not None:
            return await self._fetch_named("ALL")
        rows = self._rows
        raw_desc = self._raw_desc
        if raw_desc is not self._factory_for or raw_desc is None or self._closed or self._native.closed:
            rows = self._results()  # the checks, and a row factory for a new description
        pos = self._pos
        self._pos = len(rows)
        chunk = rows[pos:] if pos else rows[:]
        return chunk if self._row_factory is None else self._shape(chunk)

    async def scroll(self, value: int, mode: str = "relative") -> None:
        """Move to a new row position; ProgrammingError if it falls outside the results."""
        if mode not in ("relative", "absolute"):
            raise ProgrammingError("scroll mode must be 'relative' or 'absolute'")
        if self._name is not None:
            await self._move_named(int(value), mode)
            return
        self._check_open()
        target = self._pos + value if mode == "relative" else value
        available = len(self._rows) if self._raw_desc is not None else -1
        if target < 0 or target >= available:
            raise ProgrammingError("scroll destination out of bounds")
        self._pos = target

    def __aiter__(self) -> Cursor:
        return self

    async def __anext__(self) -> Any:
        if self._name is not None:
            return await self._next_named()
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    # -- named (server-side) cursors ---------------------------------------------------

    async def _declare(self, operation: str, parameters: Any, timeout: Optional[float]) -> None:
        if self._declared:
            raise ProgrammingError("can't call .execute() on named cursors more than once")
        self._check_open()
        conn = self._conn
        await conn._finish_cleanup()  # the transaction status must be current
        self._epoch = conn._epoch
        if not self._withhold and conn._is_idle_outside_transaction():
            await self._exec("cursor.execute", "BEGIN", None, timeout)
            self._began = True
        scroll = {None: "", True: "SCROLL ", False: "NO SCROLL "}[self._scrollable]
        hold = "WITH HOLD" if self._withhold else "WITHOUT HOLD"
        name = quote_ident(self._name or "", percent=parameters is not None)
        sql = f"DECLARE {name} {scroll}CURSOR {hold} FOR {operation}"
        try:
            result = await self._exec("cursor.execute", sql, parameters, timeout)
        except BaseException:
            self._fail(sql, parameters)
            if self._began:
                self._began = False
                conn._chain_cleanup(_quietly(conn, "ROLLBACK"))
            raise
        self._declared = True
        self._take(result, sql, parameters)

    async def _fetch_named(self, count: str) -> list[Any]:
        self._check_open()
        sql = f"FETCH FORWARD {count} FROM {quote_ident(self._name or '')}"
        result = await self._exec("cursor.fetch", sql, None, None)
        self._take_fetch(result)
        self._results()
        self._pos = len(self._rows)
        return self._shape(self._rows)

    def _take_fetch(self, result: Any) -> None:
        # psycopg2: each FETCH replaces description, rowcount and the row buffer, while
        # `query` keeps showing the DECLARE.
        self._rows = result.rows
        self._pos = 0
        self._raw_desc = result.description
        self._outcome = _Outcome(len(result.rows), result.statusmessage, self._outcome.lastrowid)

    async def _next_named(self) -> Any:
        if self._pos >= len(self._rows) or self._raw_desc is None:
            self._check_open()
            sql = f"FETCH FORWARD {int(self.itersize)} FROM {quote_ident(self._name or '')}"
            self._take_fetch(await self._exec("cursor.fetch", sql, None, None))
            if not self._rows:
                raise StopAsyncIteration
        rows = self._results()
        row = rows[self._pos]
        self._pos += 1
        factory = self._row_factory
        return row if factory is None else factory(row)

    async def _move_named(self, value: int, mode: str) -> None:
        self._check_open()
        how = "ABSOLUTE " if mode == "absolute" else ""
        sql = f"MOVE {how}{value} FROM {quote_ident(self._name or '')}"
        await self._exec("cursor.scroll", sql, None, None)

    async def _close_named(self) -> None:
        """CLOSE the server-side cursor, or end the transaction opened for it."""
        native = self._conn._native
        try:
            await native.wait_idle()
        except Exception as exc:
            logger.debug("closing cursor %r: connection unusable: %r", self._name, exc)
            return
        if native.closed or self._conn._epoch != self._epoch:
            return  # gone with the session, or the pool has reset it for another borrower
        status = native.transaction_status
        if self._began:
            if status != TRANSACTION_STATUS_IDLE:
                await _quietly(self._conn, "COMMIT")
        elif status == TRANSACTION_STATUS_INERROR:
            return  # the caller's ROLLBACK will drop it
        elif self._withhold or status != TRANSACTION_STATUS_IDLE:
            await _quietly(self._conn, f"CLOSE {quote_ident(self._name or '')}")

    # -- transactions ------------------------------------------------------------------

    def begin(self) -> _ContextManager[Transaction]:
        """`async with cur.begin():` BEGIN, then COMMIT (ROLLBACK if the block raises)."""
        return _ContextManager(self._transaction.begin(), _commit, _rollback)

    def begin_nested(self) -> _ContextManager[Transaction]:
        """A savepoint inside the open transaction, or a new transaction if none is open."""
        if self._transaction.is_begin:
            return self._transaction.point()
        return self.begin()

    # -- closing -----------------------------------------------------------------------

    def close(self) -> asyncio.Future[None]:
        """Close the cursor now; a named cursor's CLOSE is sent before the next statement.

        Returns a future (awaiting it waits for that CLOSE; not awaiting it is fine).
        """
        loop = self._conn._loop
        if self._closed:
            return create_completed_future(loop)
        self._closed = True
        self._rows = []
        if self._name is not None and self._declared and not self._conn.closed:
            return self._conn._close_cursor_later(self._close_named())
        return create_completed_future(loop)

    @property
    def closed(self) -> bool:
        return self._closed or self._conn.closed

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()

    # -- DB-API extras that do nothing or are refused -------------------------------------

    def setinputsizes(self, sizes: Any) -> asyncio.Future[None]:
        """Accepted and ignored (DB-API); awaitable as in aiopg."""
        self._check_open()
        return create_completed_future(self._conn._loop)

    def setoutputsize(self, size: int, column: Optional[int] = None) -> asyncio.Future[None]:
        """Accepted and ignored (DB-API); awaitable as in aiopg."""
        self._check_open()
        return create_completed_future(self._conn._loop)

    async def nextset(self) -> None:
        raise NotSupportedError("not supported by PostgreSQL")

    async def copy_from(self, *args: Any, **kwargs: Any) -> None:
        raise ProgrammingError("copy_from cannot be used in asynchronous mode")

    async def copy_to(self, *args: Any, **kwargs: Any) -> None:
        raise ProgrammingError("copy_to cannot be used in asynchronous mode")

    async def copy_expert(self, *args: Any, **kwargs: Any) -> None:
        raise ProgrammingError("copy_expert cannot be used in asynchronous mode")

    # -- attributes --------------------------------------------------------------------

    @property
    def description(self) -> Optional[tuple[Column, ...]]:
        """psycopg2's 7-item Column tuples of the last result, or None without one."""
        return self._conn._columns(self._raw_desc)

    @property
    def rowcount(self) -> int:
        return self._outcome.rowcount  # type: ignore[no-any-return]

    @property
    def rownumber(self) -> int:
        return self._pos

    @property
    def lastrowid(self) -> Optional[int]:
        return self._outcome.lastrowid  # type: ignore[no-any-return]

    @property
    def query(self) -> Optional[bytes]:
        """The last statement sent, parameters as literals (bytes), or None before any."""
        if self._query is None and self._query_src is not None:
            sql, params = self._query_src
            try:
                self._query = self._conn._native.mogrify(sql, params)
            except Exception:  # parameters that could not be adapted: show the bare text
                self._query = sql.encode("utf-8", "replace")
            self._query_src = None
        return self._query

    @property
    def statusmessage(self) -> Optional[str]:
        return self._outcome.statusmessage  # type: ignore[no-any-return]

    @property
    def tzinfo_factory(self) -> Any:
        return self._tzinfo_factory

    @tzinfo_factory.setter
    def tzinfo_factory(self, factory: Any) -> None:
        if factory is not datetime.timezone:
            raise NotSupportedError(
                f"tzinfo_factory {factory!r} is not supported: timestamptz values are built "
                "with datetime.timezone offsets"
            )
        self._tzinfo_factory = factory

    @property
    def connection(self) -> Connection:
        return self._conn

    @property
    def raw(self) -> Cursor:
        """The cursor itself: there is no psycopg2 cursor underneath."""
        return self

    @property
    def echo(self) -> bool:
        return self._echo

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def name(self) -> Optional[str]:
        return self._name

    @property
    def scrollable(self) -> Optional[bool]:
        return self._scrollable

    @scrollable.setter
    def scrollable(self, value: Optional[bool]) -> None:
        self._set_before_execute("scrollable")
        self._scrollable = value

    @property
    def withhold(self) -> bool:
        return self._withhold

    @withhold.setter
    def withhold(self, value: bool) -> None:
        self._set_before_execute("withhold")
        self._withhold = bool(value)

    def _set_before_execute(self, what: str) -> None:
        if self._declared:
            raise ProgrammingError(f"can't set '{what}' after the named cursor was executed")

    def __repr__(self) -> str:
        return f"<{type(self).__module__}::{type(self).__name__} name={self.name}, closed={self.closed}>"


def quote_ident(name: str, *, percent: bool = False) -> str:
    """A double-quoted SQL identifier; `percent` doubles % for statements with parameters."""
    quoted = '"' + name.replace('"', '""') + '"'
    return quoted.replace("%", "%%") if percent else quoted


async def _quietly(conn: Connection, sql: str) -> None:
    """Best-effort housekeeping statement: failures are logged, never raised."""
    native = conn._native
    try:
        await native.wait_idle()
        if not native.closed:
            await native.execute(sql, None)
    except Exception as exc:
        logger.debug("%s on %r failed: %r", sql, conn, exc)


def _sql_text(operation: Any) -> str:
    """A query as str: psycopg2 also takes it as bytes in the client encoding (UTF8 here),
    such as mogrify() returns."""
    if isinstance(operation, str):
        return operation
    if isinstance(operation, (bytes, bytearray, memoryview)):
        try:
            return bytes(operation).decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataError(f"the query is not valid UTF8, the client encoding: {e}") from None
    raise TypeError(f"argument 1 must be a string or unicode object: got {type(operation).__name__} instead")
