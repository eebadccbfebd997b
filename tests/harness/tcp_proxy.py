"""A TCP proxy in front of PostgreSQL that a test can cut (connections refused and dropped), silence
(connections accepted, nothing ever answered) and restore; or have cut or silenced at an exact point
(`trip`): when the client sends a statement containing some text, which never reaches the server."""

from __future__ import annotations

import select
import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.mode = "open"  # "open" | "cut" | "silent"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        self._trip: tuple[bytes, str] | None = None
        self.tripped = threading.Event()
        self.before_trip: list[bytes] = []  # what clients sent while a trip was set, up to it (for asserting)
        self._unanswered: set[int] = set()  # connections whose last message was swallowed, still open
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    def cut(self) -> None:
        self.mode = "cut"
        self._drop_all()

    def silence(self) -> None:
        self.mode = "silent"

    def restore(self) -> None:
        self.mode = "open"

    def trip(self, text: str, *, then: str = "silence") -> None:
        """The first time the client sends `text` (say, part of a statement), the database goes
        `then` ("silence" or "cut") before that message reaches it."""
        assert then in ("silence", "cut")
        self.tripped.clear()
        self.before_trip = []
        self._trip = (text.encode(), then)

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self._drop_all()

    def _drop_all(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "cut":
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.close()  # a reset: as a database that is down
                continue
            with self._lock:
                self._conns.append(client)
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def unanswered(self) -> int:
        """Connections made before the silence, still open, whose client sent something the silence
        swallowed: each is a caller waiting for an answer that will never come. (A connection attempt
        made during the silence is not counted: the client gives up on it after its connect timeout,
        though its socket may stay open until garbage-collected.)"""
        with self._lock:
            return len(self._unanswered)

    def _take_trip(self, trip) -> bool:
        with self._lock:
            if self._trip is not trip:
                return False  # another connection tripped it first
            self._trip = None
            return True

    def _pipe(self, client: socket.socket) -> None:
        upstream = None
        try:
            if self.mode == "open":
                upstream = socket.create_connection(self.target, timeout=5)
                with self._lock:
                    self._conns.append(upstream)
            while not self._closed:
                sockets = [client] + ([upstream] if upstream else [])
                ready, _, _ = select.select(sockets, [], [], 0.1)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    trip = self._trip
                    if sock is client and trip is not None and trip[0] in data and self._take_trip(trip):
                        getattr(self, trip[1])()
                        self.tripped.set()
                        if trip[1] == "cut":
                            return
                        continue
                    if sock is client and trip is not None:
                        self.before_trip.append(data)
                    if self.mode == "silent" or upstream is None:
                        if sock is client and upstream is not None:
                            with self._lock:
                                self._unanswered.add(id(client))
                        continue  # swallowed: the database never answers
                    (upstream if sock is client else client).sendall(data)
        except OSError:
            return
        finally:
            with self._lock:
                self._unanswered.discard(id(client))
            for sock in (client, upstream):
                if sock is not None:
                    try:
                        sock.close()
                    except OSError:
                        pass
