"""The servers under test and the load sent to them: signed `/qms` commands over keep-alive
HTTP/1.1 connections (http.client, one thread per connection), from this process."""

from __future__ import annotations

import http.client
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from app import slack_requests
from app.local_slack import LocalSlack

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "bench-signing-secret-0123456789abcdef"
TEAM = "T0TEST"  # tests.harness.bot's workspace, which bench.profile_ack.seed fills
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, name: str, process: subprocess.Popen, port: int, slack: LocalSlack):
        self.name, self.process, self.port, self.slack = name, process, port, slack
        self.served = 0
        self._signed: dict[str, tuple[float, list[tuple[bytes, dict[str, str]]]]] = {}

    def requests(self, text: str) -> list[tuple[bytes, dict[str, str]]]:
        """A pool of signed bodies for `text`, signed afresh each minute (Slack allows 5)."""
        signed_at, pool = self._signed.get(text, (0.0, []))
        if time.time() - signed_at > 60:
            pool = []
            for _ in range(64):
                body = slack_requests.slash_command(text=text, user_id="UALICE", channel_id="CPAYMENTS", team_id=TEAM,
                                                    response_url=self.slack.response_url("bench"))
                pool.append((body.encode(), {"Content-Type": "application/x-www-form-urlencoded",
                                             **slack_requests.sign(SECRET, body)}))
            self._signed[text] = (time.time(), pool)
        return pool

    def pids(self) -> list[int]:
        """The server's process and its descendants (gunicorn's workers)."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    pass
        family, frontier = [self.process.pid], [self.process.pid]
        while frontier:
            frontier = [pid for pid, parent in parents.items() if parent in frontier]
            family += frontier
        return family

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, IndexError, ValueError):
                pass
        return total / CLK_TCK

    def rss_mb(self) -> tuple[float, float]:
        sizes = []
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
            except OSError:
                pass
        return sum(sizes), max(sizes, default=0.0)


class Stage:
    """A LocalSlack and the servers started against it; all stopped on exit."""

    def __enter__(self) -> "Stage":
        from tests.harness.bot import seed_workspace

        self._dir = tempfile.TemporaryDirectory()
        self.workdir = Path(self._dir.name)
        self.slack = LocalSlack(team_id=TEAM).__enter__()
        seed_workspace(self.slack)
        self.servers: list[Server] = []
        self._cleanups: list = []
        return self

    def __exit__(self, *exc) -> None:
        for server in self.servers:
            server.process.terminate()
        for server in self.servers:
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()
        for cleanup in self._cleanups:
            cleanup()
        self.slack.__exit__(*exc)
        self._dir.cleanup()

    def _env(self, port: int) -> dict[str, str]:
        return {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": self.slack.api_url, "PORT": str(port), "PYTHONPATH": str(ROOT)}

    def _start(self, name: str, argv: list[str], env: dict[str, str], port: int) -> Server:
        from tests.harness.processes import wait_until_healthy

        log = open(self.workdir / f"{name}.log", "w")
        process = subprocess.Popen(argv, env=env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        wait_until_healthy(f"http://127.0.0.1:{port}/healthz", process)
        server = Server(name, process, port, self.slack)
        self.servers.append(server)
        return server

    def serve(self, postgres_server: str | None = None) -> Server:
        """`qms-bot serve` as `make serve` starts it (one worker per CPU), on SQLite with a team and some
        rows to list; or on a database of its own made on `postgres_server` (dropped at the end)."""
        from bench.profile_ack import seed
        from bench.reliability import fresh_database
        from storage.db import Database
        from tests.harness.processes import free_port

        port = free_port()
        if postgres_server:
            db, drop = fresh_database(postgres_server)
            self._cleanups.append(drop)
        else:
            db = Database(f"sqlite:///{self.workdir}/serve.db")
            db.migrate()
        seed(db)
        db.engine.dispose()
        self.database_url = db.engine.url.render_as_string(hide_password=False)
        env = {**self._env(port), "DATABASE_URL": self.database_url}
        return self._start("serve", [str(BIN / "qms-bot"), "serve", "--host", "127.0.0.1"], env, port)

    def clock(self) -> Server:
        """`qms-bot clock` on serve's database, running its jobs (sweeps, outbox) meanwhile."""
        from tests.harness.processes import free_port

        port = free_port()  # its /metrics
        env = {**self._env(free_port()), "DATABASE_URL": self.database_url, "CLOCK_METRICS_PORT": str(port),
               "LOG_LEVEL": "WARNING"}
        log = open(self.workdir / "clock.log", "w")
        process = subprocess.Popen([str(BIN / "qms-bot"), "clock"], env=env, cwd=self.workdir, stdout=log,
                                   stderr=subprocess.STDOUT)
        server = Server("clock", process, port, self.slack)
        self.servers.append(server)
        return server

    def anchor(self, name: str) -> Server:
        from tests.harness.processes import free_port

        port = free_port()
        if name == "bolt_flask":
            argv = [str(BIN / "gunicorn"), "-w", "2", "--threads", "8", "-b", f"127.0.0.1:{port}",
                    "--log-level", "warning", "bench.anchors.bolt_flask:web"]
        else:
            argv = [str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                    "--no-access-log", "bench.anchors.bolt_starlette:web"]
        return self._start(name, argv, self._env(port), port)


