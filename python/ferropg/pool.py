"""aiopg's connection Pool on ferropg's Connection.

The public surface is aiopg 1.4's (`create_pool`, `Pool.acquire/release/cursor`,
`with (await pool) as conn`, `close/terminate/wait_closed`). Underneath, waiters are
served first come, first served: a released or newly opened connection is handed
straight to the oldest waiter, so a newcomer can never overtake it; connections are
opened by tasks of the pool, so a waiter that is cancelled or times out leaves nothing
half-open and gives back whatever it was handed.

A connection comes back clean: an open transaction is rolled back, server-side cursors
closed, LISTENs removed and queued notifications dropped. The common case (idle, never
listened, no held cursor) costs one look at the engine's state and no round trip.
"""

from __future__ import annotations

import asyncio
import collections
import warnings
from collections.abc import Awaitable, Generator
from types import TracebackType
from typing import Any, Callable, Optional

from .connection import TIMEOUT, Connection, connect
from .cursor import Cursor
from .extensions import TRANSACTION_STATUS_IDLE
from .log import logger
from .utils import _ContextManager, create_completed_future, get_running_loop

__all__ = ["Pool", "create_pool"]

OnConnect = Optional[Callable[[Connection], Awaitable[None]]]


def create_pool(
    dsn: Optional[str] = None,
    *,
    minsize: int = 1,
    maxsize: int = 10,
    timeout: float = TIMEOUT,
    pool_recycle: float = -1.0,
    enable_json: bool = True,
    enable_hstore: bool = True,
    enable_uuid: bool = True,
    echo: bool = False,
    on_connect: OnConnect = None,
    **kwargs: Any,
) -> _ContextManager[Pool]:
    """A pool opened with `minsize` connections; await it, or `async with` to close it on exit.

    `maxsize=0` means no limit; `timeout` bounds each acquire() (opening included) and is
    every connection's query timeout; connections idle longer than `pool_recycle`
    seconds are replaced (-1: never); `on_connect(conn)` runs once per new connection.
    Other keywords go to `connect()`.
    """
    coro = Pool.from_pool_fill(
        dsn,
        minsize,
        maxsize,
        timeout,
        enable_json=enable_json,
        enable_hstore=enable_hstore,
        enable_uuid=enable_uuid,
        echo=echo,
        on_connect=on_connect,
        pool_recycle=pool_recycle,
        **kwargs,
    )
    return _ContextManager(coro, _destroy_pool)


async def _destroy_pool(pool: Pool) -> None:
    pool.close()
    await pool.wait_closed()


