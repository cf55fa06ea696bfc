"""Timeouts, task cancellation, Connection.cancel() and a server that goes away."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import ferropg
from ferropg import errors, extensions


async def _running_queries(dsn: str, pid: int) -> list[str]:
    async with ferropg.connect(dsn) as watcher:
        cur = await watcher.cursor()
        await cur.execute("SELECT query FROM pg_stat_activity WHERE pid = %s AND state = 'active'", (pid,))
        return [row[0] for row in await cur.fetchall()]


async def test_execute_timeout_cancels_server_query(conn: Any, cur: Any, dsn: str) -> None:
    pid = await conn.get_backend_pid()
    with pytest.raises(asyncio.TimeoutError):
        await cur.execute("SELECT pg_sleep(600)", timeout=0.3)
    # The next statement waits for the cancellation, then runs normally. Had the server
    # not cancelled the sleep, it would wait 600 s: the liveness bound below fails first.
    await asyncio.wait_for(cur.execute("SELECT 42"), 30)
    assert await cur.fetchone() == (42,)
    assert await _running_queries(dsn, pid) == []
    assert not conn.closed


async def test_cursor_timeout_applies(conn: Any) -> None:
    cur = await conn.cursor(timeout=0.2)
    with pytest.raises(asyncio.TimeoutError):
        await cur.execute("SELECT pg_sleep(5)")
    await cur.execute("SELECT 'after'")
    assert await cur.fetchone() == ("after",)
    cur.close()


async def test_connection_timeout_is_default_for_cursors(dsn: str) -> None:
    async with ferropg.connect(dsn, timeout=0.3) as conn:
        cur = await conn.cursor()
        with pytest.raises(asyncio.TimeoutError):
            await cur.execute("SELECT pg_sleep(5)")
        await cur.execute("SELECT 1")
        assert await cur.fetchone() == (1,)


async def test_cancelled_task_leaves_connection_usable(conn: Any, cur: Any, dsn: str) -> None:
    pid = await conn.get_backend_pid()
    task = asyncio.ensure_future(cur.execute("SELECT pg_sleep(600)"))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Only a server-side cancel lets this run before the 600 s sleep ends.
    await asyncio.wait_for(cur.execute("SELECT 'still here'"), 30)
    assert await cur.fetchone() == ("still here",)
    assert await _running_queries(dsn, pid) == []
    assert await conn.get_transaction_status() == extensions.TRANSACTION_STATUS_IDLE


async def test_cancelled_inside_transaction_keeps_the_session(conn: Any, cur: Any) -> None:
    await cur.execute("BEGIN")
    task = asyncio.ensure_future(cur.execute("SELECT pg_sleep(10)"))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the cancelled statement aborted the caller's transaction, as on the server
    with pytest.raises(errors.InFailedSqlTransaction):
        await cur.execute("SELECT 1")
    await cur.execute("ROLLBACK")
    await cur.execute("SELECT 2")
    assert await cur.fetchone() == (2,)


async def test_connection_cancel_raises_query_canceled(conn: Any, cur: Any) -> None:
    await conn.cancel()  # nothing runs: nothing happens
    task = asyncio.ensure_future(cur.execute("SELECT pg_sleep(10)"))
    await asyncio.sleep(0.2)
    await conn.cancel()
    with pytest.raises(extensions.QueryCanceledError) as info:
        await task
    assert isinstance(info.value, ferropg.OperationalError)
    assert info.value.pgcode == "57014"
    await cur.execute("SELECT 3")
    assert await cur.fetchone() == (3,)


async def test_terminated_backend_raises_operational_error(conn: Any, cur: Any, dsn: str) -> None:
    pid = await conn.get_backend_pid()
    await cur.execute("LISTEN going_away")
    task = asyncio.ensure_future(cur.execute("SELECT pg_sleep(10)"))
    await asyncio.sleep(0.2)
    async with ferropg.connect(dsn) as killer:
        kcur = await killer.cursor()
        await kcur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert await kcur.fetchone() == (True,)
    with pytest.raises(ferropg.OperationalError):
        await asyncio.wait_for(task, 30)  # a hang guard, not a speed claim
    assert conn.closed
    assert cur.closed
    with pytest.raises(ferropg.InterfaceError):
        await cur.execute("SELECT 1")
    # the notifies queue reports the loss instead of waiting forever
    with pytest.raises(ferropg.OperationalError):
        await asyncio.wait_for(conn.notifies.get(), 5)


async def test_terminated_while_idle_closes_and_fails_notifies(conn: Any, cur: Any, dsn: str) -> None:
    pid = await conn.get_backend_pid()
    await cur.execute("LISTEN idle_loss")
    waiter = asyncio.ensure_future(conn.notifies.get())
    async with ferropg.connect(dsn) as killer:
        kcur = await killer.cursor()
        await kcur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(ferropg.Error):
        await asyncio.wait_for(waiter, 5)
    assert conn.closed


async def test_close_fails_the_running_query(dsn: str) -> None:
    conn = await ferropg.connect(dsn)
    cur = await conn.cursor()
    task = asyncio.ensure_future(cur.execute("SELECT pg_sleep(10)"))
    await asyncio.sleep(0.1)
    conn.close()
    with pytest.raises(ferropg.Error):
        await asyncio.wait_for(task, 5)
    assert conn.closed


async def test_shorter_timeout_after_longer_ones_still_fires(conn: Any, cur: Any) -> None:
    # The engine keeps one timer per connection: a request with an earlier deadline than
    # the armed timer must re-arm it, or this sleep would end normally after 3 s.
    for _ in range(3):
        await cur.execute("SELECT 1", timeout=60)
    with pytest.raises(asyncio.TimeoutError):
        await cur.execute("SELECT pg_sleep(3)", timeout=0.2)
    await cur.execute("SELECT 'usable'")
    assert await cur.fetchone() == ("usable",)


async def test_timer_left_by_a_finished_request_does_not_time_out_the_next(conn: Any, cur: Any) -> None:
    # The timer armed for the first request fires while the second runs; the second's
    # own deadline is later, so it is re-armed instead of timing the second out.
    await cur.execute("SELECT 1", timeout=0.1)
    await cur.execute("SELECT pg_sleep(0.4), 'done'", timeout=30)
    assert await cur.fetchone() == ("", "done")


async def test_zero_or_negative_timeout_times_out_at_once(conn: Any, cur: Any) -> None:
    for timeout in (0, -1.0):
        with pytest.raises(asyncio.TimeoutError):
            await cur.execute("SELECT pg_sleep(3)", timeout=timeout)
    await cur.execute("SELECT 'after'")
    assert await cur.fetchone() == ("after",)


async def test_nan_timeout_is_refused_before_anything_is_sent(conn: Any, cur: Any) -> None:
    with pytest.raises(ValueError, match="timeout must be a number of seconds, got nan"):
        await cur.execute("SELECT 1", timeout=float("nan"))
    assert not conn.isexecuting()
    await cur.execute("SELECT 2")
    assert await cur.fetchone() == (2,)


async def test_isexecuting_while_a_request_runs_and_after_cancel(conn: Any, cur: Any) -> None:
    assert not conn.isexecuting()
    task = asyncio.ensure_future(cur.execute("SELECT pg_sleep(10)"))
    await asyncio.sleep(0.1)
    assert conn.isexecuting()
    assert conn.raw.in_flight == "cursor.execute"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert conn.raw.in_flight is None  # nobody waits any more; the cleanup drains it
    await cur.execute("SELECT 5")
    assert await cur.fetchone() == (5,)
    assert not conn.isexecuting()


async def test_second_caller_during_cleanup_is_refused(conn: Any, cur: Any) -> None:
    # After a timeout, the next request waits for the cancelled one to be drained,
    # holding the connection: a third caller meanwhile is refused, not interleaved.
    with pytest.raises(asyncio.TimeoutError):
        await cur.execute("SELECT pg_sleep(10)", timeout=0.1)
    waiting = asyncio.ensure_future(cur.execute("SELECT 'first'"))
    await asyncio.sleep(0)
    other = await conn.cursor()
    # the cancel goes over a side connection: one loop step cannot have finished it
    assert conn._cleanup is not None
    with pytest.raises(RuntimeError, match=r"cursor.execute\(\) called while another coroutine"):
        await other.execute("SELECT 'second'")
    await waiting
    assert await cur.fetchone() == ("first",)


async def test_request_timeouts_leave_no_timer_in_the_loop(conn: Any, cur: Any) -> None:
    # A pending loop timer makes every iteration of asyncio's loop dearer; the engine's
    # deadlines are watched by a thread instead, which wakes the loop through a socket.
    loop = asyncio.get_running_loop()
    if not hasattr(loop, "_scheduled"):
        pytest.skip("only asyncio's own loop exposes its timer heap")
    await cur.execute("SELECT 1", timeout=30)
    assert [h for h in loop._scheduled if not h.cancelled()] == []


async def test_engine_requests_without_a_caller_name_are_not_timed(conn: Any) -> None:
    # Housekeeping requests (no `what`) skip the one-waiter rule, so they cannot be timed
    # out either: asking for both is refused before anything is sent.
    with pytest.raises(ValueError, match="a timeout applies to a caller's request"):
        conn.raw.execute("SELECT 1", None, 5.0)
    result = await conn.raw.execute("SELECT 1", None)
    assert result.rows == [(1,)]


async def test_close_releases_the_alarm_descriptors(dsn: str) -> None:
    # Each connection holds its server socket and an alarm socketpair for timeouts;
    # close() gives all three back even while the connection object lives on.
    import os

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = open_fds()
    conn = await ferropg.connect(dsn)
    assert open_fds() - before >= 3
    cur = await conn.cursor()
    await cur.execute("SELECT 1", timeout=10)
    conn.close()
    assert open_fds() == before
    with pytest.raises(ferropg.InterfaceError):
        await cur.execute("SELECT 1")


async def test_executemany_times_out_and_cancels(conn: Any, cur: Any, dsn: str) -> None:
    # executemany goes through Connection._request, not the cursor's inlined path
    pid = await conn.get_backend_pid()
    with pytest.raises(asyncio.TimeoutError):
        await cur.executemany("SELECT pg_sleep(%s)", [(0,), (600,)], timeout=0.3)
    await asyncio.wait_for(cur.execute("SELECT 'after many'"), 30)  # a hang guard
    assert await cur.fetchone() == ("after many",)
    assert await _running_queries(dsn, pid) == []


async def test_named_cursor_fetch_times_out_and_cancels(conn: Any, dsn: str) -> None:
    # the FETCH is what runs the query on the server: its timeout is the cursor's
    pid = await conn.get_backend_pid()
    cur = await conn.cursor("slow", timeout=0.3)
    await cur.execute("SELECT pg_sleep(600)")
    with pytest.raises(asyncio.TimeoutError):
        await cur.fetchall()
    # the cancelled FETCH aborted the transaction the cursor began; closing ends it
    await cur.close()
    plain = await conn.cursor()
    await asyncio.wait_for(plain.execute("SELECT 'after fetch'"), 30)
    assert await plain.fetchone() == ("after fetch",)
    assert await _running_queries(dsn, pid) == []


async def test_timeouts_too_long_to_represent_mean_none(conn: Any, cur: Any) -> None:
    for timeout in (float("inf"), 1e300):
        await cur.execute("SELECT 1", timeout=timeout)
        assert await cur.fetchone() == (1,)
