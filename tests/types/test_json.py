"""json/jsonb: decoded with json.loads (psycopg2 registers them globally), sent via Json."""

import pytest

import ferropg
from ferropg.extras import Json


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("'{\"a\":1}'::json", {"a": 1}),
        ("'[1, \"x\", null]'::jsonb", [1, "x", None]),
        ("'\"é\"'::jsonb", "é"),
        ("'null'::json", None),
    ],
)
async def test_read(check, expr, expected):
    await check(expr, expected)


async def test_send(round_trip):
    await round_trip(Json({"a": [1, "é"]}), {"a": [1, "é"]})
    await round_trip(Json(None), None)


async def test_json_decoded_even_when_disabled(dsn):
    conn = await ferropg.connect(dsn, enable_json=False)
    try:
        cur = await conn.cursor()
        await cur.execute("SELECT '{\"a\":1}'::json, '[1]'::jsonb")
        assert await cur.fetchone() == ({"a": 1}, [1])
    finally:
        await conn.close()


async def test_mogrify(cur):
    out = cur.mogrify("%s", (Json({"a": 1}),))
    assert (out.decode() if isinstance(out, bytes) else out) == "'{\"a\": 1}'"
