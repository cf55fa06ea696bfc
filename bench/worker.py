"""One sample in a fresh process: one entrant, one workload, one event loop, both shapes.

A fresh process per sample makes the peak RSS it reports belong to that entrant and
workload alone (ru_maxrss only ever grows). The runner (bench/run.py) starts it with a
JSON spec as its only argument and reads one JSON line from its stdout:

    {"status": "ok" | "unsupported" | "wrong" | "error", "message": ...,
     "loop": ..., "sequential": {...}, "concurrent": {...}}

Shapes: "sequential" is one connection running ops back to back for a fixed time
(its figure is client CPU per op, time.process_time of this process); "concurrent" is
MagicStack's shape, N connections each running ops for a fixed time (wall throughput).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import drivers  # noqa: E402
import workloads  # noqa: E402


class WrongAnswer(Exception):
    """The rows (or the rows written) are not the ones the workload asked for."""


class Unsupported(Exception):
    """The driver has no way to run this workload from an asyncio connection."""


class Job:
    """One connection's way of running a workload's op, and of proving the answer right."""

    def __init__(self, entrant: Any, conn: Any, w: workloads.Workload) -> None:
        self.entrant, self.conn, self.w = entrant, conn, w
        sql = w.sql_for(entrant.paramstyle)
        if w.kind == "fetch":
            self._fetch = entrant.fetch_op(conn, sql)
            self._params = list(w.params)
            self.op = self._fetch_once
        elif w.kind == "batch":
            self._batch = entrant.batch_op(conn, sql)
            self.op = self._batch_once
        else:
            self._copy = entrant.copy_op(conn, w.table, w.columns)
            if self._copy is None:
                raise Unsupported(f"{type(entrant).__name__} has no COPY FROM STDIN on an asyncio connection")
            self.op = self._copy_once

    async def _fetch_once(self, i: int) -> Any:
        rows = await self._fetch(self._params[i % len(self._params)])
        if len(rows) != self.w.rows_per_op:
            raise WrongAnswer(f"op {i} returned {len(rows)} rows, expected {self.w.rows_per_op}")
        return rows

    async def _batch_once(self, i: int) -> None:
        await self._batch(self.w.rows)

    async def _copy_once(self, i: int) -> int:
        count = await self._copy(self.w.rows)
        if count != len(self.w.rows):
            raise WrongAnswer(f"COPY op {i} reported {count} rows, expected {len(self.w.rows)}")
        return count

    async def reset(self) -> None:
        """Empty the written table, so the check after a run counts that run only."""
        if self.w.kind != "fetch":
            await self.entrant.execute(self.conn, f"TRUNCATE {self.w.table}")

    async def verify(self, ops: int, last: Any, last_i: int, expected: dict) -> str:
        """Check the last op's rows against the model (fetch) or the table's contents (writes)."""
        if self.w.kind == "fetch":
            params = self._params[last_i % len(self._params)]
            key = repr(params)
            if key not in expected:
                expected[key] = workloads.checksum(self.w.model(params), self.w.kinds)
            got = workloads.checksum(last, self.w.kinds)
            if got != expected[key]:
                raise WrongAnswer(f"checksum of op {last_i}'s rows is {got:#x}, the model's {expected[key]:#x}")
            return f"{len(last)} rows, checksum {got:#x}"
        rows = await self.entrant.fetch_op(self.conn, workloads.CHECK_7)(())
        total, matching = (int(v) for v in rows[0])
        want = ops * len(self.w.rows)
        if (total, matching) != (want, want):
            raise WrongAnswer(f"table has {total} rows ({matching} equal to the row sent), expected {want}")
        return f"{total} rows written, all equal to the row sent"


async def run_for(job: Job, seconds: float, min_ops: int, start_i: int = 0) -> tuple[int, Any, int]:
    """Ops back to back until `seconds` passed and at least `min_ops` ran."""
    deadline = time.perf_counter() + seconds
    i, last = start_i, None
    while True:
        last = await job.op(i)
        i += 1
        if i - start_i >= min_ops and time.perf_counter() >= deadline:
            return i - start_i, last, i - 1


async def warm(job: Job, seconds: float) -> None:
    """Warm-up: 6 ops (psycopg prepares on the 5th run) and `seconds`, but at most 1 s."""
    start = time.perf_counter()
    ops = 0
    while True:
        await job.op(ops)
        ops += 1
        elapsed = time.perf_counter() - start
        if (ops >= 6 and elapsed >= seconds) or elapsed >= max(seconds, 1.0):
            return


def figures(ops: int, rows_per_op: int, wall: float, cpu: float) -> dict:
    return {
        "ops": ops,
        "wall_s": wall,
        "cpu_s": cpu,
        "ops_per_s": ops / wall,
        "ops_per_cpu_s": ops / cpu if cpu > 0 else None,
        "rows_per_s": ops * rows_per_op / wall,
        "rows_per_cpu_s": ops * rows_per_op / cpu if cpu > 0 else None,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


async def sequential(job: Job, spec: dict, expected: dict) -> dict:
    await warm(job, spec["warmup"])
    await job.reset()
    gc.collect()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    ops, last, last_i = await run_for(job, spec["duration"], min_ops=3)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    result = figures(ops, job.w.rows_per_op or len(job.w.rows), wall, cpu)
    result["check"] = await job.verify(ops, last, last_i, expected)
    return result


async def concurrent(entrant: Any, first: Job, server: drivers.Server, spec: dict, expected: dict) -> dict:
    conns = [await entrant.connect(server) for _ in range(spec["connections"] - 1)]
    try:
        jobs = [first] + [Job(entrant, c, first.w) for c in conns]
        await asyncio.gather(*(warm(j, spec["warmup"]) for j in jobs))
        await first.reset()
        gc.collect()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        done = await asyncio.gather(*(run_for(j, spec["duration"], 1, start_i=k * 7) for k, j in enumerate(jobs)))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        ops = sum(d[0] for d in done)
        result = figures(ops, first.w.rows_per_op or len(first.w.rows), wall, cpu)
        if first.w.kind == "fetch":
            checks = [await j.verify(d[0], d[1], d[2], expected) for j, d in zip(jobs, done)]
        else:
            checks = [await first.verify(ops, None, 0, expected)]
        result["check"] = checks[0] + f" (checked on {len(checks)} connection(s))"
        return result
    finally:
        for c in conns:
            await entrant.close(c)


async def not_encrypted(entrant: Any, conn: Any) -> None:
    """All entrants must talk plain TCP/unix: a TLS session would make a wrong comparison."""
    rows = await entrant.fetch_op(conn, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")(())
    if rows and rows[0][0]:
        raise RuntimeError("the benchmark connection uses TLS; every entrant must disable it")


async def sample(spec: dict) -> dict:
    with open(spec["catalog_file"]) as f:
        catalog = [tuple(r) for r in json.load(f)]
    w = {x.name: x for x in workloads.all_workloads(spec["quick"], catalog)}[spec["workload"]]
    server = drivers.Server(**spec["server"])
    entrant = drivers.load(spec["entrant"])
    out: dict = {"loop": type(asyncio.get_running_loop()).__module__}
    conn = await entrant.connect(server)
    try:
        await not_encrypted(entrant, conn)
        job = Job(entrant, conn, w)
        expected: dict = {}
        out["sequential"] = await sequential(job, spec["sequential"], expected)
        if spec["concurrent"]["connections"] > 0:
            out["concurrent"] = await concurrent(entrant, job, server, spec["concurrent"], expected)
    finally:
        await entrant.close(conn)
    return out


def main() -> None:
    spec = json.loads(sys.argv[1])
    try:
        if spec["loop"] == "uvloop":
            import uvloop

            out = uvloop.run(sample(spec))
        else:
            out = asyncio.run(sample(spec))
        out["status"] = "ok"
    except Unsupported as exc:
        out = {"status": "unsupported", "message": str(exc)}
    except WrongAnswer as exc:
        out = {"status": "wrong", "message": str(exc)}
    except Exception as exc:  # a peer's failure is reported in the table, not a crash of the run
        out = {"status": "error", "message": f"{type(exc).__name__}: {exc}"[:500]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
