"""SAConnection: runs SQL strings and SQLAlchemy Core constructs on a pooled connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.ddl import DDLElement
from sqlalchemy.sql.dml import UpdateBase

from ..connection import Connection
from ..cursor import Cursor
from ..utils import _ContextManager
from . import exc
from .result import ResultProxy
from .transaction import NestedTransaction, RootTransaction, Transaction, TwoPhaseTransaction
from .utils import _IterableContextManager

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["SAConnection"]

# Expand IN lists into plain bound parameters when compiling: the statement then runs
# as it stands, with no execution-time rewriting.
_COMPILE_KWARGS = {"render_postcompile": True}


async def _commit_if_active(tr: Transaction) -> None:
    if tr.is_active:
        await tr.commit()


async def _rollback(tr: Transaction) -> None:
    await tr.rollback()


async def _close_result(result: ResultProxy) -> None:
    result.close()


class SAConnection:
    """A ferropg Connection taken from an Engine, speaking SQLAlchemy Core.

    `async with engine.acquire() as conn:` gives one and returns it to the pool.
    """

    __slots__ = ("_connection", "_transaction", "_savepoint_seq", "_engine", "_dialect", "_cursors")

    def __init__(self, connection: Connection, engine: Engine) -> None:
        self._connection: Optional[Connection] = connection
        self._transaction: Optional[Transaction] = None
        self._savepoint_seq = 0
        self._engine: Optional[Engine] = engine
        self._dialect = engine.dialect
        self._cursors: set[Cursor] = set()

    # -- execution ---------------------------------------------------------------------

    def execute(self, query: Any, *multiparams: Any, **params: Any) -> _IterableContextManager:
        """Run `query`, a SQL string or a SQLAlchemy construct, and return a ResultProxy.

        Parameters: a dict (`execute(tbl.insert(), {"id": 1})`) or keywords
        (`execute(tbl.insert(), id=1)`); for a SQL string also a tuple or positional
        values (`execute("... VALUES (%s, %s)", 1, "v")`). The call can be awaited,
        used in `async with` (closing the result) or iterated with `async for`.
        """
        return _IterableContextManager(self._execute(query, *multiparams, **params), _close_result)

    async def scalar(self, query: Any, *multiparams: Any, **params: Any) -> Any:
        """Run `query` and return the first column of its first row (None without rows)."""
        result = await self._execute(query, *multiparams, **params)
        return await result.scalar()

    async def _execute(self, query: Any, *multiparams: Any, **params: Any) -> ResultProxy:
        param_sets = _distill_params(multiparams, params)
        if len(param_sets) > 1:
            raise exc.ArgumentError(
                f"ferropg.sa runs one set of parameters per execute(), got {len(param_sets)}: "
                "run them one by one, or insert many rows with insert().values([...])"
            )
        given = param_sets[0] if param_sets else None
        if isinstance(query, str):
            # As aiopg.sa: a string always goes through %-formatting ('%%' is one '%'),
            # even with no parameters, so aiopg code written for it reads the same.
            sql, args, result_map = query, given if given is not None else [], None
        elif isinstance(query, ClauseElement):
            sql, args, result_map = self._compile(query, given)
        else:
            raise exc.ArgumentError(
                "sql statement should be str or SQLAlchemy data selection/modification "
                f"clause, not {type(query).__name__}"
            )
        cursor = await self._open_cursor()
        try:
            await cursor.execute(sql, args)
        except BaseException:
            self._close_cursor(cursor)
            raise
        return ResultProxy(self, cursor, self._dialect, result_map)

    def _compile(self, query: ClauseElement, given: Any) -> tuple[str, dict[str, Any], Any]:
        """The SQL text, the processed parameters and the result columns of `query`."""
        if isinstance(query, DDLElement):
            if given:
                raise exc.ArgumentError(
                    "Don't mix sqlalchemy DDL clause and execution with parameters"
                )
            compiled = query.compile(dialect=self._dialect)
            return str(compiled), compiled.construct_params(), None
        if given is not None and not isinstance(given, Mapping):
            if not isinstance(query, UpdateBase):
                raise exc.ArgumentError(
                    "Don't mix sqlalchemy SELECT clause with positional parameters"
                )
            # aiopg.sa: positional values for an insert/update follow the table's columns.
            given = {col.key: value for col, value in zip(query.table.c, given)}
        # As SQLAlchemy's own execute: an insert/update names the columns given a value
        # (the others get their defaults), not every column of the table.
        compiled = query.compile(
            dialect=self._dialect,
            column_keys=sorted(given) if given else [],
            compile_kwargs=_COMPILE_KWARGS,
        )
        return str(compiled), _bind_values(compiled, given), compiled._result_columns

    async def _open_cursor(self) -> Cursor:
        if self._connection is None:
            raise exc.ResourceClosedError("This connection is closed.")
        cursor = await self._connection.cursor()
        self._cursors.add(cursor)
        return cursor

    def _close_cursor(self, cursor: Cursor) -> None:
        self._cursors.discard(cursor)
        cursor.close()

    async def _run(self, sql: str) -> None:
        cursor = await self._open_cursor()
        try:
            await cursor.execute(sql)
        finally:
            self._close_cursor(cursor)

    # -- state -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once close() was called or the underlying connection is closed."""
        return self._connection is None or self._connection.closed

    @property
    def connection(self) -> Optional[Connection]:
        """The underlying ferropg Connection (None once closed)."""
        return self._connection

    @property
    def in_transaction(self) -> bool:
        """True while a transaction begun on this SAConnection is active."""
        return self._transaction is not None and self._transaction.is_active

    # -- transactions ------------------------------------------------------------------

    def begin(
        self, isolation_level: Optional[str] = None, readonly: bool = False, deferrable: bool = False
    ) -> _ContextManager[Transaction]:
        """BEGIN a transaction, or, inside one, an emulated inner block.

        The outermost Transaction's commit() commits; an inner one's commit() only ends
        that handle, and its rollback() rolls back the whole transaction. `async with`
        commits on success and rolls back when the block raises.
        """
        coro = self._begin(isolation_level, readonly, deferrable)
        return _ContextManager(coro, _commit_if_active, _rollback)

    async def _begin(self, isolation_level: Optional[str], readonly: bool, deferrable: bool) -> Transaction:
        if self._transaction is not None:
            return Transaction(self, self._transaction)
        self._transaction = RootTransaction(self)
        try:
            await self._begin_impl(isolation_level, readonly, deferrable)
        except BaseException:
            self._transaction = None
            raise
        return self._transaction

    async def _begin_impl(self, isolation_level: Optional[str], readonly: bool, deferrable: bool) -> None:
        stmt = "BEGIN"
        if isolation_level is not None:
            stmt += f" ISOLATION LEVEL {isolation_level}"
        if readonly:
            stmt += " READ ONLY"
        if deferrable:
            stmt += " DEFERRABLE"
        await self._run(stmt)

    async def _commit_impl(self) -> None:
        try:
            await self._run("COMMIT")
        finally:
            self._transaction = None

    async def _rollback_impl(self) -> None:
        try:
            if self._connection is not None and not self._connection.closed:
                await self._run("ROLLBACK")
        finally:
            self._transaction = None

    def begin_nested(self) -> _ContextManager[Transaction]:
        """A SAVEPOINT inside the current transaction (a plain BEGIN outside of one).

        The NestedTransaction commits (RELEASE) and rolls back (ROLLBACK TO) on its
        own; the outermost transaction still decides what is kept.
        """
        return _ContextManager(self._begin_nested(), _commit_if_active, _rollback)

    async def _begin_nested(self) -> Transaction:
        if self._transaction is None:
            return await self._begin(None, False, False)
        nested = NestedTransaction(self, self._transaction)
        self._savepoint_seq += 1
        name = f"aiopg_sa_savepoint_{self._savepoint_seq}"
        await self._run(f"SAVEPOINT {name}")
        nested._savepoint = name
        self._transaction = nested
        return nested

    async def _rollback_to_savepoint_impl(self, name: str, parent: Transaction) -> None:
        try:
            if self._connection is not None and not self._connection.closed:
                await self._run(f"ROLLBACK TO SAVEPOINT {name}")
        finally:
            self._transaction = parent

    async def _release_savepoint_impl(self, name: str, parent: Transaction) -> None:
        await self._run(f"RELEASE SAVEPOINT {name}")
        self._transaction = parent

    async def begin_twophase(self, xid: Optional[str] = None) -> TwoPhaseTransaction:
        """BEGIN a two-phase transaction named `xid` (a random one when None).

        The server must allow prepared transactions (max_prepared_transactions > 0).
        """
        if self._transaction is not None:
            raise exc.InvalidRequestError(
                "Cannot start a two phase transaction when a transaction is already in progress."
            )
        if xid is None:
            xid = self._dialect.create_xid()
        tr = TwoPhaseTransaction(self, xid)
        self._transaction = tr
        try:
            await self._begin_impl(None, False, False)
        except BaseException:
            self._transaction = None
            raise
        return tr

    async def _prepare_twophase_impl(self, xid: str) -> None:
        await self._run(f"PREPARE TRANSACTION {_literal(xid)}")

    async def recover_twophase(self) -> list[str]:
        """The ids of the prepared transactions waiting on the server."""
        result = await self._execute("SELECT gid FROM pg_prepared_xacts")
        return [row[0] for row in await result.fetchall()]

    async def commit_prepared(self, xid: str, *, is_prepared: bool = True) -> None:
        """COMMIT PREPARED `xid` (with is_prepared=False: COMMIT the open transaction)."""
        if not is_prepared:
            await self._commit_impl()
            return
        try:
            await self._run(f"COMMIT PREPARED {_literal(xid)}")
        finally:
            self._forget_twophase(xid)

    async def rollback_prepared(self, xid: str, *, is_prepared: bool = True) -> None:
        """ROLLBACK PREPARED `xid` (with is_prepared=False: ROLLBACK the open one)."""
        if not is_prepared:
            await self._rollback_impl()
            return
        try:
            await self._run(f"ROLLBACK PREPARED {_literal(xid)}")
        finally:
            self._forget_twophase(xid)

    def _forget_twophase(self, xid: str) -> None:
        # PREPARE TRANSACTION already ended the session's transaction; the handle ends here.
        tr = self._transaction
        if isinstance(tr, TwoPhaseTransaction) and tr.xid == xid:
            self._transaction = None

    # -- closing -----------------------------------------------------------------------

    async def close(self) -> None:
        """Roll back what is open, close the results and return the connection to its
        engine's pool. The SAConnection can do nothing more afterwards."""
        if self._connection is None:
            return
        await asyncio.shield(self._close())

    async def _close(self) -> None:
        if self._transaction is not None:
            with contextlib.suppress(Exception):
                await self._transaction.rollback()
            self._transaction = None
        for cursor in list(self._cursors):
            cursor.close()
        self._cursors.clear()
        engine, self._engine = self._engine, None
        try:
            if engine is not None:
                await engine.release(self)
        finally:
            self._connection = None

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<SAConnection {state} {self._connection!r}>"


