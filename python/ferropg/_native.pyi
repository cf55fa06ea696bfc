"""Stubs for ferropg._native, the Rust engine (crates/ferropg-python).

The Python package is the only caller; users import ferropg, not this module.
"""

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Optional, Union

Params = Union[Sequence[Any], Mapping[str, Any], None]

class ConnParams:
    """Connection parameters resolved as libpq does (DSN + keywords + PG* env + passfile).

    Frozen: every attribute is read-only.
    """

    # (host, port): host is a name/IP, or an absolute unix-socket directory
    # (or "@name" for Linux's abstract namespace).
    @property
    def hosts(self) -> list[tuple[str, int]]: ...
    @property
    def hostaddrs(self) -> list[Optional[str]]: ...  # hostaddr per host: where to dial
    @property
    def user(self) -> str: ...
    @property
    def dbname(self) -> str: ...
    @property
    def password(self) -> Optional[str]: ...  # as given (DSN, keyword or PGPASSWORD)
    @property
    def sslmode(self) -> str: ...  # disable | allow | prefer | require | verify-ca | verify-full
    @property
    def sslrootcert(self) -> Optional[str]: ...
    @property
    def sslcert(self) -> Optional[str]: ...
    @property
    def sslkey(self) -> Optional[str]: ...
    @property
    def connect_timeout(self) -> Optional[float]: ...  # per host, libpq's 1 -> 2 applied
    @property
    def target_session_attrs(self) -> str: ...
    @property
    def load_balance_hosts(self) -> str: ...  # disable | random
    @property
    def dsn(self) -> str:
        """psycopg2's `connection.dsn`: the string as given (or rebuilt from keywords), password as xxx."""
    def password_for(self, host: str, port: int) -> Optional[str]:
        """The password for this host: the given one, else the passfile's entry."""

def parse_conninfo(dsn: Optional[str], kwargs: Mapping[str, Any]) -> ConnParams:
    """Parse and merge as psycopg2's connect() does; kwargs values are str/int, None = not given.

    Raises ProgrammingError("invalid dsn: ...") for a malformed string or unknown keyword,
    OperationalError for an unusable value (port, sslmode, ...), TypeError for both
    `database` and `dbname`.
    """

class Column:
    """Result column metadata (psycopg2's Column is built from these in Python)."""

class Result:
    """The outcome of one statement (the last one, for a multi-statement string)."""

    rows: list[tuple[Any, ...]]  # an empty list once taken
    def take_rows(self) -> list[tuple[Any, ...]]:
        """The rows, no longer held by the Result."""
    # ((name, type_code, internal_size, precision, scale), ...) or None when no rows come back
    description: Optional[tuple[tuple[str, int, int, Optional[int], Optional[int]], ...]]
    rowcount: int  # -1 when the statement reports none
    statusmessage: Optional[str]
    lastrowid: int

class Connection:
    """One server connection on the caller's event loop.

    Owns the non-blocking socket `fd` (connected by the Python layer) from construction on.
    """

    def __init__(
        self,
        fd: int,
        params: ConnParams,
        loop: asyncio.AbstractEventLoop,
        *,
        host: str,
        port: int,
        enable_json: bool = True,
        enable_hstore: bool = True,
        enable_uuid: bool = True,
        statement_cache_size: int = 0,
        json_as_text: bool = False,
        bytea_as_bytes: bool = False,
    ) -> None: ...
    def startup(self) -> asyncio.Future[None]:
        """TLS negotiation, StartupMessage, authentication, up to the first ReadyForQuery."""
    # A caller's request (`what` names the caller, e.g. "cursor.execute") is refused with
    # RuntimeError while another caller waits on the connection; after `timeout` seconds
    # its future fails with asyncio.TimeoutError and the `on_timeout` callback runs.
    # Without `what` it is housekeeping: neither guarded nor timed.
    def execute(
        self, sql: str, params: Params = None, timeout: Optional[float] = None, what: Optional[str] = None
    ) -> asyncio.Future[Result]:
        """Run one execute(): server-bound when the statement accepts parameters, literal otherwise."""
    def execute_many(
        self,
        sql: str,
        seq_of_params: Sequence[Params],
        timeout: Optional[float] = None,
        what: Optional[str] = None,
    ) -> asyncio.Future[Result]:
        """All parameter sets pipelined in one round trip; rowcount is the sum."""
    def claim(self, what: str) -> None:
        """Hold the connection for `what` while it waits before sending (RuntimeError if taken)."""
    def release(self) -> None:
        """Give back a claim without sending anything."""
    in_flight: Optional[str]  # what a caller is waiting for
    idle_seconds: float  # since the last request or touch()
    def touch(self) -> None:
        """Count as used now."""
    def wait_idle(self) -> asyncio.Future[None]:
        """Done once no request is in flight (also done at once when idle)."""
    def mogrify(self, sql: str, params: Params) -> bytes:
        """The statement with parameters interpolated as psycopg2 literals."""
    def cancel_request(self) -> bytes:
        """The 16-byte CancelRequest packet for this session (sent on a side connection)."""
    def set_callbacks(
        self,
        on_notice: Optional[Callable[[str], None]],
        on_notify: Optional[Callable[[int, str, str], None]],
        on_lost: Optional[Callable[[BaseException], None]],
        on_timeout: Optional[Callable[[], None]] = None,
    ) -> None: ...
    def parameter_status(self, name: str) -> Optional[str]: ...
    def clear_session_marks(self) -> None:
        """Forget `listened` and `declared` (a pool calls this once it has undone them)."""
    listened: bool  # a LISTEN ran since the marks were cleared
    declared: bool  # a DECLARE CURSOR ran since the marks were cleared
    def close(self) -> None:
        """Send Terminate, close the socket, fail pending futures with InterfaceError."""
    closed: bool
    busy: bool  # a request is in flight
    backend_pid: int
    server_version: int
    protocol_version: int
    transaction_status: int  # psycopg2's TRANSACTION_STATUS_* values
