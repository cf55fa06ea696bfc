"""The `postgresql+ferropg` SQLAlchemy dialect (ferropg.dialect) against the real server."""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Any, Optional

import pytest

sa = pytest.importorskip("sqlalchemy", minversion="2.0")
pytest.importorskip("greenlet")

import ferropg  # noqa: E402
from ferropg import errors  # noqa: E402
from ferropg.dialect import FerropgDialect, url_from_dsn  # noqa: E402
from sqlalchemy import exc as sa_exc  # noqa: E402
from sqlalchemy.dialects import postgresql as pg  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine  # noqa: E402
from sqlalchemy.orm import (  # noqa: E402
    DeclarativeBase,
    Mapped,
    mapped_column,
    relationship,
    selectinload,
)


@pytest.fixture
def url(dsn: str) -> Any:
    return url_from_dsn(dsn)


@pytest.fixture
async def engine(url: Any) -> Any:
    eng = create_async_engine(url)
    try:
        yield eng
    finally:
        await eng.dispose()


class Mood(enum.Enum):
    happy = "happy"
    sad = "sad"


metadata = sa.MetaData()
things = sa.Table(
    "sa_things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), unique=True),
    sa.Column("price", sa.Numeric(10, 2)),
    sa.Column("ratio", sa.Float),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("doc", sa.JSON),
    sa.Column("docb", pg.JSONB),
    sa.Column("key", sa.Uuid),
    sa.Column("tags", sa.ARRAY(sa.String)),
    sa.Column("mood", sa.Enum(Mood, name="sa_mood")),
    sa.Column("blob", sa.LargeBinary),
    sa.Column("span", sa.Interval),
    sa.Column("day", sa.Date),
    sa.Column("flag", sa.Boolean),
    sa.Column("created", sa.DateTime(timezone=True), server_default=sa.func.now()),
)


@pytest.fixture
async def tables(engine: Any) -> Any:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    yield things
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)


# -- registration and connecting -----------------------------------------------------------


def test_entry_point_resolves_to_the_dialect() -> None:
    from sqlalchemy.dialects import registry

    assert registry.load("postgresql.ferropg") is FerropgDialect
    eng = create_async_engine("postgresql+ferropg://u:pw@h/db")
    assert type(eng.dialect) is FerropgDialect
    assert eng.dialect.is_async and eng.dialect.driver == "ferropg"
    assert eng.dialect.dbapi.paramstyle == "pyformat"
    assert eng.dialect.dbapi.IntegrityError is ferropg.IntegrityError
    assert type(eng.sync_engine.pool).__name__ == "AsyncAdaptedQueuePool"


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "postgresql+ferropg://u:pw@h:6000/db?sslmode=verify-full&application_name=app",
            {"user": "u", "password": "pw", "host": "h", "port": 6000, "dbname": "db",
             "sslmode": "verify-full", "application_name": "app"},
        ),
        ("postgresql+ferropg://u@h/db?ssl=true", {"user": "u", "host": "h", "dbname": "db", "sslmode": "require"}),
        (
            "postgresql+ferropg://u@/db?host=a:1&host=b:2&target_session_attrs=read-write",
            {"user": "u", "dbname": "db", "host": "a,b", "port": "1,2", "target_session_attrs": "read-write"},
        ),
        (
            "postgresql+ferropg://u@h/db?prepared_statement_cache_size=50&timeout=2.5",
            {"user": "u", "host": "h", "dbname": "db", "statement_cache_size": 50, "timeout": 2.5},
        ),
    ],
)  # fmt: skip
def test_url_becomes_connect_keywords(url: str, expected: dict[str, Any]) -> None:
    args, kwargs = FerropgDialect().create_connect_args(sa.engine.make_url(url))
    assert args == [] and kwargs == expected


def test_url_from_dsn_keeps_what_libpq_would_use() -> None:
    url = url_from_dsn("host=db.example port=6543 dbname=app user=me password='p w' sslmode=require")
    assert (url.drivername, url.username, url.password, url.host, url.port, url.database) == (
        "postgresql+ferropg", "me", "p w", "db.example", 6543, "app"
    )
    assert dict(url.query) == {"sslmode": "require"}
    multi = url_from_dsn("postgresql://me@a:1,b:2/app")
    assert multi.query["host"] == ("a:1", "b:2")


async def test_connect_failure_is_a_wrapped_operational_error(url: Any) -> None:
    eng = create_async_engine(url.set(port=1))
    try:
        with pytest.raises(sa_exc.OperationalError) as info:
            async with eng.connect():
                pass
        assert isinstance(info.value.orig, ferropg.OperationalError)
    finally:
        await eng.dispose()


