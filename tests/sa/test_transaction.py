"""Transactions: begin/commit/rollback, aiopg.sa's nesting rules, savepoints, 2PC."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ferropg.sa import Engine, InvalidRequestError, NestedTransaction, SAConnection, TwoPhaseTransaction

t = sa.Table("sa_tx", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.Text))


@pytest.fixture
async def conn(saconn: SAConnection) -> SAConnection:
    await saconn.execute("DROP TABLE IF EXISTS sa_tx")
    await saconn.execute("CREATE TABLE sa_tx (id serial PRIMARY KEY, v text)")
    return saconn


async def seen(engine: Engine) -> list[str]:
    """What another session sees: only committed rows."""
    async with engine.acquire() as other:
        return [r.v for r in await (await other.execute(sa.select(t.c.v).order_by(t.c.id))).fetchall()]


async def test_commit_and_rollback(engine: Engine, conn: SAConnection) -> None:
    tr = await conn.begin()
    assert conn.in_transaction and tr.is_active and tr.connection is conn
    await conn.execute(t.insert().values(v="kept"))
    assert await seen(engine) == []
    await tr.commit()
    assert not tr.is_active and not conn.in_transaction
    tr = await conn.begin()
    await conn.execute(t.insert().values(v="dropped"))
    await tr.rollback()
    assert await seen(engine) == ["kept"]


async def test_async_with_commits_on_success(engine: Engine, conn: SAConnection) -> None:
    async with conn.begin() as tr:
        await conn.execute(t.insert().values(v="a"))
    assert not tr.is_active
    assert await seen(engine) == ["a"]


async def test_exception_in_block_rolls_back(engine: Engine, conn: SAConnection) -> None:
    with pytest.raises(ZeroDivisionError):
        async with conn.begin():
            await conn.execute(t.insert().values(v="lost"))
            1 / 0  # noqa: B018
    assert not conn.in_transaction
    assert await seen(engine) == []
    await conn.execute(t.insert().values(v="after"))  # the connection is usable again
    assert await seen(engine) == ["after"]


async def test_server_error_in_block_rolls_back(engine: Engine, conn: SAConnection) -> None:
    with pytest.raises(Exception, match="division by zero"):
        async with conn.begin():
            await conn.execute(t.insert().values(v="lost"))
            await conn.execute("SELECT 1/0")
    assert not conn.in_transaction
    assert await seen(engine) == []


async def test_awaited_transaction_as_context_manager(engine: Engine, conn: SAConnection) -> None:
    tr = await conn.begin()
    async with tr:
        await conn.execute(t.insert().values(v="x"))
    assert await seen(engine) == ["x"]


async def test_isolation_and_read_only(conn: SAConnection) -> None:
    async with conn.begin(isolation_level="SERIALIZABLE", readonly=True, deferrable=True):
        assert await conn.scalar("SHOW transaction_isolation") == "serializable"
        assert await conn.scalar("SHOW transaction_read_only") == "on"
        with pytest.raises(Exception, match="read-only"):
            await conn.execute(t.insert().values(v="no"))


async def test_inner_begin_commit_does_nothing(engine: Engine, conn: SAConnection) -> None:
    outer = await conn.begin()
    inner = await conn.begin()
    await conn.execute(t.insert().values(v="a"))
    await inner.commit()
    assert not inner.is_active and outer.is_active and conn.in_transaction
    assert await seen(engine) == []
    await outer.commit()
    assert await seen(engine) == ["a"]


async def test_inner_rollback_rolls_back_outer(engine: Engine, conn: SAConnection) -> None:
    outer = await conn.begin()
    inner = await conn.begin()
    await conn.execute(t.insert().values(v="a"))
    await inner.rollback()
    assert not inner.is_active and not outer.is_active and not conn.in_transaction
    with pytest.raises(InvalidRequestError, match="inactive"):
        await outer.commit()
    assert await seen(engine) == []


async def test_inner_close_leaves_outer(engine: Engine, conn: SAConnection) -> None:
    outer = await conn.begin()
    inner = await conn.begin()
    await conn.execute(t.insert().values(v="a"))
    await inner.close()
    assert not inner.is_active and outer.is_active
    await outer.close()  # the outermost close rolls back
    assert not outer.is_active
    assert await seen(engine) == []


async def test_commit_twice_and_commit_after_rollback_raise(conn: SAConnection) -> None:
    tr = await conn.begin()
    await tr.commit()
    with pytest.raises(InvalidRequestError, match="inactive"):
        await tr.commit()
    await tr.rollback()  # rolling back an ended transaction is a no-op
    tr = await conn.begin()
    await tr.rollback()
    with pytest.raises(InvalidRequestError, match="inactive"):
        await tr.commit()


async def test_savepoint_commit_and_rollback(engine: Engine, conn: SAConnection) -> None:
    outer = await conn.begin()
    await conn.execute(t.insert().values(v="outer"))
    sp1 = await conn.begin_nested()
    assert isinstance(sp1, NestedTransaction)
    await conn.execute(t.insert().values(v="released"))
    await sp1.commit()
    assert not sp1.is_active and outer.is_active
    sp2 = await conn.begin_nested()
    await conn.execute(t.insert().values(v="undone"))
    await sp2.rollback()
    assert not sp2.is_active and outer.is_active and conn.in_transaction
    await outer.commit()
    assert await seen(engine) == ["outer", "released"]


async def test_savepoint_context_manager_on_error(engine: Engine, conn: SAConnection) -> None:
    async with conn.begin():
        await conn.execute(t.insert().values(v="a"))
        with pytest.raises(Exception, match="duplicate key"):
            async with conn.begin_nested():
                await conn.execute(t.insert().values(id=1, v="dup"))
        await conn.execute(t.insert().values(v="b"))  # the savepoint saved the transaction
    assert await seen(engine) == ["a", "b"]


async def test_begin_nested_without_transaction_is_a_begin(engine: Engine, conn: SAConnection) -> None:
    tr = await conn.begin_nested()
    assert not isinstance(tr, NestedTransaction) and conn.in_transaction
    await conn.execute(t.insert().values(v="a"))
    await tr.commit()
    assert await seen(engine) == ["a"]


async def test_savepoint_after_outer_commit_is_inactive(conn: SAConnection) -> None:
    outer = await conn.begin()
    sp = await conn.begin_nested()
    await outer.commit()
    with pytest.raises(InvalidRequestError, match="inactive"):
        await sp.commit()
    await sp.rollback()  # a no-op, as in aiopg.sa
    assert not conn.in_transaction


async def test_twophase_begin_inside_transaction_is_refused(conn: SAConnection) -> None:
    async with conn.begin():
        with pytest.raises(InvalidRequestError, match="already in progress"):
            await conn.begin_twophase()


async def test_twophase_prepare_commit(engine: Engine, conn: SAConnection) -> None:
    tr = await conn.begin_twophase("ferropg-sa-'commit'")
    assert isinstance(tr, TwoPhaseTransaction) and tr.xid == "ferropg-sa-'commit'"
    await conn.execute(t.insert().values(v="2pc"))
    await tr.prepare()
    assert "ferropg-sa-'commit'" in await conn.recover_twophase()
    assert await seen(engine) == []
    await tr.commit()
    assert not tr.is_active and not conn.in_transaction
    assert "ferropg-sa-'commit'" not in await conn.recover_twophase()
    assert await seen(engine) == ["2pc"]


async def test_twophase_prepare_rollback(engine: Engine, conn: SAConnection) -> None:
    tr = await conn.begin_twophase()
    assert tr.xid  # a generated id
    await conn.execute(t.insert().values(v="gone"))
    await tr.prepare()
    await tr.rollback()
    assert tr.xid not in await conn.recover_twophase()
    assert await seen(engine) == []


async def test_twophase_commit_without_prepare(engine: Engine, conn: SAConnection) -> None:
    async with await conn.begin_twophase() as tr:
        await conn.execute(t.insert().values(v="plain"))
    assert not tr.is_active
    assert await seen(engine) == ["plain"]


async def test_twophase_finished_from_another_session(engine: Engine, conn: SAConnection) -> None:
    tr = await conn.begin_twophase("ferropg-sa-other")
    await conn.execute(t.insert().values(v="recovered"))
    await tr.prepare()
    async with engine.acquire() as other:
        assert "ferropg-sa-other" in await other.recover_twophase()
        await other.commit_prepared("ferropg-sa-other")
    assert await seen(engine) == ["recovered"]
    async with engine.acquire() as third:
        tr2 = await third.begin_twophase("ferropg-sa-other2")
        await third.execute(t.insert().values(v="never"))
        await tr2.prepare()
        async with engine.acquire() as other:
            await other.rollback_prepared("ferropg-sa-other2")
            assert "ferropg-sa-other2" not in await other.recover_twophase()
    assert await seen(engine) == ["recovered"]


async def test_close_rolls_back_prepared_transaction(engine: Engine, conn: SAConnection) -> None:
    async with engine.acquire() as other:
        tr = await other.begin_twophase("ferropg-sa-abandoned")
        await tr.prepare()
    assert "ferropg-sa-abandoned" not in await conn.recover_twophase()


async def test_prepare_twice_and_after_end_raise(conn: SAConnection) -> None:
    tr = await conn.begin_twophase()
    await tr.prepare()
    with pytest.raises(InvalidRequestError, match="already prepared"):
        await tr.prepare()
    await tr.rollback()
    with pytest.raises(InvalidRequestError, match="inactive"):
        await tr.prepare()
