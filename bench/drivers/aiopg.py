"""aiopg 1.4 on psycopg2 (tuple cursor). Its executemany raises, so a batch is a loop;
psycopg2's asynchronous connections cannot COPY."""

from __future__ import annotations

import inspect

import aiopg


class Aiopg:
    paramstyle = "format"

    async def connect(self, server):
        conn = await aiopg.connect(
            host=server.host, port=server.port, user=server.user, dbname=server.dbname, sslmode="disable"
        )
        conn._bench_cur = await conn.cursor()
        return conn

    async def close(self, conn):
        conn._bench_cur.close()
        closing = conn.close()
        if inspect.isawaitable(closing):
            await closing

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
            for row in rows:
                await cur.execute(sql, row)

        return batch

    def copy_op(self, conn, table, columns):
        return None
