"""Run every benchmark in bench/ (each prints a markdown table, or one line for the README's table);
the README keeps the latest figures. With INTAKE_BENCH_POSTGRES set to a PostgreSQL server's URL, the
queue benchmark also runs on a throwaway database there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ARGS = {"bench_queue": ["--postgres", os.environ["INTAKE_BENCH_POSTGRES"]] if os.environ.get("INTAKE_BENCH_POSTGRES") else []}

for script in sorted(Path(__file__).parent.glob("bench_*.py")):
    print(f"\n## {script.stem}\n", flush=True)
    subprocess.run([sys.executable, str(script), *ARGS.get(script.stem, [])], check=True)
