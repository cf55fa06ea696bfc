"""Named prepared statements (`statement_cache_size`), watched in pg_prepared_statements.

pg_prepared_statements is per session, so every check runs on the connection under
test; the checking query is itself a cached statement, hence the filters on its text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import ferropg
from ferropg import errors

PREFIX = "_ferropg_"
WATCH = "SELECT name, statement FROM pg_prepared_statements ORDER BY prepare_time, name"


async def _prepared(conn: Any) -> dict[str, str]:
    """statement text -> name, for our named statements other than this query itself."""
    cur = await conn.cursor()
    await cur.execute(WATCH)
    rows = await cur.fetchall()
    cur.close()
    return {stmt: name for name, stmt in rows if stmt != WATCH}


async def _all_names(conn: Any) -> list[str]:
    cur = await conn.cursor()
    await cur.execute(WATCH)
    rows = await cur.fetchall()
    cur.close()
    return [name for name, _ in rows]


@pytest.fixture
async def cached(dsn: str) -> AsyncIterator[Any]:
    conn = await ferropg.connect(dsn, statement_cache_size=4)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
async def table(cur: Any) -> AsyncIterator[str]:
    """A fresh table with two rows, shared with the connection under test (autocommit)."""
    await cur.execute("DROP TABLE IF EXISTS stmt_cache_t")
    await cur.execute("CREATE TABLE stmt_cache_t (a int)")
    await cur.execute("INSERT INTO stmt_cache_t VALUES (1), (2)")
    yield "stmt_cache_t"
    await cur.execute("DROP TABLE IF EXISTS stmt_cache_t")


async def test_repeated_query_uses_a_named_statement(cached: Any) -> None:
    cur = await cached.cursor()
    for n in range(3):
        await cur.execute("SELECT %s::int + 1 AS next", (n,))
        assert await cur.fetchall() == [(n + 1,)]
        assert cur.description[0].name == "next"
    prepared = await _prepared(cached)
    assert list(prepared) == ["SELECT $1::int + 1 AS next"]
    assert prepared["SELECT $1::int + 1 AS next"].startswith(PREFIX)
    # a query without parameters is named too
    await cur.execute("SELECT 'plain'")
    await cur.execute("SELECT 'plain'")
    assert await cur.fetchone() == ("plain",)
    assert "SELECT 'plain'" in await _prepared(cached)


async def test_names_differ_between_connections(dsn: str) -> None:
    async with ferropg.connect(dsn, statement_cache_size=2) as a, ferropg.connect(
        dsn, statement_cache_size=2
    ) as b:
        names_a = await _all_names(a)
        names_b = await _all_names(b)
        assert names_a and names_b
        # the random per-connection prefix: a pooler mixing sessions cannot mix these up
        assert names_a[0].rsplit("_", 1)[0] != names_b[0].rsplit("_", 1)[0]


async def test_lru_eviction_closes_statements_on_the_server(dsn: str) -> None:
    size = 3
    async with ferropg.connect(dsn, statement_cache_size=size) as conn:
        cur = await conn.cursor()
        for i in range(10):
            await cur.execute(f"SELECT {i} AS n, %s::text", ("x",))
            assert await cur.fetchone() == (i, "x")
            names = await _all_names(conn)
            assert len(names) <= size, names
            assert all(n.startswith(PREFIX) for n in names)
        # the most recently used survive
        assert "SELECT 9 AS n, $1::text" in await _prepared(conn)
        # and an evicted one is prepared again when it comes back
        await cur.execute("SELECT 0 AS n, %s::text", ("again",))
        assert await cur.fetchone() == (0, "again")
        assert len(await _all_names(conn)) <= size


async def test_schema_change_is_reprepared_transparently(cached: Any, table: str) -> None:
    cur = await cached.cursor()
    sql = f"SELECT * FROM {table} ORDER BY a"
    for _ in range(2):
        await cur.execute(sql)
        assert await cur.fetchall() == [(1,), (2,)]
    before = (await _prepared(cached))[sql]
    other = await cached.cursor()
    await other.execute(f"ALTER TABLE {table} ADD COLUMN b text DEFAULT 'new'")
    await cur.execute(sql)
    assert [c.name for c in cur.description] == ["a", "b"]
    assert await cur.fetchall() == [(1, "new"), (2, "new")]
    await cur.execute(sql)  # and the new statement keeps working
    assert await cur.fetchall() == [(1, "new"), (2, "new")]
    after = await _prepared(cached)
    assert after[sql] != before  # prepared again under a new name, the old one closed
    assert before not in after.values()
    assert len(await _all_names(cached)) <= 4


async def test_deallocate_all_behind_our_back(cached: Any) -> None:
    cur = await cached.cursor()
    sql = "SELECT %s::int * 2"
    await cur.execute(sql, (1,))
    await cur.execute(sql, (2,))
    assert await _prepared(cached)
    await cur.execute("SELECT 1; DEALLOCATE ALL")  # two statements: the simple protocol
    await cur.execute(sql, (21,))
    assert await cur.fetchone() == (42,)
    # a server that loses our statements (a pooler, say): stop naming them
    await cur.execute(sql, (5,))
    assert await cur.fetchone() == (10,)
    assert await _all_names(cached) == []


async def test_schema_change_inside_a_transaction_raises(cached: Any, table: str) -> None:
    cur = await cached.cursor()
    sql = f"SELECT * FROM {table} ORDER BY a"
    await cur.execute(sql)
    await cur.execute(sql)
    await cur.execute("BEGIN")
    await cur.execute(f"ALTER TABLE {table} ADD COLUMN c int")
    # retrying inside a transaction is impossible: the failed Bind aborted it
    with pytest.raises(errors.FeatureNotSupported, match="cached plan must not change result type"):
        await cur.execute(sql)
    assert await cached.get_transaction_status() == ferropg.extensions.TRANSACTION_STATUS_INERROR
    await cur.execute("ROLLBACK")
    await cur.execute(sql)  # the column is gone again; the statement still works
    assert await cur.fetchall() == [(1,), (2,)]


async def test_deallocated_inside_a_transaction_raises(cached: Any) -> None:
    cur = await cached.cursor()
    sql = "SELECT %s::text || '!'"
    await cur.execute(sql, ("a",))
    await cur.execute(sql, ("b",))
    await cur.execute("BEGIN; DEALLOCATE ALL")
    with pytest.raises(errors.InvalidSqlStatementName):
        await cur.execute(sql, ("c",))
    await cur.execute("ROLLBACK")
    await cur.execute(sql, ("d",))
    assert await cur.fetchone() == ("d!",)


async def test_cache_size_zero_names_nothing(dsn: str) -> None:
    async with ferropg.connect(dsn, statement_cache_size=0) as conn:
        cur = await conn.cursor()
        for n in range(3):
            await cur.execute("SELECT %s::int", (n,))
            await cur.execute("SELECT 'x'")
        assert await _all_names(conn) == []


async def test_default_names_nothing(conn: Any, cur: Any) -> None:
    for _ in range(3):
        await cur.execute("SELECT 1")
    assert await _all_names(conn) == []


async def test_results_match_the_unnamed_path(cached: Any, cur: Any) -> None:
    sql = "SELECT %s::numeric, %s::timestamptz, %s::int8[], %s::jsonb, NULL::text"
    params = ("1.50", "2024-01-02 03:04:05+00", [1, None, 3], '{"k": [1, 2]}')
    ccur = await cached.cursor()
    for _ in range(3):  # the third run is Bind/Execute only, rows in binary
        await ccur.execute(sql, params)
        await cur.execute(sql, params)
        assert await ccur.fetchall() == await cur.fetchall()
        assert ccur.description == cur.description
