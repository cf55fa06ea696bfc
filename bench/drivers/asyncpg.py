"""asyncpg: fetch (statement cache on, as by default), executemany, copy_records_to_table."""

from __future__ import annotations

import asyncpg


class Asyncpg:
    paramstyle = "numeric"

    async def connect(self, server):
        return await asyncpg.connect(
            host=server.host, port=server.port, user=server.user, database=server.dbname, ssl=False
        )

    async def close(self, conn):
        await conn.close()

    async def execute(self, conn, sql):
        await conn.execute(sql)

    def fetch_op(self, conn, sql):
        fetch = conn.fetch

        async def op(params):
            return await fetch(sql, *params)

        return op

    def batch_op(self, conn, sql):
        async def batch(rows):
            await conn.executemany(sql, rows)

        return batch

    def copy_op(self, conn, table, columns):
        async def copy(rows):
            status = await conn.copy_records_to_table(table, records=rows, columns=list(columns))
            return int(status.rpartition(" ")[2])

        return copy
