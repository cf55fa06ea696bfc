"""ferropg.Pool against the real server: aiopg 1.4's API, clean-on-release, contention,
failure paths (exhaustion, server restart, cancellation) and closing."""

from __future__ import annotations

import asyncio
from typing import Any

import ferropg
import pytest
from ferropg.extensions import TRANSACTION_STATUS_IDLE


async def scalar(conn: Any, sql: str, params: Any = None) -> Any:
    async with conn.cursor() as cur:
        await cur.execute(sql, params)
        row = await cur.fetchone()
        return row[0]


# -- creating and the attributes -------------------------------------------------------


async def test_create_pool_awaitable_fills_minsize(dsn: str) -> None:
    pool = await ferropg.create_pool(dsn, minsize=3, maxsize=5)
    try:
        assert isinstance(pool, ferropg.Pool)
        assert (pool.size, pool.freesize, pool.minsize, pool.maxsize) == (3, 3, 3, 5)
        assert pool.timeout == 60.0 and pool.echo is False and pool.closed is False
    finally:
        pool.close()
        await pool.wait_closed()
    assert pool.closed and pool.size == 0


async def test_create_pool_async_with_closes(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=0, maxsize=0, timeout=5, echo=True) as pool:
        assert (pool.size, pool.maxsize, pool.timeout, pool.echo) == (0, None, 5, True)
        async with pool.acquire() as conn:
            assert conn.echo is True and conn.timeout == 5
            assert pool.size == 1
    assert pool.closed and conn.closed


async def test_from_pool_fill_and_bad_sizes(dsn: str) -> None:
    pool = await ferropg.Pool.from_pool_fill(
        dsn,
        2,
        4,
        10.0,
        enable_json=True,
        enable_hstore=True,
        enable_uuid=True,
        echo=False,
        on_connect=None,
        pool_recycle=-1,
    )
    assert pool.freesize == 2
    pool.close()
    await pool.wait_closed()
    with pytest.raises(ValueError, match="minsize"):
        await ferropg.create_pool(dsn, minsize=-1)
    with pytest.raises(ValueError, match="maxsize"):
        await ferropg.create_pool(dsn, minsize=3, maxsize=2)


async def test_connect_kwargs_reach_connections(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, application_name="ferropg-pool") as pool:
        async with pool.acquire() as conn:
            assert await scalar(conn, "SHOW application_name") == "ferropg-pool"


async def test_bad_dsn_fails_creation(dsn: str) -> None:
    with pytest.raises(ferropg.OperationalError):
        await ferropg.create_pool(dsn, user="no_such_role_here")


# -- the ways to acquire ---------------------------------------------------------------


async def test_acquire_await_and_release(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=2) as pool:
        conn = await pool.acquire()
        assert (pool.size, pool.freesize) == (1, 0)
        assert await scalar(conn, "SELECT 42") == 42
        await pool.release(conn)
        assert (pool.size, pool.freesize) == (1, 1)
        with pytest.raises(RuntimeError, match="released twice"):
            pool.release(conn)


async def test_with_await_pool(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1) as pool:
        with await pool as conn:
            assert pool.freesize == 0
            assert await scalar(conn, "SELECT 1") == 1
        assert pool.freesize == 1
        with pytest.raises(RuntimeError, match='"await" should be used'):
            with pool:  # type: ignore[attr-defined]
                pass


