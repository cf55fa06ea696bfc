"""Shared fixtures: one throwaway PostgreSQL per test session (ferropg.testing).

Set FERROPG_TEST_DSN to run against an existing server instead; tests that need what
only the throwaway cluster provides (certificates, auth roles, restarts, psql) skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from ferropg.testing import Cluster, shared_cluster


class ExternalServer:
    """Stands in for a Cluster when FERROPG_TEST_DSN names the server: only `.dsn` exists."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def __getattr__(self, name: str) -> Any:
        pytest.skip(
            f"needs ferropg.testing.Cluster.{name}, unavailable with FERROPG_TEST_DSN set"
        )


@pytest.fixture(scope="session")
def pg() -> Iterator[Any]:
    """The server under test: a started Cluster, or an ExternalServer with just `.dsn`."""
    external = os.environ.get("FERROPG_TEST_DSN")
    if external:
        yield ExternalServer(external)
        return
    yield shared_cluster()  # deleted at exit, or by its watchdog if the run is killed


@pytest.fixture
def cluster(pg: Any) -> Cluster:
    """The throwaway Cluster itself; skips when running against FERROPG_TEST_DSN."""
    if not isinstance(pg, Cluster):
        pytest.skip(
            "needs the throwaway ferropg.testing.Cluster, not the FERROPG_TEST_DSN server"
        )
    return pg


@pytest.fixture
def dsn(pg: Any) -> str:
    """A DSN for the superuser on the test database."""
    return pg.dsn


@pytest.fixture
async def conn(dsn: str) -> Any:
    """An open ferropg connection to the test database, closed after the test."""
    import ferropg

    connection = await ferropg.connect(dsn)
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
async def cur(conn: Any) -> Any:
    """A plain cursor on `conn`, closed after the test."""
    cursor = await conn.cursor()
    try:
        yield cursor
    finally:
        cursor.close()
