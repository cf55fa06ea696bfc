"""A TCP proxy between a client and a PostgreSQL server that misbehaves on demand.

    proxy = await FaultProxy.start(cluster.host, cluster.port)
    conn = await ferropg.connect(cluster.make_dsn(port=proxy.port, sslmode="disable"))
    proxy.cut_after(100)        # forward 100 more server bytes, then drop the connection
    proxy.stall()               # stop forwarding in both directions (resume() undoes it)
    proxy.corrupt_after(0, b"\\x01\\x00\\x00\\x00\\x04")  # server bytes become these
    await proxy.close()

A fault applies to the connections open when it is armed; byte counts start at that
moment. Connections opened later (a cancel request's side connection, for instance)
pass through untouched unless the fault was armed with ``new_connections=True``.
Use sslmode=disable through the proxy: the faults are about the PostgreSQL protocol,
and inside TLS a corrupted byte is only ever a TLS error.
"""

from __future__ import annotations

import asyncio
from typing import Optional

_CHUNK = 64 * 1024


class _Fault:
    """What to do with the server's bytes once `after` more of them have gone through."""

    def __init__(self, kind: str, after: int = 0, payload: bytes = b"") -> None:
        self.kind = kind  # "cut", "stall" or "corrupt"
        self.remaining = after
        self.payload = payload


class _Link:
    """One proxied connection: the client's and the server's streams and the two pumps."""

    def __init__(
        self,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        server: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        self.client_reader, self.client_writer = client
        self.server_reader, self.server_writer = server
        self.fault: Optional[_Fault] = None
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.server_bytes = 0  # what reached the client from the server
        self.tasks: list[asyncio.Task[None]] = []

    def arm(self, fault: Optional[_Fault]) -> None:
        self.fault = fault
        if fault is None or fault.kind != "stall":
            self.flowing.set()
        else:
            self.flowing.clear()

    def abort(self) -> None:
        """Drop both sides at once, as a network failure or a dead server would."""
        for writer in (self.client_writer, self.server_writer):
            transport = writer.transport
            if not transport.is_closing():
                transport.abort()

    async def client_to_server(self) -> None:
        try:
            while data := await self.client_reader.read(_CHUNK):
                await self.flowing.wait()
                self.server_writer.write(data)
                await self.server_writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.abort()

    async def server_to_client(self) -> None:
        try:
            while data := await self.server_reader.read(_CHUNK):
                await self.flowing.wait()
                if not await self._forward(data):
                    return
        except (ConnectionError, OSError):
            pass
        finally:
            if self.fault is None or self.fault.kind != "corrupt":
                self.abort()

    async def _forward(self, data: bytes) -> bool:
        """Send server bytes to the client as the fault allows; False ends the pump."""
        fault = self.fault
        if fault is not None and fault.kind in ("cut", "corrupt"):
            keep = data[: fault.remaining]
            fault.remaining -= len(keep)
            if len(keep) < len(data) or fault.remaining == 0:
                if keep:
                    self.client_writer.write(keep)
                if fault.kind == "cut":
                    await self._drain_client()
                    self.abort()
                    return False
                # corrupt: the rest of the stream is the payload; the server's own
                # bytes are dropped from now on but both sockets stay open.
                self.client_writer.write(fault.payload)
                await self._drain_client()
                self.fault = _Fault("swallow")
                return True
        if fault is not None and fault.kind == "swallow":
            return True
        self.client_writer.write(data)
        self.server_bytes += len(data)
        await self._drain_client()
        return True

    async def _drain_client(self) -> None:
        try:
            await self.client_writer.drain()
        except (ConnectionError, OSError):
            pass


class FaultProxy:
    """Listens on 127.0.0.1 (``port``) and forwards to ``target_host``:``target_port``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.host = "127.0.0.1"
        self.port = 0
        self.links: list[_Link] = []
        self.accepted = 0
        self._server: Optional[asyncio.AbstractServer] = None
        self._sticky: Optional[_Fault] = None  # applied to new connections too

    @classmethod
    async def start(cls, target_host: str, target_port: int) -> FaultProxy:
        proxy = cls(target_host, target_port)
        proxy._server = await asyncio.start_server(proxy._accept, proxy.host, 0)
        proxy.port = int(proxy._server.sockets[0].getsockname()[1])
        return proxy

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            server = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        link = _Link((reader, writer), server)
        if self._sticky is not None:
            sticky = self._sticky
            link.arm(_Fault(sticky.kind, sticky.remaining, sticky.payload))
        self.links.append(link)
        link.tasks = [
            asyncio.ensure_future(link.client_to_server()),
            asyncio.ensure_future(link.server_to_client()),
        ]

    def _arm(self, fault: Optional[_Fault], new_connections: bool) -> None:
        for link in self.links:
            link.arm(None if fault is None else _Fault(fault.kind, fault.remaining, fault.payload))
        self._sticky = fault if new_connections else None

    # -- faults ------------------------------------------------------------------------

    def pass_through(self) -> None:
        """Forward everything again (also what a stall held back)."""
        self._arm(None, new_connections=True)

    resume = pass_through

    def cut_after(self, server_bytes: int, *, new_connections: bool = False) -> None:
        """Forward `server_bytes` more bytes from the server, then drop both sockets."""
        self._arm(_Fault("cut", server_bytes), new_connections)

    def stall(self, *, new_connections: bool = False) -> None:
        """Stop forwarding in both directions; the sockets stay open."""
        self._arm(_Fault("stall"), new_connections)

    def corrupt_after(self, server_bytes: int, payload: bytes, *, new_connections: bool = False) -> None:
        """Forward `server_bytes` more server bytes, then send `payload` in place of the rest."""
        self._arm(_Fault("corrupt", server_bytes, payload), new_connections)

    def inject(self, payload: bytes) -> None:
        """Send `payload` to every client now, as if the server had sent it."""
        for link in self.links:
            if not link.client_writer.transport.is_closing():
                link.client_writer.write(payload)

    # -- teardown ----------------------------------------------------------------------

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for link in self.links:
            link.flowing.set()
            link.abort()
        tasks = [t for link in self.links for t in link.tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()  # on 3.12+ this waits for the aborted links too
