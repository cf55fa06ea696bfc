"""ferropg.connect and Connection against a real server, psycopg2 as the oracle."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import sys
from typing import Any

import psycopg2
import pytest

import ferropg
from ferropg import errors, extensions
from ferropg.extras import DictCursor, DictRow


async def test_connect_await_and_async_with(dsn: str) -> None:
    conn = await ferropg.connect(dsn)
    assert not conn.closed
    fut = conn.close()
    assert isinstance(fut, asyncio.Future) and fut.done()
    await fut
    assert conn.closed
    await conn.close()  # closing twice is harmless

    async with ferropg.connect(dsn) as conn2:
        cur = await conn2.cursor()
        await cur.execute("SELECT 1")
        assert await cur.fetchone() == (1,)
    assert conn2.closed

    async with await ferropg.connect(dsn) as conn3:
        assert not conn3.closed
    assert conn3.closed


async def test_connect_keyword_arguments(pg: Any) -> None:
    async with ferropg.connect(host=pg.host, port=pg.port, user=pg.user, database=pg.dbname) as conn:
        cur = await conn.cursor()
        await cur.execute("SELECT current_database(), current_user")
        assert await cur.fetchone() == (pg.dbname, pg.user)


async def test_unix_socket(cluster: Any) -> None:
    async with ferropg.connect(cluster.unix_dsn) as conn:
        cur = await conn.cursor()
        await cur.execute("SELECT inet_server_addr()")
        assert await cur.fetchone() == (None,)  # NULL means a unix-socket session


async def test_dsn_masks_password(cluster: Any) -> None:
    password = cluster.passwords["ferropg_md5"]
    dsn = cluster.make_dsn(user="ferropg_md5", password=password)
    async with ferropg.connect(dsn) as conn:
        assert password not in conn.dsn
        assert "password=xxx" in conn.dsn
        assert password not in repr(conn)


async def test_attributes_match_psycopg2(conn: Any, dsn: str) -> None:
    oracle = psycopg2.connect(dsn)
    try:
        assert conn.server_version == oracle.server_version
        assert conn.protocol_version == oracle.protocol_version == 3
        assert conn.encoding == oracle.encoding == "UTF8"
        assert await conn.get_parameter_status("server_version") == oracle.get_parameter_status(
            "server_version"
        )
        assert await conn.get_parameter_status("no_such_parameter") is None
    finally:
        oracle.close()
    assert conn.autocommit is True
    assert conn.isolation_level is None
    assert conn.timeout == ferropg.DEFAULT_TIMEOUT == 60.0
    assert conn.echo is False
    assert conn.cursor_factory is None
    assert conn.raw is not None


async def test_backend_pid_and_transaction_status(conn: Any, cur: Any) -> None:
    await cur.execute("SELECT pg_backend_pid()")
    assert await conn.get_backend_pid() == (await cur.fetchone())[0]
    assert await conn.get_transaction_status() == extensions.TRANSACTION_STATUS_IDLE
    assert conn.status == extensions.STATUS_READY
    await cur.execute("BEGIN")
    assert await conn.get_transaction_status() == extensions.TRANSACTION_STATUS_INTRANS
    assert conn.status == extensions.STATUS_BEGIN
    with pytest.raises(errors.DataError):
        await cur.execute("SELECT 1/0")
    assert await conn.get_transaction_status() == extensions.TRANSACTION_STATUS_INERROR
    await cur.execute("ROLLBACK")
    assert await conn.get_transaction_status() == extensions.TRANSACTION_STATUS_IDLE


async def test_autocommit_cannot_be_disabled(conn: Any) -> None:
    conn.autocommit = True
    with pytest.raises(ferropg.ProgrammingError, match="asynchronous mode"):
        conn.autocommit = False
    assert conn.autocommit is True


@pytest.mark.parametrize(
    "method, args",
    [
        ("commit", ()),
        ("rollback", ()),
        ("xid", (1, "g", "b")),
        ("tpc_begin", ("x",)),
        ("tpc_prepare", ()),
        ("tpc_commit", ()),
        ("tpc_rollback", ()),
        ("tpc_recover", ()),
        ("reset", ()),
        ("set_session", ()),
        ("set_isolation_level", (1,)),
        ("set_client_encoding", ("LATIN1",)),
        ("lobject", ()),
    ],
)
async def test_disabled_psycopg2_methods(conn: Any, method: str, args: tuple[Any, ...]) -> None:
    with pytest.raises(ferropg.ProgrammingError, match="cannot be used in asynchronous mode"):
        await getattr(conn, method)(*args)


async def test_notices_formatted_as_psycopg2(conn: Any, cur: Any) -> None:
    await cur.execute("DO $$BEGIN RAISE NOTICE 'hello'; RAISE WARNING 'careful'; END$$")
    assert conn.notices == ["NOTICE:  hello\n", "WARNING:  careful\n"]
    await cur.execute("DO $$BEGIN FOR i IN 1..60 LOOP RAISE NOTICE 'n%', i; END LOOP; END$$")
    assert len(conn.notices) == 50
    assert conn.notices[-1] == "NOTICE:  n60\n"
    assert conn.notices[0] == "NOTICE:  n11\n"


async def test_last_usage_advances(conn: Any, cur: Any) -> None:
    before = conn.last_usage
    await asyncio.sleep(0.02)
    await cur.execute("SELECT 1")
    assert conn.last_usage > before
    assert conn.last_usage <= asyncio.get_running_loop().time()


async def test_cursor_on_closed_connection(dsn: str) -> None:
    conn = await ferropg.connect(dsn)
    cur = await conn.cursor()
    conn.close()
    with pytest.raises(ferropg.InterfaceError, match="connection already closed"):
        await conn.cursor()
    assert cur.closed
    with pytest.raises(ferropg.InterfaceError, match="cursor already closed"):
        await cur.execute("SELECT 1")


async def test_cursor_async_with_closes(conn: Any) -> None:
    async with conn.cursor() as cur:
        await cur.execute("SELECT 2")
        assert await cur.fetchone() == (2,)
    assert cur.closed
    async with await conn.cursor() as cur2:
        assert not cur2.closed
    assert cur2.closed


async def test_cursor_timeout_default_and_override(dsn: str) -> None:
    async with ferropg.connect(dsn, timeout=12.5) as conn:
        assert conn.timeout == 12.5
        cur = await conn.cursor()
        assert cur.timeout == 12.5
        cur2 = await conn.cursor(timeout=3)
        assert cur2.timeout == 3


async def test_cursor_factory_on_connect_and_connection(dsn: str) -> None:
    async with ferropg.connect(dsn, cursor_factory=DictCursor) as conn:
        assert conn.cursor_factory is DictCursor
        cur = await conn.cursor()
        await cur.execute("SELECT 7 AS seven")
        row = await cur.fetchone()
        assert isinstance(row, DictRow) and row["seven"] == 7
        conn.cursor_factory = None
        cur = await conn.cursor()
        await cur.execute("SELECT 7 AS seven")
        assert await cur.fetchone() == (7,)
        with pytest.raises(ferropg.ProgrammingError, match="Cursor subclass"):
            await conn.cursor(cursor_factory=psycopg2.extensions.cursor)


async def test_concurrent_use_is_refused(conn: Any) -> None:
    cur1 = await conn.cursor()
    cur2 = await conn.cursor()
    first = asyncio.ensure_future(cur1.execute("SELECT pg_sleep(0.3)"))
    await asyncio.sleep(0.05)
    with pytest.raises(RuntimeError, match="another coroutine is already waiting"):
        await cur2.execute("SELECT 1")
    await first
    await cur2.execute("SELECT 1")
    assert await cur2.fetchone() == (1,)


async def test_notifies_fed_while_idle(conn: Any, dsn: str) -> None:
    cur = await conn.cursor()
    await cur.execute("LISTEN ferropg_chan")
    async with ferropg.connect(dsn) as other:
        ocur = await other.cursor()
        await ocur.execute("NOTIFY ferropg_chan, 'payload-1'")
        sender_pid = await other.get_backend_pid()
    # nothing runs on `conn` now: the engine's reader must still deliver the message
    note = await asyncio.wait_for(conn.notifies.get(), 5)
    assert isinstance(note, extensions.Notify)
    assert (note.pid, note.channel, note.payload) == (sender_pid, "ferropg_chan", "payload-1")
    assert conn.notifies.empty() and conn.notifies.qsize() == 0


async def test_notifies_get_raises_after_close(conn: Any, cur: Any) -> None:
    await cur.execute("LISTEN ferropg_chan2")
    await cur.execute("NOTIFY ferropg_chan2, 'last'")
    conn.close()
    # queued items are still delivered, then the close error
    note = await conn.notifies.get()
    assert note.payload == "last"
    with pytest.raises(ferropg.OperationalError, match="Connection closed"):
        await conn.notifies.get()


async def test_echo_logs_statements_without_password(cluster: Any, caplog: Any) -> None:
    password = cluster.passwords["ferropg_scram"]
    dsn = cluster.make_dsn(user="ferropg_scram", password=password)
    caplog.set_level(logging.INFO, logger="ferropg")
    async with ferropg.connect(dsn, echo=True) as conn:
        assert conn.echo
        cur = await conn.cursor()
        assert cur.echo
        await cur.execute("SELECT %s::text AS greeting", ("hi there",))
    messages = [r.getMessage() for r in caplog.records if r.name == "ferropg"]
    assert "SELECT 'hi there'::text AS greeting" in messages
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "ferropg")
    assert not any(password in m for m in caplog.messages)


async def test_repr(conn: Any) -> None:
    text = repr(conn)
    assert "Connection" in text and "closed=False" in text and "echo=False" in text


async def test_unclosed_connection_warns(dsn: str) -> None:
    conn = await ferropg.connect(dsn)
    native = conn.raw
    with pytest.warns(ResourceWarning, match="Unclosed connection"):
        del conn
        gc.collect()
    assert native.closed


async def test_unclosed_connection_collected_during_its_own_call(dsn: str, monkeypatch: Any) -> None:
    # An abandoned connection in a reference cycle can be collected while its engine is
    # inside a call on it: here json.loads, which the engine calls for a document nested
    # too deep for its own parser, runs a collection. Reading the engine's state then
    # fails, so the connection is closed once that call returns, with the usual warning.
    import json

    real_loads = json.loads

    def loads(text: str) -> Any:
        gc.collect()
        return real_loads(text)

    monkeypatch.setattr(json, "loads", loads)
    conn = await ferropg.connect(dsn)  # takes json.loads as it is now
    conn.itself = conn  # only the cyclic collector can free it
    native = conn.raw
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    answer = native.execute("SELECT (repeat('[', 300) || repeat(']', 300))::json", None)
    del conn
    with pytest.warns(ResourceWarning, match=r"Unclosed connection .*\(collected while in use\)"):
        assert len((await answer).rows) == 1
    assert [u.exc_value for u in unraisable] == []
    await asyncio.sleep(0)
    assert native.closed


async def test_close_called_back_from_inside_the_engine(dsn: str, monkeypatch: Any) -> None:
    # Python code the engine runs (json.loads here; in life a finalizer, such as a pool's
    # closing its idle connections) may close the connection the engine is busy with.
    # The engine refuses re-entry with RuntimeError (it panicked before), and
    # Connection.close() then closes it once the engine's call returns.
    import json

    real_loads = json.loads
    seen: list[str] = []

    def loads(text: str) -> Any:
        with pytest.raises(RuntimeError, match="borrow"):
            conn.raw.close()
        conn.close()
        seen.append("closed from inside")
        return real_loads(text)

    monkeypatch.setattr(json, "loads", loads)
    conn = await ferropg.connect(dsn)  # takes json.loads as it is now
    answer = conn.raw.execute("SELECT (repeat('[', 300) || repeat(']', 300))::json", None)
    assert len((await answer).rows) == 1  # the call in progress finishes
    assert seen == ["closed from inside"]
    await asyncio.sleep(0)
    assert conn.closed


# -- several hosts, target_session_attrs, timeouts ----------------------------------------


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_first_reachable_host_wins(pg: Any) -> None:
    bad = _refused_port()
    dsn = f"host=127.0.0.1,{pg.host} port={bad},{pg.port} dbname={pg.dbname} user={pg.user}"
    async with ferropg.connect(dsn) as conn:
        cur = await conn.cursor()
        await cur.execute("SELECT inet_server_port()")
        assert await cur.fetchone() == (pg.port,)


async def test_all_hosts_failing_names_each(pg: Any) -> None:
    a, b = _refused_port(), _refused_port()
    dsn = f"host=127.0.0.1,127.0.0.1 port={a},{b} dbname={pg.dbname} user={pg.user}"
    with pytest.raises(ferropg.OperationalError) as info:
        await ferropg.connect(dsn)
    text = str(info.value)
    assert f'connection to server at "127.0.0.1", port {a} failed: Connection refused' in text
    assert f'connection to server at "127.0.0.1", port {b} failed: Connection refused' in text


async def test_missing_unix_socket_is_named(pg: Any, tmp_path: Any) -> None:
    with pytest.raises(ferropg.OperationalError, match=r'on socket ".*/\.s\.PGSQL\.5999" failed'):
        await ferropg.connect(f"host={tmp_path} port=5999 user={pg.user}")


async def test_startup_failure_is_operational_error(pg: Any) -> None:
    with pytest.raises(ferropg.OperationalError, match="no_such_db"):
        await ferropg.connect(pg.dsn, dbname="no_such_db")


@pytest.mark.parametrize(
    "attrs, ok, reason",
    [
        ("any", True, None),
        ("read-write", True, None),
        ("primary", True, None),
        ("prefer-standby", True, None),
        ("read-only", False, "session is not read-only"),
        ("standby", False, "server is not in hot standby mode"),
    ],
)
async def test_target_session_attrs_on_a_primary(pg: Any, attrs: str, ok: bool, reason: str | None) -> None:
    dsn = f"{pg.dsn} target_session_attrs={attrs}"
    if ok:
        async with ferropg.connect(dsn) as conn:
            assert not conn.closed
        return
    with pytest.raises(ferropg.OperationalError, match=reason):
        await ferropg.connect(dsn)


async def test_read_only_session_matches_read_only_target(pg: Any) -> None:
    dsn = f"{pg.dsn} target_session_attrs=read-only options='-c default_transaction_read_only=on'"
    async with ferropg.connect(dsn) as conn:
        cur = await conn.cursor()
        await cur.execute("SHOW transaction_read_only")
        assert await cur.fetchone() == ("on",)


async def test_load_balance_hosts_random(pg: Any) -> None:
    dsn = f"host={pg.host},{pg.host} port={pg.port},{pg.port} dbname={pg.dbname} user={pg.user}"
    for _ in range(3):
        async with ferropg.connect(dsn, load_balance_hosts="random") as conn:
            assert not conn.closed


class SilentServer:
    """Accepts TCP connections and never answers: a server that hangs at startup."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])

    def close(self) -> None:
        self.sock.close()


