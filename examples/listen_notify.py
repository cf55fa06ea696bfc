"""LISTEN/NOTIFY between two connections: one listens, the other sends."""

import asyncio
import os

import ferropg as aiopg

DSN = os.environ["FERROPG_DSN"]


async def listen(conn: aiopg.Connection) -> None:
    while True:
        msg = await conn.notifies.get()
        if msg.payload == "finish":
            print("listener: got finish, stopping")
            return
        print(f"listener: {msg.channel!r} from pid {msg.pid}: {msg.payload!r}")


async def notify(conn: aiopg.Connection) -> None:
    async with conn.cursor() as cur:
        for i in range(3):
            await cur.execute("NOTIFY channel, %s", (f"message {i}",))
        await cur.execute("NOTIFY channel, 'finish'")


async def main() -> None:
    async with aiopg.connect(DSN) as listener, aiopg.connect(DSN) as sender:
        async with listener.cursor() as cur:
            await cur.execute("LISTEN channel")
        task = asyncio.create_task(listen(listener))
        await notify(sender)
        await asyncio.wait_for(task, timeout=10)


asyncio.run(main())
