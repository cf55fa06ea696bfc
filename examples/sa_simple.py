"""The aiopg documentation's first SQLAlchemy program, on ferropg.sa.

A table described with SQLAlchemy Core, one row inserted, every row read back.
Runs on SQLAlchemy 1.4 and 2.x.
"""

import asyncio
import os

import sqlalchemy as sa

from ferropg.sa import create_engine

metadata = sa.MetaData()

notes = sa.Table(
    "demo_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.String(255)),
)


async def make_table(conn) -> None:
    await conn.execute("DROP TABLE IF EXISTS demo_notes")
    await conn.execute("CREATE TABLE demo_notes (id serial PRIMARY KEY, body varchar(255))")


async def main() -> None:
    async with create_engine(os.environ["FERROPG_DSN"]) as engine:
        async with engine.acquire() as conn:
            await make_table(conn)
        async with engine.acquire() as conn:
            new_id = await conn.scalar(notes.insert().values(body="first note"))
            print("inserted row", new_id)
            await conn.execute(notes.insert().values(body="second note"))
            async for row in conn.execute(notes.select().order_by(notes.c.id)):
                print(row.id, row.body)
            await conn.execute("DROP TABLE demo_notes")


asyncio.run(main())
