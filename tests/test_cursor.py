"""Cursor against a real server: results and attributes as psycopg2 gives them."""

from __future__ import annotations

import asyncio
import datetime
import gc
from typing import Any

import psycopg2
import pytest

import ferropg
from ferropg import errors

# Statements whose description/rowcount/statusmessage/query must equal psycopg2's.
ORACLE_STATEMENTS: list[tuple[str, Any]] = [
    (
        "SELECT 1 AS a, 2.5::numeric(10,2) AS b, 'x'::varchar(5) AS c,"
        " '2024-01-02 03:04:05+00'::timestamptz AS d",
        None,
    ),
    ("SELECT %s::int + %s AS total, %s AS label", (1, 2, "it's")),
    ("SELECT %(a)s::text AS a, %(b)s::float8 AS b", {"a": "x", "b": 1.5}),
    ("SELECT generate_series(1, 5) AS g", None),
    ("SELECT 1 WHERE false", None),
    ("CREATE TEMP TABLE oracle_t (id int PRIMARY KEY, v text)", None),
    ("INSERT INTO oracle_t VALUES (1, 'a'), (2, 'b')", None),
    ("INSERT INTO oracle_t VALUES (%s, %s) RETURNING id, v", (3, "c")),
    ("UPDATE oracle_t SET v = v || '!' WHERE id > %s", (1,)),
    ("DELETE FROM oracle_t WHERE id = 1", None),
    ("SELECT 1; SELECT 2 AS two, 3 AS three", None),
    ("SET search_path TO public", None),
    ("SHOW search_path", None),
    ("DROP TABLE oracle_t", None),
]


async def test_results_match_psycopg2(cur: Any, dsn: str) -> None:
    oracle = psycopg2.connect(dsn)
    oracle.autocommit = True
    ocur = oracle.cursor()
    try:
        for sql, params in ORACLE_STATEMENTS:
            assert cur.mogrify(sql, params) == ocur.mogrify(sql, params), sql
            await cur.execute(sql, params)
            ocur.execute(sql, params)
            assert cur.description == ocur.description, sql
            assert [tuple(c) for c in cur.description or ()] == [tuple(c) for c in ocur.description or ()], (
                sql
            )
            assert cur.rowcount == ocur.rowcount, sql
            assert cur.statusmessage == ocur.statusmessage, sql
            assert cur.query == ocur.query, sql
            assert cur.lastrowid == ocur.lastrowid, sql
            if ocur.description is not None:
                assert await cur.fetchall() == ocur.fetchall(), sql
    finally:
        oracle.close()


async def test_fresh_cursor_state(cur: Any) -> None:
    assert cur.description is None
    assert cur.rowcount == -1
    assert cur.rownumber == 0
    assert cur.query is None
    assert cur.statusmessage is None
    assert cur.lastrowid is None
    assert cur.arraysize == 1
    assert cur.itersize == 2000
    assert cur.tzinfo_factory is datetime.timezone
    assert cur.name is None and cur.scrollable is None and cur.withhold is False
    assert cur.raw is cur
    assert "closed=False" in repr(cur)
    with pytest.raises(ferropg.ProgrammingError, match="no results to fetch"):
        await cur.fetchone()


async def test_execute_returns_none_and_fetch_family(cur: Any) -> None:
    assert await cur.execute("SELECT generate_series(1, 6)") is None
    assert await cur.fetchone() == (1,)
    assert cur.rownumber == 1
    assert await cur.fetchmany() == [(2,)]  # arraysize 1
    cur.arraysize = 2
    assert await cur.fetchmany() == [(3,), (4,)]
    assert await cur.fetchmany(10) == [(5,), (6,)]
    assert await cur.fetchone() is None
    assert await cur.fetchmany(3) == []
    assert await cur.fetchall() == []
    assert cur.rownumber == 6


async def test_async_for(cur: Any) -> None:
    await cur.execute("SELECT generate_series(1, 4)")
    await cur.fetchone()
    assert [row async for row in cur] == [(2,), (3,), (4,)]


