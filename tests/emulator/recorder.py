# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Counters and the request log that tests read to check how a client behaved
(how many requests, connections, logons, logoffs).

The log holds only method, path, query, status, whether a valid session was used and when
the request was answered (``time.monotonic()``): never credentials, Authorization headers or
tokens.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any


class Recorder:
    """Thread-safe counters and request log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests = 0
            self._bytes_sent = 0
            self._connections = 0
            self._logons = 0
            self._logoffs = 0
            self._by_route: Counter[str] = Counter()
            self._log: list[dict[str, Any]] = []

    def connection_opened(self) -> None:
        with self._lock:
            self._connections += 1

    def logon(self) -> None:
        with self._lock:
            self._logons += 1

    def logoff(self) -> None:
        with self._lock:
            self._logoffs += 1

    def request(self, method: str, path: str, query: str, route: str, status: int | None,
                session: bool, body_bytes: int = 0) -> None:
        """Record one ``/api`` request; ``status`` None means no response was sent;
        ``body_bytes`` is the size of the response body (0 when streamed or not sent)."""
        with self._lock:
            self._requests += 1
            self._bytes_sent += body_bytes
            self._by_route[f"{method} {route}"] += 1
            self._log.append({"method": method, "path": path, "query": query,
                              "status": status, "session": session, "time": time.monotonic()})

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": self._requests, "bytes_sent": self._bytes_sent,
                    "connections": self._connections,
                    "logons": self._logons, "logoffs": self._logoffs,
                    "requests_by_route": dict(self._by_route)}

    def log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._log]
