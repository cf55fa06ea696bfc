"""Run every example against FERROPG_DSN, or against a throwaway server started here.

`make demo` calls this. Each example is a small program reading its DSN from
FERROPG_DSN; a failing example fails the demo.
"""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    examples = sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name)
    env = dict(os.environ)
    cluster = None
    if not env.get("FERROPG_DSN"):
        from ferropg.testing import Cluster

        print("FERROPG_DSN is not set: starting a throwaway PostgreSQL server...")
        cluster = Cluster().start()
        env["FERROPG_DSN"] = cluster.dsn
    try:
        for example in examples:
            print(f"\n=== {example.name} ===", flush=True)
            done = subprocess.run([sys.executable, str(example)], env=env)
            if done.returncode != 0:
                print(f"{example.name} failed with exit code {done.returncode}")
                return 1
    finally:
        if cluster is not None:
            cluster.destroy()
    print("\nAll examples ran.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
