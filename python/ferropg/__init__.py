"""ferropg: an asyncio PostgreSQL client with aiopg's API and a Rust engine.

`import ferropg as aiopg` runs aiopg 1.4 code; psycopg2's DB-API exceptions are here at
the top level, its other names in ferropg.extensions and ferropg.extras.
"""

import re
import sys
from collections import namedtuple
from importlib.metadata import version as _dist_version

from .connection import TIMEOUT as DEFAULT_TIMEOUT
from .connection import Connection, connect
from .cursor import Cursor
from .errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)
from .pool import Pool, create_pool
from .transaction import (
    DefaultCompiler,
    IsolationCompiler,
    IsolationLevel,
    ReadCommittedCompiler,
    RepeatableReadCompiler,
    SerializableCompiler,
    Transaction,
)
from .utils import get_running_loop

__all__ = (
    "DEFAULT_TIMEOUT",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "DefaultCompiler",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "IsolationCompiler",
    "IsolationLevel",
    "NotSupportedError",
    "OperationalError",
    "Pool",
    "ProgrammingError",
    "ReadCommittedCompiler",
    "RepeatableReadCompiler",
    "SerializableCompiler",
    "Transaction",
    "Warning",
    "apilevel",
    "connect",
    "create_pool",
    "get_running_loop",
    "paramstyle",
    "threadsafety",
    "version",
    "version_info",
)

# DB-API 2.0 module globals, as psycopg2 declares them.
apilevel = "2.0"
threadsafety = 2
paramstyle = "pyformat"

__version__ = _dist_version("ferropg")
version = f"{__version__}, Python {sys.version}"

VersionInfo = namedtuple("VersionInfo", "major minor micro releaselevel serial")


def _parse_version(ver: str) -> VersionInfo:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+)?)?", ver)
    if match is None:
        raise ImportError(f"invalid package version {ver!r}")
    major, minor, micro, level, serial = match.groups()
    levels = {"a": "alpha", "b": "beta", "rc": "candidate", None: "final"}
    return VersionInfo(int(major), int(minor), int(micro), levels[level], int(serial or 0))


version_info = _parse_version(__version__)
