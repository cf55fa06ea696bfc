"""The workloads: MagicStack's pgbench suite with its exact SQL and data, then ours.

Each workload knows its SQL (with `$n` placeholders; drivers that take `%s` get a
converted copy), how to set up and tear down its table, and what a correct answer is.
Read workloads carry a model of their rows computed in Python, independently of any
driver, so a driver that decodes wrongly fails its check instead of winning.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Optional, Sequence

# MagicStack's 7-column row, used by both the COPY and the batch-insert workloads.
ROW_7 = (10, 11, 10, "TESTTESTTEST", 10.333, 12341234, "123412341234")
TABLE_7 = "CREATE TABLE _test(a int, b int, c int, d text, e float, f int, g text);"
COLUMNS_7 = ("a", "b", "c", "d", "e", "f", "g")
# A written table is right when every row equals ROW_7 and there are as many as were sent.
CHECK_7 = (
    "SELECT count(*), count(*) FILTER (WHERE (a, b, c, d, e, f, g) = "
    "(10, 11, 10, 'TESTTESTTEST', 10.333::float8, 12341234, '123412341234')) FROM _test"
)
EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)


@dataclass
class Workload:
    name: str
    title: str
    kind: str  # "fetch" (rows come back), "batch" (many inserts), "copy" (COPY FROM STDIN)
    sql: str = ""  # `$n` placeholders; for "copy" the COPY statement shown in reports
    setup: str = ""
    teardown: str = ""
    # fetch: parameter tuples cycled over the ops, the rows each op must return, the column
    # kinds that say how to normalize a value, and the model rows for a parameter tuple.
    params: Sequence[tuple] = ((),)
    rows_per_op: int = 0
    kinds: tuple[str, ...] = ()
    model: Optional[Callable[[tuple], list[tuple]]] = None
    # batch/copy: the rows each op sends, and the table they go to.
    rows: list[tuple] = field(default_factory=list)
    table: str = ""
    columns: tuple[str, ...] = ()

    def sql_for(self, paramstyle: str) -> str:
        """The SQL in a driver's paramstyle: "numeric" ($1) or "format" (%s)."""
        if paramstyle == "numeric":
            return self.sql
        import re

        return re.sub(r"\$\d+", "%s", self.sql)


# -- normalizing values, so that every driver's rows can be compared to one model ------


def _tstz(v: Any) -> float:
    if v.tzinfo is None:
        raise ValueError(f"timestamptz came back without a time zone: {v!r}")
    return v.timestamp()


def _json(v: Any) -> str:
    # asyncpg returns jsonb as its text; the others decode it.
    return json.dumps(json.loads(v) if isinstance(v, str) else v, sort_keys=True)


NORMALIZE: dict[str, Callable[[Any], Any]] = {
    "int": int,
    "float": lambda v: repr(float(v)),
    "num": lambda v: str(Decimal(v)),
    "text": str,
    # PostgreSQL's one-byte "char": asyncpg gives bytes, the others str.
    "char": lambda v: v.decode() if isinstance(v, bytes) else str(v),
    "bool": lambda v: bool(v) if isinstance(v, bool) else {"t": True, "f": False}[v],
    "tstz": _tstz,
    "date": lambda v: v.isoformat(),
    "uuid": lambda v: str(v).lower(),
    "json": _json,
    "bytes": lambda v: hashlib.md5(bytes(v)).hexdigest(),
    "intarr": lambda v: [int(x) for x in v],
}


def checksum(rows: Sequence[Sequence[Any]], kinds: tuple[str, ...]) -> int:
    """An order-independent checksum of rows after normalizing each value by its kind."""
    funcs = [NORMALIZE[k] for k in kinds]
    total = 0
    for row in rows:
        if len(row) != len(funcs):
            raise ValueError(f"a row has {len(row)} columns, expected {len(funcs)}: {row!r}")
        norm = tuple(f(v) if v is not None else None for f, v in zip(funcs, row))
        total += zlib.crc32(repr(norm).encode())
    return total % (1 << 64)


# -- MagicStack's seven ---------------------------------------------------------------

