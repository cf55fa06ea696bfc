"""Property tests: a value sent as `SELECT %s` comes back equal, on both parameter paths.

A single statement with parameters is server-bound (Parse/Bind, values in binary); a
multi-statement string has its parameters inlined as psycopg2 literals (simple protocol).
psycopg2's literal typing sets what comes back: a finite float is a numeric literal, so
it returns as the Decimal of its repr; an integral Decimal returns as int; an int beyond
int8 returns as Decimal. Values are compared by value (Decimal(5) == 5), and against
psycopg2 itself, the oracle, by value and type.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferropg

SETTINGS = settings(max_examples=200, deadline=None)

PATHS = {
    "server-bound": "SELECT %s",
    "literal": "SELECT 1; SELECT %s",
}

texts = st.text(alphabet=st.characters(codec="utf-8", blacklist_characters="\x00"))
ints = st.integers(min_value=-(2**31), max_value=2**31) | st.integers() | st.sampled_from(
    [2**31 - 1, -(2**31), 2**31, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 10**40]
)
floats = st.floats(allow_nan=True, allow_infinity=True)
decimals = st.builds(
    lambda digits, exponent: Decimal(f"{digits}E{exponent}"),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.integers(min_value=-40, max_value=40),
) | st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**12), max_value=10**12)


class Runner:
    """A ferropg cursor on a private loop, for hypothesis's synchronous test bodies."""

    def __init__(self, dsn: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(ferropg.connect(dsn))
        self.cur = self.loop.run_until_complete(self.conn.cursor())

    def select(self, sql: str, value: Any) -> list[tuple[Any, ...]]:
        async def run() -> list[tuple[Any, ...]]:
            await self.cur.execute(sql, (value,))
            return await self.cur.fetchall()  # type: ignore[no-any-return]

        return self.loop.run_until_complete(run())

    def close(self) -> None:
        self.conn.close()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()


@pytest.fixture(scope="module")
def runner(pg: Any) -> Iterator[Runner]:
    r = Runner(pg.dsn)
    yield r
    r.close()


@pytest.fixture(scope="module")
def oracle(pg: Any) -> Iterator[Any]:
    conn = psycopg2.connect(pg.dsn)
    conn.autocommit = True
    yield conn.cursor()
    conn.close()


def _same(got: Any, expected: Any) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(got, float) and math.isnan(got)
    if isinstance(got, Decimal) and got.is_nan():
        return isinstance(expected, Decimal) and expected.is_nan()
    return bool(got == expected)


def _check(runner: Runner, oracle: Any, path: str, value: Any, expected: Any) -> None:
    rows = runner.select(PATHS[path], value)
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    got = rows[0][0]
    assert _same(got, expected), f"{path}: sent {value!r}, got {got!r}, expected {expected!r}"
    oracle.execute(PATHS[path], (value,))
    want = oracle.fetchone()[0]
    assert type(got) is type(want), f"{path}: sent {value!r}, got {got!r}, psycopg2 gives {want!r}"
    assert _same(got, want) if not isinstance(want, memoryview) else bytes(got) == bytes(want)


@pytest.mark.parametrize("path", PATHS)
@SETTINGS
@given(value=texts)
def test_text(runner: Runner, oracle: Any, path: str, value: str) -> None:
    _check(runner, oracle, path, value, value)


@pytest.mark.parametrize("path", PATHS)
@SETTINGS
@given(value=st.binary(max_size=2000))
def test_bytes(runner: Runner, oracle: Any, path: str, value: bytes) -> None:
    rows = runner.select(PATHS[path], value)
    got = rows[0][0]
    assert isinstance(got, memoryview), repr(got)  # psycopg2's bytea type
    assert bytes(got) == value
    oracle.execute(PATHS[path], (value,))
    assert bytes(oracle.fetchone()[0]) == bytes(got)


@pytest.mark.parametrize("path", PATHS)
@SETTINGS
@given(value=ints)
def test_int(runner: Runner, oracle: Any, path: str, value: int) -> None:
    _check(runner, oracle, path, value, value)


@pytest.mark.parametrize("path", PATHS)
@SETTINGS
@given(value=floats)
def test_float(runner: Runner, oracle: Any, path: str, value: float) -> None:
    expected = value if not math.isfinite(value) else Decimal(repr(value))
    _check(runner, oracle, path, value, expected)


@pytest.mark.parametrize("path", PATHS)
@SETTINGS
@given(value=decimals)
def test_decimal(runner: Runner, oracle: Any, path: str, value: Decimal) -> None:
    _check(runner, oracle, path, value, value)


@pytest.mark.parametrize("path", PATHS)
@SETTINGS
@given(values=st.lists(texts | ints | floats | decimals | st.none() | st.booleans(), min_size=1, max_size=6))
def test_mixed_row(runner: Runner, path: str, values: list[Any]) -> None:
    placeholders = ", ".join(["%s"] * len(values))
    sql = PATHS[path].replace("%s", placeholders)

    async def run() -> list[tuple[Any, ...]]:
        await runner.cur.execute(sql, values)
        return await runner.cur.fetchall()  # type: ignore[no-any-return]

    (row,) = runner.loop.run_until_complete(run())
    for got, sent in zip(row, values):
        expected = Decimal(repr(sent)) if isinstance(sent, float) and math.isfinite(sent) else sent
        assert _same(got, expected), f"{path}: sent {sent!r}, got {got!r}"


@pytest.mark.parametrize("path", PATHS)
def test_decimal_nan_as_psycopg2(runner: Runner, oracle: Any, path: str) -> None:
    oracle.execute(PATHS[path], (Decimal("NaN"),))
    want = oracle.fetchone()[0]
    (row,) = runner.select(PATHS[path], Decimal("NaN"))
    assert isinstance(want, Decimal) and want.is_nan()
    assert isinstance(row[0], Decimal) and row[0].is_nan()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("value", [Decimal("Infinity"), Decimal("-Infinity")])
def test_decimal_infinities_are_kept(runner: Runner, path: str, value: Decimal) -> None:
    # a deliberate departure (codecs/encode.rs decimal_text): psycopg2 sends them as NaN
    (row,) = runner.select(PATHS[path], value)
    assert isinstance(row[0], Decimal) and row[0] == value
