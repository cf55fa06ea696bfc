"""ferropg.testing: the throwaway cluster every other test relies on, checked with psql."""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import ferropg.testing
import pytest
from ferropg.testing import Cluster, ClusterError, find_bindir


def run_psql(
    cluster: Cluster, conninfo: str, sql: str, password: str | None = None
) -> subprocess.CompletedProcess:
    """psql with a clean environment, never prompting; PGPASSWORD when a password is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if password is not None:
        env["PGPASSWORD"] = password
    cmd = [
        os.path.join(cluster.bindir, "psql"),
        "-X",
        "-w",
        "-A",
        "-t",
        "-d",
        conninfo,
        "-c",
        sql,
    ]
    return subprocess.run(
        cmd, check=False, capture_output=True, text=True, env=env, timeout=30
    )


def query(
    cluster: Cluster, conninfo: str, sql: str, password: str | None = None
) -> str:
    done = run_psql(cluster, conninfo, sql, password)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


needs_binaries = pytest.mark.skipif(
    bool(os.environ.get("FERROPG_TEST_DSN")),
    reason="starts its own Cluster; FERROPG_TEST_DSN runs skip that",
)


def port_refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_tcp_reaches_the_test_database(cluster: Cluster) -> None:
    out = query(
        cluster,
        cluster.dsn,
        "SELECT inet_server_addr(), current_database(), current_user",
    )
    assert out == f"127.0.0.1|{cluster.dbname}|postgres"
    assert cluster.uri.endswith(f"@127.0.0.1:{cluster.port}/{cluster.dbname}")


def test_unix_socket_reaches_the_same_server(cluster: Cluster) -> None:
    out = query(
        cluster,
        cluster.unix_dsn,
        "SELECT inet_server_addr() IS NULL, current_setting('port')",
    )
    assert out == f"t|{cluster.port}"
    assert os.path.exists(os.path.join(cluster.socket_dir, f".s.PGSQL.{cluster.port}"))


def test_psql_helper_and_settings(cluster: Cluster) -> None:
    names = [
        "fsync",
        "synchronous_commit",
        "full_page_writes",
        "max_connections",
        "max_prepared_transactions",
        "ssl",
    ]
    in_list = ", ".join(f"'{n}'" for n in names)
    out = cluster.psql(
        f"SELECT name, setting FROM pg_settings WHERE name IN ({in_list}) ORDER BY name"
    )
    assert dict(line.split("|") for line in out.split()) == {
        "fsync": "off",
        "full_page_writes": "off",
        "max_connections": "100",
        "max_prepared_transactions": "10",
        "ssl": "on",
        "synchronous_commit": "off",
    }
    assert cluster.version[0] >= 10
    with pytest.raises(ClusterError, match="nosuchtable"):
        cluster.psql("SELECT * FROM nosuchtable")


def test_hstore_is_installed_in_the_dsn_database(cluster: Cluster) -> None:
    assert query(cluster, cluster.dsn, "SELECT ('a=>1, b=>NULL'::hstore) -> 'a'") == "1"


def test_tls_is_on_and_verifiable_for_both_names(cluster: Cluster) -> None:
    sql = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    assert query(cluster, cluster.make_dsn(sslmode="require"), sql) == "t"
    for host in ("localhost", "127.0.0.1"):
        conninfo = cluster.make_dsn(
            host=host, sslmode="verify-full", sslrootcert=cluster.ca_cert
        )
        assert query(cluster, conninfo, sql) == "t"
    assert query(cluster, cluster.make_dsn(sslmode="disable"), sql) == "f"


@pytest.mark.parametrize(
    "role, method",
    [
        ("ferropg_md5", "md5"),
        ("ferropg_scram", "scram-sha-256"),
        ("ferropg_password", "password"),
    ],
)
def test_password_roles(cluster: Cluster, role: str, method: str) -> None:
    rules = cluster.psql(
        f"SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE '{role}' = ANY(user_name)"
    )
    assert rules.split() == [method]
    stored = cluster.psql(
        f"SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = '{role}'"
    ).strip()
    assert stored == ("md5" if method == "md5" else "SCR")
    password = cluster.passwords[role]
    for conninfo in (
        cluster.make_dsn(user=role),
        cluster.make_dsn(user=role, host=cluster.socket_dir),
    ):
        assert query(cluster, conninfo, "SELECT current_user", password) == role
        wrong = run_psql(cluster, conninfo, "SELECT 1", password + "x")
        assert (
            wrong.returncode != 0 and "password authentication failed" in wrong.stderr
        )
        missing = run_psql(cluster, conninfo, "SELECT 1")
        assert missing.returncode != 0 and "no password supplied" in missing.stderr


def test_ssl_role_needs_tls(cluster: Cluster) -> None:
    plain = run_psql(
        cluster,
        cluster.make_dsn(user="ferropg_ssl", sslmode="disable"),
        "SELECT 1",
        cluster.ssl_password,
    )
    assert plain.returncode != 0 and "rejects connection" in plain.stderr
    tls = cluster.make_dsn(user="ferropg_ssl", sslmode="require")
    assert (
        query(cluster, tls, "SELECT current_user", cluster.ssl_password)
        == "ferropg_ssl"
    )
    wrong = run_psql(cluster, tls, "SELECT 1", "not-it")
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr


def test_cert_role_needs_the_client_certificate(cluster: Cluster) -> None:
    base = {
        "user": "ferropg_cert",
        "host": "localhost",
        "sslmode": "verify-full",
        "sslrootcert": cluster.ca_cert,
    }
    with_cert = cluster.make_dsn(
        sslcert=cluster.client_cert, sslkey=cluster.client_key, **base
    )
    assert query(cluster, with_cert, "SELECT current_user") == "ferropg_cert"
    without = run_psql(cluster, cluster.make_dsn(**base), "SELECT 1")
    assert without.returncode != 0 and "certificate" in without.stderr
    plain = run_psql(
        cluster, cluster.make_dsn(user="ferropg_cert", sslmode="disable"), "SELECT 1"
    )
    assert plain.returncode != 0 and "rejects connection" in plain.stderr


def test_other_roles_are_trusted(cluster: Cluster) -> None:
    cluster.psql(
        "DROP ROLE IF EXISTS ferropg_trusted; CREATE ROLE ferropg_trusted LOGIN"
    )
    for host in ("127.0.0.1", cluster.socket_dir):
        conninfo = cluster.make_dsn(user="ferropg_trusted", host=host)
        assert query(cluster, conninfo, "SELECT current_user") == "ferropg_trusted"


def test_make_dsn_quotes_values(cluster: Cluster) -> None:
    dsn = cluster.make_dsn(application_name="it's a \\ test", dbname=None)
    assert "dbname=" not in dsn
    out = query(
        cluster, dsn, "SELECT current_database(), current_setting('application_name')"
    )
    assert out == "postgres|it's a \\ test"


@needs_binaries
def test_own_cluster_stop_restart_destroy() -> None:
    with Cluster() as own:
        port, base_dir = own.port, own.base_dir
        own.psql("CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)")
        own.stop()
        assert port_refuses(port)
        own.restart()
        assert own.port == port and own.psql("SELECT x FROM kept").strip() == "42"
    assert port_refuses(port)
    assert not os.path.exists(base_dir)
    with pytest.raises(ClusterError, match="destroyed"):
        own.start()


CHILD = """
import importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("ferropg_testing_child", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
cluster = module.Cluster().start()
print(json.dumps({"base_dir": cluster.base_dir, "port": cluster.port}), flush=True)
time.sleep(120)
"""


@needs_binaries
def test_watchdog_cleans_up_after_sigkill() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, ferropg.testing.__file__],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(child.stdout.readline())
        assert os.path.isdir(info["base_dir"]) and not port_refuses(info["port"])
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        deadline = time.monotonic() + 30
        while os.path.exists(info["base_dir"]) or not port_refuses(info["port"]):
            assert time.monotonic() < deadline, (
                f"cluster {info} still there 30s after its parent died"
            )
            time.sleep(0.1)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


def test_missing_binaries_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FERROPG_PG_BINDIR", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(glob, "glob", lambda pattern: [])
    with pytest.raises(ClusterError, match="apt install postgresql"):
        find_bindir()


@needs_binaries
def test_bindir_override(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    real = find_bindir()
    monkeypatch.setenv(
        "FERROPG_PG_BINDIR", str(tmp_path)
    )  # empty: skipped, not trusted blindly
    assert find_bindir() == real
    for name in ("initdb", "pg_ctl", "postgres"):
        path = tmp_path / name
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    assert find_bindir() == str(tmp_path)