async def test_fetch_without_results(cur: Any) -> None:
    await cur.execute("CREATE TEMP TABLE no_rows (a int)")
    assert cur.description is None
    assert cur.rowcount == -1
    for method in (cur.fetchone, cur.fetchall, cur.fetchmany):
        with pytest.raises(ferropg.ProgrammingError, match="no results to fetch"):
            await method()


async def test_scroll(cur: Any) -> None:
    await cur.execute("SELECT generate_series(0, 9)")
    await cur.scroll(3)
    assert await cur.fetchone() == (3,)
    await cur.scroll(-2)
    assert await cur.fetchone() == (2,)
    await cur.scroll(9, mode="absolute")
    assert await cur.fetchone() == (9,)
    await cur.scroll(0, "absolute")
    assert cur.rownumber == 0
    with pytest.raises(ferropg.ProgrammingError, match="scroll destination out of bounds"):
        await cur.scroll(10, "absolute")
    with pytest.raises(ferropg.ProgrammingError, match="scroll destination out of bounds"):
        await cur.scroll(-1)
    assert cur.rownumber == 0  # unchanged by a failed scroll
    with pytest.raises(ferropg.ProgrammingError, match="scroll mode must be"):
        await cur.scroll(1, "sideways")


async def test_scroll_without_results(cur: Any) -> None:
    with pytest.raises(ferropg.ProgrammingError, match="scroll destination out of bounds"):
        await cur.scroll(0)


async def test_closed_cursor(cur: Any) -> None:
    await cur.execute("SELECT 1 AS one")
    description = cur.description
    cur.close()
    assert cur.closed
    assert cur.description == description  # psycopg2 keeps it
    for call in (
        lambda: cur.execute("SELECT 1"),
        lambda: cur.fetchone(),
        lambda: cur.fetchall(),
        lambda: cur.fetchmany(),
        lambda: cur.scroll(0),
        lambda: cur.executemany("SELECT %s", [(1,)]),
        lambda: cur.callproc("now"),
    ):
        with pytest.raises(ferropg.InterfaceError, match="cursor already closed"):
            await call()
    with pytest.raises(ferropg.InterfaceError, match="cursor already closed"):
        cur.mogrify("SELECT 1")
    await cur.close()  # closing again is harmless, and awaitable


@pytest.mark.parametrize(
    "sql, exc_class, pgcode",
    [
        ("SELEC 1", errors.ProgrammingError, "42601"),
        ("SELECT * FROM no_such_table", errors.ProgrammingError, "42P01"),
        ("SELECT 1/0", errors.DataError, "22012"),
        ("SELECT 'abc'::int", errors.DataError, "22P02"),
    ],
)
async def test_server_errors_map_to_sqlstate_classes(
    cur: Any, sql: str, exc_class: type, pgcode: str
) -> None:
    with pytest.raises(exc_class) as info:
        await cur.execute(sql)
    assert info.value.pgcode == pgcode
    assert type(info.value) is errors.lookup(pgcode)
    assert cur.description is None
    # the connection still serves
    await cur.execute("SELECT 1")
    assert await cur.fetchone() == (1,)


async def test_integrity_error(cur: Any) -> None:
    await cur.execute("CREATE TEMP TABLE uniq (id int PRIMARY KEY)")
    await cur.execute("INSERT INTO uniq VALUES (1)")
    with pytest.raises(errors.IntegrityError) as info:
        await cur.execute("INSERT INTO uniq VALUES (1)")
    assert isinstance(info.value, errors.UniqueViolation)
    assert info.value.pgcode == "23505"


async def test_executemany_pipelined(cur: Any, dsn: str) -> None:
    await cur.execute("CREATE TEMP TABLE many (id int, v text)")
    rows = [(i, f"v{i}") for i in range(50)]
    await cur.executemany("INSERT INTO many VALUES (%s, %s)", rows)
    oracle = psycopg2.connect(dsn)
    try:
        ocur = oracle.cursor()
        ocur.execute("CREATE TEMP TABLE many (id int, v text)")
        ocur.executemany("INSERT INTO many VALUES (%s, %s)", rows)
        assert cur.rowcount == ocur.rowcount == 50
        assert cur.statusmessage == ocur.statusmessage
        assert cur.query == ocur.query
    finally:
        oracle.close()
    assert cur.description is None
    with pytest.raises(ferropg.ProgrammingError, match="no results to fetch"):
        await cur.fetchone()
    await cur.executemany(
        "UPDATE many SET v = %(v)s WHERE id < %(lim)s", [{"v": "a", "lim": 5}, {"v": "b", "lim": 2}]
    )
    assert cur.rowcount == 7
    await cur.executemany("INSERT INTO many VALUES (%s, %s)", iter([]))
    assert cur.rowcount == 0
    await cur.execute("SELECT count(*), count(*) FILTER (WHERE v = 'b') FROM many")
    assert await cur.fetchone() == (50, 2)


