"""One module per driver; each defines entrant classes with the same small interface.

An entrant connects, runs a fetch (rows back), a batch of inserts, or a COPY in its
driver's idiomatic fastest form, and closes. `copy_op` returns None where the driver
has no COPY from an asyncio connection. Modules are imported only when their entrant
runs, so a missing peer only removes that entrant.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

# entrant name -> (module in this package, class name)
ENTRANTS = {
    "ferropg": ("ferropg", "AiopgFace"),
    "ferropg-native": ("ferropg", "NativeFace"),
    "asyncpg": ("asyncpg", "Asyncpg"),
    "psycopg": ("psycopg", "Psycopg"),
    "aiopg": ("aiopg", "Aiopg"),
    "psqlpy": ("psqlpy", "Psqlpy"),
}
# The top-level package each entrant needs, to tell which are installed.
REQUIRES = {
    "ferropg": "ferropg",
    "ferropg-native": "ferropg",
    "asyncpg": "asyncpg",
    "psycopg": "psycopg",
    "aiopg": "aiopg",
    "psqlpy": "psqlpy",
}


@dataclass(frozen=True)
class Server:
    host: str  # an IP, or a unix-socket directory
    port: int
    user: str
    dbname: str


def load(name: str):
    module, cls = ENTRANTS[name]
    return getattr(importlib.import_module(f"drivers.{module}"), cls)()


def installed(name: str) -> bool:
    return importlib.util.find_spec(REQUIRES[name]) is not None


def version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version(REQUIRES[name])
    except PackageNotFoundError:
        return "not installed"
