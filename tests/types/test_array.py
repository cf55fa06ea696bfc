"""Arrays as psycopg2 2.9 returns and sends them."""

import datetime as dt
from decimal import Decimal

import pytest

import ferropg
from ferropg.extras import Json


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("'{}'::int[]", []),
        ("'[2:3]={1,2}'::int[]", [1, 2]),
        ("'{{1,2},{3,NULL}}'::int[]", [[1, 2], [3, None]]),
        ("array[null]::int[]", [None]),
        ("'{a,\"b,c\",NULL,\"NULL\",\"q\\\"q\"}'::text[]", ["a", "b,c", None, "NULL", 'q"q']),
        ("'{{\"a\",b},{c,d}}'::varchar[]", [["a", "b"], ["c", "d"]]),
        ("array[1.5]::numeric[]", [Decimal("1.5")]),
        ("array[1.5::float4, 'NaN']", [1.5, float("nan")]),
        ("array['2020-01-01'::date, 'infinity']", [dt.date(2020, 1, 1), dt.date.max]),
        ("array['1 day'::interval]", [dt.timedelta(days=1)]),
        ("array['\\x01'::bytea]", [memoryview(b"\x01")]),
        ("array[true, null]", [True, None]),
        ("array['1.2.3.4'::inet]", ["1.2.3.4"]),
        ("array['08:00:2b:01:02:03'::macaddr]", ["08:00:2b:01:02:03"]),
        ("array['{}'::json]", [{}]),
        ("array['1'::jsonb]", [1]),
        ("array['a'::\"char\"]", ["a"]),
        # Arrays of types psycopg2 has no caster for come back as the server's text.
        ("array[1::money]", "{$1.00}"),
        ("'{\"(1,2)\"}'::point[]", '{"(1,2)"}'),
    ],
)
async def test_read(check, expr, expected):
    await check(expr, expected)


@pytest.mark.parametrize(
    "value, expected",
    [
        ([1, 2], [1, 2]),
        ([[1, 2], [3, None]], [[1, 2], [3, None]]),
        ([2**40, 1], [2**40, 1]),
        ([1, 2**70], [Decimal(1), Decimal(2**70)]),
        ([1, 1.5], [Decimal(1), Decimal("1.5")]),
        (["a", "b'c", None], ["a", "b'c", None]),
        # A finite float is a bare numeric literal in psycopg2; with a float8 NaN/inf,
        # PostgreSQL resolves the array to float8[] (the numeric category's preferred type).
        ([1.5, None], [Decimal("1.5"), None]),
        ([1.5, float("nan")], [1.5, float("nan")]),
        ([1, float("-inf"), Decimal("1E+2")], [1.0, float("-inf"), 100.0]),
        ([Decimal("1"), Decimal("-0")], [1, 0]),
        ([Decimal("NaN"), 1], [Decimal("NaN"), Decimal("1")]),
        ([Json({"a": 1}), "x"], ['{"a": 1}', "x"]),
        ([dt.date(2020, 1, 1)], [dt.date(2020, 1, 1)]),
        ([Decimal("1.10")], [Decimal("1.10")]),
        ([b"a"], [memoryview(b"a")]),
        ([True], [True]),
    ],
)
async def test_send(round_trip, value, expected):
    await round_trip(value, expected)


async def test_empty_and_null_lists_are_untyped(cur):
    await cur.execute("SELECT 1 = ANY(%s), %s::int[], %s::text[]", ([], [], [None, None]))
    assert await cur.fetchone() == (False, [], [None, None])


async def test_ragged_list_is_an_error(cur):
    with pytest.raises((ferropg.ProgrammingError, ferropg.DataError)):
        await cur.execute("SELECT %s", ([[1], [2, 3]],))


async def test_mogrify(cur):
    def m(v):
        out = cur.mogrify("%s", (v,))
        return out.decode() if isinstance(out, bytes) else out

    assert m([1, 2]) == "ARRAY[1,2]"
    assert m([]) == "'{}'"
    assert m([[1, 2], [3, None]]) == "ARRAY[ARRAY[1,2],ARRAY[3,NULL]]"
    assert m([None]) == "'{NULL}'"
    assert m(["a", "b'c"]) == "ARRAY['a','b''c']"
    assert m([[], []]) == "ARRAY[ARRAY[],ARRAY[]]"
    assert m([dt.date(2020, 1, 1)]) == "ARRAY['2020-01-01'::date]"
