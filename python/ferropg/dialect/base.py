"""SQLAlchemy's `postgresql+ferropg` dialect: PostgreSQL on ferropg's engine, from asyncio.

ferropg speaks psycopg2's types (Decimal for numeric, dict for json, UUID, lists for
arrays, memoryview for bytea) and its `%(name)s` paramstyle, so the dialect follows
the psycopg2 dialect's type handling; the statements are bound on the server.
"""

from __future__ import annotations

import decimal
import itertools
import json
import logging
from typing import Any, Optional

from sqlalchemy import exc, pool, util
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.postgresql.array import ARRAY as PGARRAY
from sqlalchemy.dialects.postgresql.base import PGDialect, PGExecutionContext
from sqlalchemy.dialects.postgresql.types import INTERVAL
from sqlalchemy.dialects.postgresql.json import JSON, JSONB
from sqlalchemy.dialects.postgresql.pg_catalog import INT2VECTOR, OIDVECTOR
from sqlalchemy.engine import processors

from .dbapi import AdaptedDBAPI

__all__ = ["FerropgDialect", "dialect"]

# type OIDs ferropg returns as float, Decimal or int
_FLOAT_OIDS = (700, 701, 1021, 1022)
_DECIMAL_OIDS = (1700, 1231)
_INT_OIDS = (20, 21, 23, 26, 1005, 1007, 1016)


class _String(sqltypes.String):
    """Strings go to the server as `unknown`; the cast types them where nothing else
    would (json_build_object(), COALESCE(), CASE ...), as a psycopg2 literal is typed."""

    render_bind_cast = True


class _Date(sqltypes.Date):
    render_bind_cast = True  # a None parameter still needs a type (`$1 IS NULL`)


class _DateTime(sqltypes.DateTime):
    render_bind_cast = True


class _Time(sqltypes.Time):
    render_bind_cast = True


class _Interval(INTERVAL):
    render_bind_cast = True

    @classmethod
    def adapt_emulated_to_native(cls, interval: Any, **kw: Any) -> _Interval:
        return cls(precision=interval.second_precision)


class _Boolean(sqltypes.Boolean):
    render_bind_cast = True


class _ARRAY(PGARRAY):
    """An empty or all-NULL list carries no element type of its own."""

    render_bind_cast = True


class _SpaceSeparatedInts:
    """int2vector/oidvector arrive as their text form ("1 0 2"), as from psycopg2."""

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        def process(value: Any) -> Any:
            if isinstance(value, str):
                return [int(part) for part in value.split()]
            return value

        return process


class _INT2VECTOR(_SpaceSeparatedInts, INT2VECTOR):
    pass


class _OIDVECTOR(_SpaceSeparatedInts, OIDVECTOR):
    pass


class _NumericMixin:
    """Numeric/Float: ferropg already returns Decimal for numeric and float for floats."""

    asdecimal: bool

    def bind_processor(self, dialect: Any) -> None:
        return None

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if coltype in _FLOAT_OIDS:
            if not self.asdecimal:
                return None
            scale = getattr(self, "_effective_decimal_return_scale", None)
            return processors.to_decimal_processor_factory(decimal.Decimal, scale)
        if coltype in _DECIMAL_OIDS or coltype in _INT_OIDS:
            return None if self.asdecimal else processors.to_float
        raise exc.InvalidRequestError(f"unknown PostgreSQL numeric type OID {coltype}")


class _Numeric(_NumericMixin, sqltypes.Numeric):
    pass


class _Float(_NumericMixin, sqltypes.Float):
    pass


def _json_result_processor(dialect: Any) -> Any:
    """ferropg decodes json with json.loads; a custom deserializer sees the text again."""
    loads = dialect._json_deserializer
    if loads is None:
        return None
    dumps = json.dumps

    def process(value: Any) -> Any:
        return None if value is None else loads(dumps(value))

    return process


class _JSON(JSON):
    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        return _json_result_processor(dialect)


class _JSONB(JSONB):
    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        return _json_result_processor(dialect)


class FerropgExecutionContext(PGExecutionContext):
    def create_server_side_cursor(self) -> Any:
        # a name unique on the connection: the context's id plus a counter
        ident = f"c_{id(self):x}_{next(_cursor_numbers):x}"
        return self._dbapi_connection.cursor(ident)

    def post_exec(self) -> None:
        # server NOTICEs are logged by SQLAlchemy's dialect logger, as psycopg2's are
        notices = self._dbapi_connection.notices
        if notices:
            for notice in notices:
                _notice_log.info(notice.rstrip())
            del notices[:]


_cursor_numbers = itertools.count(1)
_notice_log = logging.getLogger("sqlalchemy.dialects.postgresql")


