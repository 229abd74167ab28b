"""A TCP proxy for tests: holds big requests unanswered, as a node too busy to answer would, or
cuts every connection, as a server that restarts or fails over would."""

import contextlib
import socket
import threading


class StallProxy:
    """Forwards connections on `url` to `target`, byte for byte, in both directions.

    After `stall_requests_over(limit)`, a connection on which the client has sent more than `limit`
    bytes since the server last answered (one HTTP request: clients wait for each answer) is held:
    the proxy stops reading and forwarding, so the client's request times out. Smaller requests
    still go through, which lets a test stall bulk loads while everything else keeps working.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.limit: int | None = None
        self.stalled = threading.Event()  # set when the first request is held
        self._closing = threading.Event()
        self._cut = threading.Event()  # while set, connections are dropped as they arrive
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def stall_requests_over(self, limit: int) -> None:
        self.limit = limit

    def cut(self) -> None:
        """Drop every open connection and refuse new ones (accepted, then closed at once)."""
        self._cut.set()
        sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        self._cut.clear()

    def close(self) -> None:
        self._closing.set()
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):  # never connected, or already shut
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            if self._cut.is_set():
                client.close()
                continue
            server = socket.create_connection(self.target)
            self._sockets += [client, server]
            unanswered = [0]  # bytes from the client since the server's last answer
            for pump in (self._requests, self._answers):
                threading.Thread(
                    target=pump, args=(client, server, unanswered), daemon=True
                ).start()

    def _requests(
        self, client: socket.socket, server: socket.socket, unanswered: list[int]
    ) -> None:
        while data := _receive(client):
            unanswered[0] += len(data)
            if self.limit is not None and unanswered[0] > self.limit:
                self.stalled.set()
                self._closing.wait()  # hold it: read no more, forward nothing, answer nothing
                return
            if not _send(server, data):
                return
        _shut(server)

    def _answers(self, client: socket.socket, server: socket.socket, unanswered: list[int]) -> None:
        while data := _receive(server):
            unanswered[0] = 0  # before forwarding: the client sends its next request only after
            if not _send(client, data):
                return
        _shut(client)


def _receive(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""  # closed by the other side, or by close()


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
    except OSError:
        return False  # the other side has gone
    return True


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
