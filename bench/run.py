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

`qms-bot clock` runs on serve's database meanwhile (its jobs every 5 s and every minute): the resident
memory of both is taken after each round and after topping serve up to 10,000 requests.

Then: the outbox draining 1,000 messages over 50 channels against a fake Slack that answers 429 past
about one message a second a channel (bench/reliability.py); the lag from an escalation falling due
to its ping going out, with one real clock (bench/escalation_lag.py); the clock's sweep with nothing
due over 10 k and 1 M incidents (bench/sweep.py); the weekly digest at 1 M gate rows on SQLite, and on
PostgreSQL with --pg-url (bench/digest.py). A summary table against the targets ends the output.

`--database-url postgresql+psycopg://…/postgres` runs serve (and the clock) on a database of their
own made on that PostgreSQL server instead of SQLite.
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
    parser.add_argument("--skip", nargs="*", default=[], choices=["acks", "outbox", "lag", "sweep", "digest"])
    parser.add_argument("--pg-url", default=os.environ.get("QMS_BENCH_PG_URL"),
                        help="a PostgreSQL server URL for the digest (a fresh database is made there)")
    parser.add_argument("--database-url", default=None, metavar="URL",
                        help="serve (and its clock) on a fresh database made on this PostgreSQL server; default SQLite")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else 10.0
    memory_requests = 10_000
    print(f"machine: {machine()}; load average at start {loadavg()}")
    print(f"mode: {'quick' if args.quick else 'full'}, {args.rounds} interleaved rounds, {seconds:g} s per phase; "
          f"serve on {'PostgreSQL' if args.database_url else 'SQLite'}\n", flush=True)

    summary: list[tuple[str, str, str, bool | None]] = []  # (figure, value, target, met)
    if "acks" not in args.skip:
        summary += acks(args.rounds, seconds, memory_requests, args.database_url)
    if "outbox" not in args.skip:
        summary += outbox()
    if "lag" not in args.skip:
        summary += lag(incidents=40 if args.quick else 120, window=120.0 if args.quick else 600.0)
    if "sweep" not in args.skip:
        sizes = ["10000", "100000"] if args.quick else ["10000", "1000000"]
        run_script("sweep", [str(ROOT / "bench/sweep.py"), "--sizes", *sizes])
    if "digest" not in args.skip:
        gates = "100000" if args.quick else "1000000"
        sizes = ["--gates", gates, "--steps", "1"] + (["--reviews", "5000", "--incidents", "200"] if args.quick else [])
        run_script("weekly digest, SQLite", [str(ROOT / "bench/digest.py"), *sizes])
        if args.pg_url:
            run_script("weekly digest, PostgreSQL", [str(ROOT / "bench/digest.py"), "--url", args.pg_url, *sizes])
    if summary:
        print(f"\n## Against the targets (load average now {loadavg()})\n")
        print("| figure | measured | target | met |\n|---|---|---|---|")
        for figure, value, target, met in summary:
            print(f"| {figure} | {value} | {target} | {'' if met is None else ('yes' if met else 'no')} |")


def outbox() -> list[tuple[str, str, str, bool | None]]:
    from bench import reliability

    print(f"\n## outbox drain (load average {loadavg()})", flush=True)
    found = reliability.drain_only(messages=1000, channels=50, rate=1.0)
    return [("outbox: 1,000 messages over 50 channels, after an outage",
             f"{found['seconds']:.0f} s ({found['per_second']:.0f}/s; {found['best_seconds']:.0f} s at best), "
             f"{found['rate_limited']} × 429", "Slack's pace, no burst of 429s",
             found["sent"] == found["messages"] and found["rate_limited"] <= 5)]


def lag(*, incidents: int, window: float) -> list[tuple[str, str, str, bool | None]]:
    from bench import escalation_lag

    print(f"\n## escalation lag, one clock: {incidents} escalations due over {window:.0f} s "
          f"(load average {loadavg()})", flush=True)
    found = escalation_lag.run(incidents, window, None)
    print(f"{found['pinged']} of {found['incidents']} pings; p50 {found['p50']:.1f} s, p99 {found['p99']:.1f} s, "
          f"max {found['max']:.1f} s", flush=True)
    return [(f"escalation due → its ping sent, one clock ({incidents} due over {window:.0f} s)",
             f"p50 {found['p50']:.1f} s, p99 {found['p99']:.1f} s", "p99 < 60 s",
             found["pinged"] == found["incidents"] and found["p99"] < 60)]


