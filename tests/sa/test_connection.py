"""SAConnection.execute: SQL strings and Core constructs, parameter forms, failures."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import ferropg
from ferropg.sa import ArgumentError, Engine, ResourceClosedError, ResultProxy, SAConnection

from .conftest import emails, make_tables, users

tbl = sa.Table(
    "sa_tbl",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("val", sa.String(255)),
    sa.Column("note", sa.String(255), default="none"),
)


@pytest.fixture
async def conn(saconn: SAConnection) -> SAConnection:
    await saconn.execute("DROP TABLE IF EXISTS sa_tbl")
    await saconn.execute(
        "CREATE TABLE sa_tbl (id serial PRIMARY KEY, val varchar(255), note varchar(255))"
    )
    return saconn


async def vals(conn: SAConnection) -> list[tuple]:
    rows = await (await conn.execute(sa.select(tbl.c.id, tbl.c.val).order_by(tbl.c.id))).fetchall()
    return [r.as_tuple() for r in rows]


async def test_insert_values_returns_primary_key(conn: SAConnection) -> None:
    assert await conn.scalar(tbl.insert().values(val="a")) == 1
    assert await conn.scalar(tbl.insert().values(val="b")) == 2
    assert await vals(conn) == [(1, "a"), (2, "b")]


async def test_parameter_forms_for_constructs(conn: SAConnection) -> None:
    await conn.execute(tbl.insert(), {"id": 1, "val": "dict"})
    await conn.execute(tbl.insert(), id=2, val="kwargs")
    await conn.execute(tbl.insert(), (3, "positional"))  # table column order, as aiopg.sa
    await conn.execute(tbl.insert(), [{"id": 4, "val": "one-item list"}])
    assert await vals(conn) == [(1, "dict"), (2, "kwargs"), (3, "positional"), (4, "one-item list")]


async def test_parameter_forms_for_strings(conn: SAConnection) -> None:
    await conn.execute("INSERT INTO sa_tbl (id, val) VALUES (%s, %s)", (1, "tuple"))
    await conn.execute("INSERT INTO sa_tbl (id, val) VALUES (%s, %s)", 2, "values")
    await conn.execute("INSERT INTO sa_tbl (id, val) VALUES (%(id)s, %(val)s)", {"id": 3, "val": "d"})
    await conn.execute("INSERT INTO sa_tbl (id, val) VALUES (%(id)s, %(val)s)", id=4, val="kw")
    await conn.execute("INSERT INTO sa_tbl (id, val) VALUES (5, %s)", "single")
    assert await vals(conn) == [(1, "tuple"), (2, "values"), (3, "d"), (4, "kw"), (5, "single")]


async def test_python_default_is_applied(conn: SAConnection) -> None:
    await conn.execute(tbl.insert().values(val="x"))
    assert await conn.scalar(sa.select(tbl.c.note)) == "none"


async def test_executemany_is_refused(conn: SAConnection) -> None:
    with pytest.raises(ArgumentError, match="one set of parameters per execute"):
        await conn.execute(tbl.insert(), [{"val": "a"}, {"val": "b"}])
    assert await vals(conn) == []


async def test_multi_row_insert_values(conn: SAConnection) -> None:
    await conn.execute(tbl.insert().values([{"id": 1, "val": "a"}, {"id": 2, "val": "b"}]))
    assert await vals(conn) == [(1, "a"), (2, "b")]


async def test_select_with_positional_params_is_refused(conn: SAConnection) -> None:
    with pytest.raises(ArgumentError, match="positional"):
        await conn.execute(tbl.select(), (1,))


async def test_ddl_constructs(saconn: SAConnection) -> None:
    meta = sa.MetaData()
    t = sa.Table("sa_ddl", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.Text))
    await saconn.execute("DROP TABLE IF EXISTS sa_ddl")
    await saconn.execute(sa.schema.CreateTable(t))
    await saconn.execute(t.insert().values(v="ok"))
    assert await saconn.scalar(sa.select(t.c.v)) == "ok"
    with pytest.raises(ArgumentError, match="DDL"):
        await saconn.execute(sa.schema.DropTable(t), {"x": 1})
    await saconn.execute(sa.schema.DropTable(t))


async def test_update_delete_rowcount_and_in(conn: SAConnection) -> None:
    for v in "abcd":
        await conn.execute(tbl.insert().values(val=v))
    res = await conn.execute(tbl.update().where(tbl.c.id.in_([1, 3])).values(val="z"))
    assert res.rowcount == 2 and not res.returns_rows and res.closed
    res = await conn.execute(tbl.delete().where(tbl.c.val == "z"))
    assert res.rowcount == 2
    assert await vals(conn) == [(2, "b"), (4, "d")]


async def test_percent_signs_and_text(conn: SAConnection) -> None:
    await conn.execute(tbl.insert().values(val="50%"))
    assert await conn.scalar(sa.select(tbl.c.id).where(tbl.c.val.like("%\\%", escape="\\"))) == 1
    assert await conn.scalar(sa.text("SELECT '%' || :x"), x="y") == "%y"
    assert await conn.scalar("SELECT '100%%'") == "100%"  # always %-formatted, as aiopg.sa
    assert await conn.scalar("SELECT '100%%'", ()) == "100%"


async def test_async_for_over_execute(conn: SAConnection) -> None:
    await conn.execute(tbl.insert().values(val="a"))
    await conn.execute(tbl.insert().values(val="b"))
    seen = [row.val async for row in conn.execute(tbl.select().order_by(tbl.c.id))]
    assert seen == ["a", "b"]


async def test_async_with_execute_closes_result(conn: SAConnection) -> None:
    async with conn.execute(tbl.select()) as result:
        assert isinstance(result, ResultProxy) and not result.closed
    assert result.closed


async def test_joins_and_aggregates(saconn: SAConnection) -> None:
    await make_tables(saconn)
    uid = await saconn.scalar(users.insert().values(name="Ann"))
    await saconn.execute(emails.insert().values(user_id=uid, email="a@x", private=True))
    await saconn.execute(emails.insert().values(user_id=uid, email="b@x"))  # private default
    join = sa.join(emails, users, users.c.id == emails.c.user_id)
    q = (
        sa.select(users.c.name, sa.func.count(emails.c.id).label("n"))
        .select_from(join)
        .where(emails.c.private == sa.false())
        .group_by(users.c.name)
    )
    rows = await (await saconn.execute(q)).fetchall()
    assert [(r.name, r.n) for r in rows] == [("Ann", 1)]
    assert await saconn.scalar(sa.select(sa.func.count()).select_from(emails)) == 2


async def test_server_error_propagates_and_connection_goes_on(conn: SAConnection) -> None:
    await conn.execute(tbl.insert().values(id=1, val="a"))
    with pytest.raises(ferropg.IntegrityError):
        await conn.execute(tbl.insert().values(id=1, val="dup"))
    with pytest.raises(ferropg.ProgrammingError):
        await conn.execute("SELECT * FROM no_such_table_here")
    assert await vals(conn) == [(1, "a")]


async def test_bad_query_type(conn: SAConnection) -> None:
    with pytest.raises(ArgumentError, match="should be str or SQLAlchemy"):
        await conn.execute(42)


async def test_closed_connection(engine: Engine) -> None:
    conn = await engine.acquire()
    await conn.close()
    assert conn.closed and conn.connection is None
    await conn.close()  # twice is fine
    with pytest.raises(ResourceClosedError, match="connection is closed"):
        await conn.execute("SELECT 1")
    with pytest.raises(ResourceClosedError):
        await conn.scalar("SELECT 1")
    with pytest.raises(ResourceClosedError):
        await conn.begin()


async def test_close_rolls_back_open_transaction(engine: Engine, conn: SAConnection) -> None:
    other = await engine.acquire()
    tr = await other.begin()
    await other.execute(tbl.insert().values(val="never"))
    await other.close()
    assert not tr.is_active
    assert await vals(conn) == []
    assert engine.freesize == engine.size - 1  # only `conn` is still lent


async def test_close_closes_open_results(engine: Engine) -> None:
    conn = await engine.acquire()
    result = await conn.execute("SELECT generate_series(1, 3)")
    assert not result.closed
    await conn.close()
    assert result.cursor is None or result.cursor.closed
