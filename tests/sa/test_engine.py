"""Engine: create_engine's forms, the pool's attributes, acquire/release, closing."""

from __future__ import annotations

import asyncio

import pytest

import ferropg
from ferropg.sa import Engine, SAConnection, create_engine, dialect


async def test_create_engine_awaited_and_attributes(dsn: str) -> None:
    engine = await create_engine(dsn, minsize=2, maxsize=5, timeout=7)
    try:
        assert isinstance(engine, Engine)
        assert engine.dialect is dialect
        assert (engine.name, engine.driver) == ("postgresql", "psycopg2")
        assert "dbname=" in engine.dsn and "password" not in engine.dsn
        assert (engine.minsize, engine.maxsize, engine.timeout) == (2, 5, 7)
        assert (engine.size, engine.freesize) == (2, 2)
        assert not engine.closed
    finally:
        engine.close()
        await engine.wait_closed()
    assert engine.closed


async def test_async_with_closes(dsn: str) -> None:
    async with create_engine(dsn) as engine:
        async with engine.acquire() as conn:
            assert await conn.scalar("SELECT 41 + 1") == 42
    assert engine.closed
    with pytest.raises(RuntimeError, match="after closing"):  # as aiopg's pool
        await engine.acquire()


async def test_acquire_counts_and_release(engine: Engine) -> None:
    conn = await engine.acquire()
    assert isinstance(conn, SAConnection)
    assert engine.freesize == engine.size - 1
    await engine.release(conn)
    assert engine.freesize == engine.size


async def test_acquire_context_manager_returns_connection(engine: Engine) -> None:
    async with engine.acquire() as conn:
        assert not conn.closed
        assert engine.freesize == engine.size - 1
    assert conn.closed and conn.connection is None
    assert engine.freesize == engine.size


async def test_with_await_engine(engine: Engine) -> None:
    with await engine as conn:
        assert await conn.scalar("SELECT 'x'") == "x"
    await asyncio.sleep(0.05)  # the release runs in the background, as aiopg's does
    assert engine.freesize == engine.size


async def test_plain_with_engine_is_refused(engine: Engine) -> None:
    with pytest.raises(RuntimeError, match='"await" should be used'):
        with engine:
            pass


async def test_release_of_closed_connection_is_refused(engine: Engine) -> None:
    conn = await engine.acquire()
    await conn.close()
    with pytest.raises(ValueError, match="already closed"):
        engine.release(conn)


async def test_terminate_closes_lent_connections(dsn: str) -> None:
    engine = await create_engine(dsn)
    conn = await engine.acquire()
    raw = conn.connection
    engine.terminate()
    await engine.wait_closed()
    assert raw is not None and raw.closed
    assert conn.closed


async def test_close_waits_for_lent_connections(dsn: str) -> None:
    engine = await create_engine(dsn)
    conn = await engine.acquire()
    engine.close()
    waiter = asyncio.ensure_future(engine.wait_closed())
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await conn.close()
    await asyncio.wait_for(waiter, 5)


async def test_kwargs_reach_the_pool(dsn: str) -> None:
    seen = []

    async def on_connect(conn: ferropg.Connection) -> None:
        seen.append(conn)

    async with create_engine(dsn, minsize=2, on_connect=on_connect) as engine:
        assert len(seen) == 2 and engine.size == 2


async def test_bad_dsn_raises_and_leaks_nothing() -> None:
    with pytest.raises(ferropg.OperationalError):
        await create_engine("host=127.0.0.1 port=1 dbname=x connect_timeout=2", timeout=5)
