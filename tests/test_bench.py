"""`bench/run.py --quick` runs against the test server and every row check passes.

Timing stays out of the test suite: this only proves the benchmark works and that the
answers it times are right (row counts and checksums against a model of the data). It
runs with the drivers this virtualenv has: ferropg always, peers when installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
PEERS = ("asyncpg", "psycopg", "aiopg", "psqlpy")


@pytest.mark.timeout(240)
def test_quick_bench_row_checks_pass(cluster, tmp_path):
    out = tmp_path / "quick.json"
    entrants = ["ferropg", "ferropg-native"]
    entrants += [p for p in PEERS if _installed(p)]
    done = subprocess.run(
        [
            sys.executable,
            os.path.join(BENCH, "run.py"),
            "--quick",
            "--server",
            f"{cluster.host}:{cluster.port}",
            "--user",
            cluster.user,
            "--dbname",
            cluster.dbname,
            "--entrants",
            ",".join(entrants),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=220,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(out.read_text())
    cells = {(c["workload"], c["entrant"]): c for c in results["cells"]}
    workloads = [w["name"] for w in results["workloads"]]
    assert len(workloads) == 10
    for w in workloads:
        for e in entrants:
            cell = cells[w, e]
            if cell["status"] == "unsupported":  # COPY where the driver has none
                assert w == "copy", cell
                continue
            assert cell["status"] == "ok", (w, e, cell)
            for shape in ("sequential", "concurrent"):
                assert cell[shape]["ops_per_s"] > 0
                assert "rows" in cell[shape]["check"], cell[shape]["check"]
    # ferropg runs everything it has an API for, in both faces.
    for e in ("ferropg", "ferropg-native"):
        assert [w for w in workloads if cells[w, e]["status"] != "ok"] == ["copy"]
    assert "SELECT 1+1" in results["pgbench"]


def test_a_wrong_answer_is_caught():
    """The checksum that guards every read tells a value off by one from the model."""
    sys.path.insert(0, BENCH)
    try:
        import workloads
    finally:
        sys.path.remove(BENCH)
    wide = next(w for w in workloads.ours(quick=True) if w.name == "wide_100k")
    rows = wide.model(())
    right = workloads.checksum(rows, wide.kinds)
    tampered = list(rows)
    tampered[7] = (tampered[7][0] + 1, *tampered[7][1:])
    assert workloads.checksum(tampered, wide.kinds) != right
    assert workloads.checksum(list(reversed(rows)), wide.kinds) == right  # order does not matter


def _installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