async def test_executemany_error_reports_and_connection_survives(cur: Any) -> None:
    await cur.execute("CREATE TEMP TABLE many2 (id int PRIMARY KEY)")
    with pytest.raises(errors.UniqueViolation):
        await cur.executemany("INSERT INTO many2 VALUES (%s)", [(1,), (2,), (1,), (3,)])
    await cur.execute("SELECT 1")
    assert await cur.fetchone() == (1,)


async def test_callproc(cur: Any, dsn: str) -> None:
    params = (1, 3)
    assert await cur.callproc("generate_series", params) == params
    assert cur.query == b"SELECT * FROM generate_series(1,3)"
    assert await cur.fetchall() == [(1,), (2,), (3,)]
    await cur.callproc("make_interval", {"days": 2, "hours": 1})
    assert cur.query == b'SELECT * FROM make_interval("days":=2,"hours":=1)'
    assert await cur.fetchall() == [(datetime.timedelta(days=2, hours=1),)]
    await cur.callproc("pg_backend_pid")
    assert cur.query == b"SELECT * FROM pg_backend_pid()"
    oracle = psycopg2.connect(dsn)
    try:
        ocur = oracle.cursor()
        ocur.callproc("make_interval", {"days": 2, "hours": 1})
        await cur.callproc("make_interval", {"days": 2, "hours": 1})
        assert cur.query == ocur.query
        assert cur.description == ocur.description
    finally:
        oracle.close()


async def test_mogrify_is_sync_bytes(cur: Any) -> None:
    sql = cur.mogrify("SELECT %s, %s, %s", (1, "o'k", None))
    assert sql == b"SELECT 1, 'o''k', NULL"


async def test_description_built_once_per_raw_description(cur: Any) -> None:
    await cur.execute("SELECT 1 AS a")
    first = cur.description
    assert cur.description is first  # no rebuild per access
    col = first[0]
    assert (col.name, col.type_code, col.display_size, col.internal_size) == ("a", 23, None, 4)
    assert (col.precision, col.scale, col.null_ok) == (None, None, None)
    assert len(col) == 7


async def test_dbapi_noops_and_refusals(cur: Any) -> None:
    assert cur.setinputsizes(10).done()
    await cur.setinputsizes(10)
    await cur.setoutputsize(10)
    await cur.setoutputsize(10, 0)
    with pytest.raises(ferropg.NotSupportedError):
        await cur.nextset()
    for name in ("copy_from", "copy_to", "copy_expert"):
        with pytest.raises(ferropg.ProgrammingError, match=f"{name} cannot be used"):
            await getattr(cur, name)("x")
    cur.tzinfo_factory = datetime.timezone
    with pytest.raises(ferropg.NotSupportedError, match="tzinfo_factory"):
        cur.tzinfo_factory = object


async def test_cursor_properties(conn: Any) -> None:
    cur = await conn.cursor(timeout=5)
    assert cur.connection is conn
    assert cur.timeout == 5
    assert cur.echo is False
    cur.itersize = 10
    assert cur.itersize == 10
    cur.close()


async def test_echo_logs_mogrified_statement(dsn: str, caplog: Any) -> None:
    caplog.set_level("INFO", logger="ferropg")
    async with ferropg.connect(dsn, echo=True) as conn:
        cur = await conn.cursor()
        await cur.execute("SELECT %s AS n", (5,))
        await cur.executemany("SELECT %s", [(6,), (7,)])
    assert [r.getMessage() for r in caplog.records if r.name == "ferropg"] == [
        "SELECT 5 AS n",
        "SELECT 6",
        "SELECT 7",
    ]


# -- transactions from the cursor ---------------------------------------------------------


