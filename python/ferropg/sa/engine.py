"""create_engine and Engine: a ferropg Pool paired with a SQLAlchemy dialect."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Generator
from typing import Any, Callable, Optional

from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2

from ..connection import TIMEOUT
from ..pool import Pool, create_pool
from ..utils import _ContextManager, get_running_loop
from .connection import SAConnection

__all__ = ["Engine", "create_engine", "dialect", "get_dialect"]


def get_dialect(
    json_serializer: Callable[[Any], str] = json.dumps,
    json_deserializer: Callable[[Any], Any] = lambda x: x,
) -> PGDialect_psycopg2:
    """A dialect compiling for ferropg: psycopg2's (pyformat parameters, its result
    types), which ferropg's values match, with no psycopg2 needed.

    The dialect is built with no DBAPI module: compiling statements and processing
    types never imports one. JSON arrives already decoded (as with psycopg2), hence
    the identity deserializer; `json_serializer` turns JSON parameters into text.
    """
    d = PGDialect_psycopg2(json_serializer=json_serializer, json_deserializer=json_deserializer)
    d.implicit_returning = True  # insert().values(...) returns the new primary key
    d.supports_native_enum = True
    d.supports_smallserial = True
    d._backslash_escapes = False
    d.supports_sane_multi_rowcount = True
    d._has_native_hstore = True  # ferropg returns hstore as dict (enable_hstore)
    return d


dialect = get_dialect()


def create_engine(
    dsn: Optional[str] = None,
    *,
    minsize: int = 1,
    maxsize: int = 10,
    dialect: PGDialect_psycopg2 = dialect,
    timeout: float = TIMEOUT,
    pool_recycle: float = -1,
    **kwargs: Any,
) -> _ContextManager[Engine]:
    """An Engine over a new pool of `minsize` to `maxsize` connections.

    Await it, or `async with create_engine(...) as engine:` to close it on exit. Other
    keywords (user=, host=, on_connect=, ...) go to ferropg.create_pool().
    """
    coro = _create_engine(
        dsn,
        minsize=minsize,
        maxsize=maxsize,
        dialect=dialect,
        timeout=timeout,
        pool_recycle=pool_recycle,
        **kwargs,
    )
    return _ContextManager(coro, _close_engine)


async def _create_engine(dsn: Optional[str], *, dialect: Any, **kwargs: Any) -> Engine:
    pool = await create_pool(dsn, **kwargs)
    try:
        conn = await pool.acquire()
    except BaseException:
        pool.close()
        await pool.wait_closed()
        raise
    try:
        return Engine(dialect, pool, conn.dsn)
    finally:
        await pool.release(conn)


async def _close_engine(engine: Engine) -> None:
    engine.close()
    await engine.wait_closed()


async def _close_connection(conn: SAConnection) -> None:
    await conn.close()


class Engine:
    """A connection pool and a SQLAlchemy dialect: the source of SAConnections.

    Made by create_engine(); `async with engine.acquire() as conn:` lends one.
    """

    __slots__ = ("_dialect", "_pool", "_dsn", "_loop")

    def __init__(self, dialect: Any, pool: Pool, dsn: str) -> None:
        self._dialect = dialect
        self._pool = pool
        self._dsn = dsn
        self._loop = get_running_loop()

    @property
    def dialect(self) -> Any:
        """The SQLAlchemy dialect statements are compiled with."""
        return self._dialect

    @property
    def name(self) -> str:
        """The dialect's name ('postgresql')."""
        return self._dialect.name

    @property
    def driver(self) -> str:
        """The dialect's driver name ('psycopg2', as aiopg.sa reports)."""
        return self._dialect.driver

    @property
    def dsn(self) -> str:
        """The connections' DSN, password masked."""
        return self._dsn

    @property
    def timeout(self) -> float:
        return self._pool.timeout

    @property
    def minsize(self) -> int:
        return self._pool.minsize

    @property
    def maxsize(self) -> Optional[int]:
        return self._pool.maxsize

    @property
    def size(self) -> int:
        """Connections in the pool, lent ones included."""
        return self._pool.size

    @property
    def freesize(self) -> int:
        """Connections in the pool ready to lend."""
        return self._pool.freesize

    @property
    def closed(self) -> bool:
        return self._pool.closed

    def close(self) -> None:
        """Refuse new acquires; connections close as they come back (not a coroutine)."""
        self._pool.close()

    def terminate(self) -> None:
        """Close the pool and every connection now, lent ones included (not a coroutine)."""
        self._pool.terminate()

    async def wait_closed(self) -> None:
        """Wait until every connection is closed, after close() or terminate()."""
        await self._pool.wait_closed()

    def acquire(self) -> _ContextManager[SAConnection]:
        """An SAConnection from the pool: await it, or `async with` to release it."""
        return _ContextManager(self._acquire(), _close_connection)

    async def _acquire(self) -> SAConnection:
        raw = await self._pool.acquire()
        return SAConnection(raw, self)

    def release(self, conn: SAConnection) -> asyncio.Future[None]:
        """Give `conn`'s connection back to the pool (SAConnection.close() does this)."""
        raw = conn.connection
        if raw is None:
            raise ValueError(f"{conn!r} is already closed and released")
        return self._pool.release(raw)

    def __enter__(self) -> None:
        raise RuntimeError('"await" should be used as context manager expression')

    def __exit__(self, *args: Any) -> None:
        pass  # needed beside __enter__, which always raises

    def __await__(self) -> Generator[Any, None, _ConnectionContextManager]:
        # `with (await engine) as conn:` acquires for the block and releases after it.
        conn = yield from self._acquire().__await__()
        return _ConnectionContextManager(conn, self._loop)

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()
        await self.wait_closed()

    def __repr__(self) -> str:
        return f"<Engine {self.name}+{self.driver} size={self.size} free={self.freesize}>"


class _ConnectionContextManager:
    """`with (await engine) as conn:`: the block gets the connection, which is closed
    (returned to the pool) in the background when the block ends."""

    __slots__ = ("_conn", "_loop")

    def __init__(self, conn: SAConnection, loop: asyncio.AbstractEventLoop) -> None:
        self._conn: Optional[SAConnection] = conn
        self._loop = loop

    def __enter__(self) -> SAConnection:
        assert self._conn is not None
        return self._conn

    def __exit__(self, *args: Any) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            asyncio.ensure_future(conn.close(), loop=self._loop)
