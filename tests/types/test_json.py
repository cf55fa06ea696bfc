"""json/jsonb: decoded with json.loads (psycopg2 registers them globally), sent via Json."""

import json
import sys

import pytest

import ferropg
from ferropg.extras import Json


def _nested(depth):
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("'{\"a\":1}'::json", {"a": 1}),
        ("'[1, \"x\", null]'::jsonb", [1, "x", None]),
        ("'\"é\"'::jsonb", "é"),
        ("'null'::json", None),
        # json keeps the text as written: whitespace around the value and big numbers.
        ("' {\"a\" : [1,  2.5]}  '::json", {"a": [1, 2.5]}),
        ("'\n12345678901234567890\n'::json", 12345678901234567890),
        ("'{\"k\": {\"k\": 1}, \"j\": {\"k\": 2}}'::jsonb", {"k": {"k": 1}, "j": {"k": 2}}),
        # json keeps its text as written: numbers as typed, duplicate keys (the last wins).
        ("'{\"a\": 1, \"a\": 2}'::json", {"a": 2}),
        ("'[1e400, -0.0, 1.5e-3, 123456789012345678901234567890]'::json", [float("inf"), -0.0, 0.0015, 123456789012345678901234567890]),
        ("(repeat('[', 300) || repeat(']', 300))::json", _nested(300)),
        ("'\"tab\\tquote\\\"é\\u00e9\\ud83d\\ude00\"'::jsonb", 'tab\tquote"éé\U0001f600'),
    ],
)
async def test_read(check, expr, expected):
    await check(expr, expected)


async def test_send(round_trip):
    # psycopg2's Json is an untyped string literal: `SELECT %s` reads it back as text.
    await round_trip(Json({"a": [1, "é"]}), '{"a": [1, "\\u00e9"]}')
    await round_trip(Json(None), "null")
    await round_trip(Json({"a": [1, "é"]}), {"a": [1, "é"]}, cast="::jsonb")
    await round_trip(Json(None), None, cast="::json")


async def test_send_to_json_and_jsonb_columns(cur):
    await cur.execute("CREATE TEMP TABLE j (a json, b jsonb)")
    await cur.execute("INSERT INTO j VALUES (%s, %s)", (Json([1]), Json({"k": "v"})))
    await cur.execute("SELECT a, b FROM j WHERE b = %s AND b @> %s", (Json({"k": "v"}), Json({})))
    assert await cur.fetchone() == ([1], {"k": "v"})


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



async def test_a_value_json_loads_refuses_raises_its_error(cur):
    # A builder error from the Rust parser (int() refusing a long literal under a lowered
    # digit limit) surfaces as json.loads would raise it, and the connection goes on.
    digits = "7" * 700
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        with pytest.raises(ValueError) as ours:
            await cur.execute(f"SELECT '[{digits}]'::jsonb")
        with pytest.raises(ValueError) as theirs:
            json.loads(f"[{digits}]")
        assert str(ours.value) == str(theirs.value)
    finally:
        sys.set_int_max_str_digits(limit)
    await cur.execute(f"SELECT '[{digits}]'::jsonb")
    assert await cur.fetchone() == ([int(digits)],)
