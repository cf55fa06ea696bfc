"""ferropg's `json_as_text` and `bytea_as_bytes`: json/jsonb as the server's text and bytea
as bytes (what asyncpg returns), on every path the type tests read values through."""

from typing import Any

import pytest

import ferropg


@pytest.fixture
async def cur(dsn: str) -> Any:
    """Overrides the plain cursor: read_all_ways/check run on a connection with both options."""
    conn = await ferropg.connect(dsn, json_as_text=True, bytea_as_bytes=True)
    try:
        yield await conn.cursor()
    finally:
        await conn.close()


@pytest.mark.parametrize(
    "expr, expected",
    [
        # json keeps its text as written; jsonb's text is the server's normal form
        ("'{\"a\" : 1,  \"a\": [2.50]}'::json", '{"a" : 1,  "a": [2.50]}'),
        ("'{\"b\": 2, \"a\": 1}'::jsonb", '{"a": 1, "b": 2}'),
        ("'\"é\"'::jsonb", '"é"'),
        ("'null'::jsonb", "null"),
        ("NULL::jsonb", None),
        ("ARRAY['{\"a\":1}'::json, NULL, '[]']", ['{"a":1}', None, "[]"]),
        ("ARRAY['{\"a\":1}'::jsonb, '\"x, y\"']", ['{"a": 1}', '"x, y"']),
        ("'\\x00ff41'::bytea", b"\x00\xffA"),
        ("''::bytea", b""),
        ("NULL::bytea", None),
        ("ARRAY['\\x01'::bytea, NULL, '']", [b"\x01", None, b""]),
    ],
)
async def test_read(check: Any, expr: str, expected: Any) -> None:
    await check(expr, expected)


async def test_named_statements_read_the_same(dsn: str) -> None:
    conn = await ferropg.connect(dsn, json_as_text=True, bytea_as_bytes=True, statement_cache_size=10)
    try:
        cur = await conn.cursor()
        for _ in range(3):  # described, then binary where the type has a binary decoder
            await cur.execute("SELECT %s::jsonb, %s::bytea", ('{"k": [1, 2]}', b"\x00\x01"))
            assert await cur.fetchall() == [('{"k": [1, 2]}', b"\x00\x01")]
    finally:
        await conn.close()


async def test_parameters_are_unchanged(cur: Any) -> None:
    # the options change what comes back, not what is sent
    from ferropg.extras import Json

    await cur.execute("SELECT %s::jsonb ->> 'k', %s::bytea = '\\x0001'", (Json({"k": "v"}), b"\x00\x01"))
    assert await cur.fetchall() == [("v", True)]


async def test_the_defaults_stay_psycopg2s(dsn: str) -> None:
    async with ferropg.connect(dsn) as conn:
        cur = await conn.cursor()
        await cur.execute("SELECT '{\"a\": 1}'::jsonb, '\\x01'::bytea")
        doc, blob = (await cur.fetchall())[0]
    assert doc == {"a": 1}
    assert type(blob) is memoryview and bytes(blob) == b"\x01"


async def test_a_pool_passes_the_options_on(dsn: str) -> None:
    async with ferropg.create_pool(dsn, minsize=1, maxsize=1, bytea_as_bytes=True) as pool:
        async with pool.acquire() as conn:
            cur = await conn.cursor()
            await cur.execute("SELECT '\\x01'::bytea, '[1]'::json")
            assert await cur.fetchall() == [(b"\x01", [1])]


@pytest.mark.parametrize("name", ["json_as_text", "bytea_as_bytes"])
async def test_an_option_that_is_not_a_bool_is_refused(dsn: str, name: str) -> None:
    with pytest.raises(TypeError, match=f"{name} must be True or False, got 'yes'"):
        await ferropg.connect(dsn, **{name: "yes"})
