"""ferropg.extras: Json and the dict/namedtuple cursors, psycopg2.extras as the oracle."""

from __future__ import annotations

import json
import pickle
from collections import OrderedDict
from typing import Any

import psycopg2
import psycopg2.extras
import pytest

from ferropg.extras import (
    DictCursor,
    DictRow,
    Json,
    NamedTupleCursor,
    RealDictCursor,
    RealDictRow,
)

QUERY = 'SELECT 1 AS a, \'two\' AS b, 3 AS a, 4 AS "b c", 5 AS "1x", 6 AS _z'


@pytest.fixture
def oracle(dsn: str) -> Any:
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    yield connection
    connection.close()


def test_json_wrapper_matches_psycopg2(oracle: Any) -> None:
    # Without a connection psycopg2 quotes through libpq's PQescapeString, which follows
    # the last connection libpq opened (backslashes doubled before any): `oracle` makes
    # that a server with standard_conforming_strings on, as ours assumes.
    for value in ({"a": 1}, [1, "x'y"], "back\\slash", None):
        ours, theirs = Json(value), psycopg2.extras.Json(value)
        assert ours.adapted is value
        assert ours.dumps(value) == theirs.dumps(value)
        assert ours.getquoted() == theirs.getquoted()
        assert str(ours) == str(theirs)


def test_json_custom_dumps() -> None:
    wrapped = Json({"b": 1, "a": 2}, dumps=lambda obj: json.dumps(obj, sort_keys=True))
    assert wrapped.dumps(wrapped.adapted) == '{"a": 2, "b": 1}'

    class Compact(Json):
        def dumps(self, obj: Any) -> str:
            return json.dumps(obj, separators=(",", ":"))

    assert Compact({"k": [1, 2]}).getquoted() == b"'{\"k\":[1,2]}'"


async def test_json_parameter_round_trip(cur: Any) -> None:
    doc = {"name": "ferro", "list": [1, 2.5, None, True], "nested": {"q": "it's"}}
    await cur.execute("SELECT %s::jsonb, %s::json", (Json(doc), Json([1, 2])))
    jsonb_value, json_value = await cur.fetchone()
    assert jsonb_value == doc
    assert json_value == [1, 2]


async def test_json_custom_dumps_is_used_on_the_wire(cur: Any) -> None:
    wrapped = Json({"x": 1}, dumps=lambda obj: json.dumps({"wrapped": obj}))
    await cur.execute("SELECT %s::jsonb", (wrapped,))
    assert await cur.fetchone() == ({"wrapped": {"x": 1}},)
    assert cur.mogrify("SELECT %s", (wrapped,)) == b'SELECT \'{"wrapped": {"x": 1}}\''


async def test_dict_cursor_matches_psycopg2(conn: Any, oracle: Any) -> None:
    cur = await conn.cursor(cursor_factory=DictCursor)
    ocur = oracle.cursor(cursor_factory=psycopg2.extras.DictCursor)
    await cur.execute(QUERY)
    ocur.execute(QUERY)
    row, orow = await cur.fetchone(), ocur.fetchone()
    assert isinstance(row, DictRow) and isinstance(row, list)
    assert row == orow
    assert row["a"] == orow["a"] == 3  # the last column of that name
    assert row[0] == 1 and row["b"] == "two"
    assert list(row.keys()) == list(orow.keys())
    assert list(row.values()) == list(orow.values())
    assert list(row.items()) == list(orow.items())
    assert row.get("missing") is None and row.get("b") == "two"
    assert ("a" in row) and (1 not in row)
    assert row.copy() == orow.copy() and isinstance(row.copy(), OrderedDict)
    assert dict(row.items()) == dict(orow)
    assert pickle.loads(pickle.dumps(row))["b"] == "two"
    with pytest.raises(KeyError):
        row["missing"]
    await cur.execute("SELECT generate_series(1, 3) AS n")
    rows = await cur.fetchall()
    assert [r["n"] for r in rows] == [1, 2, 3]
    cur.close()


async def test_real_dict_cursor_matches_psycopg2(conn: Any, oracle: Any) -> None:
    cur = await conn.cursor(cursor_factory=RealDictCursor)
    ocur = oracle.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
    await cur.execute(QUERY)
    ocur.execute(QUERY)
    row, orow = await cur.fetchone(), ocur.fetchone()
    assert isinstance(row, RealDictRow) and isinstance(row, dict)
    assert row == orow
    assert list(row.items()) == list(orow.items())
    await cur.execute("SELECT generate_series(1, 4) AS n")
    assert await cur.fetchmany(2) == [{"n": 1}, {"n": 2}]
    assert [r async for r in cur] == [{"n": 3}, {"n": 4}]
    cur.close()


async def test_namedtuple_cursor_matches_psycopg2(conn: Any, oracle: Any) -> None:
    cur = await conn.cursor(cursor_factory=NamedTupleCursor)
    ocur = oracle.cursor(cursor_factory=psycopg2.extras.NamedTupleCursor)
    query = 'SELECT 1 AS a, 2 AS "b c", 3 AS "1x", 4 AS _z, 5 AS "é"'
    await cur.execute(query)
    ocur.execute(query)
    row, orow = await cur.fetchone(), ocur.fetchone()
    assert type(row).__name__ == "Record"
    assert row._fields == orow._fields == ("a", "b_c", "f1x", "f_z", "é")
    assert row == orow == (1, 2, 3, 4, 5)
    assert row.b_c == 2
    await cur.execute("SELECT 1 AS a, 2 AS b")
    first = await cur.fetchone()
    await cur.execute("SELECT 3 AS a, 4 AS b")
    assert type(await cur.fetchone()) is type(first)  # record types are reused
    cur.close()


async def test_factories_with_named_cursor(conn: Any) -> None:
    cur = await conn.cursor("dict_named", cursor_factory=RealDictCursor)
    cur.itersize = 2
    await cur.execute("SELECT generate_series(1, 3) AS n")
    assert [r async for r in cur] == [{"n": 1}, {"n": 2}, {"n": 3}]
    await cur.close()