def run_script(title: str, argv: list[str]) -> None:
    print(f"\n## {title} (load average {loadavg()})", flush=True)
    subprocess.run([sys.executable, *argv], cwd=ROOT, check=False)


def acks(rounds: int, seconds: float, memory_requests: int,
         database_url: str | None) -> list[tuple[str, str, str, bool | None]]:
    with load.Stage() as stage:
        serve = stage.serve(database_url)
        clock = stage.clock()
        flask = stage.anchor("bolt_flask")
        async_ = stage.anchor("bolt_starlette")
        rows = [Row("`qms-bot serve`, `/qms help`", serve, "help", anchor_of="flask")]
        rows += [Row(f"`qms-bot serve`, `/qms {text}`", serve, text, anchor_of="flask") for text in READS]
        rows += [Row("bare Bolt App, Flask + gunicorn (2 workers × 8 threads)", flask, "help"),
                 Row("bare Bolt AsyncApp, Starlette + uvicorn (1 worker)", async_, "help")]
        memory: list[tuple[int, float, float, float]] = []  # (requests served, total MB, largest process MB, clock MB)
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
            memory.append((serve.served, *serve.rss_mb(), clock.rss_mb()[0]))
        for target in (max(memory_requests, serve.served + 5_000), max(memory_requests, serve.served) + 10_000):
            while serve.served < target:  # at least 10,000 requests, then 5,000 and 5,000 more: growing?
                load.steady(serve, "risk list", rate=400, seconds=min(10.0, (target - serve.served) / 400 + 0.1))
            memory.append((serve.served, *serve.rss_mb(), clock.rss_mb()[0]))
        clock_alive = clock.process.poll() is None
        print_table(rows, {"flask": rows[-2], "async": rows[-1]}, loads)
        print(f"\n`qms-bot serve` resident memory (all processes / largest), and `qms-bot clock`'s, by requests "
              f"served: " + ", ".join(f"{n:,}: {total:.0f}/{largest:.0f} MB, clock {clock_mb:.0f} MB"
                                     for n, total, largest, clock_mb in memory)
              + ("" if clock_alive else " (the clock had exited: see its log)"))
        return summarise(rows, rows[-2], memory)


def summarise(rows: list[Row], flask: Row, memory) -> list[tuple[str, str, str, bool | None]]:
    med = statistics.median
    found = []
    for row in rows:
        if row.anchor_of is None:
            continue
        cpu = med(row.cpu_ms) / med(flask.cpu_ms)
        limit = 1.3 if row.text == "help" else 2.0
        found.append((f"`/qms {row.text}`: CPU per ack × same-stack Bolt", f"{cpu:.2f}×", f"≤ {limit}×", cpu <= limit))
        found.append((f"`/qms {row.text}`: p99 at 200 req/s", f"{med(row.p99):.0f} ms", "< 50 ms", med(row.p99) < 50))
        peak = med(row.peak) / med(flask.peak)
        found.append((f"`/qms {row.text}`: peak × same-stack Bolt", f"{peak:.2f}×", "≥ 0.8×", peak >= 0.8))
    at_10k = next(m for m in memory if m[0] >= 10_000)
    last = memory[-1]
    found.append(("serve: resident memory after 10,000 requests (largest process; all)",
                  f"{at_10k[2]:.0f} MB; {at_10k[1]:.0f} MB, {last[2]:.0f} MB after {last[0]:,}",
                  "< 120 MB, not growing", at_10k[2] < 120 and last[2] <= at_10k[2] * 1.05))
    found.append(("clock: resident memory meanwhile", f"{at_10k[3]:.0f} MB; {last[3]:.0f} MB after {last[0]:,}",
                  "< 100 MB, not growing", 0 < at_10k[3] < 100 and last[3] <= at_10k[3] * 1.05))
    return found


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
