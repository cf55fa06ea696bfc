"""SQLAlchemy 2's asyncio ORM on ferropg: `create_async_engine("postgresql+ferropg://...")`.

FERROPG_DSN may be a URL or a key=value DSN; url_from_dsn turns either into the
SQLAlchemy URL. Authors have books; one query loads both with selectinload.
"""

import asyncio
import datetime
import decimal
import os
from typing import Optional

import sqlalchemy as sa
from ferropg.dialect import url_from_dsn
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "example_authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    joined: Mapped[datetime.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    books: Mapped[list["Book"]] = relationship(back_populates="author", cascade="all, delete-orphan")


class Book(Base):
    __tablename__ = "example_books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    price: Mapped[Optional[decimal.Decimal]] = mapped_column(sa.Numeric(8, 2))
    tags: Mapped[list[str]] = mapped_column(sa.ARRAY(sa.String), default=list)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("example_authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")


async def main() -> None:
    engine = create_async_engine(url_from_dsn(os.environ["FERROPG_DSN"]))
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)

    Session = async_sessionmaker(engine, expire_on_commit=False)
    async with Session() as session, session.begin():
        session.add_all(
            [
                Author(name="Ursula", books=[Book(title="The Dispossessed", price=decimal.Decimal("9.50"), tags=["sf"])]),
                Author(name="Italo", books=[Book(title="Invisible Cities", tags=["cities", "fable"]), Book(title="Cosmicomics")]),
            ]
        )

    async with Session() as session:
        authors = await session.scalars(sa.select(Author).options(selectinload(Author.books)).order_by(Author.name))
        for author in authors:
            print(f"{author.name} (joined {author.joined:%Y-%m-%d}):")
            for book in sorted(author.books, key=lambda b: b.title):
                print(f"  {book.title!r} price={book.price} tags={book.tags}")

        # a failed commit rolls back, and the session goes on
        session.add(Author(name="Italo"))
        try:
            await session.commit()
        except sa.exc.IntegrityError as exc:
            print("duplicate author refused:", type(exc.orig).__name__)
            await session.rollback()
        count = await session.scalar(sa.select(sa.func.count()).select_from(Author))
        print("authors:", count)

    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
    await engine.dispose()


asyncio.run(main())
