"""The psycopg2.extensions names that aiopg code imports, with psycopg2's values.

Status and isolation constants, ``Notify`` (one LISTEN/NOTIFY message), ``Column``
(one item of ``cursor.description``), ``Diagnostics`` and the two OperationalError
subclasses psycopg2 keeps here.
"""

from __future__ import annotations

from typing import Any

from ._errors_base import Diagnostics, QueryCanceledError, TransactionRollbackError

__all__ = [
    "ISOLATION_LEVEL_AUTOCOMMIT",
    "ISOLATION_LEVEL_DEFAULT",
    "ISOLATION_LEVEL_READ_COMMITTED",
    "ISOLATION_LEVEL_READ_UNCOMMITTED",
    "ISOLATION_LEVEL_REPEATABLE_READ",
    "ISOLATION_LEVEL_SERIALIZABLE",
    "POLL_ERROR",
    "POLL_OK",
    "POLL_READ",
    "POLL_WRITE",
    "STATUS_ASYNC",
    "STATUS_BEGIN",
    "STATUS_IN_TRANSACTION",
    "STATUS_PREPARED",
    "STATUS_READY",
    "STATUS_SETUP",
    "STATUS_SYNC",
    "TRANSACTION_STATUS_ACTIVE",
    "TRANSACTION_STATUS_IDLE",
    "TRANSACTION_STATUS_INERROR",
    "TRANSACTION_STATUS_INTRANS",
    "TRANSACTION_STATUS_UNKNOWN",
    "Column",
    "Diagnostics",
    "Notify",
    "QueryCanceledError",
    "TransactionRollbackError",
]

# Isolation levels (connection.isolation_level, set_isolation_level).
ISOLATION_LEVEL_AUTOCOMMIT = 0
ISOLATION_LEVEL_READ_UNCOMMITTED = 4
ISOLATION_LEVEL_READ_COMMITTED = 1
ISOLATION_LEVEL_REPEATABLE_READ = 2
ISOLATION_LEVEL_SERIALIZABLE = 3
ISOLATION_LEVEL_DEFAULT = None  # the server's default_transaction_isolation

# Connection status (connection.status).
STATUS_SETUP = 0
STATUS_READY = 1
STATUS_BEGIN = 2
STATUS_IN_TRANSACTION = STATUS_BEGIN
STATUS_SYNC = 3
STATUS_ASYNC = 4
STATUS_PREPARED = 5  # after tpc_prepare()

# Server transaction status (connection.info.transaction_status), as libpq's PQtransactionStatus.
TRANSACTION_STATUS_IDLE = 0
TRANSACTION_STATUS_ACTIVE = 1
TRANSACTION_STATUS_INTRANS = 2
TRANSACTION_STATUS_INERROR = 3
TRANSACTION_STATUS_UNKNOWN = 4

# Results of connection.poll().
POLL_OK = 0
POLL_READ = 1
POLL_WRITE = 2
POLL_ERROR = 3


