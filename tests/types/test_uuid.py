"""uuid -> uuid.UUID with enable_uuid (the default), str without."""

import pickle
import uuid

import pytest

import ferropg

U = uuid.UUID("0b4604ae-eece-41bd-94be-077252aef680")


async def test_read(check):
    await check(f"'{U}'::uuid", U)
    await check(f"array['{U}'::uuid, NULL]", [U, None])


async def test_read_gives_full_uuid_objects(read_all_ways):
    # The binary decoder fills UUID's slots directly: the result must behave like one
    # built by UUID(): equal, hashable, immutable, picklable, with the same attributes.
    for got in await read_all_ways(f"'{U}'::uuid"):
        assert type(got) is uuid.UUID
        assert got == U and hash(got) == hash(U) and str(got) == str(U)
        assert got.is_safe is uuid.SafeUUID.unknown and got.version == 4
        assert pickle.loads(pickle.dumps(got)) == U
        with pytest.raises(TypeError):
            got.int = 0


async def test_send(round_trip):
    await round_trip(U)
    await round_trip([U], [U])


async def test_disabled_gives_text(dsn):
    conn = await ferropg.connect(dsn, enable_uuid=False)
    try:
        cur = await conn.cursor()
        for _ in range(2):
            await cur.execute(f"SELECT '{U}'::uuid, array['{U}'::uuid]")
            assert await cur.fetchone() == (str(U), "{" + str(U) + "}")
    finally:
        await conn.close()


async def test_mogrify(cur):
    out = cur.mogrify("%s", (U,))
    assert (out.decode() if isinstance(out, bytes) else out) == f"'{U}'::uuid"
