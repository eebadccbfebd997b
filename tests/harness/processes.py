"""Running `qms-bot` as a real process, the way Procfile and the README run it."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

QMS_BOT = str(Path(sys.executable).parent / "qms-bot")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**settings: str) -> dict[str, str]:
    """A clean environment: only what the process needs, plus the given settings."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")}
    return {**keep, **settings}


def run(*args: str, env: dict[str, str], cwd: Path, stdin: str = "", timeout: float = 60,
        memory_mb: int | None = None, cpu_seconds: int | None = None) -> subprocess.CompletedProcess:
    """Run `qms-bot`; with `memory_mb` / `cpu_seconds`, under those limits (setrlimit), so that a
    process that would eat the machine fails instead, however fast or slow the machine is."""
    return subprocess.run([QMS_BOT, *args], env=env, cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=_limits(memory_mb, cpu_seconds))


def _limits(memory_mb: int | None, cpu_seconds: int | None):
    if memory_mb is None and cpu_seconds is None:
        return None

    def apply() -> None:  # runs in the child, between fork and exec
        if memory_mb is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
        if cpu_seconds is not None:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))

    return apply


def start(*args: str, env: dict[str, str], cwd: Path, stdin: bool = False) -> subprocess.Popen:
    """`qms-bot` running; with `stdin`, a pipe to type into (the console)."""
    return subprocess.Popen([QMS_BOT, *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.PIPE if stdin else None, text=True)


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited early: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)  # polling for start-up, not waiting for time to pass
    raise AssertionError(f"{url} never became healthy")


def wait_for_line(stream, needle: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} never appeared in: {''.join(seen)}")


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started (Linux: /proc/<pid>/task/*/children)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found
