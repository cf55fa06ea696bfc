"""psycopg 3 (async, autocommit): execute + fetchall, executemany, cursor.copy."""

from __future__ import annotations

import psycopg


class Psycopg:
    paramstyle = "format"

    async def connect(self, server):
        conn = await psycopg.AsyncConnection.connect(
            host=server.host,
            port=server.port,
            user=server.user,
            dbname=server.dbname,
            sslmode="disable",
            autocommit=True,
        )
        conn._bench_cur = conn.cursor()
        return conn

    async def close(self, conn):
        await conn._bench_cur.close()
        await conn.close()

    async def execute(self, conn, sql):
        await conn.execute(sql)

    def fetch_op(self, conn, sql):
        cur = conn._bench_cur

        async def fetch(params):
            await cur.execute(sql, params)
            return await cur.fetchall()

        return fetch

    def batch_op(self, conn, sql):
        cur = conn._bench_cur

        async def batch(rows):
            await cur.executemany(sql, rows)  # pipelined by psycopg 3.1+

        return batch

    def copy_op(self, conn, table, columns):
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        cur = conn._bench_cur

        async def copy(rows):
            async with cur.copy(statement) as cp:
                for row in rows:
                    await cp.write_row(row)
            return cur.rowcount

        return copy