async def test_server_version_and_raw_connection(engine: Any) -> None:
    async with engine.connect() as conn:
        num = int((await conn.exec_driver_sql("SHOW server_version_num")).scalar_one())
        info = engine.dialect.server_version_info
        assert info[0] == num // 10000 and info[1] == num % 10000
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, ferropg.Connection)


# -- Core ------------------------------------------------------------------------------------


async def test_core_insert_select_update_delete_with_returning(engine: Any, tables: Any) -> None:
    async with engine.begin() as conn:
        new_id = (await conn.execute(tables.insert().values(name="a", price=1).returning(tables.c.id))).scalar_one()
        result = await conn.execute(tables.insert(), [{"name": "b", "price": 2}, {"name": "c", "price": 3}])
        assert result.rowcount == 2  # executemany: the sum over the runs
        rows = await conn.execute(sa.select(tables.c.name, tables.c.price).order_by(tables.c.name))
        assert rows.all() == [("a", decimal.Decimal("1.00")), ("b", decimal.Decimal("2.00")), ("c", decimal.Decimal("3.00"))]
        upd = await conn.execute(
            tables.update().where(tables.c.price > 1).values(price=tables.c.price * 10).returning(tables.c.name)
        )
        assert sorted(upd.scalars()) == ["b", "c"]
        deleted = await conn.execute(tables.delete().where(tables.c.id == new_id))
        assert deleted.rowcount == 1
        assert (await conn.execute(sa.select(sa.func.sum(tables.c.price)))).scalar_one() == decimal.Decimal("50.00")


async def test_insertmanyvalues_returning_keeps_parameter_order(engine: Any, tables: Any) -> None:
    names = [f"n{i:04d}" for i in range(2500)]  # more than one page of 1000
    async with engine.begin() as conn:
        result = await conn.execute(
            tables.insert().returning(tables.c.name, tables.c.id, sort_by_parameter_order=True),
            [{"name": n} for n in names],
        )
        rows = result.all()
    assert [r.name for r in rows] == names
    assert len({r.id for r in rows}) == len(names)


async def test_types_round_trip(engine: Any, tables: Any) -> None:
    at = datetime.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=5)))
    key = uuid.uuid4()
    values = {
        "name": "typed",
        "price": decimal.Decimal("12345678.91"),
        "ratio": 0.25,
        "at": at,
        "doc": {"a": [1, 2.5, None, "x"], "b": {"c": True}},
        "docb": [{"k": "v"}, 3],
        "key": key,
        "tags": ["x", "y z", ""],
        "mood": Mood.sad,
        "blob": b"\x00\xffbinary",
        "span": datetime.timedelta(days=3, seconds=7),
        "day": datetime.date(1999, 12, 31),
        "flag": False,
    }
    async with engine.begin() as conn:
        await conn.execute(tables.insert().values(**values))
        row = (await conn.execute(sa.select(tables).where(tables.c.key == key))).one()._mapping
    for name, value in values.items():
        assert row[name] == value, name
    assert type(row["blob"]) is bytes
    assert row["at"].utcoffset() is not None and row["at"] == at
    assert isinstance(row["created"], datetime.datetime) and row["created"].tzinfo is not None


async def test_json_null_and_element_access(engine: Any, tables: Any) -> None:
    async with engine.begin() as conn:
        await conn.execute(tables.insert(), [{"name": "j1", "docb": {"k": 1, "s": "one"}}, {"name": "j2", "docb": None}])
        got = await conn.execute(sa.select(tables.c.docb["s"].astext).where(tables.c.docb["k"].as_integer() == 1))
        assert got.scalar_one() == "one"
        assert (await conn.execute(sa.select(tables.c.doc).where(tables.c.name == "j2"))).scalar_one() is None


async def test_custom_json_deserializer_sees_every_value(url: Any) -> None:
    seen: list[str] = []

    def loads(text: str) -> Any:
        seen.append(text)
        return {"wrapped": text}

    eng = create_async_engine(url, json_deserializer=loads)
    try:
        async with eng.connect() as conn:
            value = (await conn.execute(sa.select(sa.cast(sa.literal('{"a": 1}'), sa.JSON)))).scalar_one()
    finally:
        await eng.dispose()
    assert value == {"wrapped": '{"a": 1}'} and seen == ['{"a": 1}']


# -- transactions ------------------------------------------------------------------------------


async def _count(engine: Any, tables: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(tables))).scalar_one())


async def test_begin_commits_and_error_rolls_back(engine: Any, tables: Any) -> None:
    async with engine.begin() as conn:
        await conn.execute(tables.insert().values(name="kept"))
    with pytest.raises(RuntimeError, match="boom"):
        async with engine.begin() as conn:
            await conn.execute(tables.insert().values(name="lost"))
            raise RuntimeError("boom")
    async with engine.connect() as conn:
        await conn.execute(tables.insert().values(name="never committed"))
        await conn.rollback()
    assert await _count(engine, tables) == 1


