"""Helpers for the type tests: every value is read through every path the driver has.

- extended protocol, run twice (the first run reads text, later runs binary where the
  type has a binary decoder);
- the simple protocol (`SELECT 1; SELECT ...`), where parameters are interpolated as
  psycopg2 literals and every column comes back as text.
Each path must give the value psycopg2 2.9 gives (the expected values below were taken
from psycopg2 2.9 / aiopg 1.4 against PostgreSQL 15).
"""

from __future__ import annotations

import math
from typing import Any

import pytest


def same(a: Any, b: Any) -> bool:
    """Equality that also checks types, tz offsets, NaN and memoryview contents."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, memoryview) or isinstance(b, memoryview):
        return type(a) is type(b) and bytes(a) == bytes(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if type(a) is not type(b):
        return False
    if hasattr(a, "utcoffset") and a.utcoffset() != b.utcoffset():
        return False
    if type(a).__name__ == "Decimal" and a.is_nan():
        return b.is_nan()
    return bool(a == b and str(a) == str(b))


@pytest.fixture
def read_all_ways(cur: Any) -> Any:
    """`await read_all_ways(expr, params)` -> the values of `SELECT <expr>` on each path."""

    async def run(expr: str, params: Any = None) -> list[Any]:
        got = []
        for _ in range(3):
            await cur.execute(f"SELECT {expr}", params)
            got.append((await cur.fetchone())[0])
        await cur.execute(f"SELECT 1; SELECT {expr}", params)
        got.append((await cur.fetchone())[0])
        return got

    return run


@pytest.fixture
def check(read_all_ways: Any) -> Any:
    """`await check(expr, expected, params)`: every path gives `expected`."""

    async def run(expr: str, expected: Any, params: Any = None) -> None:
        for i, got in enumerate(await read_all_ways(expr, params)):
            assert same(got, expected), f"path {i}: SELECT {expr} {params!r} gave {got!r}, want {expected!r}"

    return run


@pytest.fixture
def round_trip(check: Any) -> Any:
    """`await round_trip(value, expected=value)`: `SELECT %s` with the value as parameter."""

    async def run(value: Any, expected: Any = ..., cast: str = "") -> None:
        await check(f"%s{cast}", value if expected is ... else expected, (value,))

    return run
