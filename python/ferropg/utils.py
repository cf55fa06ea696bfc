"""Small asyncio helpers shared by the connection, cursor and transaction code."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Generator
from types import TracebackType
from typing import Any, Generic, Optional, TypeVar

__all__ = ["ClosableQueue", "create_completed_future", "get_running_loop"]


def get_running_loop() -> asyncio.AbstractEventLoop:
    """The loop running the current task; RuntimeError outside of one (as asyncio's)."""
    return asyncio.get_running_loop()


def create_completed_future(loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
    """A future already resolved to None, for plain methods callers may also await."""
    fut = loop.create_future()
    fut.set_result(None)
    return fut


_T = TypeVar("_T")
_Release = Callable[[_T], Awaitable[None]]


class _ContextManager(Coroutine[Any, None, _T], Generic[_T]):
    """Wraps the coroutine producing an object so callers can either await it or use it
    in `async with`, which releases the object on exit (with `on_error` when the block
    raised, if given). Behaves as a coroutine so `asyncio.ensure_future` accepts it.
    """

    __slots__ = ("_coro", "_obj", "_release", "_on_error")

    def __init__(
        self,
        coro: Coroutine[Any, None, _T],
        release: _Release[_T],
        on_error: Optional[_Release[_T]] = None,
    ) -> None:
        self._coro = coro
        self._obj: Optional[_T] = None
        self._release = release
        self._on_error = on_error if on_error is not None else release

    def send(self, value: Any) -> Any:
        return self._coro.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Optional[TracebackType] = None) -> Any:
        if val is None:
            return self._coro.throw(typ)
        if tb is None:
            return self._coro.throw(typ, val)
        return self._coro.throw(typ, val, tb)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, _T]:
        return self._coro.__await__()

    async def __aenter__(self) -> _T:
        self._obj = await self._coro
        return self._obj

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        obj, self._obj = self._obj, None
        if obj is None:
            return
        if exc_type is not None:
            await self._on_error(obj)
        else:
            await self._release(obj)


class ClosableQueue:
    """An asyncio.Queue view that can be closed with an exception.

    Items queued before the close are still delivered; once the queue is drained,
    `get()` and `get_nowait()` raise the close exception (the connection's loss error).
    """

    __slots__ = ("_queue", "_closed")

    def __init__(self, queue: asyncio.Queue[Any], loop: asyncio.AbstractEventLoop) -> None:
        self._queue = queue
        self._closed: asyncio.Future[None] = loop.create_future()
        # Nobody may ever call get(): keep asyncio from reporting the exception unread.
        self._closed.add_done_callback(_consume_exception)

    def close(self, exception: BaseException) -> None:
        if not self._closed.done():
            self._closed.set_exception(exception)

    @property
    def closed(self) -> bool:
        return self._closed.done()

    async def get(self) -> Any:
        if self._closed.done():
            return self.get_nowait()
        getter = asyncio.ensure_future(self._queue.get())
        try:
            await asyncio.wait([getter, self._closed], return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            getter.cancel()
            raise
        if getter.done():
            return getter.result()
        getter.cancel()
        return self.get_nowait()

    def get_nowait(self) -> Any:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            if self._closed.done():
                self._closed.result()  # raises the close exception
            raise

    def put_nowait(self, item: Any) -> None:
        self._queue.put_nowait(item)

    def empty(self) -> bool:
        return self._queue.empty()

    def qsize(self) -> int:
        return self._queue.qsize()


def _consume_exception(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()
