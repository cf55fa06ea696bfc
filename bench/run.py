"""ferropg against the other Python PostgreSQL drivers, in one run on this machine.

    make bench                      # full run (about 10 minutes), bench/results/<date>.json
    make bench BENCH_ARGS=--quick   # or `make bench-quick`: tiny counts, a few entrants

Starts a throwaway server (ferropg.testing.Cluster: fsync off, unix socket and loopback
TCP), sets up each workload's table, and runs every entrant on it, interleaved
(A B C A B C ...) so drift hits all alike. Each sample is a fresh process (worker.py),
so its peak RSS is that entrant's own. Figures are medians over the repeats. pgbench
(C, libpq, -M prepared) runs SELECT 1+1 and the pg_type query as the ceiling.
Exits 1 when a ferropg entrant fails a row check or errors.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import drivers  # noqa: E402
import report  # noqa: E402
import workloads  # noqa: E402

QUICK_ENTRANTS = ("ferropg", "ferropg-native", "asyncpg")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny counts, one repeat, default loop, a few entrants")
    p.add_argument("--entrants", help=f"comma-separated, from {', '.join(drivers.ENTRANTS)}")
    p.add_argument("--workloads", help="comma-separated workload names (default: all)")
    p.add_argument("--loops", default="asyncio,uvloop", help="comma-separated, from asyncio, uvloop (default: both)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--duration", type=float, default=0.5, help="seconds each shape is timed, per sample")
    p.add_argument("--warmup", type=float, default=0.15, help="seconds of warm-up per shape (at least 6 ops)")
    p.add_argument("--connections", type=int, default=10, help="connections in the concurrent shape")
    p.add_argument("--unix", action="store_true", help="connect over the unix socket instead of loopback TCP")
    p.add_argument("--no-pgbench", action="store_true")
    p.add_argument("--server", metavar="HOST:PORT", help="use this running server (trust auth) instead of a throwaway one")
    p.add_argument("--user", default="postgres", help="with --server")
    p.add_argument("--dbname", default="postgres", help="with --server")
    p.add_argument("--json", help="where to write the results (default: bench/results/<date>.json; '-' for none)")
    args = p.parse_args(argv)
    unknown = set(args.loops.split(",")) - {"asyncio", "uvloop"}
    if unknown:
        p.error(f"--loops: unknown loop(s) {', '.join(sorted(unknown))}; choose from asyncio, uvloop")
    if args.quick:
        args.repeats, args.duration, args.warmup, args.connections = 1, 0.05, 0.0, 2
        if args.loops == "asyncio,uvloop":
            args.loops = "asyncio"
    return args


def choose_entrants(args: argparse.Namespace) -> list[str]:
    wanted = args.entrants.split(",") if args.entrants else list(QUICK_ENTRANTS if args.quick else drivers.ENTRANTS)
    unknown = [e for e in wanted if e not in drivers.ENTRANTS]
    if unknown:
        sys.exit(f"unknown entrant(s) {unknown}; choose from {list(drivers.ENTRANTS)}")
    missing = [e for e in wanted if not drivers.installed(e)]
    for e in missing:
        print(f"({e}: {drivers.REQUIRES[e]} is not installed here, skipped)")
    return [e for e in wanted if e not in missing]


class ExistingServer:
    """A running server named by --server: what run.py needs of a Cluster, through psql."""

    def __init__(self, address: str, user: str, dbname: str) -> None:
        from ferropg.testing import find_bindir

        self.host, _, port = address.rpartition(":")
        self.port, self.user, self.dbname = int(port), user, dbname
        self.bindir = find_bindir()
        self.socket_dir = self.host  # --unix is meaningless here: connect as given

    def psql(self, sql: str) -> str:
        cmd = [os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
               "-h", self.host, "-p", str(self.port), "-U", self.user, "-d", self.dbname]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"PGSSLMODE": "disable"}
        return subprocess.run(cmd, input=sql, capture_output=True, text=True, check=True, env=env).stdout

    @property
    def version(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.psql("SHOW server_version;").split()[0].split(".")[:2])

    def destroy(self) -> None:
        pass  # not ours


def start_server(args: argparse.Namespace):
    if args.server:
        return ExistingServer(args.server, args.user, args.dbname)
    from ferropg.testing import Cluster

    cluster = Cluster().start()
    # Beyond ferropg.testing's fsync/synchronous_commit/full_page_writes off: no background
    # vacuum or JIT to add noise to a run.
    cluster.psql("ALTER SYSTEM SET autovacuum = off;\nALTER SYSTEM SET jit = off;\nSELECT pg_reload_conf();")
    return cluster


def catalog_rows(cluster) -> list[tuple]:
    """The pg_type query's answer as libpq's psql prints it: the model drivers must match."""
    sql = workloads.PG_TYPE_SQL.replace("$1", "-1").replace("$2", "true")
    return workloads.parse_catalog(cluster.psql(sql + ";"))


def pgbench(cluster, server: drivers.Server, seconds: float, clients: int) -> dict:
    """pgbench's figures on SELECT 1+1 and the pg_type query: the ceiling libpq in C reaches."""
    exe = os.path.join(cluster.bindir, "pgbench")
    scripts = {
        "SELECT 1+1": "SELECT 1+1;\n",
        "pg_type": "\\set tm -1\n" + workloads.PG_TYPE_SQL.replace("$1", ":tm").replace("$2", "true") + ";\n",
    }
    out = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"PGSSLMODE": "disable"}
    for name, script in scripts.items():
        if not os.access(exe, os.X_OK):
            out[name] = {"error": f"no pgbench in {cluster.bindir}"}
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
            f.write(script)
        try:
            out[name] = {}
            for key, n in (("one", 1), ("many", clients)):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                done = subprocess.run(
                    [exe, "-n", "-M", "prepared", "-f", f.name, "-T", str(max(1, round(seconds))), "-c", str(n),
                     "-j", str(min(n, 2)), "-h", server.host, "-p", str(server.port), "-U", server.user,
                     server.dbname],
                    capture_output=True, text=True, env=env, check=True,
                )
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                tps = float(re.search(r"tps = ([\d.]+)", done.stdout).group(1))
                txns = int(re.search(r"actually processed: (\d+)", done.stdout).group(1))
                out[name][key] = {"clients": n, "tps": tps, "us_per_query": 1e6 / tps * n,
                                  "ops_per_cpu_s": txns / cpu if cpu else None}
        except (subprocess.CalledProcessError, AttributeError) as exc:
            out[name] = {"error": f"pgbench failed: {exc}"}
        finally:
            os.unlink(f.name)
    return out


