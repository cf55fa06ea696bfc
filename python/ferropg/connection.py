"""aiopg's Connection on ferropg's engine: connect(), the session object and its queues.

The Python side opens the socket (`_hosts`: host lists, timeouts and uvloop follow
asyncio's rules) and hands the file descriptor to `_native.Connection`, which does TLS,
startup, authentication and all protocol work on the same event loop.
"""

from __future__ import annotations

import asyncio
import sys
import traceback
import warnings
import weakref
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Callable, Optional

from . import _native
from ._hosts import open_session, open_socket
from .cursor import Cursor
from .errors import InterfaceError, OperationalError, ProgrammingError
from .extensions import (
    STATUS_BEGIN,
    STATUS_READY,
    TRANSACTION_STATUS_IDLE,
    TRANSACTION_STATUS_INERROR,
    TRANSACTION_STATUS_INTRANS,
    Column,
    Notify,
)
from .log import logger
from .transaction import IsolationLevel
from .utils import ClosableQueue, _ContextManager, create_completed_future, get_running_loop

__all__ = ["DEFAULT_TIMEOUT", "TIMEOUT", "Connection", "connect"]

TIMEOUT = DEFAULT_TIMEOUT = 60.0
_MAX_NOTICES = 50  # psycopg2 keeps only the last 50 notices
_CANCEL_TIMEOUT = 10.0  # bound on the side connection that carries a CancelRequest
_DRAIN_TIMEOUT = 30.0  # a cancelled query must reach ReadyForQuery within this, or we close
_DESC_CACHE_SIZE = 256
# connect() keywords that are aiopg's or psycopg2's, not libpq's.
_IGNORED_KWARGS = ("loop", "async", "async_")


def connect(
    dsn: Optional[str] = None,
    *,
    timeout: float = TIMEOUT,
    enable_json: bool = True,
    enable_hstore: bool = True,
    enable_uuid: bool = True,
    echo: bool = False,
    **kwargs: Any,
) -> _ContextManager[Connection]:
    """Connect to PostgreSQL; await the result or use it with `async with`.

    Accepts a libpq DSN or URI plus psycopg2's keyword arguments (host, port, user,
    password, dbname, sslmode, target_session_attrs, ...), `cursor_factory`,
    `connection_factory` (a Connection subclass), and ferropg's own `statement_cache_size`,
    `json_as_text` (json/jsonb as their text) and `bytea_as_bytes` (bytea as bytes).
    `timeout` bounds the whole connection attempt and is the default for queries.
    """
    coro = _connect(
        dsn,
        timeout=timeout,
        enable_json=enable_json,
        enable_hstore=enable_hstore,
        enable_uuid=enable_uuid,
        echo=bool(echo),
        kwargs=kwargs,
    )
    return _ContextManager(coro, _disconnect)


def _flag(kwargs: dict[str, Any], name: str) -> bool:
    value = kwargs.pop(name, False)
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


async def _disconnect(conn: Connection) -> None:
    await conn.close()


async def _connect(
    dsn: Optional[str],
    *,
    timeout: float,
    enable_json: bool,
    enable_hstore: bool,
    enable_uuid: bool,
    echo: bool,
    kwargs: dict[str, Any],
) -> Connection:
    loop = get_running_loop()
    for name in _IGNORED_KWARGS:
        kwargs.pop(name, None)
    cursor_factory = kwargs.pop("cursor_factory", None)
    factory = kwargs.pop("connection_factory", None) or Connection
    if not (isinstance(factory, type) and issubclass(factory, Connection)):
        raise ProgrammingError(f"connection_factory must be a ferropg.Connection subclass, got {factory!r}")
    native_kw = {
        "enable_json": enable_json,
        "enable_hstore": enable_hstore,
        "enable_uuid": enable_uuid,
        "statement_cache_size": int(kwargs.pop("statement_cache_size", 0)),
        "json_as_text": _flag(kwargs, "json_as_text"),
        "bytea_as_bytes": _flag(kwargs, "bytea_as_bytes"),
    }
    if "database" in kwargs and "dbname" not in kwargs:  # psycopg2's alias
        kwargs["dbname"] = kwargs.pop("database")
    conninfo = {k: v if isinstance(v, str) else str(v) for k, v in kwargs.items() if v is not None}
    params = _native.parse_conninfo(dsn, conninfo)
    native, host, port = await asyncio.wait_for(open_session(loop, params, native_kw), timeout)
    conn = factory(native, params.dsn, host, port, timeout=timeout, echo=echo, loop=loop)
    if cursor_factory is not None:
        conn.cursor_factory = cursor_factory
    return conn