async def test_statements_run_inside_a_transaction_block(engine: Any) -> None:
    async with engine.connect() as conn:
        first = (await conn.exec_driver_sql("SELECT txid_current()")).scalar_one()
        second = (await conn.exec_driver_sql("SELECT txid_current()")).scalar_one()
        assert first == second  # one BEGIN before the first statement, not one per statement
        await conn.commit()
        third = (await conn.exec_driver_sql("SELECT txid_current()")).scalar_one()
        assert third != first


async def test_savepoints_with_begin_nested(engine: Any, tables: Any) -> None:
    async with engine.begin() as conn:
        await conn.execute(tables.insert().values(name="outer"))
        with pytest.raises(sa_exc.IntegrityError):
            async with conn.begin_nested():
                await conn.execute(tables.insert().values(name="outer"))  # duplicate
        nested = await conn.begin_nested()
        await conn.execute(tables.insert().values(name="inner"))
        await nested.commit()
    async with engine.connect() as conn:
        names = (await conn.execute(sa.select(tables.c.name).order_by(tables.c.name))).scalars().all()
    assert names == ["inner", "outer"]


async def test_isolation_level_execution_option(engine: Any) -> None:
    async with engine.connect() as conn:
        assert await conn.get_isolation_level() == "READ COMMITTED"
        conn2 = await conn.execution_options(isolation_level="SERIALIZABLE")
        level = (await conn2.exec_driver_sql("SHOW transaction_isolation")).scalar_one()
        assert level == "serializable"
        assert await conn2.get_isolation_level() == "SERIALIZABLE"
    # the pooled connection is back at the default for the next user
    async with engine.connect() as conn:
        assert (await conn.exec_driver_sql("SHOW transaction_isolation")).scalar_one() == "read committed"


async def test_engine_wide_isolation_level_and_readonly(url: Any) -> None:
    eng = create_async_engine(url, isolation_level="REPEATABLE READ")
    try:
        async with eng.connect() as conn:
            assert (await conn.exec_driver_sql("SHOW transaction_isolation")).scalar_one() == "repeatable read"
        async with eng.connect() as conn:
            ro = await conn.execution_options(postgresql_readonly=True)
            with pytest.raises(sa_exc.InternalError) as info:
                await ro.exec_driver_sql("CREATE TEMP TABLE nope (i int)")
            assert isinstance(info.value.orig, errors.ReadOnlySqlTransaction)
    finally:
        await eng.dispose()


async def test_autocommit_runs_each_statement_on_its_own(engine: Any, tables: Any) -> None:
    auto = engine.execution_options(isolation_level="AUTOCOMMIT")
    async with auto.connect() as conn:
        first = (await conn.exec_driver_sql("SELECT txid_current()")).scalar_one()
        second = (await conn.exec_driver_sql("SELECT txid_current()")).scalar_one()
        assert first != second  # no transaction block: each statement is its own transaction
        await conn.execute(tables.insert().values(name="auto"))
        assert await _count(engine, tables) == 1  # visible with no commit()
        await conn.exec_driver_sql("VACUUM sa_things")  # refused inside a transaction block


# -- errors and liveness -----------------------------------------------------------------------


async def test_unique_violation_is_wrapped_and_connection_recovers(engine: Any, tables: Any) -> None:
    async with engine.connect() as conn:
        await conn.execute(tables.insert().values(name="dup"))
        with pytest.raises(sa_exc.IntegrityError) as info:
            await conn.execute(tables.insert().values(name="dup"))
        assert isinstance(info.value.orig, errors.UniqueViolation)
        assert info.value.orig.pgcode == "23505"
        await conn.rollback()
        assert (await conn.execute(sa.select(sa.func.count()).select_from(tables))).scalar_one() == 0
        with pytest.raises(sa_exc.ProgrammingError) as info2:
            await conn.exec_driver_sql("SELEC 1")
        assert isinstance(info2.value.orig, errors.SyntaxError)


