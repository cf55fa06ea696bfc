"""ferropg.sa: aiopg.sa's API, SQLAlchemy Core statements run on ferropg's pool.

    from ferropg.sa import create_engine

    async with create_engine(dsn) as engine:
        async with engine.acquire() as conn:
            await conn.execute(tbl.insert().values(val="abc"))
            async for row in conn.execute(tbl.select()):
                print(row.id, row.val)

Needs SQLAlchemy 1.4 or 2.x (`pip install ferropg[sa]`).
"""

try:
    import sqlalchemy  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("ferropg.sa requires SQLAlchemy: pip install 'ferropg[sa]'") from e

from .connection import SAConnection
from .engine import Engine, create_engine, dialect, get_dialect
from .exc import ArgumentError, Error, InvalidRequestError, NoSuchColumnError, ResourceClosedError
from .result import ResultProxy, RowProxy
from .transaction import NestedTransaction, Transaction, TwoPhaseTransaction

__all__ = (
    "ArgumentError",
    "Engine",
    "Error",
    "InvalidRequestError",
    "NestedTransaction",
    "NoSuchColumnError",
    "ResourceClosedError",
    "ResultProxy",
    "RowProxy",
    "SAConnection",
    "Transaction",
    "TwoPhaseTransaction",
    "create_engine",
    "dialect",
    "get_dialect",
)
