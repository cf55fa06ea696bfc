"""ferropg in its two faces: aiopg's cursor API, and the engine's future straight."""

from __future__ import annotations

import ferropg


class AiopgFace:
    """What aiopg code does: `cur.execute` with `%s`, then `fetchall`."""

    paramstyle = "format"

    async def connect(self, server):
        conn = await ferropg.connect(
            host=server.host, port=server.port, user=server.user, dbname=server.dbname, sslmode="disable"
        )
        conn._bench_cur = await conn.cursor()
        return conn

    async def close(self, conn):
        conn._bench_cur.close()
        await conn.close()

    async def execute(self, conn, sql):
        await conn._bench_cur.execute(sql)

    def fetch_op(self, conn, sql):
        cur = conn._bench_cur

        async def fetch(params):
            await cur.execute(sql, params)
            return await cur.fetchall()

        return fetch

    def batch_op(self, conn, sql):
        cur = conn._bench_cur

        async def batch(rows):
            await cur.executemany(sql, rows)

        return batch

    def copy_op(self, conn, table, columns):
        return None  # ferropg has no COPY API yet


class NativeFace(AiopgFace):
    """The engine's fast path: `Connection._native.execute` awaited, rows from `.rows`,
    set up as asyncpg is by default: named prepared statements cached per connection
    (`statement_cache_size=100`), json/jsonb as text and bytea as bytes (`json_as_text`,
    `bytea_as_bytes`). The aiopg face keeps aiopg's unnamed statements and types."""

    async def connect(self, server):
        conn = await ferropg.connect(
            host=server.host,
            port=server.port,
            user=server.user,
            dbname=server.dbname,
            sslmode="disable",
            statement_cache_size=100,
            json_as_text=True,
            bytea_as_bytes=True,
        )
        conn._bench_cur = await conn.cursor()
        return conn

    def fetch_op(self, conn, sql):
        execute = conn._native.execute

        async def fetch(params):
            return (await execute(sql, params)).rows

        return fetch

    def batch_op(self, conn, sql):
        execute_many = conn._native.execute_many

        async def batch(rows):
            await execute_many(sql, rows)

        return batch