async def test_pool_pre_ping_replaces_a_killed_connection(url: Any, engine: Any) -> None:
    eng = create_async_engine(url, pool_pre_ping=True, pool_size=1, max_overflow=0)
    try:
        async with eng.connect() as conn:
            pid = (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
        async with engine.connect() as killer:
            await killer.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        async with eng.connect() as conn:
            new_pid = (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
        assert new_pid != pid
    finally:
        await eng.dispose()


async def test_without_pre_ping_a_killed_connection_is_a_disconnect(url: Any, engine: Any) -> None:
    eng = create_async_engine(url, pool_size=1, max_overflow=0)
    try:
        async with eng.connect() as conn:
            pid = (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
        async with engine.connect() as killer:
            await killer.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        async with eng.connect() as conn:
            with pytest.raises(sa_exc.DBAPIError) as info:
                await conn.exec_driver_sql("SELECT 1")
            assert info.value.connection_invalidated
        async with eng.connect() as conn:  # the pool opened a fresh one
            assert (await conn.exec_driver_sql("SELECT 1")).scalar_one() == 1
    finally:
        await eng.dispose()


async def test_stream_uses_a_server_side_cursor(engine: Any) -> None:
    async with engine.connect() as conn:
        result = await conn.stream(sa.text("SELECT g FROM generate_series(1, 2500) AS g"))
        seen = [row[0] async for row in result]
        assert seen == list(range(1, 2501))
        open_cursors = (await conn.exec_driver_sql("SELECT count(*) FROM pg_cursors WHERE name <> ''")).scalar_one()
        assert open_cursors == 0
        partitions = await conn.stream(sa.text("SELECT g FROM generate_series(1, 10) AS g"))
        sizes = [len(p) async for p in partitions.partitions(4)]
        assert sizes == [4, 4, 2]


async def test_reflection(engine: Any, tables: Any) -> None:
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        columns = await conn.run_sync(lambda c: sa.inspect(c).get_columns("sa_things"))
        enums = await conn.run_sync(lambda c: sa.inspect(c).get_enums())
    assert "sa_things" in names
    assert [c["name"] for c in columns][:3] == ["id", "name", "price"]
    assert {"name": "sa_mood", "labels": ["happy", "sad"]}.items() <= enums[0].items()


# -- ORM ------------------------------------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "sa_authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    joined: Mapped[datetime.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    books: Mapped[list[Book]] = relationship(back_populates="author", cascade="all, delete-orphan")


class Book(Base):
    __tablename__ = "sa_books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    price: Mapped[Optional[decimal.Decimal]] = mapped_column(sa.Numeric(8, 2))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("sa_authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")


@pytest.fixture
async def sessionmaker(engine: Any) -> Any:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    yield async_sessionmaker(engine, expire_on_commit=False)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)


async def test_orm_flush_commit_refresh_and_selectinload(sessionmaker: Any) -> None:
    async with sessionmaker() as session:
        ann = Author(name="Ann", books=[Book(title="One", price=decimal.Decimal("9.99")), Book(title="Two")])
        bob = Author(name="Bob")
        session.add_all([ann, bob])
        await session.flush()
        assert ann.id is not None and all(b.author_id == ann.id for b in ann.books)
        await session.commit()
        await session.refresh(ann)
        assert isinstance(ann.joined, datetime.datetime)

    async with sessionmaker() as session:
        authors = (
            await session.scalars(sa.select(Author).options(selectinload(Author.books)).order_by(Author.name))
        ).all()
        assert [(a.name, sorted(b.title for b in a.books)) for a in authors] == [("Ann", ["One", "Two"]), ("Bob", [])]
        one = next(b for b in authors[0].books if b.title == "One")
        one.price = decimal.Decimal("12.50")
        authors[0].books.remove(next(b for b in authors[0].books if b.title == "Two"))
        await session.commit()

    async with sessionmaker() as session:
        books = (await session.scalars(sa.select(Book))).all()
        assert [(b.title, b.price) for b in books] == [("One", decimal.Decimal("12.50"))]


async def test_orm_rollback_after_integrity_error(sessionmaker: Any) -> None:
    async with sessionmaker() as session:
        session.add(Book(title="orphan", author_id=12345))
        with pytest.raises(sa_exc.IntegrityError) as info:
            await session.commit()
        assert isinstance(info.value.orig, errors.ForeignKeyViolation)
        await session.rollback()
        session.add(Author(name="fine"))
        await session.commit()
        assert await session.scalar(sa.select(sa.func.count()).select_from(Author)) == 1


async def test_orm_bulk_update_by_primary_key(sessionmaker: Any) -> None:
    async with sessionmaker() as session:
        session.add_all([Author(id=i, name=f"a{i}") for i in range(1, 6)])
        await session.commit()
        await session.execute(sa.update(Author), [{"id": i, "name": f"b{i}"} for i in range(1, 6)])
        await session.commit()
        assert (await session.scalars(sa.select(Author.name).order_by(Author.id))).all() == [f"b{i}" for i in range(1, 6)]


async def test_async_session_class_is_usable_directly(engine: Any, sessionmaker: Any) -> None:
    async with AsyncSession(engine) as session, session.begin():
        session.add(Author(name="direct"))
    async with AsyncSession(engine) as session:
        assert (await session.scalars(sa.select(Author.name))).all() == ["direct"]
