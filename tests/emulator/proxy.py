# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tunnelling proxy on loopback, as a controller behind a proxy reaches EM through it.

It speaks SOCKS5 (RFC 1928, CONNECT only, with the user/password authentication of
RFC 1929 when it has credentials) and HTTP CONNECT alike, told apart by the first
byte a client sends, and relays bytes without looking at them (TLS to EM goes through
end to end). It refuses every target but the ``allowed`` ports of 127.0.0.1, so a test
never sends anything further.
"""
from __future__ import annotations

import selectors
import socket
import struct
import threading

_SOCKS_VERSION = 5
_NO_AUTHENTICATION, _USER_PASSWORD, _NO_ACCEPTABLE_METHOD = 0, 2, 0xFF
_SUCCEEDED, _NOT_ALLOWED, _COMMAND_NOT_SUPPORTED = 0, 2, 7
#: A connection that stays quiet this long is dropped (keeps a broken test from hanging).
_IDLE_SECONDS = 30


class TunnelProxy:
    """SOCKS5 and HTTP CONNECT proxy on a loopback port; ``targets`` lists the
    ``host:port`` of each tunnel it opened, ``refused`` each one it would not."""

    def __init__(self, allowed: tuple[int, ...], username: str | None = None, password: str | None = None) -> None:
        self.allowed = allowed
        self._credentials = (username.encode(), password.encode()) if username and password else None
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self.targets: list[str] = []
        self.refused: list[str] = []
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def __enter__(self) -> TunnelProxy:
        self._start(self._accept)
        return self

    def __exit__(self, *_exc_info: object) -> None:
        _close(self._server)
        with self._lock:
            for sock in self._sockets:
                _close(sock)
        for thread in self._threads:
            thread.join(5)

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self._server.accept()
            except OSError:
                return  # closed by __exit__
            with self._lock:
                self._sockets.append(client)
            self._start(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(_IDLE_SECONDS)
        upstream = None
        try:
            first = _read(client, 1)
            upstream = self._socks(client) if first == bytes([_SOCKS_VERSION]) else self._http_connect(client, first)
            if upstream is not None:
                self._relay(client, upstream)
        except (OSError, ValueError):
            pass
        finally:
            _close(client)
            if upstream is not None:
                _close(upstream)

    def _open(self, host: str, port: int) -> socket.socket | None:
        name = f"{host}:{port}"
        if host != "127.0.0.1" or port not in self.allowed:
            self.refused.append(name)
            return None
        upstream = socket.create_connection((host, port), timeout=5)
        upstream.settimeout(_IDLE_SECONDS)
        with self._lock:
            self._sockets.append(upstream)
        self.targets.append(name)
        return upstream

    def _socks(self, client: socket.socket) -> socket.socket | None:
        methods = _read(client, _read(client, 1)[0])
        wanted = _USER_PASSWORD if self._credentials else _NO_AUTHENTICATION
        if wanted not in methods:
            client.sendall(bytes([_SOCKS_VERSION, _NO_ACCEPTABLE_METHOD]))
            return None
        client.sendall(bytes([_SOCKS_VERSION, wanted]))
        if self._credentials:
            _read(client, 1)  # the sub-negotiation's version
            username = _read(client, _read(client, 1)[0])
            password = _read(client, _read(client, 1)[0])
            accepted = (username, password) == self._credentials
            client.sendall(bytes([1, 0 if accepted else 1]))
            if not accepted:
                return None
        _version, command, _reserved, address_type = _read(client, 4)
        if address_type == 1:
            host = socket.inet_ntoa(_read(client, 4))
        elif address_type == 3:
            host = _read(client, _read(client, 1)[0]).decode("idna")
        else:
            host = socket.inet_ntop(socket.AF_INET6, _read(client, 16))
        port = struct.unpack("!H", _read(client, 2))[0]
        upstream = self._open(host, port) if command == 1 else None
        status = _SUCCEEDED if upstream else _NOT_ALLOWED if command == 1 else _COMMAND_NOT_SUPPORTED
        client.sendall(bytes([_SOCKS_VERSION, status, 0, 1, 0, 0, 0, 0, 0, 0]))
        return upstream

    def _http_connect(self, client: socket.socket, first: bytes) -> socket.socket | None:
        head = first
        while b"\r\n\r\n" not in head:
            head += _read(client, 1)
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        host, _colon, port = request_line[1].rpartition(":")
        upstream = self._open(host, int(port)) if request_line[0] == "CONNECT" else None
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n" if upstream else b"HTTP/1.1 403 Forbidden\r\n\r\n")
        return upstream

    @staticmethod
    def _relay(client: socket.socket, upstream: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, client)
            while True:
                ready = selector.select(_IDLE_SECONDS)
                if not ready:
                    return
                for key, _events in ready:
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ValueError("the client closed the connection")
        data += chunk
    return data


def _close(sock: socket.socket) -> None:
    """Shut down, then close: a shutdown wakes a thread blocked on the socket, a close alone does not."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
