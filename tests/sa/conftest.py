"""Fixtures for ferropg.sa: an Engine on the throwaway server and one SAConnection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from ferropg.sa import Engine, SAConnection, create_engine

SA2 = int(sa.__version__.split(".")[0]) >= 2
only_sa14 = pytest.mark.skipif(SA2, reason="SQLAlchemy 1.x-style API (select([...])), gone in 2.0")


@pytest.fixture
async def engine(dsn: str) -> AsyncIterator[Engine]:
    """An Engine with up to 4 connections, closed (and waited for) after the test."""
    async with create_engine(dsn, minsize=1, maxsize=4) as eng:
        yield eng


@pytest.fixture
async def saconn(engine: Engine) -> AsyncIterator[SAConnection]:
    """An SAConnection from `engine`, returned after the test."""
    async with engine.acquire() as conn:
        yield conn


metadata = sa.MetaData()

users = sa.Table(
    "sa_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("birthday", sa.DateTime),
)

emails = sa.Table(
    "sa_emails",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", None, sa.ForeignKey("sa_users.id")),
    sa.Column("email", sa.String(255), nullable=False),
    sa.Column("private", sa.Boolean, nullable=False, default=False),
)


async def make_tables(conn: SAConnection) -> None:
    """(Re)create sa_users and sa_emails, empty. Tests that use them run their own DDL
    so each starts from a known state."""
    await conn.execute("DROP TABLE IF EXISTS sa_emails")
    await conn.execute("DROP TABLE IF EXISTS sa_users")
    await conn.execute(
        "CREATE TABLE sa_users (id serial PRIMARY KEY, name varchar(255) NOT NULL, birthday timestamp)"
    )
    await conn.execute(
        "CREATE TABLE sa_emails (id serial PRIMARY KEY, user_id int REFERENCES sa_users(id), "
        "email varchar(255) NOT NULL, private bool NOT NULL)"
    )
