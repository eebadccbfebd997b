"""The bench suite in one command: prints the table docs/performance.md keeps.

    make bench        # quick sizes, a few minutes
    make bench-full   # the issue's sizes (1 M incidents and gate rows; 10,000 requests per server)
    .venv/bin/python bench/run.py [--quick] [--rounds 3] [--skip sweep digest] [--pg-url URL]

Acks: `qms-bot serve` (as `make serve` starts it, SQLite, a team with a dozen risks and a few
incidents) and the bare Bolt anchors (bench/anchors: App on Flask + gunicorn, 2 workers × 8
threads; AsyncApp on Starlette + uvicorn, 1 worker) are started side by side, their Web API
going to a LocalSlack on loopback. The load generator (bench/load.py) sends correctly signed
`/qms` commands over keep-alive HTTP/1.1 connections from this process: rounds interleave the
servers, and each figure is the median of the rounds.

- CPU per ack: the server's CPU (all its processes, from /proc) over the acks answered during the
  steady phase;
- peak acks/s: 50 connections sending as fast as answers come;
- p99 at 200 req/s: requests sent on a fixed schedule (open loop: a late answer does not delay the
  next request, and latency counts from when a request was due).

Then: the clock's sweep with nothing due over 10 k and 1 M incidents (bench/sweep.py), the weekly
digest at 1 M gate rows on SQLite, and on PostgreSQL with --pg-url (bench/digest.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402

BIN = Path(sys.executable).parent
READS = ("risk list", "incident list", "review list", "metrics")


@dataclass
class Row:
    label: str
    server: "load.Server"
    text: str
    anchor_of: str | None = None  # the anchor this row is compared with
    cpu_ms: list[float] = field(default_factory=list)
    peak: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    errors: int = 0


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a few minutes in all")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], choices=["acks", "sweep", "digest"])
    parser.add_argument("--pg-url", default=os.environ.get("QMS_BENCH_PG_URL"),
                        help="a PostgreSQL server URL for the digest (a fresh database is made there)")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else 10.0
    memory_requests = 2_000 if args.quick else 10_000
    print(f"machine: {machine()}; load average at start {loadavg()}")
    print(f"mode: {'quick' if args.quick else 'full'}, {args.rounds} interleaved rounds, {seconds:g} s per phase\n",
          flush=True)

    if "acks" not in args.skip:
        acks(args.rounds, seconds, memory_requests)
    if "sweep" not in args.skip:
        sizes = ["10000", "100000"] if args.quick else ["10000", "1000000"]
        run_script("sweep", [str(ROOT / "bench/sweep.py"), "--sizes", *sizes])
    if "digest" not in args.skip:
        gates = "100000" if args.quick else "1000000"
        sizes = ["--gates", gates, "--steps", "1"] + (["--reviews", "5000", "--incidents", "200"] if args.quick else [])
        run_script("weekly digest, SQLite", [str(ROOT / "bench/digest.py"), *sizes])
        if args.pg_url:
            run_script("weekly digest, PostgreSQL", [str(ROOT / "bench/digest.py"), "--url", args.pg_url, *sizes])


def run_script(title: str, argv: list[str]) -> None:
    print(f"\n## {title} (load average {loadavg()})", flush=True)
    subprocess.run([sys.executable, *argv], cwd=ROOT, check=False)


def acks(rounds: int, seconds: float, memory_requests: int) -> None:
    with load.Stage() as stage:
        serve = stage.serve()
        flask = stage.anchor("bolt_flask")
        async_ = stage.anchor("bolt_starlette")
        rows = [Row("`qms-bot serve`, `/qms help`", serve, "help", anchor_of="flask")]
        rows += [Row(f"`qms-bot serve`, `/qms {text}`", serve, text, anchor_of="flask") for text in READS]
        rows += [Row("bare Bolt App, Flask + gunicorn (2 workers × 8 threads)", flask, "help"),
                 Row("bare Bolt AsyncApp, Starlette + uvicorn (1 worker)", async_, "help")]
        memory: list[tuple[int, float, float]] = []  # (requests served, total RSS MB, largest process MB)
        loads: list[str] = []
        for round_ in range(rounds):
            loads.append(loadavg())
            print(f"round {round_ + 1}/{rounds} (load average {loads[-1]})", flush=True)
            for row in rows:
                steady = load.steady(row.server, row.text, rate=200, seconds=seconds)
                row.p99.append(steady.p99_ms)
                row.cpu_ms.append(steady.cpu_ms_per_ack)
                peak = load.peak(row.server, row.text, connections=50, seconds=seconds)
                row.peak.append(peak.per_second)
                row.errors += steady.errors + peak.errors
            memory.append((serve.served, *serve.rss_mb()))
        while serve.served < memory_requests:  # top up to the memory figure's request count
            load.steady(serve, "risk list", rate=400, seconds=min(10.0, (memory_requests - serve.served) / 400 + 0.1))
        memory.append((serve.served, *serve.rss_mb()))
        print_table(rows, {"flask": rows[-2], "async": rows[-1]}, loads)
        print(f"\n`qms-bot serve` resident memory (all processes / largest) by requests served: "
              + ", ".join(f"{n:,}: {total:.0f}/{largest:.0f} MB" for n, total, largest in memory))


def print_table(rows: list[Row], anchors: dict[str, Row], loads: list[str]) -> None:
    med = statistics.median
    flask = anchors["flask"]
    print(f"\nload averages at the start of each round: {'; '.join(loads)}\n")
    print("| server | CPU per ack | × same-stack Bolt | peak acks/s (50 conn.) | × same-stack Bolt "
          "| p99 at 200 req/s | errors |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        cpu, peak, p99 = med(row.cpu_ms), med(row.peak), med(row.p99)
        same = "" if row.anchor_of is None else f"{cpu / med(flask.cpu_ms):.2f}×"
        same_peak = "" if row.anchor_of is None else f"{peak / med(flask.peak):.2f}×"
        print(f"| {row.label} | {cpu:.2f} ms | {same} | {peak:,.0f} | {same_peak} | {p99:.0f} ms | {row.errors} |")


if __name__ == "__main__":
    main()