class Pool:
    """A bounded set of connections to one database, handed out by acquire()."""

    def __init__(
        self,
        dsn: Optional[str],
        minsize: int,
        maxsize: int,
        timeout: float,
        *,
        enable_json: bool,
        enable_hstore: bool,
        enable_uuid: bool,
        echo: bool,
        on_connect: OnConnect,
        pool_recycle: float,
        **kwargs: Any,
    ) -> None:
        if minsize < 0:
            raise ValueError("minsize should be zero or greater")
        if maxsize < minsize and maxsize != 0:
            raise ValueError("maxsize should be not less than minsize")
        self._loop = get_running_loop()
        self._dsn = dsn
        self._minsize = minsize
        self._maxsize = maxsize
        self._timeout = timeout
        self._recycle = pool_recycle
        self._echo = echo
        self._on_connect = on_connect
        self._connect_kwargs = dict(
            kwargs, enable_json=enable_json, enable_hstore=enable_hstore, enable_uuid=enable_uuid
        )
        self._free: collections.deque[Connection] = collections.deque()
        self._used: set[Connection] = set()
        self._terminated: set[Connection] = set()
        self._opening = 0  # slots reserved by connections being opened
        self._resetting = 0  # released connections being cleaned before reuse
        self._waiters: collections.deque[asyncio.Future[Connection]] = collections.deque()  # oldest first
        self._tasks: set[asyncio.Task[None]] = set()  # connections being opened
        self._returned = asyncio.Event()  # set whenever a connection leaves use
        self._closing = False
        self._closed = False

    # -- aiopg's attributes ------------------------------------------------------------

    @property
    def echo(self) -> bool:
        return self._echo

    @property
    def minsize(self) -> int:
        return self._minsize

    @property
    def maxsize(self) -> Optional[int]:
        """The limit, or None for an unlimited pool (created with maxsize=0), as aiopg."""
        return self._maxsize or None

    @property
    def size(self) -> int:
        """Every connection the pool counts: free, acquired, being opened or being cleaned."""
        return len(self._free) + len(self._used) + self._opening + self._resetting

    @property
    def freesize(self) -> int:
        return len(self._free)

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def closed(self) -> bool:
        return self._closed

    # -- opening -----------------------------------------------------------------------

    @classmethod
    async def from_pool_fill(cls, *args: Any, **kwargs: Any) -> Pool:
        """Create the pool and open its first `minsize` connections (errors raise here)."""
        self = cls(*args, **kwargs)
        try:
            while self.size < self._minsize:
                self._opening += 1
                try:
                    conn = await self._open_new()
                finally:
                    self._opening -= 1
                self._give(conn)
        except BaseException:
            self.close()
            await self.wait_closed()
            raise
        return self

    async def _open_new(self) -> Connection:
        conn = await connect(self._dsn, timeout=self._timeout, echo=self._echo, **self._connect_kwargs)
        if self._on_connect is not None:
            try:
                await self._on_connect(conn)
            except BaseException:
                conn.close()
                raise
        return conn

    def _has_room(self) -> bool:
        return not self._maxsize or self.size < self._maxsize

    def _grow(self, fill: bool = False) -> None:
        """Open connections for waiters no opening will serve (and up to minsize if `fill`).

        Openings run as tasks of the pool, not of the waiter, so what they open goes to
        the oldest waiter (FIFO) and a waiter that gives up leaves nothing half-open.
        """
        while (
            not self._closing
            and self._has_room()
            and (len(self._waiters) > self._opening or (fill and self.size < self._minsize))
        ):
            self._opening += 1
            task = self._loop.create_task(self._open_in_background())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _open_in_background(self) -> None:
        try:
            conn = await self._open_new()
        except BaseException as exc:
            self._opening -= 1
            if not isinstance(exc, asyncio.CancelledError):
                self._fail_oldest_waiter(exc)
            self._slot_freed()
            if not isinstance(exc, Exception):
                raise
            return
        self._opening -= 1
        self._give(conn)

    def _fail_oldest_waiter(self, exc: BaseException) -> None:
        """An opening failed: its error goes to the waiter it was meant for."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_exception(exc)
                return
        logger.warning("pool could not open a connection: %r", exc)

    # -- acquiring ---------------------------------------------------------------------

    def acquire(self) -> _ContextManager[Connection]:
        """A connection from the pool: await it (then release() it), or `async with` it."""
        return _ContextManager(self._acquire(), self.release)

    async def _acquire(self) -> Connection:
        if self._closing:
            raise RuntimeError("Cannot acquire connection after closing pool")
        if not self._waiters:
            conn = self._take_free()
            if conn is not None:
                if self.size < self._minsize:  # after clear() or dropped connections, as aiopg
                    self._grow(fill=True)
                return conn
        fut: asyncio.Future[Connection] = self._loop.create_future()
        self._waiters.append(fut)
        self._grow(fill=True)
        try:
            done, _ = await asyncio.wait((fut,), timeout=self._timeout)
        except asyncio.CancelledError:
            self._abandon(fut)
            raise
        if not done:
            self._abandon(fut)
            raise asyncio.TimeoutError(
                f"no connection free within the pool's timeout ({self._timeout}s; "
                f"size {self.size}, maxsize {self._maxsize})"
            )
        return fut.result()

    def _take_free(self) -> Optional[Connection]:
        """The oldest usable free connection; closed or stale ones are dropped on the way."""
        now = self._loop.time()
        while self._free:
            conn = self._free.popleft()
            if conn.closed:
                self._slot_freed()
                continue
            if -1 < self._recycle < now - conn.last_usage:
                conn.close()
                self._slot_freed()
                continue
            self._used.add(conn)
            return conn
        return None

    def _abandon(self, fut: asyncio.Future[Connection]) -> None:
        """A waiter gave up: leave the queue, or pass on the connection it was handed."""
        if not fut.done():
            fut.cancel()
            self._waiters.remove(fut)
        elif not fut.cancelled() and fut.exception() is None:
            conn = fut.result()
            self._used.discard(conn)
            self._give(conn)

    def _give(self, conn: Connection) -> None:
        """A clean connection is available: to the oldest waiter, else to the free list."""
        conn._epoch += 1  # what earlier borrowers' cursors began is gone: see Cursor
        if self._closing:
            conn.close()
            self._slot_freed()
            return
        if conn.closed:
            self._slot_freed()
            return
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                self._used.add(conn)
                fut.set_result(conn)
                return
        self._free.append(conn)

    def _slot_freed(self) -> None:
        """A connection left the count: wake wait_closed(), open one for waiters if needed."""
        self._returned.set()
        self._grow()

    # -- releasing ---------------------------------------------------------------------

    def release(self, conn: Connection) -> asyncio.Future[None]:
        """Give a connection back; the returned future is done once it is reusable."""
        if conn in self._terminated:
            self._terminated.discard(conn)
            return create_completed_future(self._loop)
        if conn not in self._used:
            raise RuntimeError(f"{conn!r} was not acquired from this pool, or was released twice")
        self._used.remove(conn)
        self._returned.set()
        if conn.closed:
            self._slot_freed()
            return create_completed_future(self._loop)
        if self._closing:
            conn.close()
            self._slot_freed()
            return create_completed_future(self._loop)
        if self._is_clean(conn):
            self._give(conn)
            return create_completed_future(self._loop)
        self._resetting += 1
        task = self._loop.create_task(self._reset(conn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # Shielded: a caller cancelled while awaiting its release must not cut the reset short.
        return asyncio.shield(task)

    def _is_clean(self, conn: Connection) -> bool:
        native = conn.raw
        if native.busy or conn._cleanup is not None or native.in_flight is not None:
            return False
        if native.transaction_status != TRANSACTION_STATUS_IDLE:
            return False
        # the engine marks LISTEN and DECLARE CURSOR from their command tags
        return not (native.listened or native.declared or conn.notifies.qsize())

    async def _reset(self, conn: Connection) -> None:
        """Bring a released connection back to a fresh session, or drop it."""
        native = conn.raw
        try:
            await conn._finish_cleanup()  # a cancelled query or a cursor's CLOSE
            await conn.raw.wait_idle()
            statements = []
            if not conn.closed and conn.raw.transaction_status != TRANSACTION_STATUS_IDLE:
                statements.append("ROLLBACK")
            if native.declared:
                statements.append("CLOSE ALL")  # WITH HOLD cursors outlive their transaction
            if native.listened or conn.notifies.qsize():
                statements.append("UNLISTEN *")
            if statements:
                async with conn.cursor() as cur:
                    await cur.execute("; ".join(statements))
            native.clear_session_marks()
            while conn.notifies.qsize():
                conn.notifies.get_nowait()
        except Exception as exc:
            logger.warning("dropping pooled connection %r: reset failed: %r", conn, exc)
            conn.close()
        except BaseException:  # cancelled (loop shutdown): a half-reset session is unusable
            conn.close()
            raise
        finally:
            self._resetting -= 1
            if conn.closed:
                self._slot_freed()
            else:
                self._give(conn)

    # -- the cursor shortcut and `with (await pool)` -------------------------------------

    def cursor(
        self,
        name: Optional[str] = None,
        cursor_factory: Any = None,
        scrollable: Optional[bool] = None,
        withhold: bool = False,
        *,
        timeout: Optional[float] = None,
    ) -> _PoolCursorRequest:
        """A cursor on a pooled connection: `async with pool.cursor() as cur`, or
        `with (await pool.cursor()) as cur`; the connection goes back on exit."""
        coro = self._cursor(name, cursor_factory, scrollable, withhold, timeout)
        return _PoolCursorRequest(coro)

    async def _cursor(
        self,
        name: Optional[str],
        cursor_factory: Any,
        scrollable: Optional[bool],
        withhold: bool,
        timeout: Optional[float],
    ) -> _PoolCursorContextManager:
        conn = await self._acquire()
        try:
            cur = await conn.cursor(
                name=name,
                cursor_factory=cursor_factory,
                scrollable=scrollable,
                withhold=withhold,
                timeout=timeout,
            )
        except BaseException:
            self.release(conn)
            raise
        return _PoolCursorContextManager(self, conn, cur)

    def __await__(self) -> Generator[Any, None, _PoolConnectionContextManager]:
        conn = yield from self._acquire().__await__()
        return _PoolConnectionContextManager(self, conn)

    def __enter__(self) -> Pool:
        raise RuntimeError('"await" should be used as context manager expression')

    def __exit__(self, *exc: Any) -> None:
        pass  # never reached: __enter__ raises, but `with` needs the method to exist

    async def __aenter__(self) -> Pool:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()
        await self.wait_closed()

    # -- closing -----------------------------------------------------------------------

    async def clear(self) -> None:
        """Close every free connection (acquired ones are untouched)."""
        while self._free:
            conn = self._free.popleft()
            conn.close()
            self._slot_freed()

    def close(self) -> None:
        """Refuse new acquires and fail queued ones; connections close as they come back."""
        if self._closed or self._closing:
            return
        self._closing = True
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_exception(RuntimeError("Cannot acquire connection after closing pool"))

    def terminate(self) -> None:
        """Close the pool and every acquired connection too, now."""
        self.close()
        for conn in list(self._used):
            conn.close()
            self._terminated.add(conn)
        self._used.clear()
        self._returned.set()

    async def wait_closed(self) -> None:
        """Wait until every acquired connection is back and closed; call after close()."""
        if self._closed:
            return
        if not self._closing:
            raise RuntimeError(".wait_closed() should be called after .close()")
        await self.clear()
        while self.size:
            self._returned.clear()
            await self._returned.wait()
            await self.clear()
        self._closed = True

    def __repr__(self) -> str:
        return (
            f"<{type(self).__module__}::{type(self).__name__} size={self.size}, "
            f"freesize={self.freesize}, maxsize={self._maxsize}, closed={self._closed}>"
        )

    def __del__(self) -> None:
        free = getattr(self, "_free", None)
        if not free:
            return
        left = len(free)
        while free:
            free.popleft().close()
        warnings.warn(f"Unclosed {left} connections in {self!r}", ResourceWarning, source=self)


class _PoolConnectionContextManager:
    """What `await pool` gives: `with (await pool) as conn:` releases conn on exit."""

    __slots__ = ("_pool", "_conn")

    def __init__(self, pool: Pool, conn: Connection) -> None:
        self._pool: Optional[Pool] = pool
        self._conn: Optional[Connection] = conn

    def _take(self) -> tuple[Optional[Pool], Optional[Connection]]:
        pool, conn = self._pool, self._conn
        self._pool = self._conn = None
        return pool, conn

    def __enter__(self) -> Connection:
        assert self._conn is not None, "the connection was already released"
        return self._conn

    def __exit__(self, *exc: Any) -> None:
        pool, conn = self._take()
        if pool is not None and conn is not None:
            pool.release(conn)

    async def __aenter__(self) -> Connection:
        return self.__enter__()

    async def __aexit__(self, *exc: Any) -> None:
        pool, conn = self._take()
        if pool is not None and conn is not None:
            await pool.release(conn)


class _PoolCursorContextManager:
    """What `await pool.cursor()` gives: `with ... as cur` closes cur and releases its
    connection on exit."""

    __slots__ = ("_pool", "_conn", "_cursor")

    def __init__(self, pool: Pool, conn: Connection, cursor: Cursor) -> None:
        self._pool: Optional[Pool] = pool
        self._conn = conn
        self._cursor = cursor

    def __enter__(self) -> Cursor:
        return self._cursor

    def __exit__(self, *exc: Any) -> None:
        self._finish()

    def _finish(self) -> asyncio.Future[None]:
        pool, self._pool = self._pool, None
        if pool is None:
            return create_completed_future(self._conn._loop)
        try:
            self._cursor.close()
        finally:
            released = pool.release(self._conn)
        return released

    async def __aenter__(self) -> Cursor:
        return self._cursor

    async def __aexit__(self, *exc: Any) -> None:
        await self._finish()


class _PoolCursorRequest:
    """What `pool.cursor()` returns: awaitable (aiopg 1.4's code) and an async context
    manager yielding the cursor itself (aiopg's documentation)."""

    __slots__ = ("_coro", "_manager")

    def __init__(self, coro: Any) -> None:
        self._coro = coro
        self._manager: Optional[_PoolCursorContextManager] = None

    def __await__(self) -> Generator[Any, None, _PoolCursorContextManager]:
        return self._coro.__await__()  # type: ignore[no-any-return]

    async def __aenter__(self) -> Cursor:
        self._manager = await self._coro
        return self._manager._cursor

    async def __aexit__(self, *exc: Any) -> None:
        manager, self._manager = self._manager, None
        if manager is not None:
            await manager._finish()