def _literal(text: str) -> str:
    """`text` as a SQL string literal (standard_conforming_strings, as PostgreSQL 9.1+)."""
    if "\0" in text:
        raise exc.ArgumentError(f"a transaction id cannot contain NUL: {text!r}")
    return "'" + text.replace("'", "''") + "'"


def _bind_values(compiled: Any, given: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """The compiled statement's parameters: values given, Python-side defaults filled
    in, each passed through its type's bind processor, under the names in the SQL."""
    values = compiled.construct_params(given, escape_names=False)
    _fill_defaults(compiled, values)
    processors = compiled._bind_processors
    escaped = compiled.escaped_bind_names
    out = {}
    for key, value in values.items():
        processor = processors.get(key)
        out[escaped.get(key, key)] = processor(value) if processor is not None else value
    return out


def _fill_defaults(compiled: Any, values: dict[str, Any]) -> None:
    """Evaluate the columns' Python-side `default=` / `onupdate=` the SQL expects bound."""
    if not compiled.insert_prefetch and not compiled.update_prefetch:
        return
    key_of = compiled._within_exec_param_key_getter
    context = _DefaultContext(compiled.dialect, values)
    for column in compiled.insert_prefetch:
        values[key_of(column)] = context.run(column.default)
    for column in compiled.update_prefetch:
        values[key_of(column)] = context.run(column.onupdate)


class _DefaultContext:
    """What a context-sensitive default function receives: the dialect and the
    statement's current parameters (`context.get_current_parameters()`)."""

    __slots__ = ("dialect", "current_parameters")

    def __init__(self, dialect: Any, parameters: dict[str, Any]) -> None:
        self.dialect = dialect
        self.current_parameters = parameters

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        return self.current_parameters

    def run(self, default: Any) -> Any:
        if default is None:
            return None
        if default.is_sequence or default.is_clause_element:
            raise exc.ArgumentError(
                f"{default!r} must be rendered in the SQL, not bound: "
                "this is a bug in ferropg.sa, please report it"
            )
        if default.is_callable:
            return default.arg(self)
        return default.arg


def _distill_params(multiparams: Sequence[Any], params: Mapping[str, Any]) -> list[Any]:
    """aiopg.sa's reading of execute()'s arguments: a list of parameter sets, each a
    mapping or a sequence of positional values."""
    if not multiparams:
        return [params] if params else []
    if len(multiparams) == 1:
        first = multiparams[0]
        if isinstance(first, (list, tuple)):
            if not first or (hasattr(first[0], "__iter__") and not hasattr(first[0], "strip")):
                return list(first)  # [{...}, {...}] or [(...), (...)]
            return [first]  # ("value", "value")
        if hasattr(first, "keys"):
            return [first]  # {"key": "value"}
        return [[first]]  # a single value
    if hasattr(multiparams[0], "__iter__") and not hasattr(multiparams[0], "strip"):
        return list(multiparams)
    return [multiparams]
