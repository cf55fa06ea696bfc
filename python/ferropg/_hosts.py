"""Reaching a server as libpq does: each host in turn (shuffled with
load_balance_hosts=random), hostaddr dialled when given, connect_timeout per host,
target_session_attrs checked after startup, and one error naming every failure.

The socket is opened here, on the caller's loop; the connected descriptor is then
handed to `_native.Connection`, which owns it from TLS negotiation on.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
from typing import Any, Optional

from . import _native
from .errors import Error, OperationalError, ProgrammingError

__all__ = ["open_session", "open_socket"]


async def open_session(
    loop: asyncio.AbstractEventLoop, params: Any, native_kw: dict[str, Any]
) -> tuple[Any, str, int]:
    """Try each host as libpq does; the error names every host tried and why it failed."""
    hosts = list(zip(params.hosts, params.hostaddrs))
    if params.load_balance_hosts == "random":
        random.shuffle(hosts)
    attrs = params.target_session_attrs or "any"
    passes = ["standby", "any"] if attrs == "prefer-standby" else [attrs]
    failures: list[str] = []
    for wanted in passes:
        for (host, port), addr in hosts:
            try:
                native = await _open_one(loop, params, host, port, native_kw, addr)
            except (OSError, asyncio.TimeoutError, Error) as exc:
                failures.append(f"{_describe_server(host, port)} failed: {_reason(exc)}")
                continue
            try:
                refusal = await _check_session_attrs(native, wanted)
            except Error as exc:
                native.close()
                failures.append(f"{_describe_server(host, port)} failed: {_reason(exc)}")
                continue
            except BaseException:  # timeout or cancellation: never leave the socket open
                native.close()
                raise
            if refusal is None:
                return native, addr or host, port  # cancel requests dial the same address
            native.close()
            failures.append(f"{_describe_server(host, port)} failed: {refusal}")
    raise OperationalError("\n".join(failures) + "\n")


async def _open_one(
    loop: asyncio.AbstractEventLoop,
    params: Any,
    host: str,
    port: int,
    native_kw: dict[str, Any],
    addr: Optional[str] = None,
) -> Any:
    per_host = params.connect_timeout
    if per_host is not None and per_host > 0:
        per_host = max(per_host, 2.0)  # libpq treats anything shorter as 2 seconds
    else:
        per_host = None

    async def attempt() -> Any:
        sock = await open_socket(loop, addr or host, port)  # hostaddr, when given, is dialled
        # the engine looks the password up in the passfile for this host itself
        native = _native.Connection(sock.detach(), params, loop, host=host, port=port, **native_kw)
        try:
            await native.startup()
        except BaseException:
            native.close()
            raise
        return native

    if per_host is None:
        return await attempt()
    return await asyncio.wait_for(attempt(), per_host)


async def open_socket(loop: asyncio.AbstractEventLoop, host: str, port: int) -> socket.socket:
    """A connected non-blocking socket to `host` (or unix-socket directory) and `port`."""
    if host.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, f"{host}/.s.PGSQL.{port}")
        except BaseException:
            sock.close()
            raise
        return sock
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    last: Optional[BaseException] = None
    for family, type_, proto, _, address in infos:
        sock = socket.socket(family, type_, proto)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        except BaseException:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise last if last is not None else OSError(f"no address found for host {host!r}")


async def _check_session_attrs(native: Any, wanted: str) -> Optional[str]:
    """None when the session fits target_session_attrs, else libpq's reason for refusing it."""
    if wanted == "any":
        return None
    if wanted in ("read-write", "read-only"):
        result = await native.execute("SHOW transaction_read_only", None)
        read_only = result.rows[0][0] == "on"
        if wanted == "read-write" and read_only:
            return "session is read-only"
        if wanted == "read-only" and not read_only:
            return "session is not read-only"
        return None
    if wanted in ("primary", "standby"):
        result = await native.execute("SELECT pg_is_in_recovery()", None)
        standby = bool(result.rows[0][0])
        if wanted == "primary" and standby:
            return "server is in hot standby mode"
        if wanted == "standby" and not standby:
            return "server is not in hot standby mode"
        return None
    raise ProgrammingError(f"invalid target_session_attrs value: {wanted!r}")


def _describe_server(host: str, port: int) -> str:
    if host.startswith("/"):
        return f'connection to server on socket "{host}/.s.PGSQL.{port}"'
    return f'connection to server at "{host}", port {port}'


def _reason(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout expired"
    if isinstance(exc, socket.gaierror):  # its errno is an EAI_* code, not for os.strerror
        return f"could not translate host name to address: {exc.strerror}"
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)  # asyncio's own strerror also repeats the address
    return str(exc).strip() or type(exc).__name__
