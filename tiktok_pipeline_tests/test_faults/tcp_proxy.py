"""A TCP proxy in front of PostgreSQL whose "outage" refuses and cuts every connection."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class OutageProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``; :meth:`outage` takes it down for a while.

    During an outage new connections are refused (nothing listens) and open ones are cut, as
    when the database server restarts or the network between goes away.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = _free_port()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._up()

    def _up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: an outage or the end
            server = socket.create_connection(self.target)
            with self._lock:
                self._connections.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                self._close(end)

    def _close(self, end: socket.socket) -> None:
        with self._lock:
            self._connections.discard(end)
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)
        end.close()

    def _down(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            connections = list(self._connections)
        for end in connections:
            self._close(end)

    def outage(self, seconds: float) -> None:
        """Refuse and cut every connection for ``seconds``, then serve again."""
        self._down()
        time.sleep(seconds)
        self._up()

    def close(self) -> None:
        """Stop for good."""
        self._down()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
