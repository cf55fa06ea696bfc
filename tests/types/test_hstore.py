"""hstore -> dict when enable_hstore and the extension exists (the test cluster has it)."""

import pytest

import ferropg


@pytest.fixture
async def hstore(cur):
    await cur.execute("CREATE EXTENSION IF NOT EXISTS hstore")


async def test_read(hstore, check):
    await check("'a=>1, b=>NULL'::hstore", {"a": "1", "b": None})
    await check("'\"b \\\"q\"=>\"\\\\\"'::hstore", {'b "q': "\\"})
    await check("''::hstore", {})
    await check("array['a=>1'::hstore, NULL]", [{"a": "1"}, None])


async def test_send(hstore, round_trip):
    await round_trip({"a": "1", "b": None, 'q"\\': "x,y=>z"})
    await round_trip({}, {})


async def test_mogrify(hstore, cur):
    def m(v):
        out = cur.mogrify("%s", (v,))
        return out.decode() if isinstance(out, bytes) else out

    assert m({"a": "1", "b": None}) == "hstore(ARRAY['a','b'], ARRAY['1',NULL])"
    assert m({"a": None}) == "hstore(ARRAY['a'], '{NULL}')"
    assert m({}) == "''::hstore"


async def test_disabled_gives_text(dsn, hstore):
    conn = await ferropg.connect(dsn, enable_hstore=False)
    try:
        cur = await conn.cursor()
        await cur.execute("SELECT 'a=>1'::hstore")
        assert await cur.fetchone() == ('"a"=>"1"',)
        with pytest.raises(ferropg.ProgrammingError, match="can't adapt type 'dict'"):
            await cur.execute("SELECT %s", ({"a": "1"},))
    finally:
        await conn.close()