async def test_cursor_begin_commits_and_rolls_back(cur: Any) -> None:
    await cur.execute("CREATE TEMP TABLE tx (v int)")
    async with cur.begin():
        await cur.execute("INSERT INTO tx VALUES (1)")
    with pytest.raises(ZeroDivisionError):
        async with cur.begin():
            await cur.execute("INSERT INTO tx VALUES (2)")
            raise ZeroDivisionError
    await cur.execute("SELECT array_agg(v) FROM tx")
    assert await cur.fetchone() == ([1],)


async def test_cursor_begin_nested_uses_savepoint(cur: Any) -> None:
    await cur.execute("CREATE TEMP TABLE txn (v int)")
    async with cur.begin_nested():
        await cur.execute("INSERT INTO txn VALUES (1)")
        with pytest.raises(KeyError):
            async with cur.begin_nested():
                await cur.execute("INSERT INTO txn VALUES (2)")
                raise KeyError
        async with cur.begin_nested():
            await cur.execute("INSERT INTO txn VALUES (3)")
    await cur.execute("SELECT array_agg(v ORDER BY v) FROM txn")
    assert await cur.fetchone() == ([1, 3],)


# -- named (server-side) cursors ----------------------------------------------------------


async def _server_cursors(conn: Any) -> list[tuple[str, bool, bool]]:
    async with conn.cursor() as probe:
        # the probe's own unnamed portal is listed too, with an empty name
        await probe.execute(
            "SELECT name, is_holdable, is_scrollable FROM pg_cursors WHERE name <> '' ORDER BY name"
        )
        return await probe.fetchall()


async def test_named_cursor_declares_and_fetches(conn: Any, dsn: str) -> None:
    from ferropg import extensions

    cur = await conn.cursor("big")
    assert cur.name == "big"
    await cur.execute("SELECT generate_series(1, 10) AS g WHERE %s", (True,))
    assert cur.query == b'DECLARE "big" CURSOR WITHOUT HOLD FOR SELECT generate_series(1, 10) AS g WHERE true'
    assert cur.statusmessage == "DECLARE CURSOR"
    assert cur.description is None  # known from the first FETCH, as psycopg2
    assert await conn.get_transaction_status() == extensions.TRANSACTION_STATUS_INTRANS
    assert await _server_cursors(conn) == [("big", False, False)]
    assert await cur.fetchone() == (1,)
    assert [c.name for c in cur.description] == ["g"]
    assert (cur.rowcount, cur.rownumber, cur.statusmessage) == (1, 1, "FETCH 1")
    assert await cur.fetchmany(3) == [(2,), (3,), (4,)]
    assert (cur.rowcount, cur.rownumber) == (3, 3)
    await cur.scroll(2)  # MOVE 2: skips 5 and 6
    assert await cur.fetchone() == (7,)
    assert await cur.fetchall() == [(8,), (9,), (10,)]
    assert await cur.fetchall() == []
    with pytest.raises(ferropg.ProgrammingError, match="more than once"):
        await cur.execute("SELECT 1")
    await cur.close()
    # the transaction BEGIN opened for the cursor is over, and the cursor with it
    assert await conn.get_transaction_status() == extensions.TRANSACTION_STATUS_IDLE
    assert await _server_cursors(conn) == []

    oracle = psycopg2.connect(dsn)
    try:
        ocur = oracle.cursor("big")
        ocur.execute("SELECT generate_series(1, 10) AS g WHERE %s", (True,))
        assert ocur.query == cur.query
        ocur.fetchone()
        ocur.fetchmany(3)
        assert ocur.rowcount == 3 and ocur.rownumber == 3
    finally:
        oracle.close()


async def test_named_cursor_iterates_in_itersize_batches(conn: Any) -> None:
    cur = await conn.cursor("batches")
    cur.itersize = 3
    await cur.execute("SELECT generate_series(1, 7)")
    seen = []
    async for row in cur:
        seen.append((row[0], cur.rownumber, cur.rowcount))
    assert seen == [(1, 1, 3), (2, 2, 3), (3, 3, 3), (4, 1, 3), (5, 2, 3), (6, 3, 3), (7, 1, 1)]
    await cur.close()