@dataclass
class Result:
    done: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.done / self.seconds

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies_ms) or [float("nan")]
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]

    @property
    def cpu_ms_per_ack(self) -> float:
        return self.cpu_seconds / max(self.done, 1) * 1000


class _Client:
    def __init__(self, server: Server):
        self.server = server
        self.connection: http.client.HTTPConnection | None = None

    def send(self, body: bytes, headers: dict[str, str]) -> bool:
        for attempt in range(2):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
                self.connection.request("POST", "/slack/events", body, headers)
                response = self.connection.getresponse()
                response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status == 200
            except (OSError, http.client.HTTPException):
                self.close()
        return False

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def peak(server: Server, text: str, *, connections: int, seconds: float) -> Result:
    """As many acks as `connections` clients get, each sending its next request on the last answer."""
    pool = server.requests(text)
    stop = time.perf_counter() + seconds
    counts = [[0, 0] for _ in range(connections)]

    def client(slot: int) -> None:
        me, n = _Client(server), slot
        while time.perf_counter() < stop:
            body, headers = pool[n % len(pool)]
            n += 1
            counts[slot][0 if me.send(body, headers) else 1] += 1
        me.close()

    cpu = server.cpu_seconds()
    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(slot,)) for slot in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    done, errors = sum(c[0] for c in counts), sum(c[1] for c in counts)
    server.served += done + errors
    return Result(done, errors, elapsed, [], server.cpu_seconds() - cpu)


def steady(server: Server, text: str, *, rate: float, seconds: float, connections: int = 50) -> Result:
    """Requests due on a fixed schedule (`rate` a second), whatever the answers' pace; the latency of
    each counts from when it was due."""
    pool = server.requests(text)
    due: queue.Queue[float | None] = queue.Queue()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client() -> None:
        me, n = _Client(server), 0
        while (when := due.get()) is not None:
            body, headers = pool[n % len(pool)]
            n += 1
            ok = me.send(body, headers)
            took = (time.perf_counter() - when) * 1000
            with lock:
                if ok:
                    latencies.append(took)
                else:
                    errors[0] += 1
        me.close()

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    cpu = server.cpu_seconds()
    started = time.perf_counter()
    total = int(rate * seconds)
    for i in range(total):
        when = started + i / rate
        pause = when - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        due.put(when)
    for _ in threads:
        due.put(None)
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    server.served += total
    return Result(len(latencies), errors[0], elapsed, latencies, server.cpu_seconds() - cpu)
