"""Instructions per request of the service's hot paths, counted by valgrind's callgrind (not a test).

On a shared or throttled machine the CPU-time figures of `bench/request_cpu.py` drift by 10-30%
between runs of the same code; an instruction count does not (it depends on the code, the data and
the path taken, not on what else the machine is doing). So this compares two versions of the code
to within a percent or two where timings cannot.

For each path it runs `bench/request_cpu.py` under callgrind twice, with --requests W and W + N (one
round each), and prints (total₂ − total₁) / N: start-up, imports and the warm-up cancel out. Under
callgrind the service runs about 50 times slower; a path takes about two minutes.

    apt-get install -y valgrind
    . .venv/bin/activate && python bench/request_instructions.py [--paths case,post] [--requests 200]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
TOTAL = re.compile(rb"^(?:summary|totals): (\d+)", re.MULTILINE)


def instructions(path: str, requests: int, database_url: str | None) -> int:
    """Instructions of one run of request_cpu.py (one round of `requests` requests on `path`)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable]
        command += [
            str(BENCH / "request_cpu.py"),
            "--paths",
            path,
            "--rounds",
            "1",
            "--requests",
            str(requests),
        ]
        if database_url:
            command += ["--database-url", database_url]
        subprocess.run(command, check=True, capture_output=True)
        totals = TOTAL.findall(out.read_bytes())
        if not totals:
            raise SystemExit(f"no instruction total in callgrind's output for {path}")
        return int(totals[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--paths", default="case,post,timeline")
    parser.add_argument("--requests", type=int, default=200, help="requests counted per path (N)")
    parser.add_argument("--baseline", type=int, default=20, help="requests of the subtracted run (W)")
    parser.add_argument("--database-url", help="as for bench/request_cpu.py")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("needs valgrind: apt-get install -y valgrind")
    paths = [p for p in args.paths.split(",") if p]
    runs = [(path, n) for path in paths for n in (args.baseline, args.baseline + args.requests)]
    with ThreadPoolExecutor(max_workers=2) as pool:  # each run is one process on one core
        counted = pool.map(lambda run: instructions(run[0], run[1], args.database_url), runs)
        totals = dict(zip(runs, counted, strict=True))
    print(f"Instructions per request under callgrind ({args.requests} requests counted per path):")
    for path in paths:
        per_request = (
            totals[path, args.baseline + args.requests] - totals[path, args.baseline]
        ) / args.requests
        print(f"  {path:10s} {per_request / 1e6:6.2f} M")


if __name__ == "__main__":
    main()
