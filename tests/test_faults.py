"""A server that goes away, stalls or sends garbage: errors come promptly, never a hang.

Most tests talk to the server through tests/fault_proxy.py (plain TCP, sslmode=disable,
so a corrupted byte is a protocol error and not a TLS one).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest

import ferropg
import ferropg.connection
from ferropg import errors

from fault_proxy import FaultProxy

# No test here may hang: each statement gets this bound and a test failing on it
# (asyncio.TimeoutError) means the engine waited where it should have failed.
PROMPT = 5.0


@pytest.fixture
async def proxy(cluster: Any) -> AsyncIterator[FaultProxy]:
    p = await FaultProxy.start(cluster.host, cluster.port)
    try:
        yield p
    finally:
        await p.close()


@pytest.fixture
async def pconn(cluster: Any, proxy: FaultProxy) -> AsyncIterator[Any]:
    """A connection through the proxy."""
    conn = await ferropg.connect(cluster.make_dsn(host=proxy.host, port=proxy.port, sslmode="disable"))
    try:
        yield conn
    finally:
        conn.close()
        # let background cleanup tasks (cancel, drain) see the close and finish
        await asyncio.sleep(0.05)


async def _elapsed(coro: Any) -> tuple[BaseException, float]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(BaseException) as info:
        await coro
    return info.value, loop.time() - start


async def _active_queries(dsn: str, pid: int) -> list[str]:
    async with ferropg.connect(dsn) as watcher:
        cur = await watcher.cursor()
        await cur.execute("SELECT query FROM pg_stat_activity WHERE pid = %s AND state = 'active'", (pid,))
        return [row[0] for row in await cur.fetchall()]


async def test_pass_through(pconn: Any, proxy: FaultProxy) -> None:
    cur = await pconn.cursor()
    await cur.execute("SELECT %s || 'b', 2", ("a",))
    assert await cur.fetchall() == [("ab", 2)]
    assert proxy.accepted == 1
    assert proxy.links[0].server_bytes > 0


# -- the connection is cut -------------------------------------------------------------


@pytest.mark.parametrize("after", [0, 3, 2000])
async def test_cut_mid_query(pconn: Any, proxy: FaultProxy, after: int) -> None:
    cur = await pconn.cursor()
    proxy.cut_after(after)
    exc, took = await _elapsed(
        cur.execute("SELECT repeat('x', 100) FROM generate_series(1, 100000)", timeout=PROMPT)
    )
    assert isinstance(exc, ferropg.OperationalError), repr(exc)
    assert "server closed the connection unexpectedly" in str(exc)
    assert took < 2
    assert pconn.closed
    assert cur.closed
    with pytest.raises(ferropg.InterfaceError, match="already closed"):
        await cur.execute("SELECT 1")


async def test_cut_while_idle_fails_notifies_and_next_query(pconn: Any, proxy: FaultProxy) -> None:
    cur = await pconn.cursor()
    await cur.execute("LISTEN fault_chan")
    waiter = asyncio.ensure_future(pconn.notifies.get())
    proxy.cut_after(0)
    proxy.links[0].abort()
    with pytest.raises(ferropg.OperationalError, match="server closed the connection unexpectedly"):
        await asyncio.wait_for(waiter, PROMPT)
    assert pconn.closed
    with pytest.raises(ferropg.Error):
        await cur.execute("SELECT 1", timeout=PROMPT)


# -- the server stops answering ----------------------------------------------------------


async def test_stall_times_out_and_the_cancel_reaches_the_server(
    pconn: Any, proxy: FaultProxy, cluster: Any
) -> None:
    pid = await pconn.get_backend_pid()
    cur = await pconn.cursor(timeout=0.5)
    task = asyncio.ensure_future(cur.execute("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.2)  # the query is on the server now
    proxy.stall()  # the answers stop; new connections (the cancel) still pass
    exc, took = await _elapsed(task)
    assert isinstance(exc, asyncio.TimeoutError), repr(exc)
    assert took < 1.5
    # The CancelRequest goes to the host/port the connection was opened with (the
    # proxy), on a side connection the proxy lets through to the server.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PROMPT
    while await _active_queries(cluster.dsn, pid) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    assert await _active_queries(cluster.dsn, pid) == []
    assert proxy.accepted == 2
    # the cancelled query's error is held in the proxy: once it flows, the session drains
    proxy.resume()
    await cur.execute("SELECT 'after the stall'", timeout=PROMPT)
    assert await cur.fetchone() == ("after the stall",)
    assert not pconn.closed


async def test_stall_before_the_query_reaches_the_server(pconn: Any, proxy: FaultProxy) -> None:
    cur = await pconn.cursor()
    proxy.stall()
    exc, took = await _elapsed(cur.execute("SELECT 41 + 1", timeout=0.3))
    assert isinstance(exc, asyncio.TimeoutError), repr(exc)
    assert took < 1.5
    proxy.resume()  # the held query runs now; its late result is dropped
    await cur.execute("SELECT 'next'", timeout=PROMPT)
    assert await cur.fetchone() == ("next",)


async def test_stall_forever_closes_the_connection(
    pconn: Any, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ferropg.connection, "_CANCEL_TIMEOUT", 0.3)
    monkeypatch.setattr(ferropg.connection, "_DRAIN_TIMEOUT", 0.3)
    cur = await pconn.cursor()
    proxy.stall(new_connections=True)  # the cancel's side connection hangs too
    exc, took = await _elapsed(cur.execute("SELECT 1", timeout=0.3))
    assert isinstance(exc, asyncio.TimeoutError), repr(exc)
    assert took < 1.5
    # the next statement waits for the cleanup, which gives up and closes the session
    exc, took = await _elapsed(cur.execute("SELECT 2", timeout=PROMPT))
    assert isinstance(exc, ferropg.InterfaceError), repr(exc)
    assert "closed" in str(exc)
    assert took < 2
    assert pconn.closed


# -- the server sends garbage --------------------------------------------------------------


def _msg(tag: bytes, body: bytes) -> bytes:
    return tag + struct.pack("!I", len(body) + 4) + body


# Bytes that break the framing: nothing after them can be trusted, so the connection closes.
FRAMING = {
    "unknown tag": (b"\x01\x00\x00\x00\x04", "unknown message tag"),
    "absurd length": (b"D\x7f\xff\xff\xff", "invalid length"),
    "length below 4": (b"D\x00\x00\x00\x02", "invalid length"),
    "max length": (b"D\xff\xff\xff\xff", "invalid length"),
    "bad ready status": (_msg(b"Z", b"X"), "unknown transaction status"),
    "short ready body": (_msg(b"Z", b""), "malformed"),
    "auth after startup": (_msg(b"R", b"\x00\x00\x00\x00"), "unexpected Authentication"),
    "key data after startup": (_msg(b"K", b"\x00\x00\x00\x01\x00\x00\x00\x02"), "unexpected BackendKeyData"),
    "command tag without NUL": (_msg(b"C", b"SELECT"), "malformed"),
    "notice fields without NUL": (_msg(b"N", b"SX"), "malformed"),
    "short notification": (_msg(b"A", b"\x00\x00"), "malformed"),
    "parameter status without NUL": (_msg(b"S", b"abc"), "malformed"),
}


@pytest.mark.parametrize("payload, words", FRAMING.values(), ids=list(FRAMING))
async def test_corrupt_stream_closes_the_connection(
    pconn: Any, proxy: FaultProxy, payload: bytes, words: str
) -> None:
    cur = await pconn.cursor()
    proxy.corrupt_after(0, payload)
    exc, took = await _elapsed(cur.execute("SELECT 1", timeout=PROMPT))
    assert isinstance(exc, ferropg.InterfaceError), repr(exc)
    assert words in str(exc) and "the connection is closed" in str(exc)
    assert took < 2
    assert pconn.closed


def _int4_description(fmt: int) -> bytes:
    field = b"a\x00" + struct.pack("!IhIhih", 0, 0, 23, 4, -1, fmt)
    return _msg(b"T", b"\x00\x01" + field)


def _text_description(fmt: int) -> bytes:
    field = b"a\x00" + struct.pack("!IhIhih", 0, 0, 25, -1, -1, fmt)
    return _msg(b"T", b"\x00\x01" + field)


# Well-framed messages with a bad body: as libpq, the request fails but the stream is
# still in step, so the error is raised at the ReadyForQuery that ends the request.
CONTENT = {
    "error fields without NUL": (_msg(b"E", b"SERROR"), ferropg.InterfaceError, "malformed server data"),
    "row before description": (
        _msg(b"D", b"\x00\x01\x00\x00\x00\x01x"),
        ferropg.InterfaceError,
        "DataRow without RowDescription",
    ),
    "description cut short": (_msg(b"T", b"\x00\x02abc"), ferropg.InterfaceError, "malformed server data"),
    "more values than columns": (
        _int4_description(0) + _msg(b"D", b"\x00\x02\x00\x00\x00\x011\x00\x00\x00\x011"),
        ferropg.InterfaceError,
        "DataRow has 2 columns, its RowDescription 1",
    ),
    "fewer values than columns": (
        _int4_description(0) + _msg(b"D", b"\x00\x00"),
        ferropg.InterfaceError,
        "DataRow has 0 columns, its RowDescription 1",
    ),
    "bytes after the last value": (
        _int4_description(0) + _msg(b"D", b"\x00\x01\x00\x00\x00\x011zz"),
        ferropg.InterfaceError,
        "DataRow has 2 bytes after its last column",
    ),
    "binary int4 of 2 bytes": (
        _int4_description(1) + _msg(b"D", b"\x00\x01\x00\x00\x00\x02ab"),
        ferropg.DataError,
        "malformed integer value",
    ),
    "text that is not UTF-8": (
        _text_description(1) + _msg(b"D", b"\x00\x01\x00\x00\x00\x04ok \xff"),
        ferropg.DataError,
        "malformed text value received from the server: 'utf-8' codec can't decode byte 0xff",
    ),
    "value longer than the row": (
        _int4_description(0) + _msg(b"D", b"\x00\x01\x00\x00\x10\x00ab"),
        ferropg.InterfaceError,
        "malformed server data",
    ),
}


@pytest.mark.parametrize("payload, exc_type, words", CONTENT.values(), ids=list(CONTENT))
async def test_corrupt_message_body_fails_the_request(
    pconn: Any, proxy: FaultProxy, payload: bytes, exc_type: type, words: str
) -> None:
    cur = await pconn.cursor()
    proxy.corrupt_after(0, payload + _msg(b"Z", b"I"))
    exc, took = await _elapsed(cur.execute("SELECT 1", timeout=PROMPT))
    assert isinstance(exc, exc_type), repr(exc)
    assert words in str(exc)
    assert took < 2


async def test_garbage_in_the_middle_of_a_large_result(pconn: Any, proxy: FaultProxy) -> None:
    cur = await pconn.cursor()
    proxy.corrupt_after(5000, b"\xff" * 70000)
    exc, took = await _elapsed(
        cur.execute("SELECT g, repeat('y', 50) FROM generate_series(1, 50000) g", timeout=PROMPT)
    )
    assert isinstance(exc, (ferropg.InterfaceError, ferropg.OperationalError)), repr(exc)
    assert "malformed" in str(exc) or "invalid length" in str(exc)
    assert took < 2
    assert pconn.closed


async def test_message_while_idle_closes_the_connection(pconn: Any, proxy: FaultProxy) -> None:
    cur = await pconn.cursor()
    await cur.execute("LISTEN idle_garbage")
    waiter = asyncio.ensure_future(pconn.notifies.get())
    proxy.inject(_msg(b"D", b"\x00\x00"))
    with pytest.raises(ferropg.InterfaceError, match="DataRow"):
        await asyncio.wait_for(waiter, PROMPT)
    assert pconn.closed


# -- the server itself goes away ------------------------------------------------------------


async def _wait_closed(conn: Any) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PROMPT
    while not conn.closed and loop.time() < deadline:
        await asyncio.sleep(0.02)


# aiopg 1.4 on psycopg2 notices an idle connection's loss at once (its reader polls) and
# the next statement raises InterfaceError("cursor already closed"); ferropg does the
# same. The reason (the server's FATAL, AdminShutdown) is what conn.notifies raises.


async def _lost_idle_connection_behaves_as_aiopg(conn: Any, cur: Any) -> None:
    waiter = asyncio.ensure_future(conn.notifies.get())
    await _wait_closed(conn)
    assert conn.closed
    with pytest.raises(errors.AdminShutdown, match="terminating connection due to administrator command"):
        await asyncio.wait_for(waiter, PROMPT)
    exc, took = await _elapsed(cur.execute("SELECT 1", timeout=PROMPT))
    assert isinstance(exc, ferropg.InterfaceError), repr(exc)
    assert str(exc) == "cursor already closed"
    assert took < 1
    with pytest.raises(ferropg.InterfaceError, match="connection already closed"):
        await conn.cursor()


async def test_server_restart_while_idle(cluster: Any) -> None:
    conn = await ferropg.connect(cluster.dsn)
    try:
        cur = await conn.cursor()
        await cur.execute("SELECT 1")
        assert isinstance(errors.AdminShutdown("x"), ferropg.OperationalError)
        await asyncio.get_running_loop().run_in_executor(None, cluster.restart)
        await _lost_idle_connection_behaves_as_aiopg(conn, cur)
    finally:
        conn.close()
    async with ferropg.connect(cluster.dsn) as fresh:  # the server is back
        fcur = await fresh.cursor()
        await fcur.execute("SELECT 2")
        assert await fcur.fetchone() == (2,)


async def test_terminate_backend_while_idle(conn: Any, cur: Any, dsn: str) -> None:
    pid = await conn.get_backend_pid()
    async with ferropg.connect(dsn) as killer:
        kcur = await killer.cursor()
        await kcur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert await kcur.fetchone() == (True,)
    await _lost_idle_connection_behaves_as_aiopg(conn, cur)


async def test_terminate_backend_mid_query_raises_admin_shutdown(conn: Any, cur: Any, dsn: str) -> None:
    pid = await conn.get_backend_pid()
    task = asyncio.ensure_future(cur.execute("SELECT pg_sleep(30)", timeout=PROMPT * 2))
    await asyncio.sleep(0.2)
    async with ferropg.connect(dsn) as killer:
        kcur = await killer.cursor()
        await kcur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    exc, took = await _elapsed(task)
    # psycopg2 says the same in a plain OperationalError; AdminShutdown is one of those
    assert isinstance(exc, errors.AdminShutdown), repr(exc)
    assert isinstance(exc, ferropg.OperationalError)
    assert "terminating connection due to administrator command" in str(exc)
    assert took < 2
    assert conn.closed


async def test_unknown_host_name_is_explained(pg: Any) -> None:
    with pytest.raises(ferropg.OperationalError) as info:
        await ferropg.connect(f"host=no-such-host.invalid port=5432 user={pg.user} connect_timeout=5")
    text = str(info.value)
    assert 'connection to server at "no-such-host.invalid", port 5432 failed' in text
    assert "could not translate host name to address" in text
    assert "Unknown error" not in text


# -- faults while connecting -----------------------------------------------------------------


def _proxy_dsn(cluster: Any, proxy: FaultProxy, **kw: Any) -> str:
    return cluster.make_dsn(host=proxy.host, port=proxy.port, **kw)


@pytest.mark.parametrize("sslmode", ["disable", "require"])
@pytest.mark.parametrize("after", [0, 1, 9, 40, 200, 400])
async def test_cut_during_startup(cluster: Any, proxy: FaultProxy, sslmode: str, after: int) -> None:
    # the scram role makes startup a real exchange: SASL rounds before AuthenticationOk
    role = "ferropg_scram"
    proxy.cut_after(after, new_connections=True)
    dsn = _proxy_dsn(cluster, proxy, sslmode=sslmode, user=role, password=cluster.passwords[role])
    exc, took = await _elapsed(ferropg.connect(dsn, timeout=PROMPT))
    assert isinstance(exc, ferropg.OperationalError), repr(exc)
    assert f'connection to server at "{proxy.host}", port {proxy.port} failed' in str(exc)
    assert took < 2


async def test_stall_during_startup_times_out(cluster: Any, proxy: FaultProxy) -> None:
    proxy.stall(new_connections=True)
    exc, took = await _elapsed(ferropg.connect(_proxy_dsn(cluster, proxy), timeout=0.5))
    assert isinstance(exc, asyncio.TimeoutError), repr(exc)
    assert took < 1.5


@pytest.mark.parametrize(
    "sslmode, answer, words",
    [
        ("prefer", b"X", "received invalid response to SSL negotiation: 'X'"),
        ("require", b"N", "server does not support SSL, but SSL was required"),
        # plaintext queued behind the 'S' must not be read as if it came over TLS
        ("require", b"S" + _msg(b"R", b"\x00\x00\x00\x00") + _msg(b"Z", b"I"), "TLS"),
        ("prefer", b"E", "invalid response to SSL negotiation"),
    ],
)
async def test_bad_answer_to_ssl_request(
    cluster: Any, proxy: FaultProxy, sslmode: str, answer: bytes, words: str
) -> None:
    proxy.corrupt_after(0, answer, new_connections=True)
    exc, took = await _elapsed(ferropg.connect(_proxy_dsn(cluster, proxy, sslmode=sslmode), timeout=PROMPT))
    assert isinstance(exc, ferropg.OperationalError), repr(exc)
    assert words in str(exc)
    assert took < 2


@pytest.mark.parametrize(
    "payload, words",
    [
        (_msg(b"R", b"\x00\x00\x00\x63"), "unknown authentication tag `99`"),
        (_msg(b"R", b"\x00\x00\x00\x05\x01\x02\x03"), "malformed"),  # md5 with a short salt
        (_msg(b"D", b"\x00\x00"), "unexpected DataRow"),
        (_msg(b"Z", b"I"), "unexpected ReadyForQuery"),
        (b"\x00\x00\x00\x00\x00", "invalid length 0"),
    ],
)
async def test_garbage_during_authentication(cluster: Any, proxy: FaultProxy, payload: bytes, words: str) -> None:
    proxy.corrupt_after(0, payload, new_connections=True)
    exc, took = await _elapsed(ferropg.connect(_proxy_dsn(cluster, proxy, sslmode="disable"), timeout=PROMPT))
    assert isinstance(exc, ferropg.OperationalError), repr(exc)
    assert words in str(exc)
    assert took < 2
