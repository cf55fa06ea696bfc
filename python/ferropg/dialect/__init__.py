"""SQLAlchemy 2 asyncio dialect on ferropg: `create_async_engine("postgresql+ferropg://...")`.

Registered under the `sqlalchemy.dialects` entry point as ``postgresql.ferropg``;
importing this package needs SQLAlchemy (``pip install 'ferropg[sqlalchemy]'``).
"""

from .base import FerropgDialect, dialect
from .url import url_from_dsn

__all__ = ["FerropgDialect", "dialect", "url_from_dsn"]
