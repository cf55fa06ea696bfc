"""The aiopg documentation's richer SQLAlchemy program, on ferropg.sa: people with
e-mail addresses, filled in one transaction, then counted, joined, grouped and averaged.

Written in the 2.0 style, which SQLAlchemy 1.4 also runs. With 1.4 the documentation's
own 1.x spellings work too: `sa.select([users.c.name])`, `select([...], use_labels=True)`,
and `sa.select([sa.func.count()]).select_from(users)` instead of the removed
`users.count()`.
"""

import asyncio
import datetime
import os
import random

import sqlalchemy as sa

from ferropg.sa import create_engine

metadata = sa.MetaData()

people = sa.Table(
    "demo_people",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255)),
    sa.Column("born", sa.DateTime),
)

mailboxes = sa.Table(
    "demo_mailboxes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("person_id", None, sa.ForeignKey("demo_people.id")),
    sa.Column("address", sa.String(255), nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False),
)

NAMES = ["Ada", "Boris", "Chen", "Dana", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Julia"]


async def make_tables(conn) -> None:
    await conn.execute("DROP TABLE IF EXISTS demo_mailboxes")
    await conn.execute("DROP TABLE IF EXISTS demo_people")
    await conn.execute(
        "CREATE TABLE demo_people (id serial PRIMARY KEY, name varchar(255), born timestamp)"
    )
    await conn.execute(
        "CREATE TABLE demo_mailboxes (id serial PRIMARY KEY, "
        "person_id int REFERENCES demo_people(id), address varchar(255), hidden bool)"
    )


def random_birthday(rng: random.Random) -> datetime.datetime:
    year = datetime.date.today().year - rng.randint(20, 30)
    return datetime.datetime(year, rng.randint(1, 12), rng.randint(1, 28))


async def fill(conn, rng: random.Random) -> None:
    async with conn.begin():  # all or nothing
        for name in NAMES:
            person_id = await conn.scalar(people.insert().values(name=name, born=random_birthday(rng)))
            for n in range(1 + int(rng.paretovariate(2))):
                await conn.execute(
                    mailboxes.insert().values(
                        person_id=person_id,
                        address=f"{name.lower()}+{n}@example.org",
                        hidden=rng.random() < 0.7,
                    )
                )


async def report(conn) -> None:
    how_many_people = await conn.scalar(sa.select(sa.func.count()).select_from(people))
    how_many_boxes = await conn.scalar(sa.select(sa.func.count()).select_from(mailboxes))
    print(f"{how_many_people} people own {how_many_boxes} mailboxes")

    join = sa.join(mailboxes, people, people.c.id == mailboxes.c.person_id)
    public = (
        sa.select(people.c.name)
        .select_from(join)
        .where(mailboxes.c.hidden == sa.false())
        .group_by(people.c.name)
        .having(sa.func.count(mailboxes.c.id) > 0)
        .order_by(people.c.name)
    )
    print("People with a public mailbox:", ", ".join([row.name async for row in conn.execute(public)]))

    julia = (
        sa.select(people, mailboxes)
        .set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
        .select_from(join)
        .where(people.c.name == "Julia")
    )
    async for row in conn.execute(julia):
        print("Julia:", row.demo_people_born.date(), row.demo_mailboxes_address, row.demo_mailboxes_hidden)

    average = await conn.scalar(sa.select(sa.func.avg(sa.func.age(people.c.born))))
    print(f"Average age: {average} (about {int(average.days / 365.25)} years)")


async def main() -> None:
    engine = await create_engine(os.environ["FERROPG_DSN"])
    async with engine:
        async with engine.acquire() as conn:
            await make_tables(conn)
            await fill(conn, random.Random(7))
            await report(conn)
            await conn.execute("DROP TABLE demo_mailboxes")
            await conn.execute("DROP TABLE demo_people")


asyncio.run(main())
