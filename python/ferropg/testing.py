"""A throwaway PostgreSQL server for tests and benchmarks.

``Cluster`` runs ``initdb`` and ``pg_ctl`` from the machine's PostgreSQL binaries in a
temporary directory, with TLS, a set of roles for authentication tests and the
``hstore`` extension. It is deleted at exit, and also when the owning process dies
without running its exit handlers (a watchdog child notices the parent is gone).

    from ferropg.testing import shared_cluster
    dsn = shared_cluster().dsn

This module imports nothing from ferropg, so it works before the native extension is
built and can check ferropg against a server without ferropg's help.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from typing import Any

__all__ = ["Cluster", "ClusterError", "find_bindir", "shared_cluster"]

SUPERUSER = "postgres"
DBNAME = "ferropg_test"
# Roles for authentication tests: name -> (password, pg_hba lines for it).
# The first matching pg_hba line wins, so these come before the catch-all trust lines.
AUTH_ROLES: dict[str, tuple[str | None, list[str]]] = {
    "ferropg_md5": (
        "md5-secret",
        ["local all ferropg_md5 md5", "host all ferropg_md5 127.0.0.1/32 md5"],
    ),
    "ferropg_scram": (
        "scram-secret",
        [
            "local all ferropg_scram scram-sha-256",
            "host all ferropg_scram 127.0.0.1/32 scram-sha-256",
        ],
    ),
    "ferropg_password": (
        "cleartext-secret",
        [
            "local all ferropg_password password",
            "host all ferropg_password 127.0.0.1/32 password",
        ],
    ),
    "ferropg_ssl": (
        "ssl-secret",
        [
            "hostssl all ferropg_ssl 127.0.0.1/32 scram-sha-256",
            "hostnossl all ferropg_ssl 127.0.0.1/32 reject",
            "local all ferropg_ssl reject",
        ],
    ),
    "ferropg_cert": (
        None,
        [
            "hostssl all ferropg_cert 127.0.0.1/32 cert clientcert=verify-full",
            "hostnossl all ferropg_cert 127.0.0.1/32 reject",
            "local all ferropg_cert reject",
        ],
    ),
}

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, postgres, pg_ctl) were not found: looked at "
    "`pg_config --bindir`, PATH and /usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: "
    "`apt install postgresql`; Fedora: `dnf install postgresql-server`; macOS: "
    "`brew install postgresql`) or set FERROPG_PG_BINDIR to their directory."
)

# Runs in a child process holding the read end of a pipe whose write end only the
# parent has. EOF means the parent is gone (cleanly or killed): stop the server and
# delete its directory. Kept free of imports from ferropg so it runs anywhere.
_WATCHDOG = r"""
import os, shutil, subprocess, sys
pg_ctl, data, base, uid, gid = sys.argv[1:6]
sys.stdin.buffer.read()
as_user = {} if int(uid) < 0 else {"user": int(uid), "group": int(gid), "extra_groups": []}
if os.path.exists(os.path.join(data, "postmaster.pid")):
    subprocess.run([pg_ctl, "stop", "-D", data, "-m", "immediate", "-w", "-t", "30"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=base, **as_user)
shutil.rmtree(base, ignore_errors=True)
"""


class ClusterError(RuntimeError):
    """The throwaway server could not be set up, started or stopped."""


def find_bindir() -> str:
    """The directory holding initdb/pg_ctl/postgres, or ClusterError naming what to install."""
    candidates = []
    if os.environ.get("FERROPG_PG_BINDIR"):
        candidates.append(os.environ["FERROPG_PG_BINDIR"])
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run(
            [pg_config, "--bindir"], check=False, capture_output=True, text=True
        )
        if out.returncode == 0:
            candidates.append(out.stdout.strip())
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(os.path.dirname(initdb))
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(versioned, key=_version_key, reverse=True)
    for bindir in candidates:
        if all(
            os.access(os.path.join(bindir, b), os.X_OK)
            for b in ("initdb", "pg_ctl", "postgres")
        ):
            return bindir
    raise ClusterError(INSTALL_HINT)


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quote(value: str) -> str:
    """Quote a conninfo value as libpq reads it."""
    if value and not re.search(r"[\s'\\]", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _clean_env() -> dict[str, str]:
    """The environment without PG* variables, so the caller's settings cannot leak in."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


class Cluster:
    """A throwaway PostgreSQL server; see the module docstring.

    Attributes set at construction: ``bindir``, ``base_dir``, ``data_dir``, ``socket_dir``,
    ``host`` ("127.0.0.1"), ``port``, ``dbname``, ``user`` (the superuser), ``passwords``
    (role -> password), ``md5_password``, ``scram_password``, ``cleartext_password``,
    ``ssl_password``, ``ca_cert``, ``server_cert``, ``client_cert``, ``client_key``
    (the client certificate's CN is ``ferropg_cert``).
    """

    def __init__(self, bindir: str | None = None, port: int | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.host = "127.0.0.1"
        self.port = port or _free_port()
        self.dbname = DBNAME
        self.user = SUPERUSER
        self.passwords = {
            name: pw for name, (pw, _) in AUTH_ROLES.items() if pw is not None
        }
        self.md5_password = self.passwords["ferropg_md5"]
        self.scram_password = self.passwords["ferropg_scram"]
        self.cleartext_password = self.passwords["ferropg_password"]
        self.ssl_password = self.passwords["ferropg_ssl"]
        self.base_dir = tempfile.mkdtemp(prefix="ferropg-pg-")
        os.chmod(self.base_dir, 0o755)  # the server user must reach data/ and socket/
        self.data_dir = os.path.join(self.base_dir, "data")
        self.socket_dir = os.path.join(self.base_dir, "socket")
        cert_dir = os.path.join(self.base_dir, "certs")
        self.ca_cert = os.path.join(cert_dir, "ca.crt")
        self.server_cert = os.path.join(cert_dir, "server.crt")
        self.client_cert = os.path.join(cert_dir, "client.crt")
        self.client_key = os.path.join(cert_dir, "client.key")
        self.log_file = os.path.join(self.base_dir, "server.log")
        self._as_user = self._server_user()
        self._initialized = False
        self._running = False
        self._watchdog: subprocess.Popen | None = None
        self._start_watchdog()
        atexit.register(self.destroy)

    # -- connection strings ------------------------------------------------------

    def make_dsn(self, **params: Any) -> str:
        """A key=value DSN for this server; keyword arguments override or add (None drops)."""
        merged: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
        }
        merged.update(params)
        return " ".join(
            f"{k}={_quote(str(v))}" for k, v in merged.items() if v is not None
        )

    @property
    def dsn(self) -> str:
        """Superuser, TCP, the test database (no sslmode: libpq's default `prefer`)."""
        return self.make_dsn()

    @property
    def unix_dsn(self) -> str:
        return self.make_dsn(host=self.socket_dir)

    @property
    def uri(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"

    @property
    def version(self) -> tuple[int, ...]:
        """The server's version as numbers, e.g. (15, 10)."""
        out = self._run([self._bin("postgres"), "--version"], as_server=False)
        match = re.search(r"(\d+)\.(\d+)", out)
        if not match:
            raise ClusterError(
                f"cannot read a version from `postgres --version`: {out!r}"
            )
        return tuple(int(n) for n in match.groups())

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> Cluster:
        """Start the server, creating it on first use; returns self."""
        if self._running:
            return self
        if self._watchdog is None:
            raise ClusterError(
                f"cluster in {self.base_dir} was destroyed; create a new Cluster"
            )
        if not self._initialized:
            self._init_data_dir()
        self._pg_ctl("start", "-w", "-t", "60", "-l", self.log_file)
        self._running = True
        if not self._initialized:
            self._create_roles_and_db()
            self._initialized = True
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server, keeping its data; `start()` brings it back on the same port."""
        if self._running:
            self._pg_ctl("stop", "-w", "-t", "60", "-m", mode)
            self._running = False

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        """Stop the server and delete its directory. Safe to call more than once."""
        if self._watchdog is None:
            return
        try:
            if self._running:
                self.stop(mode="immediate")
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            watchdog, self._watchdog = self._watchdog, None
            watchdog.stdin.close()  # its cleanup now finds nothing left to do
            watchdog.wait(timeout=30)
            atexit.unregister(self.destroy)

    def __enter__(self) -> Cluster:  # noqa: PYI034 (typing.Self needs 3.11)
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.destroy()

    def psql(self, sql: str, dbname: str | None = None, user: str | None = None) -> str:
        """Run SQL through the binaries' psql over the unix socket; returns unaligned, tuples-only output.

        Statements are sent one by one (fed on stdin), so CREATE DATABASE and friends work.
        """
        cmd = [
            self._bin("psql"),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            self.socket_dir,
            "-p",
            str(self.port),
            "-U",
            user or self.user,
            "-d",
            dbname or self.dbname,
        ]
        return self._run(cmd, input=sql, as_server=False)

    # -- internals ---------------------------------------------------------------

    def _bin(self, name: str) -> str:
        return os.path.join(self.bindir, name)

    def _server_user(self) -> dict[str, Any]:
        """subprocess arguments that drop root: PostgreSQL refuses to run as root."""
        if os.geteuid() != 0:
            return {}
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            entry = pwd.getpwnam("nobody")
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _run(
        self, cmd: list[str], input: str | None = None, as_server: bool = True
    ) -> str:
        extra = self._as_user if as_server else {}
        try:
            done = subprocess.run(
                cmd,
                check=False,
                input=input,
                capture_output=True,
                text=True,
                env=_clean_env(),
                cwd=self.base_dir,
                timeout=120,
                **extra,
            )
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(
                f"{' '.join(cmd)} did not finish in {exc.timeout}s"
            ) from None
        if done.returncode != 0:
            raise ClusterError(
                f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}{done.stdout}"
                f"{self._log_tail()}"
            )
        return done.stdout

    def _log_tail(self) -> str:
        try:
            with open(self.log_file, errors="replace") as f:
                return "\nserver log:\n" + "".join(f.readlines()[-20:])
        except OSError:
            return ""

    def _pg_ctl(self, *args: str) -> None:
        self._run([self._bin("pg_ctl"), "-D", self.data_dir, *args])

    def _start_watchdog(self) -> None:
        uid = self._as_user.get("user", -1)
        gid = self._as_user.get("group", -1)
        args = [
            sys.executable,
            "-c",
            _WATCHDOG,
            self._bin("pg_ctl"),
            self.data_dir,
            self.base_dir,
            str(uid),
            str(gid),
        ]
        # A new session keeps a Ctrl-C aimed at the test run from killing it before it cleans up.
        self._watchdog = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _mkdir_for_server(self, path: str, mode: int) -> None:
        os.makedirs(path, mode=mode)
        os.chmod(path, mode)
        if self._as_user:
            os.chown(path, self._as_user["user"], self._as_user["group"])

    def _init_data_dir(self) -> None:
        self._mkdir_for_server(self.data_dir, 0o700)
        self._mkdir_for_server(self.socket_dir, 0o755)
        # The log file is written by the server, through pg_ctl running as the server user.
        open(self.log_file, "a").close()
        if self._as_user:
            os.chown(self.log_file, self._as_user["user"], self._as_user["group"])
        self._run(
            [
                self._bin("initdb"),
                "-D",
                self.data_dir,
                "-U",
                self.user,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        self._make_certificates()
        self._write_config()

    def _write_config(self) -> None:
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
            "max_prepared_transactions": "10",
            "ssl": "on",
            "ssl_cert_file": "'server.crt'",
            "ssl_key_file": "'server.key'",
            "ssl_ca_file": "'ca.crt'",
            "password_encryption": "'scram-sha-256'",
        }
        with open(os.path.join(self.data_dir, "postgresql.conf"), "a") as conf:
            conf.write("\n# ferropg.testing\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        lines = [line for _, hba in AUTH_ROLES.values() for line in hba]
        lines += ["local all all trust", "host all all 127.0.0.1/32 trust"]
        with open(os.path.join(self.data_dir, "pg_hba.conf"), "w") as hba_file:
            hba_file.write(
                "# ferropg.testing: auth-test roles first, then trust for everyone\n"
            )
            hba_file.writelines(line + "\n" for line in lines)

    def _make_certificates(self) -> None:
        """A CA, a server certificate for localhost/127.0.0.1 and a client certificate."""
        cert_dir = os.path.dirname(self.ca_cert)
        os.makedirs(cert_dir, mode=0o700)
        ca_key = os.path.join(cert_dir, "ca.key")
        server_key = os.path.join(cert_dir, "server.key")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        self._openssl(
            "req",
            "-x509",
            *ec,
            "-days",
            "3650",
            "-subj",
            "/CN=ferropg test CA",
            "-keyout",
            ca_key,
            "-out",
            self.ca_cert,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        )
        self._sign(
            ec,
            "localhost",
            server_key,
            self.server_cert,
            ca_key,
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        self._sign(
            ec,
            "ferropg_cert",
            self.client_key,
            self.client_cert,
            ca_key,
            "extendedKeyUsage=clientAuth\n",
        )
        os.chmod(self.client_key, 0o600)
        # The server reads its files from the data directory, owned by it, key mode 0600.
        for src, name in (
            (self.server_cert, "server.crt"),
            (server_key, "server.key"),
            (self.ca_cert, "ca.crt"),
        ):
            dst = os.path.join(self.data_dir, name)
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o600)
            if self._as_user:
                os.chown(dst, self._as_user["user"], self._as_user["group"])

    def _sign(
        self,
        keyopts: list[str],
        cn: str,
        key: str,
        cert: str,
        ca_key: str,
        extensions: str,
    ) -> None:
        csr, ext = cert + ".csr", cert + ".ext"
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n" + extensions)
        self._openssl(
            "req", "-new", *keyopts, "-subj", f"/CN={cn}", "-keyout", key, "-out", csr
        )
        self._openssl(
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            self.ca_cert,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-days",
            "3650",
            "-out",
            cert,
            "-extfile",
            ext,
        )

    def _openssl(self, *args: str) -> None:
        exe = shutil.which("openssl")
        if exe is None:
            raise ClusterError(
                "the `openssl` command is needed to make the test certificates "
                "(Debian/Ubuntu: `apt install openssl`)"
            )
        self._run([exe, *args], as_server=False)

    def _create_roles_and_db(self) -> None:
        statements = []
        for name, (password, _) in AUTH_ROLES.items():
            # md5 authentication only accepts a password stored as md5.
            encryption = "md5" if name == "ferropg_md5" else "scram-sha-256"
            statements.append(f"SET password_encryption = '{encryption}';")
            pw = f" PASSWORD '{password}'" if password else ""
            statements.append(f"CREATE ROLE {name} LOGIN{pw};")
        statements.append(f"CREATE DATABASE {self.dbname};")
        self.psql("\n".join(statements), dbname="postgres")
        roles = ", ".join(AUTH_ROLES)
        self.psql(f"CREATE EXTENSION hstore;\nGRANT ALL ON SCHEMA public TO {roles};")


_shared: Cluster | None = None
_shared_lock = threading.Lock()


def shared_cluster() -> Cluster:
    """One started cluster per process, created on first call and deleted at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            cluster = Cluster()
            try:
                cluster.start()
            except BaseException:
                cluster.destroy()
                raise
            _shared = cluster
        return _shared
