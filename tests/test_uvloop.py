"""The engine on uvloop: its add_reader/add_writer, sockets and futures instead of asyncio's.

Each test runs its body on a fresh uvloop loop of its own (pytest-asyncio 1.x deprecates
overriding the event_loop_policy fixture, and the hook replacing it belongs in conftest),
and checks that the loop really is uvloop's. tests/test_connection.py has one basic
select with a timeout; this module covers the rest of the engine's loop-facing paths.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any, Callable

import pytest

import ferropg
from ferropg import extensions

uvloop = pytest.importorskip("uvloop")


def on_uvloop(main: Callable[[], Awaitable[Any]]) -> Any:
    async def checked() -> Any:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        return await main()

    loop = uvloop.new_event_loop()
    try:
        return loop.run_until_complete(checked())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@pytest.mark.parametrize("where", ["tcp", "unix", "tls-verify-full"])
def test_connect(cluster: Any, where: str) -> None:
    dsn = {
        "tcp": cluster.make_dsn(sslmode="disable"),
        "unix": cluster.unix_dsn,
        "tls-verify-full": cluster.make_dsn(host="localhost", sslmode="verify-full", sslrootcert=cluster.ca_cert),
    }[where]

    async def main() -> Any:
        async with ferropg.connect(dsn) as conn:
            cur = await conn.cursor()
            await cur.execute("SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)")
            return (await cur.fetchone())[0]

    assert on_uvloop(main) is (where == "tls-verify-full")


def test_scram_over_tls(cluster: Any) -> None:
    dsn = cluster.make_dsn(user="ferropg_ssl", password=cluster.passwords["ferropg_ssl"], sslmode="require")

    async def main() -> Any:
        async with ferropg.connect(dsn) as conn:
            cur = await conn.cursor()
            await cur.execute("SELECT current_user")
            return await cur.fetchone()

    assert on_uvloop(main) == ("ferropg_ssl",)


def test_select_with_params_and_a_large_result(dsn: str) -> None:
    async def main() -> Any:
        async with ferropg.connect(dsn) as conn:
            cur = await conn.cursor()
            await cur.execute(
                "SELECT %s::int + 1, %s, %s::bytea, %s, %s", (41, "é", b"\x00\xff", Decimal("1.5"), None)
            )
            row = await cur.fetchone()
            # more than one socket read and many loop callbacks (over 64 KiB)
            await cur.execute("SELECT g, repeat('z', 100) FROM generate_series(1, 20000) g")
            rows = await cur.fetchall()
            await cur.executemany("SELECT %s", [(i,) for i in range(50)])
            return row, len(rows), rows[-1][0]

    row, count, last = on_uvloop(main)
    assert row[0] == 42 and row[1] == "é" and bytes(row[2]) == b"\x00\xff" and row[3] == Decimal("1.5")
    assert row[4] is None
    assert (count, last) == (20000, 20000)


def test_large_request_waits_for_the_writer(dsn: str) -> None:
    big = "x" * (8 * 1024 * 1024)  # more than a socket buffer: add_writer must be used

    async def main() -> Any:
        async with ferropg.connect(dsn) as conn:
            cur = await conn.cursor()
            await cur.execute("SELECT length(%s)", (big,))
            return await cur.fetchone()

    assert on_uvloop(main) == (len(big),)


def test_notifies(dsn: str) -> None:
    async def main() -> Any:
        async with ferropg.connect(dsn) as conn, ferropg.connect(dsn) as other:
            cur = await conn.cursor()
            await cur.execute("LISTEN uv_chan")
            ocur = await other.cursor()
            await ocur.execute("NOTIFY uv_chan, 'on uvloop'")
            note = await asyncio.wait_for(conn.notifies.get(), 5)
            return note, await other.get_backend_pid()

    note, pid = on_uvloop(main)
    assert isinstance(note, extensions.Notify)
    assert (note.pid, note.channel, note.payload) == (pid, "uv_chan", "on uvloop")


def test_cancel(dsn: str) -> None:
    async def main() -> Any:
        async with ferropg.connect(dsn) as conn:
            cur = await conn.cursor()
            loop = asyncio.get_running_loop()
            start = loop.time()
            task = asyncio.ensure_future(cur.execute("SELECT pg_sleep(10)"))
            await asyncio.sleep(0.2)
            await conn.cancel()
            with pytest.raises(extensions.QueryCanceledError):
                await task
            # task cancellation: cancelled on the server, the session stays usable
            task = asyncio.ensure_future(cur.execute("SELECT pg_sleep(10)"))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await cur.execute("SELECT 'usable'")
            return await cur.fetchone(), loop.time() - start

    row, took = on_uvloop(main)
    assert row == ("usable",)
    assert took < 5


def test_connection_cut_under_uvloop(cluster: Any) -> None:
    from fault_proxy import FaultProxy

    async def main() -> Any:
        proxy = await FaultProxy.start(cluster.host, cluster.port)
        try:
            conn = await ferropg.connect(cluster.make_dsn(host=proxy.host, port=proxy.port, sslmode="disable"))
            cur = await conn.cursor()
            proxy.cut_after(1000)
            with pytest.raises(ferropg.OperationalError, match="server closed the connection"):
                await cur.execute("SELECT repeat('x', 100) FROM generate_series(1, 10000)", timeout=5)
            closed = conn.closed
            conn.close()
            return closed
        finally:
            await proxy.close()

    assert on_uvloop(main) is True


def test_statement_cache(dsn: str) -> None:
    async def main() -> Any:
        async with ferropg.connect(dsn, statement_cache_size=2) as conn:
            cur = await conn.cursor()
            for n in range(5):
                await cur.execute("SELECT %s::int * 3", (n,))
            last = await cur.fetchone()
            await cur.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE '\\_ferropg\\_%%'")
            return last, (await cur.fetchone())[0]

    last, named = on_uvloop(main)
    assert last == (12,)
    assert 1 <= named <= 2