class Notify:
    """A notification received from the server (LISTEN/NOTIFY).

    Attributes ``pid``, ``channel``, ``payload``. For psycopg2's backward compatibility it
    is also a 2-item sequence ``(pid, channel)``: it equals (and orders against) such a
    tuple, and hashes like it when the payload is empty.
    """

    __slots__ = ("_channel", "_payload", "_pid")

    def __init__(self, pid: int, channel: str, payload: str = "") -> None:
        self._pid = pid
        self._channel = channel
        self._payload = payload

    @property
    def pid(self) -> int:
        """The process id of the server session that sent the notification."""
        return self._pid

    @property
    def channel(self) -> str:
        """The channel the notification was sent on."""
        return self._channel

    @property
    def payload(self) -> str:
        """The payload string, '' when none was given."""
        return self._payload

    def __repr__(self) -> str:
        return f"Notify({self._pid!r}, {self._channel!r}, {self._payload!r})"

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> Any:
        if not isinstance(index, int):
            raise TypeError(
                f"sequence index must be integer, not '{type(index).__name__}'"
            )
        return (self._pid, self._channel)[index]

    def _compared(self, other: object) -> tuple[tuple[Any, ...], Any] | None:
        # Against a Notify all three fields count; against a tuple only (pid, channel).
        if isinstance(other, Notify):
            return (self._pid, self._channel, self._payload), (
                other._pid,
                other._channel,
                other._payload,
            )
        if isinstance(other, tuple):
            return (self._pid, self._channel), other
        return None

    # psycopg2 answers False to every comparison with anything else, != included.
    def __eq__(self, other: object) -> bool:
        pair = self._compared(other)
        return pair is not None and pair[0] == pair[1]

    def __ne__(self, other: object) -> bool:
        pair = self._compared(other)
        return pair is not None and pair[0] != pair[1]

    def __lt__(self, other: object) -> bool:
        pair = self._compared(other)
        return pair is not None and pair[0] < pair[1]

    def __le__(self, other: object) -> bool:
        pair = self._compared(other)
        return pair is not None and pair[0] <= pair[1]

    def __gt__(self, other: object) -> bool:
        pair = self._compared(other)
        return pair is not None and pair[0] > pair[1]

    def __ge__(self, other: object) -> bool:
        pair = self._compared(other)
        return pair is not None and pair[0] >= pair[1]

    def __hash__(self) -> int:
        if self._payload:
            return hash((self._pid, self._channel, self._payload))
        return hash((self._pid, self._channel))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Notify, (self._pid, self._channel, self._payload))


class Column:
    """One item of ``cursor.description``: the DB-API's 7-item sequence (name, type_code,
    display_size, internal_size, precision, scale, null_ok), with those names as read-only
    attributes plus ``table_oid`` and ``table_column``. Compares like the 7-tuple;
    unhashable, as in psycopg2.
    """

    __slots__ = ("_values",)

    def __init__(
        self,
        name: str | None = None,
        type_code: int | None = None,
        display_size: int | None = None,
        internal_size: int | None = None,
        precision: int | None = None,
        scale: int | None = None,
        null_ok: bool | None = None,
        table_oid: int | None = None,
        table_column: int | None = None,
    ) -> None:
        self._values = (
            name, type_code, display_size, internal_size, precision, scale, null_ok,
            table_oid, table_column,
        )  # fmt: skip

    name = property(lambda self: self._values[0], doc="The column's name.")
    type_code = property(
        lambda self: self._values[1], doc="The OID of the column's type."
    )
    display_size = property(
        lambda self: self._values[2], doc="Always None, as in psycopg2."
    )
    internal_size = property(
        lambda self: self._values[3], doc="The type's size; negative when variable."
    )
    precision = property(
        lambda self: self._values[4], doc="Total digits of numeric, else None."
    )
    scale = property(
        lambda self: self._values[5], doc="Fractional digits of numeric, else None."
    )
    null_ok = property(lambda self: self._values[6], doc="Always None, as in psycopg2.")
    table_oid = property(
        lambda self: self._values[7], doc="OID of the source table, or None."
    )
    table_column = property(
        lambda self: self._values[8], doc="Column number in that table, or None."
    )

    def __repr__(self) -> str:
        return f"Column(name={self._values[0]!r}, type_code={self._values[1]!r})"

    def __len__(self) -> int:
        return 7

    def __getitem__(self, index: Any) -> Any:
        return self._values[:7][index]

    def __iter__(self) -> Any:
        return iter(self._values[:7])

    def __eq__(self, other: object) -> bool:
        return self._values[:7] == other

    def __ne__(self, other: object) -> bool:
        return self._values[:7] != other

    def __lt__(self, other: Any) -> bool:
        return self._values[:7] < other

    def __le__(self, other: Any) -> bool:
        return self._values[:7] <= other

    def __gt__(self, other: Any) -> bool:
        return self._values[:7] > other

    def __ge__(self, other: Any) -> bool:
        return self._values[:7] >= other

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (Column, self._values)