async def test_named_scrollable_withhold_cursor(conn: Any) -> None:
    from ferropg import extensions

    cur = await conn.cursor("held", scrollable=True, withhold=True)
    await cur.execute("SELECT generate_series(1, 5)")
    assert cur.query == b'DECLARE "held" SCROLL CURSOR WITH HOLD FOR SELECT generate_series(1, 5)'
    # WITH HOLD needs no transaction: none was begun
    assert await conn.get_transaction_status() == extensions.TRANSACTION_STATUS_IDLE
    assert await _server_cursors(conn) == [("held", True, True)]
    assert await cur.fetchall() == [(1,), (2,), (3,), (4,), (5,)]
    await cur.scroll(-2)
    assert await cur.fetchall() == [(5,)]
    await cur.scroll(1, "absolute")
    assert await cur.fetchone() == (2,)
    with pytest.raises(ferropg.ProgrammingError, match="after the named cursor was executed"):
        cur.scrollable = False
    await cur.close()
    assert await _server_cursors(conn) == []


async def test_named_no_scroll_cursor_refuses_backwards(conn: Any) -> None:
    cur = await conn.cursor("fwd", scrollable=False, withhold=True)
    await cur.execute("SELECT generate_series(1, 3)")
    assert cur.query.startswith(b'DECLARE "fwd" NO SCROLL CURSOR WITH HOLD FOR')
    await cur.fetchall()
    with pytest.raises(errors.ObjectNotInPrerequisiteState):
        await cur.scroll(-1)
    await cur.close()


async def test_named_cursor_inside_callers_transaction(conn: Any, cur: Any) -> None:
    from ferropg import extensions

    await cur.execute("BEGIN")
    named = await conn.cursor("inner")
    await named.execute("SELECT 1")
    assert await named.fetchall() == [(1,)]
    named.close()
    await cur.execute("SELECT count(*) FROM pg_cursors WHERE name <> ''")
    assert await cur.fetchone() == (0,)
    # closing did not end the caller's transaction
    assert await conn.get_transaction_status() == extensions.TRANSACTION_STATUS_INTRANS
    await cur.execute("COMMIT")


async def test_named_cursor_bad_query_rolls_back_its_transaction(conn: Any) -> None:
    from ferropg import extensions

    cur = await conn.cursor("bad")
    with pytest.raises(errors.UndefinedTable):
        await cur.execute("SELECT * FROM no_such_table")
    plain = await conn.cursor()
    await plain.execute("SELECT 1")
    assert await conn.get_transaction_status() == extensions.TRANSACTION_STATUS_IDLE
    cur.close()
    plain.close()


async def test_named_cursor_refuses_executemany_and_callproc(conn: Any) -> None:
    cur = await conn.cursor("nope")
    with pytest.raises(ferropg.ProgrammingError, match="executemany"):
        await cur.executemany("SELECT %s", [(1,)])
    with pytest.raises(ferropg.ProgrammingError, match="callproc"):
        await cur.callproc("now")
    cur.close()


async def test_named_cursor_quotes_its_name(conn: Any) -> None:
    cur = await conn.cursor('we"ird%s')
    await cur.execute("SELECT %s", (1,))
    assert cur.query == b'DECLARE "we""ird%s" CURSOR WITHOUT HOLD FOR SELECT 1'
    assert await cur.fetchone() == (1,)
    await cur.close()


async def test_several_statements_keep_the_last_result(cur: Any) -> None:
    # psycopg2 returns the last statement's result, rows or not
    await cur.execute("SELECT 1; CREATE TEMP TABLE no_rows ()")
    assert cur.description is None
    assert cur.rowcount == -1
    await cur.execute("CREATE TEMP TABLE more_rows (); SELECT 1 UNION SELECT 2 ORDER BY 1")
    assert cur.rowcount == 2
    assert await cur.fetchall() == [(1,), (2,)]


async def test_rowcount_of_a_tagless_row_result(cur: Any) -> None:
    await cur.execute("SHOW TimeZone")
    assert cur.rowcount == 1


