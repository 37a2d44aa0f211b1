# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A port that accepts connections and never answers: the target of a redirect
that must not be followed, and a dead end for anything else."""
from __future__ import annotations

import socket


class SilentPort:
    """A listening TCP port on loopback; ``accepted()`` counts the connections it got."""

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(8)
        self._server.setblocking(False)
        self._taken: list[socket.socket] = []
        self.port: int = self._server.getsockname()[1]

    def accepted(self) -> int:
        while True:
            try:
                self._taken.append(self._server.accept()[0])
            except BlockingIOError:
                return len(self._taken)

    def __enter__(self) -> SilentPort:
        return self

    def __exit__(self, *_exc_info: object) -> None:
        for connection in self._taken:
            connection.close()
        self._server.close()


def closed_port() -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
