"""ferropg._native.parse_conninfo / ConnParams: libpq's connection-string rules.

No server needed. Where psycopg2 is installed it is the oracle for `dsn` and for
the parse-error messages.
"""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

import pytest
from ferropg import _native, errors

PG_VARS = [k for k in os.environ if k.startswith("PG")]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PG* variable leaks in, and ~/.pgpass is a file the test controls."""
    for k in PG_VARS:
        monkeypatch.delenv(k)
    monkeypatch.setenv("HOME", str(tmp_path))


def parse(dsn: str | None = None, **kwargs: object) -> _native.ConnParams:
    return _native.parse_conninfo(dsn, kwargs)


def test_uri_with_several_hosts() -> None:
    p = parse("postgresql://u:s3cret@h1:5432,[::1]:5433,%2Ftmp%2Fpg/db?sslmode=require&connect_timeout=7")
    assert p.hosts == [("h1", 5432), ("::1", 5433), ("/tmp/pg", 5432)]
    assert (p.user, p.dbname, p.password) == ("u", "db", "s3cret")
    assert p.sslmode == "require"
    assert p.connect_timeout == 7.0
    assert p.target_session_attrs == "any"
    assert p.load_balance_hosts == "disable"


def test_key_value_string() -> None:
    p = parse(r"host=a,b port=1,2 dbname='my db' user=o\'k sslrootcert=/ca.pem")
    assert p.hosts == [("a", 1), ("b", 2)]
    assert (p.dbname, p.user, p.sslrootcert) == ("my db", "o'k", "/ca.pem")
    assert (p.sslcert, p.sslkey, p.password) == (None, None, None)


def test_defaults_come_from_the_os_user() -> None:
    p = parse(None)
    me = pwd.getpwuid(os.geteuid()).pw_name
    assert p.hosts == [("/var/run/postgresql", 5432)]
    assert (p.user, p.dbname) == (me, me)
    assert p.sslmode == "prefer"
    assert p.connect_timeout is None
    assert p.dsn == ""


def test_keywords_override_dsn_and_none_means_unset() -> None:
    p = parse("host=h user=a dbname=d", user="b", port=6543, dbname=None)
    assert (p.user, p.dbname, p.hosts) == ("b", "d", [("h", 6543)])
    assert parse(None, database="x").dbname == "x"
    with pytest.raises(TypeError, match="both 'database' and 'dbname'"):
        parse(None, database="x", dbname="y")


def test_environment_fills_what_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGHOST", "envhost")
    monkeypatch.setenv("PGPORT", "7000")
    monkeypatch.setenv("PGUSER", "envuser")
    monkeypatch.setenv("PGTARGETSESSIONATTRS", "read-write")
    monkeypatch.setenv("PGLOADBALANCEHOSTS", "random")
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "1")
    p = parse("user=dsnuser")
    assert p.hosts == [("envhost", 7000)]
    assert (p.user, p.dbname) == ("dsnuser", "dsnuser")
    assert (p.target_session_attrs, p.load_balance_hosts) == ("read-write", "random")
    assert p.connect_timeout == 2.0  # libpq's minimum
    # The environment never shows in dsn: it is the string the caller gave.
    assert p.dsn == "user=dsnuser"


def test_passfile_per_host(tmp_path: Path) -> None:
    pgpass = tmp_path / ".pgpass"
    pgpass.write_text("# ours\nh1:5432:db:u:one\nlocalhost:*:*:u:local\n*:*:*:*:any\\:thing\n")
    pgpass.chmod(0o600)
    p = parse("host=h1,h2,/var/run/postgresql user=u dbname=db")
    assert p.password is None
    assert p.password_for("h1", 5432) == "one"
    assert p.password_for("h2", 5432) == "any:thing"
    assert p.password_for("/var/run/postgresql", 5432) == "local"
    assert parse("host=h1 user=u dbname=db password=given").password_for("h1", 5432) == "given"


def test_passfile_readable_by_others_is_ignored(tmp_path: Path) -> None:
    pgpass = tmp_path / "pw"
    pgpass.write_text("*:*:*:*:leaked\n")
    pgpass.chmod(0o644)
    assert parse(f"host=h passfile={pgpass}").password_for("h", 5432) is None
    pgpass.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert parse(f"host=h passfile={pgpass}").password_for("h", 5432) == "leaked"


def test_password_never_in_dsn_or_repr() -> None:
    for p in (
        parse("postgresql://u:s3cret@h/db"),
        parse("host=h password=s3cret"),
        parse("host=h", password="s3cret"),
    ):
        assert "s3cret" not in p.dsn
        assert "password=xxx" in p.dsn
        assert "s3cret" not in repr(p)
        assert repr(p).startswith("<ConnParams hosts=")


def test_params_are_read_only() -> None:
    p = parse("host=h")
    with pytest.raises(AttributeError):
        p.user = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("foo", 'missing "=" after "foo" in connection info string'),
        ("foo=bar", 'invalid connection option "foo"'),
        ("host='a", "unterminated quoted string in connection info string"),
        ("postgresql://h/%zz", 'invalid percent-encoded token: "%zz"'),
        ("postgresql://h/db?nope=1", 'invalid URI query parameter: "nope"'),
    ],
)
def test_malformed_dsn_is_programming_error(dsn: str, message: str) -> None:
    with pytest.raises(errors.ProgrammingError) as info:
        parse(dsn)
    assert str(info.value) == f"invalid dsn: {message}\n"


def test_unknown_keyword_argument_is_programming_error() -> None:
    with pytest.raises(errors.ProgrammingError, match='invalid connection option "bogus"'):
        parse(None, bogus=1)


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("port=abc", 'invalid port number: "abc"'),
        ("port=70000", 'invalid port number: "70000"'),
        ("sslmode=x", 'invalid sslmode value: "x"'),
        ("target_session_attrs=master", 'invalid target_session_attrs value: "master"'),
        ("load_balance_hosts=yes", 'invalid load_balance_hosts value: "yes"'),
        ("connect_timeout=soon", 'invalid integer value "soon" for connection option "connect_timeout"'),
        ("host=a,b,c port=1,2", "could not match 2 port numbers to 3 hosts"),
    ],
)
def test_unusable_value_is_operational_error(dsn: str, message: str) -> None:
    with pytest.raises(errors.OperationalError) as info:
        parse(dsn)
    assert str(info.value) == message + "\n"


# -- psycopg2 as the oracle ---------------------------------------------------

ORACLE_CASES = [
    ("postgresql://h/db", {}),
    ("postgresql://u:p%40ss@h:5433/db?sslmode=require", {}),
    ("host=a  port=1", {}),
    ("postgresql://u@h/db?sslmode=require", {"user": "x", "database": "d", "port": 5}),
    ("postgresql://u@h/db", {"user": None}),
    (None, {"host": "a b", "application_name": "it's", "dbname": "", "options": r"-c x=\y"}),
    (None, {"host": "h", "password": "secret", "user": "u"}),
    ("password='a b' host=h", {}),
    ("dbname=d", {"password": "pw", "connect_timeout": 10}),
]


@pytest.mark.parametrize(("dsn", "kwargs"), ORACLE_CASES)
def test_dsn_matches_psycopg2(dsn: str | None, kwargs: dict[str, object]) -> None:
    ext = pytest.importorskip("psycopg2.extensions")
    # psycopg2's connect(): make_dsn, then connection.dsn masks a password.
    given = ext.make_dsn(dsn, **kwargs)
    parsed = ext.parse_dsn(given)
    if "password" in parsed:
        parsed["password"] = "xxx"
        given = ext.make_dsn(None, **parsed)
    assert _native.parse_conninfo(dsn, kwargs).dsn == given


@pytest.mark.parametrize(
    "dsn",
    ["foo", "host=a port", "=x", "host='x", "tty=1", "postgresql://h/db?x", "postgresql://h/db?a=b=c",
     "postgresql://[::1/db", "postgresql://h/%00"],
)
def test_parse_errors_match_psycopg2(dsn: str) -> None:
    ext = pytest.importorskip("psycopg2.extensions")
    with pytest.raises(Exception) as theirs:
        ext.parse_dsn(dsn)
    with pytest.raises(errors.ProgrammingError) as ours:
        parse(dsn)
    assert str(ours.value) == str(theirs.value)
