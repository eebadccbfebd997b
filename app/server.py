"""`qms-bot serve`'s process model: gunicorn, with WEB_CONCURRENCY worker processes (default: one per
CPU) of `threads` threads each. Each worker builds its own runtime after the fork (its own database
pool, Slack clients and outbox pump): nothing that holds a socket crosses a fork.

SIGTERM (or SIGINT) to the master: it stops accepting connections, lets each worker answer the
requests in flight, and within GRACEFUL_SECONDS the workers exit; a worker's outbox round stops after
the message in flight and hands the rest back (no message is left claimed for a lease).
"""

from __future__ import annotations

import gc
import logging
import os
import socket

from gunicorn.app.base import BaseApplication

log = logging.getLogger(__name__)

GRACEFUL_SECONDS = 9  # SIGTERM to exit: within 10 s
REQUEST_TIMEOUT = 30  # a worker silent this long is restarted by the master


def default_workers(env=None) -> int:
    env = os.environ if env is None else env
    raw = (env.get("WEB_CONCURRENCY") or "").strip()
    if raw:
        if not raw.isdecimal() or not 1 <= int(raw) <= 256:
            raise ValueError(f"WEB_CONCURRENCY is malformed: expected a number from 1 to 256, got {raw!r}")
        return int(raw)
    return max(os.cpu_count() or 1, 1)


def port_is_free(host: str, port: int) -> OSError | None:
    """None when `host:port` can be listened on, else why not (said once, before any worker starts)."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        return error
    return None


class QmsServer(BaseApplication):
    def __init__(self, build_web, *, host: str, port: int, workers: int, threads: int, log_level: str):
        self.build_web = build_web  # called in each worker, after the fork
        self.options = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "graceful_timeout": GRACEFUL_SECONDS,
            "timeout": REQUEST_TIMEOUT,
            "keepalive": 5,
            "preload_app": False,
            "loglevel": log_level.lower(),
            "accesslog": None,
            "proc_name": "qms-bot",
            "worker_exit": _worker_exit,
            "child_exit": _child_exit,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        web = self.build_web()
        _RUNNING["services"] = web.config.get("QMS_SERVICES")
        # What the worker built (modules, templates, the app) lives as long as the worker: moved out of
        # the collector's sight, so its full collections no longer walk it on the requests' behalf.
        gc.collect()
        gc.freeze()
        return web


_RUNNING: dict[str, object] = {}


def _child_exit(server, worker) -> None:
    """In the master: a worker that exited no longer reports its live gauges on /metrics."""
    from app import metrics

    metrics.worker_exited(worker.pid)


def _worker_exit(server, worker) -> None:
    """In the worker, after its last request: finish or hand back the outbox round under way."""
    services = _RUNNING.get("services")
    if services is None:
        return
    services.sender.stop()
    if not services.wait_idle(timeout=GRACEFUL_SECONDS / 2):
        log.warning("serve: the outbox round did not end in time; its claims run out within a lease")
    services.db.dispose()
