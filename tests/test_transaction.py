"""IsolationLevel compilers and Transaction, the last against a real server."""

from __future__ import annotations

import gc
from typing import Any

import pytest

import ferropg
from ferropg import errors, extensions
from ferropg.transaction import (
    DefaultCompiler,
    IsolationCompiler,
    IsolationLevel,
    ReadCommittedCompiler,
    RepeatableReadCompiler,
    SerializableCompiler,
    Transaction,
)


@pytest.mark.parametrize(
    "level, readonly, deferrable, begin, name",
    [
        (IsolationLevel.default, False, False, "BEGIN", "Default"),
        (
            IsolationLevel.read_committed,
            False,
            False,
            "BEGIN ISOLATION LEVEL READ COMMITTED",
            "Read committed",
        ),
        (
            IsolationLevel.repeatable_read,
            True,
            False,
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            "Repeatable read",
        ),
        (
            IsolationLevel.serializable,
            True,
            True,
            "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE",
            "Serializable",
        ),
        (IsolationLevel.default, False, True, "BEGIN DEFERRABLE", "Default"),
    ],
)
def test_compilers(level: IsolationLevel, readonly: bool, deferrable: bool, begin: str, name: str) -> None:
    compiler = level(readonly, deferrable)
    assert isinstance(compiler, IsolationCompiler)
    assert compiler.begin() == begin
    assert compiler.name == repr(compiler) == name
    assert compiler.commit() == "COMMIT"
    assert compiler.rollback() == "ROLLBACK"
    assert compiler.savepoint("s1") == "SAVEPOINT s1"
    assert compiler.release_savepoint("s1") == "RELEASE SAVEPOINT s1"
    assert compiler.rollback_savepoint("s1") == "ROLLBACK TO SAVEPOINT s1"


def test_level_classes_and_exports() -> None:
    assert IsolationLevel.serializable.value is SerializableCompiler
    assert IsolationLevel.repeatable_read.value is RepeatableReadCompiler
    assert IsolationLevel.read_committed.value is ReadCommittedCompiler
    assert IsolationLevel.default.value is DefaultCompiler
    assert IsolationCompiler(None, False, False).name == "Unknown"
    for name in (
        "IsolationLevel",
        "Transaction",
        "IsolationCompiler",
        "DefaultCompiler",
        "ReadCommittedCompiler",
        "RepeatableReadCompiler",
        "SerializableCompiler",
    ):
        assert getattr(ferropg, name) is globals()[name]


async def _status(conn: Any) -> int:
    return await conn.get_transaction_status()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "level, shown",
    [
        (IsolationLevel.read_committed, "read committed"),
        (IsolationLevel.repeatable_read, "repeatable read"),
        (IsolationLevel.serializable, "serializable"),
    ],
)
async def test_transaction_runs_at_its_level(conn: Any, cur: Any, level: IsolationLevel, shown: str) -> None:
    async with Transaction(cur, level):
        assert await _status(conn) == extensions.TRANSACTION_STATUS_INTRANS
        await cur.execute("SHOW transaction_isolation")
        assert await cur.fetchone() == (shown,)
    assert await _status(conn) == extensions.TRANSACTION_STATUS_IDLE


async def test_read_only_transaction_refuses_writes(cur: Any) -> None:
    tr = Transaction(cur, IsolationLevel.repeatable_read, readonly=True)
    await tr.begin()
    with pytest.raises(errors.ReadOnlySqlTransaction):  # (temp tables would be writable)
        await cur.execute("CREATE TABLE never_created (v int)")
    await tr.rollback()
    assert not tr.is_begin


async def test_commit_rollback_and_savepoints(conn: Any, cur: Any) -> None:
    await cur.execute("CREATE TEMP TABLE sp (v int)")
    tr = Transaction(cur, IsolationLevel.default)
    assert await tr.begin() is tr and tr.is_begin
    await cur.execute("INSERT INTO sp VALUES (1)")
    assert await tr.savepoint() is tr
    await cur.execute("INSERT INTO sp VALUES (2)")
    await tr.rollback_savepoint()
    await tr.savepoint()
    await cur.execute("INSERT INTO sp VALUES (3)")
    await tr.release_savepoint()
    async with tr.point():
        await cur.execute("INSERT INTO sp VALUES (4)")
    with pytest.raises(LookupError):
        async with tr.point():
            await cur.execute("INSERT INTO sp VALUES (5)")
            raise LookupError
    await tr.commit()
    assert not tr.is_begin
    await cur.execute("SELECT array_agg(v ORDER BY v) FROM sp")
    assert await cur.fetchone() == ([1, 3, 4],)

    await tr.begin()
    await cur.execute("INSERT INTO sp VALUES (6)")
    await tr.rollback()
    await cur.execute("SELECT max(v) FROM sp")
    assert await cur.fetchone() == (4,)


async def test_misuse_raises_programming_error(cur: Any) -> None:
    tr = Transaction(cur, IsolationLevel.default)
    with pytest.raises(ferropg.ProgrammingError, match="not begun"):
        await tr.commit()
    with pytest.raises(ferropg.ProgrammingError, match="not begun"):
        await tr.rollback()
    with pytest.raises(ferropg.ProgrammingError, match="not begun"):
        await tr.savepoint()
    await tr.begin()
    with pytest.raises(ferropg.ProgrammingError, match="already open"):
        await tr.begin()
    with pytest.raises(ferropg.ProgrammingError, match="none was started"):
        await tr.release_savepoint()
    with pytest.raises(ferropg.ProgrammingError, match="none was started"):
        await tr.rollback_savepoint()
    await tr.savepoint()
    with pytest.raises(ferropg.ProgrammingError, match="still open"):
        await tr.savepoint()
    await tr.release_savepoint()
    await tr.rollback()


async def test_async_with_rolls_back_on_error(cur: Any) -> None:
    await cur.execute("CREATE TEMP TABLE aw (v int)")
    with pytest.raises(RuntimeError):
        async with Transaction(cur, IsolationLevel.default) as tr:
            assert tr.is_begin
            await cur.execute("INSERT INTO aw VALUES (1)")
            raise RuntimeError("boom")
    await cur.execute("SELECT count(*) FROM aw")
    assert await cur.fetchone() == (0,)


async def test_cursor_isolation_level_used_by_begin(conn: Any) -> None:
    cur = await conn.cursor(isolation_level=IsolationLevel.serializable)
    async with cur.begin() as tr:
        assert "Serializable" in repr(tr)
        await cur.execute("SHOW transaction_isolation")
        assert await cur.fetchone() == ("serializable",)
    cur.close()


async def test_unfinished_transaction_warns(cur: Any) -> None:
    tr = Transaction(cur, IsolationLevel.default)
    await tr.begin()
    await tr.savepoint()
    with pytest.warns(ResourceWarning) as record:
        del tr
        gc.collect()
    messages = [str(w.message) for w in record]
    assert any("never committed" in m for m in messages)
    assert any("savepoint" in m for m in messages)
    await cur.execute("ROLLBACK")
