"""A first side-by-side figure: `SELECT 1` round trips and a 10,000-row fetch.

ferropg (aiopg face: cursor.execute + fetchall) against asyncpg, aiopg and psycopg 3
when they are installed, interleaved (A B C A B C ...) so drift hits all alike.
Prints, per driver, the median over repeats of wall ops/s and client CPU ops/s
(time.process_time of this process: the server's share of the two cores is left out).

    python bench/quick.py [--dsn DSN] [--repeats 5] [--uvloop]
"""

import argparse
import asyncio
import statistics
import time

SELECT1 = 2000  # round trips per sample
ROWS_SQL = "SELECT g, g::float8 / 3, 'row ' || g, now() FROM generate_series(1, 10000) AS g"
FETCHES = 20  # 10,000-row fetches per sample


async def ferropg_driver(dsn):
    import ferropg

    conn = await ferropg.connect(dsn)
    cur = await conn.cursor()

    async def select1():
        await cur.execute("SELECT 1")
        return await cur.fetchall()

    async def rows():
        await cur.execute(ROWS_SQL)
        return await cur.fetchall()

    return select1, rows, conn.close


async def asyncpg_driver(dsn):
    import asyncpg

    conn = await asyncpg.connect(dsn)
    return (lambda: conn.fetch("SELECT 1")), (lambda: conn.fetch(ROWS_SQL)), conn.close


async def aiopg_driver(dsn):
    import aiopg

    conn = await aiopg.connect(dsn)
    cur = await conn.cursor()

    async def select1():
        await cur.execute("SELECT 1")
        return await cur.fetchall()

    async def rows():
        await cur.execute(ROWS_SQL)
        return await cur.fetchall()

    return select1, rows, conn.close


async def psycopg_driver(dsn):
    import psycopg

    conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    cur = conn.cursor()

    async def select1():
        await cur.execute("SELECT 1")
        return await cur.fetchall()

    async def rows():
        await cur.execute(ROWS_SQL)
        return await cur.fetchall()

    return select1, rows, conn.close


DRIVERS = {"ferropg": ferropg_driver, "asyncpg": asyncpg_driver, "aiopg": aiopg_driver, "psycopg": psycopg_driver}


async def sample(fn, n, expect_rows):
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        got = await fn()
        if len(got) != expect_rows:
            raise AssertionError(f"expected {expect_rows} rows, got {len(got)}")
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


async def main(dsn, repeats):
    drivers = {}
    for name, make in DRIVERS.items():
        try:
            drivers[name] = await make(dsn)
        except ImportError:
            print(f"({name} is not installed: skipped)")
    results = {(name, w): [] for name in drivers for w in ("select1", "rows")}
    for _ in range(repeats):
        for name, (select1, rows, _) in drivers.items():
            results[name, "select1"].append(await sample(select1, SELECT1, 1))
            results[name, "rows"].append(await sample(rows, FETCHES, 10000))
    for _, _, close in drivers.values():
        closing = close()
        if asyncio.iscoroutine(closing) or isinstance(closing, asyncio.Future):
            await closing
    print(f"{'driver':<10} {'SELECT 1 wall/s':>16} {'SELECT 1 cpu/s':>15} {'10k rows wall':>14} {'10k rows cpu':>13}")
    for name in drivers:
        s_wall = statistics.median(w for w, _ in results[name, "select1"])
        s_cpu = statistics.median(c for _, c in results[name, "select1"])
        r_wall = statistics.median(w for w, _ in results[name, "rows"]) * 10000
        r_cpu = statistics.median(c for _, c in results[name, "rows"]) * 10000
        print(f"{name:<10} {s_wall:>16,.0f} {s_cpu:>15,.0f} {r_wall:>13,.0f}/s {r_cpu:>12,.0f}/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    cluster = None
    dsn = args.dsn
    if dsn is None:
        from ferropg.testing import Cluster

        cluster = Cluster().start()
        dsn = cluster.uri + "?sslmode=disable"
    try:
        if args.uvloop:
            import uvloop

            uvloop.run(main(dsn, args.repeats))
        else:
            asyncio.run(main(dsn, args.repeats))
    finally:
        if cluster is not None:
            cluster.destroy()
