"""psqlpy (Rust, tokio): execute (prepared by default) with rows as tuples, execute_many,
copy_records_to_table."""

from __future__ import annotations

import psqlpy


class Psqlpy:
    paramstyle = "numeric"

    async def connect(self, server):
        return await psqlpy.connect(
            host=server.host,
            port=server.port,
            username=server.user,
            db_name=server.dbname,
            ssl_mode=psqlpy.SslMode.Disable,
        )

    async def close(self, conn):
        conn.close()

    async def execute(self, conn, sql):
        await conn.execute(sql)

    def fetch_op(self, conn, sql):
        execute = conn.execute

        async def fetch(params):
            return (await execute(sql, params)).result(as_tuple=True)

        return fetch

    def batch_op(self, conn, sql):
        async def batch(rows):
            await conn.execute_many(sql, rows)

        return batch

    def copy_op(self, conn, table, columns):
        async def copy(rows):
            return await conn.copy_records_to_table(table, rows, columns=list(columns))

        return copy
