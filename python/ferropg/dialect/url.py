"""Turning a libpq DSN (key=value or URI) into a `postgresql+ferropg://` SQLAlchemy URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL

from .. import _native

__all__ = ["url_from_dsn"]

# libpq keywords carried over as URL query arguments, with the value libpq defaults to
_QUERY_KEYWORDS = {
    "sslmode": "prefer",
    "sslrootcert": None,
    "sslcert": None,
    "sslkey": None,
    "target_session_attrs": "any",
    "load_balance_hosts": "disable",
}


def url_from_dsn(dsn: str, drivername: str = "postgresql+ferropg", **query: Any) -> URL:
    """The SQLAlchemy URL for `dsn`, resolved as ferropg.connect() would resolve it.

    Several hosts and unix-socket directories become `host=` query arguments, as
    SQLAlchemy's PostgreSQL dialects spell them; `query` adds further arguments.
    """
    params = _native.parse_conninfo(dsn, {})
    args: dict[str, Any] = {}
    host = port = None
    hosts = params.hosts
    if len(hosts) == 1 and not hosts[0][0].startswith(("/", "@")):
        host, port = hosts[0]
    else:
        args["host"] = [f"{h}:{p}" for h, p in hosts]
    for name, default in _QUERY_KEYWORDS.items():
        value = getattr(params, name)
        if value and value != default:
            args[name] = str(value)
    args.update({k: str(v) for k, v in query.items()})
    return URL.create(
        drivername,
        username=params.user,
        password=params.password,
        host=host,
        port=port,
        database=params.dbname,
        query=args,
    )
