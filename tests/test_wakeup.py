"""The engine's futures on the caller's loop (connection.rs): a task awaiting one is woken
by the reader callback that resolves it, not through call_soon and another pass of the
loop (`Outbox::deliver`), and they are made as the loop's create_future makes them."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
from typing import Any

import pytest

import ferropg


def _task_wakeups(calls: list[Any]) -> list[Any]:
    return [c for c in calls if getattr(c, "__name__", "") == "task_wakeup"]


@pytest.fixture
async def scheduled(monkeypatch: Any) -> list[Any]:
    """The callbacks handed to the running loop's call_soon from now on."""
    loop = asyncio.get_running_loop()
    calls: list[Any] = []
    real_call_soon = loop.call_soon

    def call_soon(callback: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(callback)
        return real_call_soon(callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_soon", call_soon)
    return calls


async def test_a_query_wakes_its_task_without_the_loop(cur: Any, scheduled: list[Any]) -> None:
    for i in range(5):
        await cur.execute("SELECT %s", (i,))
        assert await cur.fetchall() == [(i,)]
    assert _task_wakeups(scheduled) == []


async def test_errors_wake_their_task_the_same_way(cur: Any, scheduled: list[Any]) -> None:
    with pytest.raises(ferropg.ProgrammingError):
        await cur.execute("SELECT * FROM no_such_table")
    await cur.execute("SELECT 1")
    assert _task_wakeups(scheduled) == []


async def test_other_callbacks_still_go_through_the_loop(conn: Any, dsn: str, scheduled: list[Any]) -> None:
    native = conn.raw
    seen: list[Any] = []
    answer = native.execute("SELECT 1", None)
    answer.add_done_callback(lambda f: seen.append(f.result().rows))
    assert (await answer).rows == [(1,)]  # two callbacks: both through the loop
    await asyncio.sleep(0)
    assert seen == [[(1,)]]
    assert len(_task_wakeups(scheduled)) == 1
    # wait_for and gather wait through callbacks of their own
    assert (await asyncio.wait_for(native.execute("SELECT 2", None), 10)).rows == [(2,)]
    async with ferropg.connect(dsn) as other:
        both = await asyncio.gather(native.execute("SELECT 3", None), other.raw.execute("SELECT 4", None))
    assert [r.rows for r in both] == [[(3,)], [(4,)]]


_TWO_TASKS_ONE_READ = """
import asyncio, sys, time
import ferropg

unraisable = []
sys.unraisablehook = unraisable.append
loop = asyncio.new_event_loop()
conn = loop.run_until_complete(ferropg.connect(sys.argv[1]))
tasks = []

async def exits(answer):
    await answer
    raise SystemExit(3)

async def returns(answer):
    return (await answer).rows

async def start():
    tasks.append(loop.create_task(exits(conn.raw.execute("SELECT 1", None))))
    tasks.append(loop.create_task(returns(conn.raw.execute("SELECT 2", None))))
    await asyncio.sleep(0)  # both tasks now wait on their answers
    time.sleep(0.3)  # holds the loop: both answers arrive before the next read
    await asyncio.sleep(5)  # SystemExit leaves the loop first

try:
    loop.run_until_complete(start())
except SystemExit as exc:
    print("SystemExit", exc.code)
first, second = tasks
print("first done", first.done(), "second done", second.done())
print("second", loop.run_until_complete(second))
loop.run_until_complete(conn.close())
print("unraisable", unraisable)
"""


def test_system_exit_in_a_woken_task_leaves_the_loop(dsn: str) -> None:
    # Two answers read at once wake two tasks; the first raises SystemExit, which leaves
    # the loop as asyncio lets it (in a child process: it unwinds the whole loop), and
    # the second is then woken through the loop.
    child = subprocess.run(
        [sys.executable, "-c", _TWO_TASKS_ONE_READ, dsn], capture_output=True, text=True, timeout=60
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.splitlines() == [
        "SystemExit 3",
        "first done True second done False",
        "second [(2,)]",
        "unraisable []",
    ]


def test_a_loop_with_its_own_create_future_is_asked_for_futures(dsn: str) -> None:
    # On asyncio's own loops the engine makes its futures by calling asyncio.Future, as
    # their create_future does; a loop that overrides create_future is still asked.
    class CountingLoop(asyncio.SelectorEventLoop):
        made = 0

        def create_future(self) -> asyncio.Future[Any]:
            CountingLoop.made += 1
            return super().create_future()

    async def one_query() -> tuple[int, Any]:
        async with ferropg.connect(dsn) as conn:
            cur = await conn.cursor()
            before = CountingLoop.made
            await cur.execute("SELECT 1")
            return CountingLoop.made - before, await cur.fetchall()

    loop = CountingLoop()
    try:
        assert loop.run_until_complete(one_query()) == (1, [(1,)])
    finally:
        loop.close()


async def _random_fates(dsn: str) -> None:
    """On five connections, 200 queries of random length, some cancelled and some timed
    out: every task ends with its rows or the error it was given, and every connection
    still works afterwards."""
    rng = random.Random(20261123)
    conns = [await ferropg.connect(dsn) for _ in range(5)]
    try:

        async def worker(conn: Any, plan: list[tuple[float, str]]) -> list[str]:
            cur = await conn.cursor()
            outcomes = []
            for delay, fate in plan:
                query = cur.execute("SELECT pg_sleep(%s), 7", (delay,), timeout=0.02 if fate == "timeout" else None)
                task = asyncio.ensure_future(query)
                if fate == "cancel":
                    await asyncio.sleep(rng.uniform(0, 0.01))
                    task.cancel()
                try:
                    await task
                    assert await cur.fetchall() == [("", 7)]
                    outcomes.append("rows")
                except asyncio.CancelledError:
                    outcomes.append("cancelled")
                except asyncio.TimeoutError:
                    outcomes.append("timeout")
            return outcomes

        plans = [
            [(rng.choice([0, 0, 0.001, 0.05]), rng.choice(["run", "run", "cancel", "timeout"])) for _ in range(40)]
            for _ in conns
        ]
        results = await asyncio.wait_for(asyncio.gather(*(worker(c, p) for c, p in zip(conns, plans))), 60)
        for plan, outcomes in zip(plans, results):
            for (delay, fate), outcome in zip(plan, outcomes):
                if fate == "run":
                    assert outcome == "rows"
                elif fate == "timeout" and delay >= 0.05:
                    assert outcome == "timeout"
        for conn in conns:
            cur = await conn.cursor()
            await cur.execute("SELECT 1")
            assert await cur.fetchall() == [(1,)]
    finally:
        for conn in conns:
            await conn.close()


async def test_many_tasks_cancelled_and_timed_out_at_random_all_finish(dsn: str) -> None:
    # tasks woken in place must not change what cancellation and timeouts do
    await _random_fates(dsn)


def test_the_same_on_uvloop(dsn: str) -> None:
    uvloop = pytest.importorskip("uvloop")
    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(_random_fates(dsn))
    finally:
        loop.close()
