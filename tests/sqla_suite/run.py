"""Run SQLAlchemy's compliance suite against postgresql+ferropg on a throwaway server.

FERROPG_TEST_DSN names an existing server instead. Extra arguments go to pytest.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import ferropg
from ferropg.dialect import url_from_dsn
from ferropg.testing import shared_cluster

HERE = Path(__file__).resolve().parent


async def prepare(dsn: str) -> None:
    """The schemas the suite's cross-schema tests expect to exist."""
    async with ferropg.connect(dsn) as conn, conn.cursor() as cur:
        for schema in ("test_schema", "test_schema_2"):
            await cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")


def main() -> int:
    dsn = os.environ.get("FERROPG_TEST_DSN") or shared_cluster().dsn
    asyncio.run(prepare(dsn))
    url = url_from_dsn(dsn).render_as_string(hide_password=False)
    # `-m pytest` from this directory: setup.cfg is the config and requirements importable
    cmd = [sys.executable, "-m", "pytest", "-c", "setup.cfg", "--dburi", url, *sys.argv[1:]]
    return subprocess.call(cmd, cwd=HERE)


if __name__ == "__main__":
    sys.exit(main())