async def test_cursor_shortcut_both_forms(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        async with pool.cursor() as cur:
            assert isinstance(cur, ferropg.Cursor)
            await cur.execute("SELECT 7")
            assert await cur.fetchone() == (7,)
            assert pool.freesize == 0
        assert cur.closed and pool.freesize == 1
        with await pool.cursor() as cur:
            await cur.execute("SELECT 8")
            assert await cur.fetchone() == (8,)
        assert cur.closed
        await asyncio.sleep(0)
        assert pool.freesize == 1


async def test_cursor_shortcut_named_cursor(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        async with pool.cursor(name="pooled") as cur:
            await cur.execute("SELECT g FROM generate_series(1, 5) g")
            assert await cur.fetchmany(2) == [(1,), (2,)]
        async with pool.acquire() as conn:
            assert conn.raw.transaction_status == TRANSACTION_STATUS_IDLE
            assert await scalar(conn, "SELECT count(*) FROM pg_cursors WHERE name <> ''") == 0


async def test_exception_inside_cursor_of_pooled_connection(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        with pytest.raises(ferropg.errors.UndefinedTable):
            async with pool.acquire() as conn:
                async with conn.cursor() as cur:
                    await cur.execute("BEGIN")
                    await cur.execute("SELECT * FROM no_such_table_here")
        assert pool.size == 1
        async with pool.acquire() as again:
            assert again is conn
            assert again.raw.transaction_status == TRANSACTION_STATUS_IDLE
            assert await scalar(again, "SELECT 1") == 1
        with pytest.raises(ZeroDivisionError):
            async with pool.cursor() as cur:
                await cur.execute("SELECT 1")
                1 / 0  # noqa: B018
        assert pool.size == 1


# -- connections come back clean -------------------------------------------------------


async def test_open_transaction_rolled_back(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        async with pool.acquire() as conn:
            async with conn.cursor() as cur:
                await cur.execute("CREATE TEMP TABLE IF NOT EXISTS t_pool (x int)")
                await cur.execute("BEGIN")
                await cur.execute("INSERT INTO t_pool VALUES (1)")
        async with pool.acquire() as conn2:
            assert conn2 is conn
            assert conn2.raw.transaction_status == TRANSACTION_STATUS_IDLE
            assert await scalar(conn2, "SELECT count(*) FROM t_pool") == 0


async def test_failed_transaction_rolled_back(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        conn = await pool.acquire()
        async with conn.cursor() as cur:
            await cur.execute("BEGIN")
            with pytest.raises(ferropg.DataError):
                await cur.execute("SELECT 1 / 0")
        await pool.release(conn)
        async with pool.acquire() as conn2:
            assert conn2 is conn and await scalar(conn2, "SELECT 2") == 2


async def test_held_cursor_closed(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        async with pool.acquire() as conn:
            cur = await conn.cursor(name="held", withhold=True)
            await cur.execute("SELECT g FROM generate_series(1, 3) g")
            assert await scalar(conn, "SELECT count(*) FROM pg_cursors WHERE name <> ''") == 1
            # released without closing the cursor
        async with pool.acquire() as conn2:
            assert await scalar(conn2, "SELECT count(*) FROM pg_cursors WHERE name <> ''") == 0


async def test_cursor_in_transaction_closed(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        async with pool.acquire() as conn:
            async with conn.cursor() as cur:
                await cur.execute("BEGIN")
                await cur.execute("DECLARE c1 CURSOR WITH HOLD FOR SELECT 1")
                await cur.execute("DECLARE c2 CURSOR FOR SELECT 2")
        async with pool.acquire() as conn2:
            assert await scalar(conn2, "SELECT count(*) FROM pg_cursors WHERE name <> ''") == 0
            assert await scalar(conn2, "SELECT 3") == 3


async def test_listen_removed_and_notifies_drained(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        async with pool.acquire() as conn:
            async with conn.cursor() as cur:
                await cur.execute("LISTEN pool_chan")
                await cur.execute("NOTIFY pool_chan, 'left behind'")
            assert conn.notifies.qsize() == 1
        async with pool.acquire() as conn2:
            assert conn2 is conn
            assert conn2.notifies.qsize() == 0
            assert await scalar(conn2, "SELECT count(*) FROM pg_listening_channels()") == 0


async def test_listen_without_notification_removed(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        async with pool.cursor() as cur:
            await cur.execute("LISTEN quiet_chan")
        async with pool.acquire() as conn:
            assert await scalar(conn, "SELECT count(*) FROM pg_listening_channels()") == 0


async def test_listen_inside_multi_statement_removed(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        async with pool.cursor() as cur:
            await cur.execute("LISTEN multi_chan; SELECT 1")
        async with pool.acquire() as conn:
            assert await scalar(conn, "SELECT count(*) FROM pg_listening_channels()") == 0


async def test_release_after_cancelled_query(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        conn = await pool.acquire()

        async def sleeper() -> None:
            async with conn.cursor() as cur:
                await cur.execute("SELECT pg_sleep(30)")

        task = asyncio.ensure_future(sleeper())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        released = pool.release(conn)
        assert not released.done()  # the server-side cancel runs first
        await asyncio.wait_for(released, 10)
        async with pool.acquire() as again:
            assert again is conn and await scalar(again, "SELECT 5") == 5


async def test_cancelled_release_still_resets(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        conn = await pool.acquire()
        async with conn.cursor() as cur:
            await cur.execute("BEGIN")
        released = pool.release(conn)
        released.cancel()  # e.g. the releasing task was cancelled in `async with` exit
        async with pool.acquire() as again:
            assert again is conn
            assert again.raw.transaction_status == TRANSACTION_STATUS_IDLE


async def test_pool_as_async_context_manager(dsn: str) -> None:
    pool = await ferropg.create_pool(dsn, minsize=1)
    async with pool as same:
        assert same is pool
    assert pool.closed


async def test_idle_release_is_immediate(dsn: str) -> None:
    """The common case: no round trip, the future is already done."""
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        conn = await pool.acquire()
        await scalar(conn, "SELECT 1")
        released = pool.release(conn)
        assert released.done() and pool.freesize == 1
        conn = await pool.acquire()
        async with conn.cursor() as cur:
            await cur.execute("BEGIN")
        released = pool.release(conn)
        assert not released.done() and pool.size == 1 and pool.freesize == 0
        await released
        assert pool.freesize == 1


async def test_closed_connection_dropped_and_replaced(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        conn = await pool.acquire()
        conn.close()
        await pool.release(conn)
        assert (pool.size, pool.freesize) == (0, 0)
        async with pool.acquire() as conn2:
            assert conn2 is not conn and await scalar(conn2, "SELECT 1") == 1


async def test_connection_killed_while_free_is_replaced(dsn: str, conn: Any) -> None:
    async with ferropg.create_pool(dsn, minsize=2, maxsize=2) as pool:
        pids = []
        for _ in range(2):
            async with pool.acquire() as c:
                pids.append(await c.get_backend_pid())
        async with conn.cursor() as cur:
            await cur.execute("SELECT pg_terminate_backend(p) FROM unnest(%s::int[]) p", (pids,))
        await asyncio.sleep(0.2)  # the engine reads the server's goodbye
        async with pool.acquire() as c:
            assert await c.get_backend_pid() not in pids
            assert await scalar(c, "SELECT 1") == 1


async def test_server_restart_while_connections_sit_in_pool(cluster: Any) -> None:
    async with ferropg.create_pool(cluster.dsn, minsize=3, maxsize=3) as pool:
        assert pool.freesize == 3
        before = list(pool._free)
        await asyncio.get_running_loop().run_in_executor(None, cluster.restart)
        async with pool.acquire() as conn:
            assert conn not in before and all(old.closed for old in before)
            assert await scalar(conn, "SELECT 1") == 1
        assert pool.size == 3  # refilled to minsize


async def test_pool_recycle(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1, pool_recycle=0.05) as pool:
        async with pool.acquire() as first:
            pid = await first.get_backend_pid()
        async with pool.acquire() as same:
            assert same is first  # used just now: kept
        await asyncio.sleep(0.1)
        async with pool.acquire() as fresh:
            assert fresh is not first and first.closed
            assert await fresh.get_backend_pid() != pid


async def test_on_connect_once_per_connection(dsn: str) -> None:
    seen: list[Any] = []

    async def on_connect(conn: Any) -> None:
        seen.append(conn)
        async with conn.cursor() as cur:
            await cur.execute("SET application_name = 'hooked'")

    async with ferropg.create_pool(dsn, minsize=1, maxsize=2, on_connect=on_connect) as pool:
        assert len(seen) == 1
        for _ in range(3):
            async with pool.acquire() as conn:
                assert await scalar(conn, "SHOW application_name") == "hooked"
        async with pool.acquire() as a, pool.acquire() as b:
            assert {a, b} == set(seen)
        assert len(seen) == 2


async def test_on_connect_failure_frees_the_slot(dsn: str) -> None:
    calls = 0

    async def on_connect(conn: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("hook refused")

    async with ferropg.create_pool(dsn, minsize=0, maxsize=1, on_connect=on_connect) as pool:
        async with pool.acquire():
            pass
        await pool.clear()
        with pytest.raises(RuntimeError, match="hook refused"):
            await pool.acquire()
        assert pool.size == 0
        async with pool.acquire() as conn:
            assert await scalar(conn, "SELECT 1") == 1


async def test_clear(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=2, maxsize=3) as pool:
        held = await pool.acquire()
        free = list(pool._free)
        await pool.clear()
        assert (pool.freesize, pool.size) == (0, 1)
        assert all(c.closed for c in free) and not held.closed
        await pool.release(held)
        async with pool.acquire() as conn:
            assert await scalar(conn, "SELECT 1") == 1
        assert pool.size == 2  # refilled to minsize


# -- contention ------------------------------------------------------------------------


async def test_exhaustion_times_out(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1, timeout=0.2) as pool:
        async with pool.acquire():
            loop = asyncio.get_running_loop()
            start = loop.time()
            with pytest.raises(asyncio.TimeoutError):
                await pool.acquire()
            assert 0.15 < loop.time() - start < 2.0
            assert pool.size == 1 and not pool._waiters
        async with pool.acquire() as conn:
            assert await scalar(conn, "SELECT 1") == 1


async def test_cancelled_acquire_leaks_nothing(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        held = await pool.acquire()
        task = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0.05)
        assert len(pool._waiters) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not pool._waiters and pool.size == 1
        await pool.release(held)
        assert pool.freesize == 1


async def test_cancelled_after_handoff_gives_connection_back(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        held = await pool.acquire()
        first = asyncio.ensure_future(pool.acquire())
        second = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0.05)
        await pool.release(held)  # handed to `first`, which has not run yet
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        conn = await asyncio.wait_for(second, 5)
        assert conn is held and pool.size == 1
        await pool.release(conn)


async def test_cancelled_while_opening_leaves_connection_in_pool(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=0, maxsize=1) as pool:
        task = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0)  # queued; the pool started opening a connection for it
        assert pool.size == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not pool._waiters
        for _ in range(100):  # the opening finishes and lands in the free list
            if pool.freesize:
                break
            await asyncio.sleep(0.01)
        assert (pool.size, pool.freesize) == (1, 1)
        async with pool.acquire() as conn:
            assert await scalar(conn, "SELECT 1") == 1


async def test_opening_failure_reaches_the_waiter(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=0, maxsize=2, timeout=5, port=1) as pool:
        results = await asyncio.gather(pool.acquire(), pool.acquire(), return_exceptions=True)
        assert all(isinstance(r, ferropg.OperationalError) for r in results), results
        assert pool.size == 0 and not pool._waiters


async def test_waiters_served_in_order_and_maxsize_holds(dsn: str) -> None:
    maxsize = 3
    async with ferropg.create_pool(dsn, minsize=0, maxsize=maxsize) as pool:
        order: list[int] = []
        peak = 0

        async def worker(i: int) -> None:
            nonlocal peak
            async with pool.acquire() as conn:
                order.append(i)
                peak = max(peak, pool.size)
                assert pool.size <= maxsize
                await scalar(conn, "SELECT pg_sleep(0.01)")

        tasks = []
        for i in range(30):
            tasks.append(asyncio.ensure_future(worker(i)))
            await asyncio.sleep(0)  # each task queues before the next starts
        await asyncio.gather(*tasks)
        assert order == list(range(30))
        assert peak == maxsize and pool.size == maxsize
        assert pool.freesize == maxsize


async def test_many_tasks_through_cursor_shortcut(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=2, maxsize=5) as pool:
        sizes: list[int] = []

        async def one(i: int) -> int:
            async with pool.cursor() as cur:
                sizes.append(pool.size)
                await cur.execute("SELECT %s::int * 2", (i,))
                return (await cur.fetchone())[0]

        results = await asyncio.gather(*(one(i) for i in range(100)))
        assert results == [i * 2 for i in range(100)]
        assert max(sizes) <= 5 and pool.size <= 5


# -- closing ---------------------------------------------------------------------------


async def test_close_waits_for_acquired(dsn: str) -> None:
    pool = await ferropg.create_pool(dsn, minsize=2, maxsize=2)
    conn = await pool.acquire()
    pool.close()
    with pytest.raises(RuntimeError, match="after closing pool"):
        await pool.acquire()
    closing = asyncio.ensure_future(pool.wait_closed())
    await asyncio.sleep(0.05)
    assert not closing.done() and not pool.closed
    assert await scalar(conn, "SELECT 1") == 1  # still usable until released
    await pool.release(conn)
    await asyncio.wait_for(closing, 5)
    assert pool.closed and conn.closed and pool.size == 0


async def test_close_fails_queued_waiters(dsn: str) -> None:
    pool = await ferropg.create_pool(dsn, minsize=1, maxsize=1)
    conn = await pool.acquire()
    waiter = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0.05)
    pool.close()
    with pytest.raises(RuntimeError, match="after closing pool"):
        await waiter
    pool.release(conn)
    await pool.wait_closed()


async def test_wait_closed_needs_close(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=0) as pool:
        with pytest.raises(RuntimeError, match="after .close()"):
            await pool.wait_closed()


async def test_terminate_closes_acquired(dsn: str) -> None:
    pool = await ferropg.create_pool(dsn, minsize=1, maxsize=2)
    a = await pool.acquire()
    b = await pool.acquire()
    pool.terminate()
    assert a.closed and b.closed
    await asyncio.wait_for(pool.wait_closed(), 5)
    assert pool.closed and pool.size == 0
    await pool.release(a)  # releasing a terminated connection is allowed
    pool.release(b)


# -- LISTEN/NOTIFY through a pool (the aiopg documentation's program) ------------------


async def test_listen_notify_through_pool(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=2, maxsize=2) as pool:
        received: list[str] = []

        async def listen(conn: Any) -> None:
            async with conn.cursor() as cur:
                await cur.execute("LISTEN channel")
            while True:
                msg = await conn.notifies.get()
                if msg.payload == "finish":
                    return
                received.append(msg.payload)

        async def notify(conn: Any) -> None:
            async with conn.cursor() as cur:
                for i in range(5):
                    await cur.execute("NOTIFY channel, %s", (f"message {i}",))
                await cur.execute("NOTIFY channel, 'finish'")

        async with pool.acquire() as listener:
            task = asyncio.ensure_future(listen(listener))
            await asyncio.sleep(0.05)
            async with pool.acquire() as sender:
                await notify(sender)
            await asyncio.wait_for(task, 5)
        assert received == [f"message {i}" for i in range(5)]
        async with pool.acquire() as c1, pool.acquire() as c2:
            for c in (c1, c2):
                assert await scalar(c, "SELECT count(*) FROM pg_listening_channels()") == 0


async def test_late_close_of_a_named_cursor_leaves_the_next_borrower_alone(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1) as pool:
        conn = await pool.acquire()
        stale = await conn.cursor(name="stale")
        await stale.execute("SELECT 1")  # the cursor began its own transaction
        await pool.release(conn)  # left open: the pool rolls back
        conn2 = await pool.acquire()
        assert conn2 is conn
        cur = await conn2.cursor()
        await cur.execute("CREATE TEMP TABLE late_close (x int)")
        await cur.execute("BEGIN")
        await cur.execute("INSERT INTO late_close VALUES (1)")
        await stale.close()  # must not COMMIT the second borrower's transaction
        await cur.execute("ROLLBACK")
        await cur.execute("SELECT count(*) FROM late_close")
        assert await cur.fetchone() == (0,)
        cur.close()
        await pool.release(conn2)