class Connection:
    """One PostgreSQL session, always in autocommit mode (as aiopg's psycopg2 connections).

    Create it with `ferropg.connect()`. Cursors run their statements through it, one at
    a time; a cancelled or timed-out statement is cancelled on the server in the
    background and the connection serves the next statement once that is done.
    """

    _source_traceback: Optional[traceback.StackSummary] = None

    def __init__(
        self,
        native: Any,
        dsn: str,
        host: str,
        port: int,
        *,
        timeout: float,
        echo: bool,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._native = native
        self._dsn = dsn
        self._host = host
        self._port = port
        self._timeout = timeout
        self._echo = echo
        self._loop = loop
        self._cursor_factory: Optional[type[Cursor]] = None
        self._notices: list[str] = []
        self._notifies = ClosableQueue(asyncio.Queue(), loop)
        self._cleanup: Optional[asyncio.Task[None]] = None  # cancel/close work to finish first
        # Bumped each time a pool hands the connection out again: a named cursor left
        # open by an earlier borrower must not COMMIT or CLOSE in the new one's session.
        self._epoch = 0
        self._desc_cache: dict[int, tuple[Any, tuple[Column, ...]]] = {}
        self._wire_callbacks()
        if loop.get_debug():
            self._source_traceback = traceback.extract_stack(sys._getframe(1))

    def _wire_callbacks(self) -> None:
        # Closures over a weak reference: the engine holding bound methods would make a
        # cycle and delay the unclosed-connection warning until a GC pass.
        ref = weakref.ref(self)

        def on_notice(message: str) -> None:
            conn = ref()
            if conn is not None:
                conn._notices.append(message)
                del conn._notices[:-_MAX_NOTICES]

        def on_notify(pid: int, channel: str, payload: str) -> None:
            conn = ref()
            if conn is not None:
                conn._notifies.put_nowait(Notify(pid, channel, payload))

        def on_lost(exc: BaseException) -> None:
            conn = ref()
            if conn is not None:
                conn._notifies.close(exc)

        def on_timeout() -> None:
            conn = ref()
            if conn is not None:
                conn._start_cleanup()

        self._native.set_callbacks(on_notice, on_notify, on_lost, on_timeout)

    # -- cursors ---------------------------------------------------------------------

    def cursor(
        self,
        name: Optional[str] = None,
        cursor_factory: Optional[type[Cursor]] = None,
        scrollable: Optional[bool] = None,
        withhold: bool = False,
        timeout: Optional[float] = None,
        isolation_level: Optional[IsolationLevel] = None,
    ) -> _ContextManager[Cursor]:
        """A new cursor: await it, or use `async with` to close it on exit.

        `name` makes a server-side cursor (DECLARE ... CURSOR FOR); `cursor_factory` is a
        ferropg Cursor subclass such as ferropg.extras.DictCursor.
        """
        self._native.touch()
        coro = self._cursor(name, cursor_factory, scrollable, withhold, timeout, isolation_level)
        return _ContextManager(coro, _close_cursor)

    async def _cursor(
        self,
        name: Optional[str],
        cursor_factory: Optional[type[Cursor]],
        scrollable: Optional[bool],
        withhold: bool,
        timeout: Optional[float],
        isolation_level: Optional[IsolationLevel],
    ) -> Cursor:
        if self.closed:
            raise InterfaceError("connection already closed")
        factory = cursor_factory or self._cursor_factory or Cursor
        if not (isinstance(factory, type) and issubclass(factory, Cursor)):
            raise ProgrammingError(f"cursor_factory must be a ferropg.Cursor subclass, got {factory!r}")
        return factory(
            self,
            name=name,
            scrollable=scrollable,
            withhold=withhold,
            timeout=self._timeout if timeout is None else timeout,
            echo=self._echo,
            isolation_level=isolation_level,
        )

    # -- running statements (used by cursors) --------------------------------------------

    async def _request(
        self, what: str, send: Callable[..., asyncio.Future[Any]], args: tuple[Any, ...], timeout: Optional[float]
    ) -> Any:
        """Send one request to the server (`send(*args, timeout, what)`) and wait for its result.

        The engine refuses a second caller while one waits, and on timeout fails the
        future with asyncio.TimeoutError and has the server-side query cancelled in the
        background (`_start_cleanup`); task cancellation starts the same cleanup here.
        Cursor.execute inlines this for the per-query path.
        """
        if self._cleanup is not None:
            await self._after_cleanup(what)
        try:
            return await send(*args, timeout, what)
        except asyncio.CancelledError:
            self._start_cleanup()
            raise

    async def _after_cleanup(self, what: str) -> None:
        """Wait, holding the connection for `what`, until a cancelled request is drained:
        a request sent earlier could be hit by that request's CancelRequest."""
        native = self._native
        native.claim(what)
        try:
            await self._finish_cleanup()
        finally:
            native.release()

    def _start_cleanup(self) -> None:
        """Cancel whatever runs on the server and drain it, in a task the connection owns."""
        if self._native.busy:
            self._chain_cleanup(self._cancel_and_drain())

    def _chain_cleanup(self, coro: Coroutine[Any, Any, None]) -> None:
        previous = self._cleanup
        self._cleanup = self._loop.create_task(_after(previous, coro))

    async def _finish_cleanup(self) -> None:
        while self._cleanup is not None:
            task = self._cleanup
            await asyncio.shield(task)
            if self._cleanup is task:
                self._cleanup = None

    async def _cancel_and_drain(self) -> None:
        native = self._native
        try:
            if native.busy and not native.closed:
                await asyncio.wait_for(self._send_cancel(), _CANCEL_TIMEOUT)
            await asyncio.wait_for(native.wait_idle(), _DRAIN_TIMEOUT)
        except Exception as exc:  # a session we cannot bring back to idle is unusable
            logger.warning("closing connection %r: cancelled query did not finish: %r", self, exc)
            self._close()

    async def _send_cancel(self) -> None:
        """Send the CancelRequest on a side connection and wait for the server to close it,
        so the cancel has been processed before anything else is sent."""
        packet = self._native.cancel_request()
        sock = await open_socket(self._loop, self._host, self._port)
        try:
            await self._loop.sock_sendall(sock, packet)
            while await self._loop.sock_recv(sock, 64):
                pass
        finally:
            sock.close()

    def _close_cursor_later(self, coro: Coroutine[Any, Any, None]) -> asyncio.Future[None]:
        """Queue a named cursor's CLOSE/COMMIT; every later request waits for it."""
        self._chain_cleanup(coro)
        assert self._cleanup is not None
        return self._cleanup

    def _columns(self, raw: Any) -> Optional[tuple[Column, ...]]:
        """psycopg2 Column tuples for the engine's raw description, built once per raw object."""
        if raw is None:
            return None
        hit = self._desc_cache.get(id(raw))
        if hit is not None and hit[0] is raw:
            return hit[1]
        cols = tuple(
            Column(name, type_code, None, internal_size, precision, scale, None)
            for name, type_code, internal_size, precision, scale in raw
        )
        if len(self._desc_cache) >= _DESC_CACHE_SIZE:
            self._desc_cache.clear()
        self._desc_cache[id(raw)] = (raw, cols)
        return cols

    # -- closing ---------------------------------------------------------------------

    def _close(self) -> None:
        native = self._native
        try:
            if not native.closed:
                native.close()
        except RuntimeError:
            # Called from Python code the engine runs inside one of its own calls on this
            # connection (a finalizer during a collection, say), which holds the engine:
            # close it as soon as that call returns.
            try:
                self._loop.call_soon(native.close)
            except RuntimeError:  # the loop is closed: the engine's socket closes when it is freed
                pass
        self._notifies.close(OperationalError("Connection closed"))

    def close(self) -> asyncio.Future[None]:
        """Close the connection now; returns a done future so `await conn.close()` works."""
        self._close()
        return create_completed_future(self._loop)

    @property
    def closed(self) -> bool:
        return bool(self._native.closed)

    async def cancel(self, timeout: Optional[float] = None) -> None:
        """Cancel the statement running on this connection, if any.

        The cancelled call raises QueryCanceledError. Unlike aiopg this really cancels.
        """
        if self._native.closed:
            raise InterfaceError("connection already closed")
        if not self._native.busy:
            return
        await asyncio.wait_for(self._send_cancel(), timeout)

    # -- psycopg2 methods aiopg disables -----------------------------------------------

    async def commit(self) -> None:
        raise ProgrammingError("commit cannot be used in asynchronous mode")

    async def rollback(self) -> None:
        raise ProgrammingError("rollback cannot be used in asynchronous mode")

    async def xid(self, format_id: int, gtrid: str, bqual: str) -> None:
        raise ProgrammingError("xid cannot be used in asynchronous mode")

    async def tpc_begin(self, *args: Any, **kwargs: Any) -> None:
        raise ProgrammingError("tpc_begin cannot be used in asynchronous mode")

    async def tpc_prepare(self) -> None:
        raise ProgrammingError("tpc_prepare cannot be used in asynchronous mode")

    async def tpc_commit(self, *args: Any, **kwargs: Any) -> None:
        raise ProgrammingError("tpc_commit cannot be used in asynchronous mode")

    async def tpc_rollback(self, *args: Any, **kwargs: Any) -> None:
        raise ProgrammingError("tpc_rollback cannot be used in asynchronous mode")

    async def tpc_recover(self) -> None:
        raise ProgrammingError("tpc_recover cannot be used in asynchronous mode")

    async def reset(self) -> None:
        raise ProgrammingError("reset cannot be used in asynchronous mode")

    async def set_session(self, *args: Any, **kwargs: Any) -> None:
        raise ProgrammingError("set_session cannot be used in asynchronous mode")

    async def set_isolation_level(self, val: int) -> None:
        raise ProgrammingError('"isolation_level" cannot be used in asynchronous mode')

    async def set_client_encoding(self, val: str) -> None:
        raise ProgrammingError("set_client_encoding cannot be used in asynchronous mode")

    async def lobject(self, *args: Any, **kwargs: Any) -> None:
        raise ProgrammingError("lobject cannot be used in asynchronous mode")

    # -- attributes ------------------------------------------------------------------

    @property
    def raw(self) -> Any:
        """The engine's connection object (there is no psycopg2 connection underneath)."""
        return self._native

    @property
    def dsn(self) -> str:
        """The DSN as given, with any password masked."""
        return self._dsn

    @property
    def autocommit(self) -> bool:
        return True

    @autocommit.setter
    def autocommit(self, val: bool) -> None:
        if not val:
            raise ProgrammingError("set_session cannot be used in asynchronous mode")

    @property
    def isolation_level(self) -> Optional[int]:
        """None: the session default, as psycopg2 reports for asynchronous connections."""
        return None

    @property
    def encoding(self) -> str:
        """The client encoding in psycopg2's spelling, e.g. 'UTF8'."""
        value = self._native.parameter_status("client_encoding") or "UTF8"
        return "".join(ch for ch in value.upper() if ch.isalnum())

    @property
    def notices(self) -> list[str]:
        """The last 50 server notices, formatted as psycopg2 does ('NOTICE:  ...\\n')."""
        return self._notices

    @property
    def cursor_factory(self) -> Optional[type[Cursor]]:
        return self._cursor_factory

    @cursor_factory.setter
    def cursor_factory(self, factory: Optional[type[Cursor]]) -> None:
        if factory is not None and not (isinstance(factory, type) and issubclass(factory, Cursor)):
            raise ProgrammingError(f"cursor_factory must be a ferropg.Cursor subclass, got {factory!r}")
        self._cursor_factory = factory

    async def get_backend_pid(self) -> int:
        return int(self._native.backend_pid)

    async def get_parameter_status(self, parameter: str) -> Optional[str]:
        return self._native.parameter_status(parameter)  # type: ignore[no-any-return]

    async def get_transaction_status(self) -> int:
        return int(self._native.transaction_status)

    @property
    def protocol_version(self) -> int:
        return int(self._native.protocol_version)

    @property
    def server_version(self) -> int:
        return int(self._native.server_version)

    @property
    def status(self) -> int:
        """STATUS_BEGIN inside a transaction block, STATUS_READY otherwise."""
        in_block = (TRANSACTION_STATUS_INTRANS, TRANSACTION_STATUS_INERROR)
        return STATUS_BEGIN if self._native.transaction_status in in_block else STATUS_READY

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def last_usage(self) -> float:
        """The loop's time() of the last request (or cursor made)."""
        return self._loop.time() - self._native.idle_seconds

    @property
    def echo(self) -> bool:
        return self._echo

    @property
    def notifies(self) -> ClosableQueue:
        """Notify(pid, channel, payload) items; get() raises the loss error once closed."""
        return self._notifies

    def isexecuting(self) -> bool:
        return self._native.in_flight is not None or bool(self._native.busy)

    def _is_idle_outside_transaction(self) -> bool:
        return self._native.transaction_status == TRANSACTION_STATUS_IDLE

    def __repr__(self) -> str:
        return (
            f"<{type(self).__module__}::{type(self).__name__} "
            f"isexecuting={self.isexecuting()}, closed={self.closed}, echo={self.echo}, >"
        )

    def __del__(self) -> None:
        native = getattr(self, "_native", None)
        if native is None:
            return
        try:
            if native.closed:
                return
        except RuntimeError:
            pass  # collected inside one of the engine's own calls on it: _close() copes
        self._close()
        try:
            shown = repr(self)
        except RuntimeError:
            shown = f"<{type(self).__module__}::{type(self).__name__} (collected while in use)>"
        warnings.warn(f"Unclosed connection {shown}", ResourceWarning, source=self)

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()


async def _close_cursor(cur: Cursor) -> None:
    await cur.close()


async def _after(previous: Optional[asyncio.Task[None]], coro: Coroutine[Any, Any, None]) -> None:
    """Run `coro` once `previous` is over, whatever became of it."""
    if previous is not None:
        try:
            await asyncio.shield(previous)
        except BaseException:
            logger.debug("earlier connection cleanup failed", exc_info=True)
    await coro