PG_TYPE_SQL = (
    "select typname, typnamespace, typowner, typlen, typbyval, typcategory, "
    "typispreferred, typisdefined, typdelim, typrelid, typelem, typarray "
    "from pg_type where typtypmod = $1 and typisdefined = $2"
)
PG_TYPE_KINDS = ("text", "int", "int", "int", "bool", "char", "bool", "bool", "char", "int", "int", "int")


def pg_type(catalog_rows: list[tuple]) -> Workload:
    """`catalog_rows`: the query's answer as psql (libpq, text) printed it, as strings."""
    return Workload(
        "pg_type",
        "pg_type, 12 columns (MagicStack 1)",
        "fetch",
        PG_TYPE_SQL,
        params=((-1, True),),
        rows_per_op=len(catalog_rows),
        kinds=PG_TYPE_KINDS,
        model=lambda _p: catalog_rows,
    )


def magicstack(quick: bool) -> list[Workload]:
    copy_rows = 100 if quick else 10_000
    batch_rows = 100 if quick else 1_000
    return [
        Workload(
            "generate_series",
            "generate_series(1, 1000) (MagicStack 2)",
            "fetch",
            "SELECT i FROM generate_series(1, $1) AS i",
            params=((1000,),),
            rows_per_op=1000,
            kinds=("int",),
            model=lambda p: [(i,) for i in range(1, p[0] + 1)],
        ),
        Workload(
            "bytea",
            "100 rows of 1000-byte bytea (MagicStack 3)",
            "fetch",
            "SELECT * FROM _bytes",
            setup="CREATE TABLE _bytes(b bytea); INSERT INTO _bytes(b) "
            "(SELECT repeat('a', 1000)::bytea FROM generate_series(1, 100));",
            teardown="DROP TABLE _bytes;",
            rows_per_op=100,
            kinds=("bytes",),
            model=lambda _p: [(b"a" * 1000,)] * 100,
        ),
        Workload(
            "arrays",
            "100 rows of int[100] (MagicStack 4)",
            "fetch",
            "SELECT * FROM _test",
            setup="CREATE TABLE _test(a int[]); INSERT INTO _test(a) (SELECT (SELECT "
            "array_agg(i) FROM generate_series(1, 100) as s(i)) FROM generate_series(1, 100));",
            teardown="DROP TABLE _test;",
            rows_per_op=100,
            kinds=("intarr",),
            model=lambda _p: [(list(range(1, 101)),)] * 100,
        ),
        Workload(
            "copy",
            f"COPY of {copy_rows:,} 7-column rows (MagicStack 5)",
            "copy",
            "COPY _test(a, b, c, d, e, f, g) FROM STDIN",
            setup=TABLE_7,
            teardown="DROP TABLE _test;",
            rows=[ROW_7] * copy_rows,
            table="_test",
            columns=COLUMNS_7,
        ),
        Workload(
            "batch",
            f"batch of {batch_rows:,} 7-column inserts (MagicStack 6)",
            "batch",
            "INSERT INTO _test (a, b, c, d, e, f, g) VALUES ($1, $2, $3, $4, $5, $6, $7);",
            setup=TABLE_7,
            teardown="DROP TABLE _test;",
            rows=[ROW_7] * batch_rows,
            table="_test",
            columns=COLUMNS_7,
        ),
        Workload(
            "one_plus_one",
            "SELECT 1+1 (MagicStack 7)",
            "fetch",
            "SELECT 1+1",
            rows_per_op=1,
            kinds=("int",),
            model=lambda _p: [(2,)],
        ),
    ]


# -- ours -----------------------------------------------------------------------------


def _wide_row(g: int) -> tuple:
    return (g, g * 0.5, f"row {g}", EPOCH + timedelta(seconds=g), Decimal(g).scaleb(-2))


def _mixed_row(g: int) -> tuple:
    return (
        g,
        g * 1_000_000_007,
        g / 4,
        (Decimal(g) * Decimal("1.25")).quantize(Decimal("0.01")),
        f"text {g} é",
        g % 2 == 0,
        EPOCH + timedelta(minutes=g),
        date(2024, 1, 1) + timedelta(days=g),
        uuid.UUID(hashlib.md5(f"u{g}".encode()).hexdigest()),
        {"id": g, "tags": ["a", g]},
        hashlib.md5(f"b{g}".encode()).digest(),
        [g, g + 1, g + 2],
    )


