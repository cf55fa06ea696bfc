"""A select through a connection pool, the three ways aiopg code borrows a connection."""

import asyncio
import os

import ferropg as aiopg


async def main() -> None:
    async with aiopg.create_pool(os.environ["FERROPG_DSN"], minsize=1, maxsize=5) as pool:
        # 1. acquire() as an async context manager: the connection goes back on exit.
        async with pool.acquire() as conn:
            async with conn.cursor() as cur:
                await cur.execute("SELECT 1")
                rows = [row async for row in cur]
                assert rows == [(1,)], rows
                print("acquire():", rows)

        # 2. The cursor shortcut: a cursor on a pooled connection.
        async with pool.cursor() as cur:
            await cur.execute("SELECT %s || ' from the pool'", ("hello",))
            print("cursor():", await cur.fetchone())

        # 3. `with (await pool)`, aiopg's oldest spelling.
        with (await pool) as conn:  # fmt: skip
            async with conn.cursor() as cur:
                await cur.execute("SELECT pg_backend_pid()")
                print("await pool: backend pid", (await cur.fetchone())[0])

        # Many tasks share at most maxsize connections.
        async def square(n: int) -> int:
            async with pool.cursor() as cur:
                await cur.execute("SELECT %s * %s", (n, n))
                return (await cur.fetchone())[0]

        squares = await asyncio.gather(*(square(n) for n in range(20)))
        print(f"20 tasks, {pool.size} connections (maxsize {pool.maxsize}):", squares)
    print("pool closed:", pool.closed)


asyncio.run(main())