async def test_query_as_bytes_like_psycopg2(cur: Any) -> None:
    # psycopg2 takes the query as bytes too, e.g. what mogrify() returned.
    await cur.execute(cur.mogrify("SELECT %s, 'é'", ("x",)))
    assert await cur.fetchone() == ("x", "é")
    await cur.execute(b"SELECT %s", (5,))
    assert await cur.fetchone() == (5,)
    await cur.executemany(b"SELECT %s", [(1,), (2,)])
    assert cur.mogrify(b"SELECT %s", (1,)) == b"SELECT 1"
    with pytest.raises(ferropg.DataError, match="not valid UTF8"):
        await cur.execute(b"SELECT '\xff'")
    with pytest.raises(TypeError, match="got int instead"):
        await cur.execute(42)


async def test_previous_rows_are_dropped_while_the_next_statement_runs(conn: Any, cur: Any) -> None:
    # psycopg2 drops a result when the next execute starts; a large one kept alive until
    # the next result arrived would double the heap the garbage collector walks.
    import sys

    await cur.execute("SELECT generate_series(1, 3)")
    old = cur._rows
    assert cur.rowcount == 3 and cur.statusmessage == "SELECT 3"
    running = asyncio.ensure_future(cur.execute("SELECT pg_sleep(0.2)"))
    await asyncio.sleep(0.05)
    assert not running.done()
    assert sys.getrefcount(old) == 2  # `old` and getrefcount's argument: nobody else
    await running
    assert await cur.fetchall() == [("",)]


class _Collections:
    """Counts the cyclic collector's runs while set to run on nearly every allocation."""

    def __enter__(self) -> "_Collections":
        self.runs = 0
        self._threshold = gc.get_threshold()
        gc.set_threshold(1)  # a young-generation run after every container allocated
        gc.callbacks.append(self._count)
        return self

    def _count(self, phase: str, info: Any) -> None:
        if phase == "start":
            self.runs += 1

    def __exit__(self, *exc: Any) -> None:
        gc.set_threshold(*self._threshold)
        gc.callbacks.remove(self._count)


async def test_rows_are_built_with_the_collector_held_off(cur: Any) -> None:
    # Every row built is alive, so a collection while they are built walks them for
    # nothing (gc_pause.rs): one runs per socket read at most, not one per row.
    rows = 4000
    with _Collections() as collections:
        await cur.execute("SELECT g, ARRAY[g] FROM generate_series(1, %s) g", (rows,))
    assert gc.isenabled()
    assert len(await cur.fetchall()) == rows
    assert collections.runs < rows / 10  # 3,900 without the pause


async def test_rows_leave_a_disabled_collector_disabled(cur: Any) -> None:
    gc.disable()
    try:
        await cur.execute("SELECT g, ARRAY[g] FROM generate_series(1, 4000) g")
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert len(await cur.fetchall()) == 4000


async def test_a_row_that_cannot_be_decoded_leaves_the_collector_on(cur: Any) -> None:
    # the last row's date is past Python's year 9999: the error ends the rows early
    with pytest.raises(ValueError, match="year 10000 is out of range"):
        await cur.execute(
            "SELECT CASE WHEN g = 4000 THEN date '10000-01-01' ELSE date '2024-01-01' END, ARRAY[g]"
            " FROM generate_series(1, 4000) g"
        )
    assert gc.isenabled()
    await cur.execute("SELECT 1")
    assert await cur.fetchall() == [(1,)]


async def test_json_loads_runs_with_the_collector_on(dsn: str, monkeypatch: Any) -> None:
    # Nesting past the Rust parser's depth goes to json.loads, which is Python code: it
    # runs outside the pause, and a gc.disable() made there (as by another thread) stays.
    import json

    seen = []
    real_loads = json.loads

    def loads(text: str) -> Any:
        seen.append(gc.isenabled())
        gc.disable()
        return real_loads(text)

    monkeypatch.setattr(json, "loads", loads)
    conn = await ferropg.connect(dsn)  # takes json.loads as it is now
    try:
        cur = await conn.cursor()
        deep = "[" * 300 + "]" * 300
        await cur.execute("SELECT g, %s::json FROM generate_series(1, 3) g", (deep,))
        assert not gc.isenabled()
        assert [row[0] for row in await cur.fetchall()] == [1, 2, 3]
    finally:
        gc.enable()
        await conn.close()
    assert seen == [True, False, False]