def _lookup_key(g: int) -> tuple:
    return (g, f"c{g % 7}", date(2024, 1, 1) + timedelta(days=g % 365))


def _lookup_row(key: tuple) -> list[tuple]:
    g = key[0]
    return [(*key, g * 0.25, f"note {g}")]


def ours(quick: bool) -> list[Workload]:
    wide = 2_000 if quick else 100_000
    return [
        Workload(
            "wide_100k",
            f"{wide:,} rows x 5 columns from a table (int8, float8, text, timestamptz, numeric)",
            "fetch",
            "SELECT id, x, label, at, amount FROM bench_wide",
            setup="CREATE TABLE bench_wide(id int8, x float8, label text, at timestamptz, amount numeric); "
            "INSERT INTO bench_wide SELECT g, g * 0.5::float8, 'row ' || g, "
            "timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', "
            f"round(g::numeric / 100, 2) FROM generate_series(1, {wide}) AS g;",
            teardown="DROP TABLE bench_wide;",
            rows_per_op=wide,
            kinds=("int", "float", "text", "tstz", "num"),
            model=lambda _p: [_wide_row(g) for g in range(1, wide + 1)],
        ),
        Workload(
            "mixed_1k",
            "1,000 rows x 12 mixed types from a table",
            "fetch",
            "SELECT i4, i8, f8, num, txt, flag, at, day, id, doc, blob, arr FROM bench_mixed",
            setup="CREATE TABLE bench_mixed(i4 int4, i8 int8, f8 float8, num numeric, txt text, "
            "flag bool, at timestamptz, day date, id uuid, doc jsonb, blob bytea, arr int4[]); "
            "INSERT INTO bench_mixed SELECT g, g * 1000000007::int8, g / 4.0::float8, "
            "round(g::numeric * 1.25, 2), 'text ' || g || ' é', g % 2 = 0, "
            "timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute', date '2024-01-01' + g, "
            "md5('u' || g)::uuid, jsonb_build_object('id', g, 'tags', jsonb_build_array('a', g)), "
            "decode(md5('b' || g), 'hex'), ARRAY[g, g + 1, g + 2] FROM generate_series(1, 1000) AS g;",
            teardown="DROP TABLE bench_mixed;",
            rows_per_op=1000,
            kinds=("int", "int", "float", "num", "text", "bool", "tstz", "date", "uuid", "json", "bytes", "intarr"),
            model=lambda _p: [_mixed_row(g) for g in range(1, 1001)],
        ),
        Workload(
            "pk_lookup",
            "primary-key lookup, 3 parameters (int4, text, date)",
            "fetch",
            "SELECT id, code, day, val, note FROM bench_lookup WHERE id = $1 AND code = $2 AND day = $3",
            setup="CREATE TABLE bench_lookup(id int4, code text, day date, val float8, note text, "
            "PRIMARY KEY (id, code, day)); INSERT INTO bench_lookup SELECT g, 'c' || (g % 7), "
            "date '2024-01-01' + (g % 365), g * 0.25::float8, 'note ' || g FROM generate_series(1, 10000) AS g;",
            teardown="DROP TABLE bench_lookup;",
            params=[_lookup_key(g) for g in range(1, 10_001, 100)],
            rows_per_op=1,
            kinds=("int", "text", "date", "float", "text"),
            model=_lookup_row,
        ),
    ]


def all_workloads(quick: bool, catalog_rows: list[tuple]) -> list[Workload]:
    return [pg_type(catalog_rows), *magicstack(quick), *ours(quick)]


def parse_catalog(psql_output: str) -> list[tuple]:
    """psql -A -t -F '|' output of PG_TYPE_SQL (literal -1, true) as typed model rows."""
    to_py = {"int": int, "bool": lambda s: s == "t", "text": str, "char": str}
    rows = []
    for line in psql_output.splitlines():
        if line:
            fields = line.split("|")
            rows.append(tuple(to_py[k](f) for k, f in zip(PG_TYPE_KINDS, fields)))
    return rows
