"""Text types, bytea and NUL handling (values checked against psycopg2 2.9)."""

import pytest

import ferropg


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("'it''s'::text", "it's"),
        ("'é'::varchar(3)", "é"),
        ("'ab'::char(4)", "ab  "),
        ("'x'::\"char\"", "x"),
        ("'a'::name", "a"),
        ("'x'::unknown", "x"),
        ("'x'::xml", "x"),
        ("'1 2'::oidvector", "1 2"),
        ("'\\x00ff'::bytea", memoryview(b"\x00\xff")),
        ("''::bytea", memoryview(b"")),
    ],
)
async def test_read(check, expr, expected):
    await check(expr, expected)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("it's", "it's"),
        ("a\\b", "a\\b"),
        ("", ""),
        (b"\x00\xff", memoryview(b"\x00\xff")),
        (bytearray(b"ab"), memoryview(b"ab")),
        (memoryview(b"z"), memoryview(b"z")),
    ],
)
async def test_send(round_trip, value, expected):
    await round_trip(value, expected)


async def test_str_subclass_is_text(round_trip):
    class MyStr(str):
        pass

    await round_trip(MyStr("x"), "x")


async def test_nul_in_string_is_rejected(cur):
    with pytest.raises(ValueError, match="NUL"):
        await cur.execute("SELECT %s", ("a\x00b",))


async def test_mogrify(cur):
    def m(v):
        out = cur.mogrify("%s", (v,))
        return out.decode() if isinstance(out, bytes) else out

    assert m("it's") == "'it''s'"
    assert m(b"\x00\xff") == "'\\x00ff'::bytea"
    assert m(None) == "NULL"
    assert m(True) == "true"
    assert m((1, "a", None)) == "(1, 'a', NULL)"
    assert m((1,)) == "(1)"


async def test_tuple_parameter_goes_literal(cur):
    await cur.execute("SELECT 2 IN %s", ((1, 2, 3),))
    assert await cur.fetchone() == (True,)


async def test_unadaptable(cur):
    with pytest.raises(ferropg.ProgrammingError, match="can't adapt type 'set'"):
        await cur.execute("SELECT %s", ({1, 2},))


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("''::\"char\"", ""),  # NUL in binary, '' in the server's text output (as psycopg2)
        ("'a'::\"char\"", "a"),
        ("(-56)::int4::\"char\"", "\\310"),  # byte 200, high bit set: the server writes \ooo
    ],
)
async def test_one_byte_char(check, expr, expected):
    await check(expr, expected)

