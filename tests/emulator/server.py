# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTPS server: werkzeug's threaded server with a request handler fit for
benchmarks and connection-level tests.

werkzeug's own handler closes every connection after one response and, on keep-alive
connections, would stall each request ~40 ms (Nagle's algorithm against delayed ACKs:
headers and body go out in separate sends). This handler keeps HTTP/1.1 connections
open, sets TCP_NODELAY, writes the status line, headers and first body chunk in one
send, and always sends Content-Length. It also does the TLS handshake in the
connection's own thread, so a client that connects and says nothing cannot block
``accept()`` for everyone else.
"""
from __future__ import annotations

import io
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import ABORT_CONNECTION, CUT_CONNECTION

SERVER_HEADER = "Microsoft-HTTPAPI/2.0"
HANDSHAKE_TIMEOUT = 10.0


class _LazyHandshakeContext(ssl.SSLContext):
    """Makes accepted sockets defer their handshake (see the module docstring)."""

    def wrap_socket(self, sock: socket.socket, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        kwargs["do_handshake_on_connect"] = False
        return super().wrap_socket(sock, *args, **kwargs)


class ConnectionTracker:
    """Counts accepted connections and keeps the open ones, so that stopping the server
    can end keep-alive connections whose threads wait for a next request."""

    def __init__(self, on_open: Callable[[], None]) -> None:
        self._on_open = on_open
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()

    def opened(self, sock: socket.socket) -> None:
        self._on_open()
        with self._lock:
            self._open.add(sock)

    def closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)

    def close_all(self) -> None:
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                # The plain socket's shutdown: SSLSocket.shutdown would also drop the TLS
                # object under the feet of the thread reading from it.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client


def _reason(code: int, status: str) -> str:
    """EM's reason phrases are .NET ``HttpStatusCode`` names: ``BadRequest``."""
    try:
        return HTTPStatus(code).phrase.replace(" ", "").replace("-", "")
    except ValueError:
        return status.partition(" ")[2] or "Unknown"


class EmulatorRequestHandler(WSGIRequestHandler):
    """HTTP/1.1 keep-alive WSGI handler (see the module docstring)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    tracker: ConnectionTracker  # set on the per-server subclass
    _reset = False

    def setup(self) -> None:
        super().setup()
        self.tracker.opened(self.connection)

    def handle(self) -> None:
        try:
            self.connection.settimeout(HANDSHAKE_TIMEOUT)
            self.connection.do_handshake()
            self.connection.settimeout(None)
        except OSError:  # includes ssl.SSLError: the client rejected the certificate
            self.close_connection = True
            return
        super().handle()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.tracker.closed(self.connection)
            if self._reset:
                self.connection.close()  # SO_LINGER 0: the client sees a reset

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Quiet: tests read the emulator's own request log instead."""

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        body = self._read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [status, headers]
            return self._refuse_write

        result = self.server.app(environ, start_response)
        try:
            if environ.get(ABORT_CONNECTION):
                self._abort()
            elif environ.get(CUT_CONNECTION):
                self._send_half(started[0], started[1], result)
            else:
                self._send(started[0], started[1], result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    @staticmethod
    def _refuse_write(data: bytes) -> None:
        raise NotImplementedError("the emulator's app returns its body instead of write()")

    def _read_body(self, environ: dict[str, Any]) -> bytes:
        """Consume the whole request body now, so the next request on the connection
        starts at the right byte whatever the app read."""
        if environ.get("wsgi.input_terminated"):  # chunked: werkzeug de-chunks it
            return environ["wsgi.input"].read()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: str, headers: list[tuple[str, str]], result: Iterable[bytes]) -> None:
        code = int(status.split(None, 1)[0])
        chunks = iter(result)
        names = {name.lower() for name, _value in headers}
        if "content-length" not in names and code not in (204, 304) and code >= 200:
            data = b"".join(chunks)
            headers = [*headers, ("Content-Length", str(len(data)))]
            chunks = iter([data])
        lines = [f"{self.protocol_version} {code} {_reason(code, status)}",
                 f"Server: {SERVER_HEADER}", f"Date: {self.date_time_string()}",
                 *(f"{name}: {value}" for name, value in headers)]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + next(chunks, b""))
        for chunk in chunks:
            self.wfile.write(chunk)

    def _send_half(self, status: str, headers: list[tuple[str, str]], result: Iterable[bytes]) -> None:
        """Announce the whole body, send half of it, then reset: a connection cut mid-response."""
        data = b"".join(result)
        headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
        self._send(status, [*headers, ("Content-Length", str(len(data)))], [data[: len(data) // 2]])
        self.wfile.flush()
        self._abort()

    def _abort(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self._reset = True


class EmulatorServer:
    """The app served over HTTPS by a background thread; ``port`` is the bound port."""

    def __init__(self, app: Callable, host: str, port: int, cert_chain: Path,
                 on_connection: Callable[[], None]) -> None:
        context = _LazyHandshakeContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_chain)
        self._tracker = ConnectionTracker(on_connection)
        handler = type("BoundRequestHandler", (EmulatorRequestHandler,),
                       {"tracker": self._tracker})
        self._server = make_server(host, port, app, threaded=True, request_handler=handler,
                                   ssl_context=context)
        self.port: int = self._server.port
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"em-emulator-{self.port}", daemon=True)

    def start(self) -> None:
        """Serve in the background; the socket already listens, so clients can connect
        as soon as this returns."""
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, end open connections, and wait for the serving thread."""
        self._server.shutdown()
        self._tracker.close_all()
        self._server.server_close()
        self._thread.join()
