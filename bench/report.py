"""Turning a run's results (the JSON run.py writes) into tables: plain text or Markdown.

    python bench/report.py bench/results/<date>.json             # every table, Markdown
    python bench/report.py --summary bench/results/<date>.json   # the README's compact form
"""

from __future__ import annotations

import json
import statistics
import sys
from typing import Optional

SHAPES = ("sequential", "concurrent")
STAT_KEYS = ("ops_per_s", "ops_per_cpu_s", "rows_per_s", "rows_per_cpu_s", "peak_rss_kib")


def summarize(samples: list[dict]) -> dict:
    """Medians over a cell's repeats; a cell with any failed sample reports that failure."""
    bad = [s for s in samples if s["status"] != "ok"]
    if bad:
        return {"status": bad[0]["status"], "message": bad[0].get("message", "")}
    out: dict = {"status": "ok", "repeats": len(samples)}
    for shape in SHAPES:
        runs = [s[shape] for s in samples if shape in s]
        if runs:
            out[shape] = {k: statistics.median(r[k] for r in runs if r[k] is not None) for k in STAT_KEYS}
            out[shape]["check"] = runs[-1]["check"]
    return out


def add_ratios(cells: dict, baseline: str = "asyncpg") -> None:
    """Each ok cell gets its figures divided by the baseline entrant's in the same workload and loop."""
    for (workload, loop, entrant), cell in cells.items():
        base = cells.get((workload, loop, baseline))
        if cell["status"] != "ok" or not base or base["status"] != "ok":
            continue
        for shape, key in (("sequential", "ops_per_cpu_s"), ("sequential", "ops_per_s"), ("concurrent", "ops_per_s")):
            if shape in cell and shape in base:
                cell[shape][f"{key}_vs_{baseline}"] = cell[shape][key] / base[shape][key]


def _num(v: Optional[float]) -> str:
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f}M"
    if v >= 1e4:
        return f"{v / 1e3:.0f}k"
    if v >= 1e3:
        return f"{v / 1e3:.1f}k"
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def _ratio(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.2f}x"


def rows_for(results: dict) -> list[tuple[str, str, list[list[str]]]]:
    """(workload title, loop, table rows) blocks, in the run's order."""
    blocks = []
    for w in results["workloads"]:
        for loop in results["settings"]["loops"]:
            table = []
            for entrant in results["settings"]["entrants"]:
                cell = next(
                    (c for c in results["cells"] if (c["workload"], c["loop"], c["entrant"]) == (w["name"], loop, entrant)),
                    None,
                )
                if cell is None:
                    continue
                if cell["status"] != "ok":
                    table.append([entrant, f"{cell['status']}: {cell['message'][:90]}"])
                    continue
                seq, conc = cell["sequential"], cell.get("concurrent", {})
                table.append(
                    [
                        entrant,
                        _num(seq["ops_per_cpu_s"]),
                        _num(seq["rows_per_cpu_s"]),
                        _ratio(seq.get("ops_per_cpu_s_vs_asyncpg")),
                        _num(seq["ops_per_s"]),
                        _num(conc.get("ops_per_s")),
                        _num(conc.get("rows_per_s")),
                        _ratio(conc.get("ops_per_s_vs_asyncpg")),
                        f"{seq['peak_rss_kib'] / 1024:.0f}",
                    ]
                )
            blocks.append((w["title"], loop, table))
    return blocks


HEADER = ["entrant", "ops/CPU-s", "rows/CPU-s", "CPU vs asyncpg", "ops/s wall", "ops/s (10 conns)",
          "rows/s (10 conns)", "wall vs asyncpg", "peak RSS MiB"]


def ceiling_lines(results: dict) -> list[str]:
    lines = []
    for name, p in results.get("pgbench", {}).items():
        if "error" in p:
            lines.append(f"pgbench {name}: {p['error']}")
            continue
        lines.append(
            f"pgbench -M prepared, {name}: 1 conn {_num(p['one']['tps'])} ops/s wall "
            f"({p['one']['us_per_query']:.1f} us/query), {_num(p['one']['ops_per_cpu_s'])} ops/CPU-s of pgbench; "
            f"{p['many']['clients']} conns {_num(p['many']['tps'])} ops/s"
        )
    return lines


def text(results: dict) -> str:
    out = []
    widths = [16, 11, 12, 10, 12, 11, 12, 10, 9]
    short = ["entrant", "ops/CPU-s", "rows/CPU-s", "vs apg", "ops/s wall", "Nc ops/s", "Nc rows/s", "vs apg", "RSS MiB"]
    for title, loop, table in rows_for(results):
        out.append(f"\n{title} [{loop}]")
        out.append("  " + "".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(short, widths))))
        for row in table:
            if len(row) == 2:
                out.append(f"  {row[0]:<16}{row[1]}")
            else:
                out.append("  " + "".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
    out.append("")
    out.extend(ceiling_lines(results))
    return "\n".join(out)


def markdown(results: dict) -> str:
    out = []
    for title, loop, table in rows_for(results):
        out.append(f"\n**{title}**, {loop}\n")
        out.append("| " + " | ".join(HEADER) + " |")
        out.append("|" + "---|" * len(HEADER))
        for row in table:
            if len(row) == 2:
                row = [row[0], row[1]] + [""] * (len(HEADER) - 2)
            out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.extend(f"- {line}" for line in ceiling_lines(results))
    return "\n".join(out)


def summary(results: dict) -> str:
    """Compact Markdown for the README: one row per workload and loop, one column per entrant."""
    entrants = results["settings"]["entrants"]
    cells = {(c["workload"], c["loop"], c["entrant"]): c for c in results["cells"]}
    out = []
    for shape, key, what in (
        ("sequential", "ops_per_cpu_s", "One connection: client ops per CPU-second (x asyncpg)"),
        ("concurrent", "ops_per_s", f"{results['settings']['connections']} connections: wall ops/s (x asyncpg)"),
    ):
        out += [f"\n{what}\n", "| workload | loop | " + " | ".join(entrants) + " |", "|---|---|" + "---|" * len(entrants)]
        for w in results["workloads"]:
            for loop in results["settings"]["loops"]:
                row = []
                for e in entrants:
                    c = cells.get((w["name"], loop, e))
                    if c is None or c["status"] != "ok":
                        row.append("n/a" if c is None or c["status"] == "unsupported" else c["status"])
                        continue
                    ratio = c[shape].get(f"{key}_vs_asyncpg")
                    row.append(f"{_num(c[shape][key])} ({_ratio(ratio)})")
                out.append(f"| {w['name']} | {loop} | " + " | ".join(row) + " |")
    wide = [(e, cells.get(("wide_100k", results["settings"]["loops"][0], e))) for e in entrants]
    rss = ", ".join(f"{e} {c['sequential']['peak_rss_kib'] / 1024:.0f}" for e, c in wide if c and c["status"] == "ok")
    if rss:
        out.append(f"\nPeak RSS (MiB, whole process) reading the 100,000-row table: {rss}.")
    out.append("")
    out.extend(f"- {line}" for line in ceiling_lines(results))
    return "\n".join(out)


if __name__ == "__main__":
    with open(sys.argv[-1]) as f:
        loaded = json.load(f)
    print(summary(loaded) if "--summary" in sys.argv else markdown(loaded))
