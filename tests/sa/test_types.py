"""SQLAlchemy type processing both ways: DateTime, Enum, JSON, Numeric, UUID, ARRAY,
custom TypeDecorators, and defaults computed in Python."""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from ferropg.sa import SAConnection, create_engine, get_dialect


class Mood(enum.Enum):
    happy = "h"
    sad = "s"


class Upper(sa.types.TypeDecorator):
    """Stored upper-case, read back lower-case: proves both processors ran."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.upper()

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.lower()


def stamp(context: Any) -> str:
    return "made-for-" + context.get_current_parameters()["name"]


meta = sa.MetaData()
things = sa.Table(
    "sa_things",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50)),
    sa.Column("at", sa.DateTime),
    sa.Column("at_tz", sa.DateTime(timezone=True)),
    sa.Column("mood", sa.Enum(Mood, name="sa_mood")),
    sa.Column("doc", sa.JSON),
    sa.Column("docb", pg.JSONB),
    sa.Column("price", sa.Numeric(10, 2)),
    sa.Column("ratio", sa.Numeric(10, 3, asdecimal=False)),
    sa.Column("uid", pg.UUID(as_uuid=True)),
    sa.Column("tags", pg.ARRAY(sa.Text)),
    sa.Column("shout", Upper(50)),
    sa.Column("made", sa.String(80), default=stamp),
    sa.Column("created", sa.DateTime, default=lambda: datetime.datetime(2001, 2, 3)),
    sa.Column("version", sa.Integer, default=1, onupdate=2),
)


@pytest.fixture
async def conn(saconn: SAConnection) -> SAConnection:
    await saconn.execute("DROP TABLE IF EXISTS sa_things")
    await saconn.execute("DROP TYPE IF EXISTS sa_mood")
    # SQLAlchemy stores a Python Enum by member name; create_all would make this type.
    await saconn.execute("CREATE TYPE sa_mood AS ENUM ('happy', 'sad')")
    await saconn.execute(sa.schema.CreateTable(things))
    return saconn


async def one(conn: SAConnection, **where: Any) -> Any:
    return await (await conn.execute(things.select().where(things.c.id == where.get("id", 1)))).first()


async def test_values_round_trip(conn: SAConnection) -> None:
    at = datetime.datetime(2020, 5, 6, 7, 8, 9, 123456)
    at_tz = datetime.datetime(2020, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    uid = uuid.uuid4()
    new_id = await conn.scalar(
        things.insert().values(
            name="n",
            at=at,
            at_tz=at_tz,
            mood=Mood.sad,
            doc={"a": [1, 2, {"b": None}]},
            docb=[1, "x"],
            price=decimal.Decimal("12.34"),
            ratio=0.125,
            uid=uid,
            tags=["a", "b"],
            shout="hello",
        )
    )
    assert new_id == 1
    row = await one(conn)
    assert row.at == at and row.at_tz == at_tz
    assert row.mood is Mood.sad
    assert row.doc == {"a": [1, 2, {"b": None}]} and row.docb == [1, "x"]
    assert row.price == decimal.Decimal("12.34") and isinstance(row.price, decimal.Decimal)
    assert row.ratio == 0.125 and isinstance(row.ratio, float)
    assert row.uid == uid and row.tags == ["a", "b"]
    assert row.shout == "hello"
    raw = await (await conn.execute("SELECT mood::text, shout, doc::text FROM sa_things")).first()
    assert raw.as_tuple() == ("sad", "HELLO", json.dumps({"a": [1, 2, {"b": None}]}))


async def test_processors_apply_to_where_params(conn: SAConnection) -> None:
    await conn.execute(things.insert().values(name="a", mood=Mood.happy, shout="abc"))
    assert await conn.scalar(sa.select(things.c.id).where(things.c.mood == Mood.happy)) == 1
    assert await conn.scalar(sa.select(things.c.id).where(things.c.shout == "abc")) == 1
    assert await conn.scalar(sa.select(things.c.id).where(things.c.mood == Mood.sad)) is None


async def test_python_defaults_and_onupdate(conn: SAConnection) -> None:
    await conn.execute(things.insert().values(name="bee"))
    row = await one(conn)
    assert row.made == "made-for-bee"
    assert row.created == datetime.datetime(2001, 2, 3) and row.version == 1
    await conn.execute(things.update().where(things.c.id == 1).values(name="b2"))
    assert (await one(conn)).version == 2
    await conn.execute(things.insert(), {"name": "kw", "version": 9})
    assert (await one(conn, id=2)).version == 9


async def test_nulls(conn: SAConnection) -> None:
    await conn.execute(things.insert().values(name=None, made="m"))
    row = await one(conn)
    assert row.mood is None and row.shout is None and row.at is None and row.uid is None


async def test_custom_json_serializer(dsn: str) -> None:
    seen = []

    def dumps(value: Any) -> str:
        seen.append(value)
        return json.dumps(value, sort_keys=True)

    async with create_engine(dsn, dialect=get_dialect(json_serializer=dumps)) as engine:
        async with engine.acquire() as conn:
            got = await conn.scalar(sa.select(sa.cast(sa.literal({"b": 1, "a": 2}, sa.JSON), sa.Text)))
    assert seen == [{"b": 1, "a": 2}] and got == '{"a": 2, "b": 1}'
