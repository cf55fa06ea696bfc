"""ResultProxy and RowProxy: fetching, keys, access by index/name/Column, closing."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
import sqlalchemy as sa

from ferropg.sa import InvalidRequestError, NoSuchColumnError, ResourceClosedError, SAConnection

from .conftest import emails, make_tables, only_sa14, users


@pytest.fixture
async def conn(saconn: SAConnection) -> SAConnection:
    await make_tables(saconn)
    for name in ("Ann", "Bob", "Cid"):
        uid = await saconn.scalar(users.insert().values(name=name))
        await saconn.execute(emails.insert().values(user_id=uid, email=f"{name}@x", private=False))
    return saconn


async def test_fetch_methods(conn: SAConnection) -> None:
    q = sa.select(users.c.id, users.c.name).order_by(users.c.id)
    res = await conn.execute(q)
    assert res.returns_rows and not res.closed and res.dialect is conn._dialect
    assert res.keys() == ("id", "name")
    assert (await res.fetchone()).name == "Ann"
    assert [r.name for r in await res.fetchmany(1)] == ["Bob"]
    assert [r.name for r in await res.fetchall()] == ["Cid"]
    assert res.closed
    res = await conn.execute(q)
    assert [r.id for r in await res.fetchmany(10)] == [1, 2, 3]
    assert await res.fetchmany(10) == [] and res.closed
    res = await conn.execute(q)
    assert (await res.first()).as_tuple() == (1, "Ann") and res.closed
    assert await (await conn.execute(q.where(users.c.id < 0))).first() is None
    assert await (await conn.execute(q.where(users.c.id < 0))).scalar() is None
    res = await conn.execute(q.where(users.c.id < 0))
    assert await res.fetchone() is None and res.closed


async def test_row_access(conn: SAConnection) -> None:
    row = await (await conn.execute(sa.select(users).where(users.c.name == "Bob"))).first()
    assert row[0] == row["id"] == row[users.c.id] == row.id == 2
    assert row.name == row[1] == "Bob" and row.birthday is None
    assert isinstance(row, Mapping)
    assert list(row) == ["id", "name", "birthday"] and len(row) == 3
    assert dict(row) == {"id": 2, "name": "Bob", "birthday": None}
    assert "name" in row and users.c.name in row and "nope" not in row and emails.c.email not in row
    assert row.as_tuple() == (2, "Bob", None)
    assert repr(row) == "(2, 'Bob', None)"
    with pytest.raises(NoSuchColumnError, match="nope"):
        row["nope"]
    with pytest.raises(KeyError):
        row[emails.c.email]
    with pytest.raises(AttributeError, match="nope"):
        row.nope  # noqa: B018


async def test_row_equality_and_hash(conn: SAConnection) -> None:
    q = sa.select(users.c.id, users.c.name).where(users.c.id == 1)
    a = await (await conn.execute(q)).first()
    b = await (await conn.execute(q)).first()
    assert a == b and not (a != b)
    assert a == (1, "Ann") and a == [1, "Ann"] and a != (1, "Bob")
    assert a != "not a row"
    with pytest.raises(TypeError):
        hash(a)


async def test_labels_for_joined_tables(conn: SAConnection) -> None:
    join = sa.join(emails, users, users.c.id == emails.c.user_id)
    q = (
        sa.select(users, emails)
        .set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
        .select_from(join)
        .where(users.c.name == "Cid")
    )
    row = await (await conn.execute(q)).first()
    assert row.sa_users_name == "Cid" and row.sa_emails_email == "Cid@x"
    assert row[users.c.id] == 3 and row[emails.c.id] == 3 and row[emails.c.private] is False


async def test_ambiguous_names(conn: SAConnection) -> None:
    row = await (await conn.execute("SELECT 1 AS x, 2 AS x, 3 AS y")).first()
    assert row[0] == 1 and row[1] == 2 and row.y == 3
    with pytest.raises(InvalidRequestError, match="Ambiguous column name 'x'"):
        row["x"]


async def test_text_query_with_column_objects(conn: SAConnection) -> None:
    row = await (await conn.execute("SELECT id, name FROM sa_users WHERE id = 1")).first()
    assert row[users.c.name] == "Ann"  # matched by the Column's key


async def test_column_key_names_the_row_key(saconn: SAConnection) -> None:
    t = sa.Table("sa_keyed", sa.MetaData(), sa.Column("user name", sa.Text, key="uname"))
    await saconn.execute('CREATE TEMP TABLE sa_keyed ("user name" text)')
    await saconn.execute(t.insert().values(uname="z"))
    row = await (await saconn.execute(sa.select(t))).first()
    assert row.uname == "z" and row[t.c.uname] == "z" and list(row) == ["uname"]


async def test_non_row_result(conn: SAConnection) -> None:
    res = await conn.execute(users.update().values(name="X"))
    assert res.rowcount == 3 and not res.returns_rows and res.closed and res.keys() == ()
    for fetch in (res.fetchall, res.fetchone, res.fetchmany, res.first, res.scalar):
        with pytest.raises(ResourceClosedError, match="does not return rows"):
            await fetch()


async def test_closed_result(conn: SAConnection) -> None:
    res = await conn.execute(sa.select(users.c.id))
    res.close()
    res.close()  # twice is fine
    assert res.closed
    for fetch in (res.fetchall, res.fetchone, res.fetchmany, res.first):
        with pytest.raises(ResourceClosedError, match="result object is closed"):
            await fetch()
    with pytest.raises(ResourceClosedError):
        async for _ in res:
            pass


async def test_async_for_result(conn: SAConnection) -> None:
    res = await conn.execute(sa.select(users.c.name).order_by(users.c.name))
    assert [row.name async for row in res] == ["Ann", "Bob", "Cid"]
    assert res.closed


async def test_returning(conn: SAConnection) -> None:
    res = await conn.execute(users.insert().values(name="Dee").returning(users.c.id, users.c.name))
    row = await res.first()
    assert row.id == 4 and row.name == "Dee"
    rows = await (await conn.execute(users.delete().where(users.c.id > 3).returning(users.c.id))).fetchall()
    assert [r.id for r in rows] == [4]


@only_sa14
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # 1.4 flags use_labels= for 2.0
async def test_sqlalchemy_1x_style(conn: SAConnection) -> None:
    join = sa.join(emails, users, users.c.id == emails.c.user_id)
    q = sa.select([users, emails], use_labels=True).select_from(join).where(users.c.name == "Ann")
    row = await (await conn.execute(q)).first()
    assert row.sa_users_name == "Ann" and row.sa_emails_email == "Ann@x"
    names = [r.name async for r in conn.execute(sa.select([users.c.name]).order_by(users.c.name))]
    assert names == ["Ann", "Bob", "Cid"]
    assert await conn.scalar(sa.select([sa.func.count()]).select_from(users)) == 3
