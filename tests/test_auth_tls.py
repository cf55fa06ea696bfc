"""Authentication methods, where passwords come from, and TLS, against the real server.

The throwaway cluster (ferropg.testing) has a role per method (pg_hba.conf sends
ferropg_password to `password`, ferropg_md5 to md5, ferropg_scram to scram-sha-256,
ferropg_ssl to scram over TLS only, ferropg_cert to client certificates) and trusts
everyone else; its server certificate is for localhost and 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

import ferropg

PASSWORD_ROLES = [
    ("ferropg_password", "password"),
    ("ferropg_md5", "md5"),
    ("ferropg_scram", "SCRAM-SHA-256"),
]


@pytest.fixture(autouse=True)
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No PG* variables, and a HOME without .pgpass or ~/.postgresql: only what a test sets."""
    for name in list(os.environ):
        if name.startswith("PG"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


async def _one(conn: Any, sql: str) -> Any:
    cur = await conn.cursor()
    await cur.execute(sql)
    row = await cur.fetchone()
    cur.close()
    return row[0]


async def _ssl_in_use(conn: Any) -> bool:
    return bool(await _one(conn, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))


# -- password authentication ---------------------------------------------------------------


async def test_trust(cluster: Any) -> None:
    async with ferropg.connect(cluster.make_dsn(user="postgres")) as conn:
        assert await _one(conn, "SELECT current_user") == "postgres"


@pytest.mark.parametrize("role, method", PASSWORD_ROLES)
@pytest.mark.parametrize("via", ["tcp", "unix"])
async def test_right_password(cluster: Any, role: str, method: str, via: str) -> None:
    host = cluster.host if via == "tcp" else cluster.socket_dir
    dsn = cluster.make_dsn(host=host, user=role, password=cluster.passwords[role])
    async with ferropg.connect(dsn) as conn:
        assert await _one(conn, "SELECT current_user") == role


@pytest.mark.parametrize("role, method", PASSWORD_ROLES)
@pytest.mark.parametrize("via", ["tcp", "unix"])
async def test_wrong_password(cluster: Any, role: str, method: str, via: str) -> None:
    host = cluster.host if via == "tcp" else cluster.socket_dir
    wrong = "not-the-" + cluster.passwords[role]
    with pytest.raises(ferropg.OperationalError) as info:
        await ferropg.connect(cluster.make_dsn(host=host, user=role, password=wrong))
    text = str(info.value)
    assert f'password authentication failed for user "{role}"' in text
    assert wrong not in text and cluster.passwords[role] not in text


@pytest.mark.parametrize("role, method", PASSWORD_ROLES)
async def test_no_password(cluster: Any, role: str, method: str) -> None:
    with pytest.raises(ferropg.OperationalError) as info:
        await ferropg.connect(cluster.make_dsn(user=role))
    assert f"the server requested {method} authentication but no password was supplied" in str(info.value)


def _passfile(path: Path, cluster: Any, role: str, password: str, mode: int = 0o600) -> Path:
    # a non-matching line first: the first match wins, so order matters
    path.write_text(
        f"otherhost:{cluster.port}:*:{role}:wrong\n"
        f"{cluster.host}:{cluster.port}:{cluster.dbname}:{role}:{password}\n"
    )
    path.chmod(mode)
    return path


async def test_passfile_parameter(cluster: Any, tmp_path: Path) -> None:
    role = "ferropg_scram"
    passfile = _passfile(tmp_path / "pass", cluster, role, cluster.passwords[role])
    async with ferropg.connect(cluster.make_dsn(user=role, passfile=str(passfile))) as conn:
        assert await _one(conn, "SELECT current_user") == role
        assert cluster.passwords[role] not in conn.dsn


async def test_pgpass_in_home(cluster: Any, no_ambient_credentials: Path) -> None:
    role = "ferropg_md5"
    _passfile(no_ambient_credentials / ".pgpass", cluster, role, cluster.passwords[role])
    async with ferropg.connect(cluster.make_dsn(user=role)) as conn:
        assert await _one(conn, "SELECT current_user") == role


async def test_pgpassfile_env(cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    role = "ferropg_password"
    passfile = _passfile(tmp_path / "envpass", cluster, role, cluster.passwords[role])
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    async with ferropg.connect(cluster.make_dsn(user=role)) as conn:
        assert await _one(conn, "SELECT current_user") == role


async def test_passfile_readable_by_others_is_ignored(cluster: Any, tmp_path: Path) -> None:
    role = "ferropg_scram"
    passfile = _passfile(tmp_path / "open", cluster, role, cluster.passwords[role], mode=0o644)
    with pytest.raises(ferropg.OperationalError, match="no password was supplied"):
        await ferropg.connect(cluster.make_dsn(user=role, passfile=str(passfile)))


async def test_pgpassword_env(cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    role = "ferropg_scram"
    monkeypatch.setenv("PGPASSWORD", cluster.passwords[role])
    async with ferropg.connect(cluster.make_dsn(user=role)) as conn:
        assert await _one(conn, "SELECT current_user") == role
        assert cluster.passwords[role] not in conn.dsn


async def test_explicit_password_beats_pgpassword(cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    role = "ferropg_md5"
    monkeypatch.setenv("PGPASSWORD", "wrong-from-env")
    async with ferropg.connect(cluster.make_dsn(user=role), password=cluster.passwords[role]) as conn:
        assert await _one(conn, "SELECT current_user") == role


@pytest.mark.parametrize("role, method", PASSWORD_ROLES)
async def test_password_never_shown(cluster: Any, caplog: Any, role: str, method: str) -> None:
    password = cluster.passwords[role]
    caplog.set_level(logging.DEBUG, logger="ferropg")
    dsn = cluster.make_dsn(user=role, password=password)
    async with ferropg.connect(dsn, echo=True) as conn:
        cur = await conn.cursor()
        await cur.execute("SELECT %s::text", ("visible",))
        with pytest.raises(ferropg.ProgrammingError) as info:
            await cur.execute("SELECT no_such_column")
        texts = [conn.dsn, repr(conn), repr(conn.raw), repr(cur), str(info.value)]
    # a failing connection's error names the server, never the password
    with pytest.raises(ferropg.OperationalError) as failed:
        await ferropg.connect(cluster.make_dsn(user=role, password=password, dbname="no_such_db"))
    texts += [str(failed.value), repr(failed.value)]
    texts += [r.getMessage() for r in caplog.records]
    assert any("visible" in t for t in texts)  # the log was captured at all
    assert not [t for t in texts if password in t]


# -- TLS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sslmode, encrypted",
    [("disable", False), ("allow", False), ("prefer", True), ("require", True), (None, True)],
)
async def test_sslmode_encrypts_or_not(cluster: Any, sslmode: str | None, encrypted: bool) -> None:
    async with ferropg.connect(cluster.make_dsn(sslmode=sslmode)) as conn:
        assert await _ssl_in_use(conn) is encrypted


@pytest.mark.parametrize("sslmode", ["verify-ca", "verify-full"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_verified_tls(cluster: Any, sslmode: str, host: str) -> None:
    dsn = cluster.make_dsn(host=host, sslmode=sslmode, sslrootcert=cluster.ca_cert)
    async with ferropg.connect(dsn) as conn:
        assert await _ssl_in_use(conn)
        assert await _one(conn, "SELECT 'over tls'") == "over tls"


def _other_name_for_loopback() -> str:
    """A host name that reaches 127.0.0.1 but is not in the server certificate."""
    name = socket.gethostname()
    try:
        addrs = {info[4][0] for info in socket.getaddrinfo(name, None, socket.AF_INET)}
    except OSError:
        addrs = set()
    if name.lower() == "localhost" or addrs != {"127.0.0.1"}:
        pytest.skip(f"this machine's host name {name!r} does not resolve to 127.0.0.1 only")
    return name


async def test_verify_full_refuses_a_name_not_in_the_certificate(cluster: Any) -> None:
    name = _other_name_for_loopback()
    dsn = cluster.make_dsn(host=name, sslmode="verify-full", sslrootcert=cluster.ca_cert)
    with pytest.raises(ferropg.OperationalError) as info:
        await ferropg.connect(dsn)
    assert "certificate" in str(info.value) and "not valid for" in str(info.value)
    # verify-ca checks the chain only: the same name is fine there
    async with ferropg.connect(cluster.make_dsn(host=name, sslmode="verify-ca", sslrootcert=cluster.ca_cert)):
        pass


async def test_hostaddr_dials_the_address_and_verifies_the_name(cluster: Any) -> None:
    # db.invalid cannot resolve: reaching the server proves hostaddr was dialled, and the
    # certificate check still uses the host name.
    dsn = cluster.make_dsn(
        host="db.invalid", hostaddr="127.0.0.1", sslmode="verify-full", sslrootcert=cluster.ca_cert
    )
    with pytest.raises(ferropg.OperationalError, match="not valid for"):
        await ferropg.connect(dsn)
    dsn = cluster.make_dsn(host="db.invalid", hostaddr="127.0.0.1", sslmode="require")
    async with ferropg.connect(dsn) as conn:
        cur = await conn.cursor()
        await cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert await cur.fetchone() == (True,)


def _other_ca(tmp_path: Path) -> Path:
    cert = tmp_path / "other-ca.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=some other CA", "-keyout", str(tmp_path / "other-ca.key"),
         "-out", str(cert), "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert


@pytest.mark.parametrize("sslmode", ["verify-ca", "verify-full"])
async def test_verification_against_the_wrong_ca_fails(cluster: Any, tmp_path: Path, sslmode: str) -> None:
    dsn = cluster.make_dsn(sslmode=sslmode, sslrootcert=str(_other_ca(tmp_path)))
    with pytest.raises(ferropg.OperationalError) as info:
        await ferropg.connect(dsn)
    assert "UnknownIssuer" in str(info.value) or "unknown issuer" in str(info.value).lower()
    # ... while require does not authenticate the server at all, as libpq
    async with ferropg.connect(cluster.make_dsn(sslmode="require", sslrootcert=str(tmp_path / "missing"))) as c:
        assert await _ssl_in_use(c)


@pytest.mark.parametrize("sslmode", ["verify-ca", "verify-full"])
async def test_verification_without_a_root_certificate(cluster: Any, sslmode: str) -> None:
    with pytest.raises(ferropg.OperationalError) as info:
        await ferropg.connect(cluster.make_dsn(sslmode=sslmode))
    assert f"sslmode={sslmode} needs a root certificate" in str(info.value)


async def test_root_certificate_from_home(cluster: Any, no_ambient_credentials: Path) -> None:
    pgdir = no_ambient_credentials / ".postgresql"
    pgdir.mkdir()
    (pgdir / "root.crt").write_bytes(Path(cluster.ca_cert).read_bytes())
    async with ferropg.connect(cluster.make_dsn(sslmode="verify-full")) as conn:
        assert await _ssl_in_use(conn)


async def test_unreadable_root_certificate_is_named(cluster: Any, tmp_path: Path) -> None:
    missing = tmp_path / "nope.crt"
    with pytest.raises(ferropg.OperationalError, match=f'could not read certificate file "{missing}"'):
        await ferropg.connect(cluster.make_dsn(sslmode="verify-ca", sslrootcert=str(missing)))
    garbage = tmp_path / "garbage.crt"
    garbage.write_text("this is not PEM\n")
    with pytest.raises(ferropg.OperationalError, match="no certificate found"):
        await ferropg.connect(cluster.make_dsn(sslmode="verify-ca", sslrootcert=str(garbage)))


async def test_ssl_only_role(cluster: Any) -> None:
    role, password = "ferropg_ssl", cluster.passwords["ferropg_ssl"]
    with pytest.raises(ferropg.OperationalError, match="pg_hba.conf rejects connection"):
        await ferropg.connect(cluster.make_dsn(user=role, password=password, sslmode="disable"))
    async with ferropg.connect(cluster.make_dsn(user=role, password=password, sslmode="require")) as conn:
        assert await _one(conn, "SELECT current_user") == role
        assert await _ssl_in_use(conn)


async def test_client_certificate(cluster: Any) -> None:
    dsn = cluster.make_dsn(
        user="ferropg_cert",
        sslmode="verify-full",
        sslrootcert=cluster.ca_cert,
        sslcert=cluster.client_cert,
        sslkey=cluster.client_key,
    )
    async with ferropg.connect(dsn) as conn:
        assert await _one(conn, "SELECT current_user") == "ferropg_cert"
        assert await _one(conn, "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == (
            "/CN=ferropg_cert"
        )


async def test_client_certificate_from_home(cluster: Any, no_ambient_credentials: Path) -> None:
    pgdir = no_ambient_credentials / ".postgresql"
    pgdir.mkdir()
    (pgdir / "postgresql.crt").write_bytes(Path(cluster.client_cert).read_bytes())
    key = pgdir / "postgresql.key"
    key.write_bytes(Path(cluster.client_key).read_bytes())
    key.chmod(0o600)
    async with ferropg.connect(cluster.make_dsn(user="ferropg_cert", sslmode="require")) as conn:
        assert await _one(conn, "SELECT current_user") == "ferropg_cert"


async def test_certificate_role_without_a_certificate(cluster: Any) -> None:
    with pytest.raises(ferropg.OperationalError, match="connection requires a valid client certificate"):
        await ferropg.connect(cluster.make_dsn(user="ferropg_cert", sslmode="require"))
    with pytest.raises(ferropg.OperationalError, match="pg_hba.conf rejects connection"):
        await ferropg.connect(cluster.make_dsn(user="ferropg_cert", sslmode="disable"))


async def test_certificate_without_its_key(cluster: Any) -> None:
    dsn = cluster.make_dsn(user="ferropg_cert", sslmode="require", sslcert=cluster.client_cert)
    with pytest.raises(ferropg.OperationalError, match="certificate present, but not private key file"):
        await ferropg.connect(dsn)


@pytest.mark.parametrize("sslmode", ["require", "verify-full"])
async def test_tls_modes_over_a_unix_socket(cluster: Any, sslmode: str) -> None:
    # libpq never uses TLS on a unix socket, whatever sslmode says
    dsn = cluster.make_dsn(host=cluster.socket_dir, sslmode=sslmode)
    async with ferropg.connect(dsn) as conn:
        assert await _one(conn, "SELECT inet_server_addr()") is None
        assert not await _ssl_in_use(conn)


@pytest.mark.parametrize("sslmode", ["disable", "require"])
async def test_request_larger_than_the_tls_buffer(cluster: Any, sslmode: str) -> None:
    # rustls takes at most 64 KiB of plaintext at once: the rest must follow as it drains
    big = "é" * (3 * 1024 * 1024)
    async with ferropg.connect(cluster.make_dsn(sslmode=sslmode)) as conn:
        cur = await conn.cursor()
        await cur.execute("SELECT length(%s), md5(%s)", (big, big))
        assert await cur.fetchone() == (len(big), hashlib.md5(big.encode()).hexdigest())
        await cur.executemany("SELECT %s", [(big[:100_000],)] * 20)
        await cur.execute("SELECT 'still in step'")
        assert await cur.fetchone() == ("still in step",)
