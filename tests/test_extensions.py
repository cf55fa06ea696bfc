"""ferropg.extensions: every name and behaviour checked against psycopg2.extensions."""

from __future__ import annotations

import pickle
from typing import Any, Callable

import pytest
from ferropg import errors, extensions

psycopg2_extensions = pytest.importorskip("psycopg2.extensions")

CONSTANT_PREFIXES = ("ISOLATION_LEVEL_", "STATUS_", "TRANSACTION_STATUS_", "POLL_")


def test_constants_equal_psycopg2() -> None:
    theirs = {
        n: getattr(psycopg2_extensions, n)
        for n in dir(psycopg2_extensions)
        if n.startswith(CONSTANT_PREFIXES)
    }
    ours = {
        n: getattr(extensions, n)
        for n in dir(extensions)
        if n.startswith(CONSTANT_PREFIXES)
    }
    assert ours == theirs
    assert len(ours) == 22


def test_reexports() -> None:
    assert extensions.QueryCanceledError is errors.QueryCanceledError
    assert extensions.TransactionRollbackError is errors.TransactionRollbackError
    assert extensions.Diagnostics is errors.Diagnostics
    assert issubclass(errors.QueryCanceled, extensions.QueryCanceledError)
    assert set(extensions.__all__) <= set(dir(extensions))


def outcome(op: Callable[[Any], Any], obj: Any) -> Any:
    """What an operation gives, or the type of what it raises, for side-by-side comparison."""
    try:
        return ("ok", op(obj))
    except Exception as exc:  # noqa: BLE001 (any error is an outcome to compare)
        return ("raises", type(exc))


def same_behaviour(ours: Any, theirs: Any, ops: list[Callable[[Any], Any]]) -> None:
    for i, op in enumerate(ops):
        assert outcome(op, ours) == outcome(op, theirs), f"operation {i}"


NOTIFY_ARGS = [(12, "chan", "pay"), (12, "chan"), (12, "chan", ""), (7, "other", "x")]
NOTIFY_OPS: list[Callable[[Any], Any]] = [
    repr,
    len,
    lambda n: (n.pid, n.channel, n.payload),
    lambda n: n[0],
    lambda n: n[1],
    lambda n: n[-1],
    lambda n: n[-2],
    lambda n: n[2],
    lambda n: n[0:2],
    list,
    tuple,
    hash,
    lambda n: n == (12, "chan"),
    lambda n: n == (12, "chan", "pay"),
    lambda n: n == (12, "chan", ""),
    lambda n: n != (12, "chan"),
    lambda n: (12, "chan") == n,
    lambda n: n < (13, "a"),
    lambda n: n >= (12, "chan"),
    lambda n: n == [12, "chan"],
    lambda n: n == "x",
    lambda n: n != "x",
    lambda n: n != None,  # psycopg2 answers False here too
    lambda n: setattr(n, "pid", 1),
    lambda n: setattr(n, "payload", "x"),
    lambda n: hash(n) == hash((12, "chan")),
]


@pytest.mark.parametrize("args", NOTIFY_ARGS)
def test_notify_behaves_like_psycopg2(args: tuple[Any, ...]) -> None:
    same_behaviour(
        extensions.Notify(*args), psycopg2_extensions.Notify(*args), NOTIFY_OPS
    )


def test_notify_compares_with_notify() -> None:
    for a in NOTIFY_ARGS:
        for b in NOTIFY_ARGS:
            ours_a, ours_b = extensions.Notify(*a), extensions.Notify(*b)
            theirs_a, theirs_b = (
                psycopg2_extensions.Notify(*a),
                psycopg2_extensions.Notify(*b),
            )
            assert (ours_a == ours_b, ours_a < ours_b, ours_a != ours_b) == (
                theirs_a == theirs_b,
                theirs_a < theirs_b,
                theirs_a != theirs_b,
            )
    n = extensions.Notify(pid=3, channel="c", payload="p")
    assert {n: 1}[extensions.Notify(3, "c", "p")] == 1
    assert (
        pickle.loads(pickle.dumps(n)) == n
        and pickle.loads(pickle.dumps(n)).payload == "p"
    )
    with pytest.raises(TypeError):
        extensions.Notify(1)  # type: ignore[call-arg]


COLUMN_ARGS = [
    ("name", 23, None, 4, None, None, None),
    ("amount", 1700, None, -1, 10, 2, None, 16384, 3),
    (),
    ("x",),
]
COLUMN_OPS: list[Callable[[Any], Any]] = [
    repr,
    len,
    tuple,
    list,
    lambda c: c[0],
    lambda c: c[6],
    lambda c: c[-1],
    lambda c: c[7],
    lambda c: c[-8],
    lambda c: c[1:3],
    lambda c: c[::-1],
    lambda c: (
        c.name,
        c.type_code,
        c.display_size,
        c.internal_size,
        c.precision,
        c.scale,
        c.null_ok,
    ),
    lambda c: (c.table_oid, c.table_column),
    lambda c: c == ("name", 23, None, 4, None, None, None),
    lambda c: ("name", 23, None, 4, None, None, None) == c,
    lambda c: c != ("name", 23, None, 4, None, None, None),
    lambda c: c < ("z",),
    lambda c: c == ["name", 23, None, 4, None, None, None],
    lambda c: c == "x",
    lambda c: c != "x",
    hash,
    lambda c: setattr(c, "name", "other"),
    lambda c: "name" in c,
    lambda c: c.index(23) if hasattr(c, "index") else "no index",
]


@pytest.mark.parametrize("args", COLUMN_ARGS)
def test_column_behaves_like_psycopg2(args: tuple[Any, ...]) -> None:
    same_behaviour(
        extensions.Column(*args), psycopg2_extensions.Column(*args), COLUMN_OPS
    )


def test_column_keywords_and_column_equality() -> None:
    c = extensions.Column(name="id", type_code=23, internal_size=4)
    assert repr(c) == repr(
        psycopg2_extensions.Column(name="id", type_code=23, internal_size=4)
    )
    assert c == extensions.Column(
        "id", 23, None, 4, None, None, None, 99, 1
    )  # table fields do not count
    assert extensions.Column("a") < extensions.Column("b")
    name, type_code, *_ = c
    assert (name, type_code) == ("id", 23)
    back = pickle.loads(
        pickle.dumps(extensions.Column("a", 1, None, 4, None, None, None, 5, 6))
    )
    assert (tuple(back), back.table_oid, back.table_column) == (
        ("a", 1, None, 4, None, None, None),
        5,
        6,
    )
    with pytest.raises(TypeError):
        extensions.Column(*range(10))
