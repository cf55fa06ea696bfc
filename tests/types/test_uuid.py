"""uuid -> uuid.UUID with enable_uuid (the default), str without."""

import uuid

import ferropg

U = uuid.UUID("0b4604ae-eece-41bd-94be-077252aef680")


async def test_read(check):
    await check(f"'{U}'::uuid", U)
    await check(f"array['{U}'::uuid, NULL]", [U, None])


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
