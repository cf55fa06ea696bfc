"""bool, integers, floats and numeric, read and sent (values checked against psycopg2 2.9)."""

import math
import random
import struct
from decimal import Decimal

import pytest

import ferropg


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("true", True),
        ("false", False),
        ("NULL::bool", None),
        ("1::int2", 1),
        ("(-32768)::int2", -32768),  # -32768::int2 is -(32768::int2): out of range
        ("2147483647::int4", 2147483647),
        ("(-9223372036854775808)::int8", -9223372036854775808),
        ("4294967295::oid", 4294967295),
        ("1.5::float4", 1.5),
        ("0.1::float4", 0.1),
        ("0.1::float8", 0.1),
        ("'NaN'::float8", float("nan")),
        ("'Infinity'::float8", float("inf")),
        ("'-Infinity'::float4", float("-inf")),
        ("1.50::numeric(10,3)", Decimal("1.500")),
        ("'NaN'::numeric", Decimal("NaN")),
        ("'Infinity'::numeric", Decimal("Infinity")),
        ("'-Infinity'::numeric", Decimal("-Infinity")),
        ("1e-20::numeric", Decimal("1E-20")),
        ("0::numeric", Decimal("0")),
        ("-12345.678::numeric", Decimal("-12345.678")),
        ("10::numeric ^ 300", Decimal("1" + "0" * 300 + "." + "0" * 16)),
        ("1::numeric / 3", Decimal("0.33333333333333333333")),
    ],
)
async def test_read(check, expr, expected):
    await check(expr, expected)


@pytest.mark.parametrize(
    "value, expected",
    [
        (True, True),
        (0, 0),
        (-5, -5),
        (2**31, 2**31),
        (2**63, Decimal(2**63)),
        (10**30, Decimal(10**30)),
        # psycopg2 writes a finite float bare (1.5, 1e+100), which PostgreSQL types numeric.
        (1.5, Decimal("1.5")),
        (1e100, Decimal("1" + "0" * 100)),
        (float("inf"), float("inf")),
        (float("-inf"), float("-inf")),
        (float("nan"), float("nan")),
        (Decimal("1.50"), Decimal("1.50")),
        (Decimal("1E+2"), Decimal("100")),
        # An integral Decimal is written as an integer literal, which PostgreSQL types int.
        (Decimal("-0"), 0),
        (Decimal("7"), 7),
        (Decimal(2**40), 2**40),
        (Decimal(2**63), Decimal(2**63)),
        (Decimal("NaN"), Decimal("NaN")),
        (Decimal("sNaN"), Decimal("NaN")),
        # psycopg2 sends Decimal infinities as NaN; we keep them (numeric has them since PG 14).
        (Decimal("Infinity"), Decimal("Infinity")),
        (Decimal("-Infinity"), Decimal("-Infinity")),
    ],
)
async def test_send(round_trip, value, expected):
    await round_trip(value, expected)


async def test_int_subclass_is_int_but_bool_is_not(cur):
    class MyInt(int):
        pass

    await cur.execute("SELECT pg_typeof(%s)::text, pg_typeof(%s)::text", (MyInt(3), True))
    assert await cur.fetchone() == ("integer", "boolean")


async def test_int_sizes_pick_types(cur):
    await cur.execute("SELECT pg_typeof(%s)::text, pg_typeof(%s)::text, pg_typeof(%s)::text", (1, 2**40, 2**70))
    assert await cur.fetchone() == ("integer", "bigint", "numeric")


async def test_decimal_types_follow_their_literal(cur):
    values = (Decimal("-2147483648"), Decimal(2**40), Decimal(2**70), Decimal("1.0"), Decimal("1E+2"))
    await cur.execute("SELECT " + ", ".join(["pg_typeof(%s)::text"] * len(values)), values)
    assert await cur.fetchone() == ("integer", "bigint", "numeric", "numeric", "numeric")


async def test_mogrify_literals(cur):
    values = (-5, 1.5, -0.0, float("nan"), Decimal("-1.5"), Decimal("-0"), Decimal("Infinity"), Decimal("sNaN"))
    got = [cur.mogrify("%s", (v,)) for v in values]
    got = [g.decode() if isinstance(g, bytes) else g for g in got]
    assert got == [" -5", "1.5", " -0.0", "'NaN'::float", " -1.5", " -0", "'Infinity'::numeric", "'NaN'::numeric"]


async def test_unadaptable_names_parameter(cur):
    with pytest.raises(ferropg.ProgrammingError, match=r"can't adapt type 'object' \(parameter 2\)"):
        await cur.execute("SELECT %s, %s", (1, object()))


async def test_floats_bind_with_the_digits_and_scale_of_repr(cur):
    # The bound path writes floats in Rust; the numeric it gives must be the one psycopg2's
    # literal (Python's repr) gives: same digits and same scale ('1.0' has scale 1).
    rng = random.Random(1729)
    spread = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(300)]
    edges = [0.0, -0.0, 1.0, 123.0, 0.1, 0.1 + 0.2, 1e-5, 1.5e-7, 1e15, 9999999999999998.0, 1e16, 1.5e16]
    edges += [2.0**60, 1e100, 5e-324, 1.7976931348623157e308, -2.5, 1 / 3]
    for v in edges + [f for f in spread if math.isfinite(f)]:
        await cur.execute("SELECT %s", (v,))
        bound = (await cur.fetchone())[0]
        await cur.execute(cur.mogrify("SELECT %s", (v,)))
        literal = (await cur.fetchone())[0]
        assert str(bound) == str(literal), v
