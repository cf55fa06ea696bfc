"""aiopg's transaction helpers: isolation-level compilers and the Transaction object
that cursors hand out from `begin()` / `begin_nested()`.

ferropg connections are always in autocommit mode (as psycopg2's asynchronous ones),
so a transaction is the explicit BEGIN ... COMMIT/ROLLBACK these objects send.
"""

from __future__ import annotations

import enum
import uuid
import warnings
from types import TracebackType
from typing import TYPE_CHECKING, Callable, Optional

from .errors import ProgrammingError
from .utils import _ContextManager

if TYPE_CHECKING:
    from .cursor import Cursor

__all__ = [
    "DefaultCompiler",
    "IsolationCompiler",
    "IsolationLevel",
    "ReadCommittedCompiler",
    "RepeatableReadCompiler",
    "SerializableCompiler",
    "Transaction",
]


class IsolationCompiler:
    """Writes the SQL of one transaction flavour (isolation level, READ ONLY, DEFERRABLE)."""

    __slots__ = ("_isolation_level", "_readonly", "_deferrable")

    def __init__(self, isolation_level: Optional[str], readonly: bool, deferrable: bool):
        self._isolation_level = isolation_level
        self._readonly = readonly
        self._deferrable = deferrable

    @property
    def name(self) -> str:
        return self._isolation_level or "Unknown"

    def begin(self) -> str:
        parts = ["BEGIN"]
        if self._isolation_level is not None:
            parts.append(f"ISOLATION LEVEL {self._isolation_level.upper()}")
        if self._readonly:
            parts.append("READ ONLY")
        if self._deferrable:
            parts.append("DEFERRABLE")
        return " ".join(parts)

    def commit(self) -> str:
        return "COMMIT"

    def rollback(self) -> str:
        return "ROLLBACK"

    def savepoint(self, unique_id: str) -> str:
        return f"SAVEPOINT {unique_id}"

    def release_savepoint(self, unique_id: str) -> str:
        return f"RELEASE SAVEPOINT {unique_id}"

    def rollback_savepoint(self, unique_id: str) -> str:
        return f"ROLLBACK TO SAVEPOINT {unique_id}"

    def __repr__(self) -> str:
        return self.name


class ReadCommittedCompiler(IsolationCompiler):
    __slots__ = ()

    def __init__(self, readonly: bool, deferrable: bool):
        super().__init__("Read committed", readonly, deferrable)


class RepeatableReadCompiler(IsolationCompiler):
    __slots__ = ()

    def __init__(self, readonly: bool, deferrable: bool):
        super().__init__("Repeatable read", readonly, deferrable)


class SerializableCompiler(IsolationCompiler):
    __slots__ = ()

    def __init__(self, readonly: bool, deferrable: bool):
        super().__init__("Serializable", readonly, deferrable)


class DefaultCompiler(IsolationCompiler):
    """Plain BEGIN: the session's default_transaction_isolation applies."""

    __slots__ = ()

    def __init__(self, readonly: bool, deferrable: bool):
        super().__init__(None, readonly, deferrable)

    @property
    def name(self) -> str:
        return "Default"


class IsolationLevel(enum.Enum):
    serializable = SerializableCompiler
    repeatable_read = RepeatableReadCompiler
    read_committed = ReadCommittedCompiler
    default = DefaultCompiler

    def __call__(self, readonly: bool, deferrable: bool) -> IsolationCompiler:
        return self.value(readonly, deferrable)  # type: ignore[no-any-return]


class Transaction:
    """One transaction on a cursor's connection, with at most one open savepoint.

    `async with cur.begin()` (or `async with Transaction(...)`) commits on success and
    rolls back when the block raises; `point()` does the same for a savepoint.
    """

    __slots__ = ("_cursor", "_is_begin", "_isolation", "_unique_id")

    def __init__(
        self,
        cursor: Cursor,
        isolation_level: Callable[[bool, bool], IsolationCompiler],
        readonly: bool = False,
        deferrable: bool = False,
    ):
        self._cursor = cursor
        self._is_begin = False
        self._unique_id: Optional[str] = None
        self._isolation = isolation_level(readonly, deferrable)

    @property
    def is_begin(self) -> bool:
        return self._is_begin

    async def begin(self) -> Transaction:
        if self._is_begin:
            raise ProgrammingError("a transaction is already open on this cursor: use a savepoint to nest")
        self._is_begin = True
        await self._cursor.execute(self._isolation.begin())
        return self

    async def commit(self) -> None:
        self._require_open("commit")
        await self._cursor.execute(self._isolation.commit())
        self._is_begin = False

    async def rollback(self) -> None:
        self._require_open("roll back")
        if not self._cursor.closed:
            await self._cursor.execute(self._isolation.rollback())
        self._is_begin = False

    async def savepoint(self) -> Transaction:
        self._require_open("open a savepoint in")
        if self._unique_id is not None:
            raise ProgrammingError("the previous savepoint is still open: release or roll it back first")
        self._unique_id = f"s{uuid.uuid1().hex}"
        await self._cursor.execute(self._isolation.savepoint(self._unique_id))
        return self

    async def release_savepoint(self) -> None:
        unique_id = self._require_savepoint("release")
        await self._cursor.execute(self._isolation.release_savepoint(unique_id))
        self._unique_id = None

    async def rollback_savepoint(self) -> None:
        unique_id = self._require_savepoint("roll back")
        if not self._cursor.closed:
            await self._cursor.execute(self._isolation.rollback_savepoint(unique_id))
        self._unique_id = None

    def point(self) -> _ContextManager[Transaction]:
        """A savepoint as an async context manager: released on success, rolled back on error."""
        return _ContextManager(self.savepoint(), _release_savepoint, _rollback_savepoint)

    def _require_open(self, action: str) -> None:
        if not self._is_begin:
            raise ProgrammingError(f"cannot {action} the transaction: it was not begun")

    def _require_savepoint(self, action: str) -> str:
        self._require_open(f"{action} a savepoint of")
        if self._unique_id is None:
            raise ProgrammingError(f"cannot {action} the savepoint: none was started")
        return self._unique_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} transaction={self._isolation!r} id={id(self):#x}>"

    def __del__(self) -> None:
        if getattr(self, "_is_begin", False):
            warnings.warn(f"transaction {self!r} was never committed or rolled back", ResourceWarning)
        if getattr(self, "_unique_id", None) is not None:
            warnings.warn(f"savepoint of {self!r} was never released or rolled back", ResourceWarning)

    async def __aenter__(self) -> Transaction:
        return await self.begin()

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if exc_type is not None:
            await self.rollback()
        else:
            await self.commit()


async def _release_savepoint(t: Transaction) -> None:
    await t.release_savepoint()


async def _rollback_savepoint(t: Transaction) -> None:
    await t.rollback_savepoint()


async def _commit(t: Transaction) -> None:
    await t.commit()


async def _rollback(t: Transaction) -> None:
    await t.rollback()
