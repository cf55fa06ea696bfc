"""Transaction handles: the outermost BEGIN, emulated inner blocks, SAVEPOINTs, 2PC.

The nesting rules are aiopg.sa's: only the outermost Transaction commits; rolling back an
inner (emulated) Transaction rolls back the whole enclosing transaction; a
NestedTransaction is a SAVEPOINT that commits (RELEASE) and rolls back on its own.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Optional

from . import exc

if TYPE_CHECKING:
    from .connection import SAConnection

__all__ = ["NestedTransaction", "RootTransaction", "Transaction", "TwoPhaseTransaction"]


class Transaction:
    """A transaction in progress on an SAConnection, from `await conn.begin()`.

    `async with conn.begin():` commits when the block ends normally and rolls back
    when it raises; `commit()`, `rollback()` and `close()` do it by hand.
    """

    __slots__ = ("_connection", "_parent", "_is_active")

    def __init__(self, connection: SAConnection, parent: Optional[Transaction]) -> None:
        self._connection = connection
        self._parent: Transaction = parent if parent is not None else self
        self._is_active = True

    @property
    def is_active(self) -> bool:
        """True until this transaction is committed, rolled back or closed."""
        return self._is_active

    @property
    def connection(self) -> SAConnection:
        """The SAConnection this transaction runs on."""
        return self._connection

    async def close(self) -> None:
        """Roll back if this is the outermost transaction; else just end this handle,
        leaving the enclosing transaction as it is."""
        if not self._parent._is_active:
            return
        if self._parent is self:
            await self.rollback()
        else:
            self._is_active = False

    async def rollback(self) -> None:
        """Roll back; for an inner begin() block, the enclosing transaction too."""
        if not self._parent._is_active:
            return
        await self._do_rollback()
        self._is_active = False

    async def commit(self) -> None:
        """Commit; for an inner begin() block this only ends the handle."""
        if not self._parent._is_active:
            raise exc.InvalidRequestError("This transaction is inactive")
        await self._do_commit()
        self._is_active = False

    async def _do_rollback(self) -> None:
        await self._parent.rollback()

    async def _do_commit(self) -> None:
        pass

    async def __aenter__(self) -> Transaction:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_val: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if exc_type is not None:
            await self.rollback()
        elif self._is_active:
            await self.commit()

    def __repr__(self) -> str:
        state = "active" if self._is_active else "inactive"
        return f"<{type(self).__name__} {state}>"


class RootTransaction(Transaction):
    """The outermost transaction: its commit and rollback reach the server."""

    __slots__ = ()

    def __init__(self, connection: SAConnection) -> None:
        super().__init__(connection, None)

    async def _do_rollback(self) -> None:
        await self._connection._rollback_impl()

    async def _do_commit(self) -> None:
        await self._connection._commit_impl()


class NestedTransaction(Transaction):
    """A SAVEPOINT inside the enclosing transaction, from `conn.begin_nested()`.

    Its commit releases the savepoint and its rollback returns to it; the outermost
    transaction still decides whether anything is kept.
    """

    __slots__ = ("_savepoint",)

    def __init__(self, connection: SAConnection, parent: Transaction) -> None:
        super().__init__(connection, parent)
        self._savepoint: Optional[str] = None

    async def _do_rollback(self) -> None:
        if self._is_active and self._savepoint is not None:
            await self._connection._rollback_to_savepoint_impl(self._savepoint, self._parent)

    async def _do_commit(self) -> None:
        if self._is_active and self._savepoint is not None:
            await self._connection._release_savepoint_impl(self._savepoint, self._parent)


class TwoPhaseTransaction(Transaction):
    """A two-phase transaction, from `conn.begin_twophase(xid)`.

    `prepare()` runs PREPARE TRANSACTION; after it, `commit()` and `rollback()` run
    COMMIT PREPARED / ROLLBACK PREPARED for this xid (before it, COMMIT / ROLLBACK).
    """

    __slots__ = ("_is_prepared", "_xid")

    def __init__(self, connection: SAConnection, xid: str) -> None:
        super().__init__(connection, None)
        self._is_prepared = False
        self._xid = xid

    @property
    def xid(self) -> str:
        """The transaction id given to PREPARE TRANSACTION."""
        return self._xid

    async def prepare(self) -> None:
        """PREPARE TRANSACTION: the work survives this session until committed or
        rolled back, by this handle or by any session with commit_prepared()."""
        if not self._parent.is_active:
            raise exc.InvalidRequestError("This transaction is inactive")
        if self._is_prepared:
            raise exc.InvalidRequestError(f"Transaction {self._xid!r} is already prepared")
        await self._connection._prepare_twophase_impl(self._xid)
        self._is_prepared = True

    async def _do_rollback(self) -> None:
        await self._connection.rollback_prepared(self._xid, is_prepared=self._is_prepared)

    async def _do_commit(self) -> None:
        await self._connection.commit_prepared(self._xid, is_prepared=self._is_prepared)