async def test_connect_timeout_overall() -> None:
    server = SilentServer()
    try:
        with pytest.raises(asyncio.TimeoutError):
            # the outer bound only guards against a hang
            await asyncio.wait_for(
                ferropg.connect(f"host=127.0.0.1 port={server.port} sslmode=disable", timeout=0.3), 30
            )
    finally:
        server.close()


async def test_connect_timeout_per_host_moves_on(pg: Any) -> None:
    server = SilentServer()
    try:
        dsn = (
            f"host=127.0.0.1,{pg.host} port={server.port},{pg.port} dbname={pg.dbname} "
            f"user={pg.user} connect_timeout=2 sslmode=disable"
        )
        async with ferropg.connect(dsn, timeout=10) as conn:
            cur = await conn.cursor()
            await cur.execute("SELECT inet_server_port()")
            assert await cur.fetchone() == (pg.port,)
    finally:
        server.close()


def test_uvloop_basic_select(dsn: str) -> None:
    uvloop = pytest.importorskip("uvloop")

    async def main() -> Any:
        async with ferropg.connect(dsn) as conn:
            assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
            async with conn.cursor() as cur:
                # the cancel path (side connection, drain) on uvloop's sockets too
                with pytest.raises(asyncio.TimeoutError):
                    await cur.execute("SELECT pg_sleep(10)", timeout=0.2)
                await cur.execute("SELECT %s + 1, 'x'", (41,))
                return await cur.fetchall()

    loop = uvloop.new_event_loop()
    try:
        assert loop.run_until_complete(main()) == [(42, "x")]
    finally:
        loop.close()


async def test_module_globals() -> None:
    assert ferropg.apilevel == "2.0"
    assert ferropg.paramstyle == "pyformat"
    assert ferropg.threadsafety in (1, 2)
    assert isinstance(ferropg.version, str) and ferropg.version.startswith(
        f"{ferropg.version_info.major}.{ferropg.version_info.minor}"
    )
    assert ferropg.get_running_loop() is asyncio.get_running_loop()
    for name in (
        "Error",
        "Warning",
        "InterfaceError",
        "DatabaseError",
        "DataError",
        "OperationalError",
        "IntegrityError",
        "InternalError",
        "ProgrammingError",
        "NotSupportedError",
    ):
        assert getattr(ferropg, name) is getattr(errors, name)
    assert issubclass(ferropg.ProgrammingError, ferropg.DatabaseError)
