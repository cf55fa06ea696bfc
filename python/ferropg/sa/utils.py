"""Helpers shared by the ferropg.sa modules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Optional

import sqlalchemy

from ..utils import _ContextManager

SQLALCHEMY_VERSION = sqlalchemy.__version__.split(".")
SQLALCHEMY_2 = int(SQLALCHEMY_VERSION[0]) >= 2


class _IterableContextManager(_ContextManager[Any]):
    """A _ContextManager whose result may also be iterated straight away:
    `async for row in conn.execute(query)` runs the query, then iterates its rows.
    """

    __slots__ = ("_iterator",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._iterator: Optional[AsyncIterator[Any]] = None

    def __aiter__(self) -> _IterableContextManager:
        return self

    async def __anext__(self) -> Any:
        if self._iterator is None:
            self._iterator = (await self._coro).__aiter__()
        return await self._iterator.__anext__()