class FerropgDialect(PGDialect):
    """`create_async_engine("postgresql+ferropg://user:password@host/dbname")`."""

    driver = "ferropg"
    is_async = True
    has_terminate = True
    supports_statement_cache = True
    supports_server_side_cursors = True
    default_paramstyle = "pyformat"
    execution_ctx_cls = FerropgExecutionContext
    returns_native_bytes = False  # bytea comes back as memoryview, as from psycopg2
    supports_sane_multi_rowcount = True  # executemany's rowcount is the sum over the runs

    colspecs = util.update_copy(
        PGDialect.colspecs,
        {
            sqltypes.String: _String,
            sqltypes.Date: _Date,
            sqltypes.DateTime: _DateTime,
            sqltypes.Time: _Time,
            sqltypes.Interval: _Interval,
            INTERVAL: _Interval,
            sqltypes.Boolean: _Boolean,
            sqltypes.ARRAY: _ARRAY,
            sqltypes.Numeric: _Numeric,
            sqltypes.Float: _Float,
            JSON: _JSON,
            sqltypes.JSON: _JSON,
            JSONB: _JSONB,
            INT2VECTOR: _INT2VECTOR,
            OIDVECTOR: _OIDVECTOR,
        },
    )

    _isolation_levels = ("AUTOCOMMIT", "READ COMMITTED", "READ UNCOMMITTED", "REPEATABLE READ", "SERIALIZABLE")

    @classmethod
    def import_dbapi(cls) -> AdaptedDBAPI:
        return AdaptedDBAPI()

    @classmethod
    def get_pool_class(cls, url: Any) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool

    @classmethod
    def load_provisioning(cls) -> None:
        """SQLAlchemy's test harness: PostgreSQL's own provisioning hooks apply unchanged."""
        import sqlalchemy.dialects.postgresql.provision  # noqa: F401

    def retrieve_dbapi_version(self, dbapi: Any) -> Optional[tuple[int, ...]]:
        return util.parse_version_string(getattr(dbapi, "__version__", None))

    # -- connecting ----------------------------------------------------------------------

    def create_connect_args(self, url: Any) -> tuple[list[Any], dict[str, Any]]:
        """URL parts as ferropg.connect() keywords; query arguments pass through as libpq's."""
        opts = url.translate_connect_args(username="user", database="dbname")
        hosts, ports = self._split_multihost_from_url(url)
        opts.update(url.query)
        if hosts:
            opts["host"] = ",".join(h or "" for h in hosts)
            comma_ports = ",".join(str(p) if p else "" for p in ports)
            if comma_ports.strip(","):
                opts["port"] = comma_ports
        for name in ("statement_cache_size", "prepared_statement_cache_size"):
            if name in opts:
                opts["statement_cache_size"] = int(opts.pop(name))
        if "timeout" in opts:
            opts["timeout"] = float(opts["timeout"])
        if "ssl" in opts:  # asyncpg's spelling
            opts.setdefault("sslmode", _ssl_to_sslmode(opts.pop("ssl")))
        return [], opts

    def get_driver_connection(self, connection: Any) -> Any:
        return connection._connection

    def _get_server_version_info(self, connection: Any) -> tuple[int, ...]:
        # from the startup's server_version parameter: no query needed
        number = connection.connection.dbapi_connection.server_version
        if number >= 100000:
            return (number // 10000, number % 10000)
        return (number // 10000, number // 100 % 100, number % 100)

    # -- transactions ----------------------------------------------------------------------

    def get_isolation_level_values(self, dbapi_connection: Any) -> tuple[str, ...]:
        return self._isolation_levels

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        dbapi_connection.set_isolation_level(level)

    def detect_autocommit_setting(self, dbapi_connection: Any) -> bool:
        return bool(dbapi_connection.autocommit)

    def set_readonly(self, connection: Any, value: bool) -> None:
        connection.readonly = bool(value)

    def get_readonly(self, connection: Any) -> bool:
        return bool(connection.readonly)

    def set_deferrable(self, connection: Any, value: bool) -> None:
        connection.deferrable = bool(value)

    def get_deferrable(self, connection: Any) -> bool:
        return bool(connection.deferrable)

    # -- liveness ------------------------------------------------------------------------------

    def do_ping(self, dbapi_connection: Any) -> bool:
        dbapi_connection.ping()
        return True

    def do_terminate(self, dbapi_connection: Any) -> None:
        dbapi_connection.terminate()

    def is_disconnect(self, e: Exception, connection: Any, cursor: Any) -> bool:
        if not isinstance(e, self.loaded_dbapi.Error):
            return False
        if connection is not None and getattr(connection, "closed", False):
            return True
        first_line = str(e).partition("\n")[0]
        return any(message in first_line for message in _DISCONNECT_MESSAGES)


_DISCONNECT_MESSAGES = (
    "connection already closed",
    "cursor already closed",
    "server closed the connection",
    "terminating connection",
    "connection to server was lost",
    "Connection closed",
)


def _ssl_to_sslmode(value: str) -> str:
    flag = str(value).lower()
    if flag in ("true", "1", "yes", "on"):
        return "require"
    if flag in ("false", "0", "no", "off"):
        return "disable"
    return flag  # already a libpq sslmode (prefer, verify-full, ...)


dialect = FerropgDialect
