"""LISTEN/NOTIFY through a pool: one pooled connection listens, another sends.

aiopg's documentation releases the listening connection before its coroutine runs, so
both coroutines may end up on one connection; here each holds its own while it works.
"""

import asyncio
import os

import ferropg as aiopg


async def listen(conn: aiopg.Connection, ready: asyncio.Event) -> None:
    async with conn.cursor() as cur:
        await cur.execute("LISTEN channel")
    ready.set()
    while True:
        msg = await conn.notifies.get()
        if msg.payload == "finish":
            return
        print("Receive <-", msg.payload)


async def notify(conn: aiopg.Connection) -> None:
    async with conn.cursor() as cur:
        for i in range(5):
            msg = f"message {i}"
            print("Send ->", msg)
            await cur.execute("NOTIFY channel, %s", (msg,))
        await cur.execute("NOTIFY channel, 'finish'")


async def main() -> None:
    async with aiopg.create_pool(os.environ["FERROPG_DSN"]) as pool:
        async with pool.acquire() as listener, pool.acquire() as sender:
            ready = asyncio.Event()
            listening = asyncio.create_task(listen(listener, ready))
            await ready.wait()
            await notify(sender)
            await asyncio.wait_for(listening, timeout=10)
        # Both went back to the pool clean: the listener without its LISTEN.
        async with pool.acquire() as a, pool.acquire() as b:
            for conn in (a, b):
                async with conn.cursor() as cur:
                    await cur.execute("SELECT count(*) FROM pg_listening_channels()")
                    print("channels listened on a pooled connection:", (await cur.fetchone())[0])
    print("ALL DONE")


asyncio.run(main())