SAMPLE_TIMEOUT = 90  # seconds; the slowest full-size sample takes about 15


def run_sample(spec: dict) -> dict:
    try:
        done = subprocess.run([sys.executable, os.path.join(HERE, "worker.py"), json.dumps(spec)],
                              capture_output=True, text=True, timeout=SAMPLE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"status": "error", "message": f"hung: no answer in {SAMPLE_TIMEOUT}s (the worker was killed)"}
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"status": "error", "message": f"worker exited {done.returncode}: {done.stderr[-400:]}"}


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor())
    return {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version(), "implementation": platform.python_implementation()}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    entrants = choose_entrants(args)
    loops = args.loops.split(",")
    started = time.time()
    cluster = start_server(args)
    try:
        host = cluster.socket_dir if args.unix else cluster.host
        server = drivers.Server(host, cluster.port, cluster.user, cluster.dbname)
        catalog = catalog_rows(cluster)
        chosen = workloads.all_workloads(args.quick, catalog)
        if args.workloads:
            chosen = [w for w in chosen if w.name in args.workloads.split(",")]
        results = {
            "date": datetime.date.today().isoformat(),
            "command": "bench/run.py " + " ".join(argv),
            "machine": machine(),
            "server": {"version": ".".join(map(str, cluster.version)), "transport": "unix" if args.unix else "tcp"},
            "versions": {e: drivers.version(e) for e in entrants},
            "settings": {"quick": args.quick, "repeats": args.repeats, "duration_s": args.duration,
                         "warmup_s": args.warmup, "connections": args.connections, "loops": loops,
                         "entrants": entrants},
            "workloads": [{"name": w.name, "title": w.title, "sql": w.sql} for w in chosen],
            "pgbench": {} if args.no_pgbench else pgbench(cluster, server, 1 if args.quick else 3, args.connections),
            "cells": [],
        }
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(catalog, f)
        cells = run_all(args, entrants, loops, chosen, cluster, server, f.name)
        os.unlink(f.name)
    finally:
        cluster.destroy()
    report.add_ratios(cells)
    results["cells"] = [{"workload": w, "loop": lp, "entrant": e, **c} for (w, lp, e), c in cells.items()]
    results["elapsed_s"] = round(time.time() - started, 1)
    print(report.text(results))
    print(f"\n{len(cells)} cells in {results['elapsed_s']:.0f}s")
    if args.json != "-":
        path = args.json or os.path.join(HERE, "results", f"{results['date']}{'-quick' if args.quick else ''}.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as out:
            json.dump(results, out, indent=1)
        print(f"results: {path}")
    failed = [k for k, c in cells.items() if k[2].startswith("ferropg") and c["status"] in ("wrong", "error")]
    for k in failed:
        print(f"FAILED {k}: {cells[k]['status']}: {cells[k]['message']}", file=sys.stderr)
    return 1 if failed else 0


def run_all(args, entrants, loops, chosen, cluster, server, catalog_file) -> dict:
    cells = {}
    for w in chosen:
        if w.setup:
            cluster.psql(w.setup)
        try:
            for loop in loops:
                samples: dict = {e: [] for e in entrants}
                for _ in range(args.repeats):
                    for e in entrants:  # interleaved: A B C A B C ...
                        last = samples[e][-1] if samples[e] else {}
                        if last.get("status") == "unsupported" or last.get("message", "").startswith("hung"):
                            continue  # no point repeating
                        spec = {"entrant": e, "workload": w.name, "quick": args.quick, "loop": loop,
                                "catalog_file": catalog_file, "server": dataclasses.asdict(server),
                                "sequential": {"duration": args.duration, "warmup": args.warmup},
                                "concurrent": {"duration": args.duration, "warmup": args.warmup,
                                               "connections": args.connections}}
                        samples[e].append(run_sample(spec))
                for e in entrants:
                    cells[w.name, loop, e] = report.summarize(samples[e])
                print(f"  {w.name} [{loop}] done", file=sys.stderr)
        finally:
            if w.teardown:
                cluster.psql(w.teardown)
    return cells


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
