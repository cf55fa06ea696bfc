"""The dialect: psycopg2's flavour (pyformat, its result types) with no psycopg2 needed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import sqlalchemy as sa

from ferropg.sa import dialect, get_dialect


def test_dialect_attributes() -> None:
    assert (dialect.name, dialect.driver, dialect.paramstyle) == ("postgresql", "psycopg2", "pyformat")
    assert dialect.dbapi is None  # nothing imported psycopg2 on our behalf
    assert get_dialect() is not dialect


def test_compiles_and_processes_types_with_psycopg2_unimportable() -> None:
    # A fresh interpreter where `import psycopg2` fails: compiling statements and running
    # the bind and result processors of the common types must never need it.
    program = textwrap.dedent(
        """
        import sys
        sys.modules["psycopg2"] = None
        import enum, uuid, decimal
        import sqlalchemy as sa
        from sqlalchemy.dialects import postgresql as pg
        from ferropg.sa import dialect

        class E(enum.Enum):
            a = 1

        t = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("j", sa.JSON), sa.Column("e", sa.Enum(E)),
                     sa.Column("u", pg.UUID(as_uuid=True)), sa.Column("n", sa.Numeric(asdecimal=False)),
                     sa.Column("h", pg.HSTORE), sa.Column("d", sa.DateTime))
        c = t.insert().values(j={"x": 1}, e=E.a, u=uuid.uuid4(), n=1, h={"k": "v"}).compile(dialect=dialect)
        procs = c._bind_processors
        assert procs["j"]({"x": 1}) == '{"x": 1}' and procs["e"](E.a) == "a", procs
        assert str(c).startswith("INSERT INTO t (j, e, u, n, h) VALUES (%(j)s"), str(c)
        assert t.c.e.type._cached_result_processor(dialect, 25)("a") is E.a
        assert t.c.n.type._cached_result_processor(dialect, 1700)(decimal.Decimal("1.5")) == 1.5
        assert "psycopg2" not in sys.modules or sys.modules["psycopg2"] is None
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_in_lists_render_as_bound_parameters() -> None:
    t = sa.table("t", sa.column("id"))
    compiled = sa.select(t.c.id).where(t.c.id.in_([1, 2])).compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True}
    )
    assert "IN (%(id_1_1)s, %(id_1_2)s)" in str(compiled)
