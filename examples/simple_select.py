"""A select through `connect`, written exactly as aiopg code is."""

import asyncio
import os

import ferropg as aiopg


async def main() -> None:
    async with aiopg.connect(os.environ["FERROPG_DSN"]) as conn:
        async with conn.cursor() as cur:
            await cur.execute("SELECT %s + 1 AS answer, %s AS greeting", (41, "hello"))
            print("description:", [col.name for col in cur.description])
            print("row:", await cur.fetchone())

            await cur.execute("SELECT g, g * g FROM generate_series(1, 5) AS g")
            async for number, square in cur:
                print(f"{number}^2 = {square}")


asyncio.run(main())
