# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Injected faults: what a test wants the next matching ``/api`` requests to suffer.

Each request takes at most one fault: the first one, in injection order, whose method
and path pattern match and which has uses left.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

_REQUIRED = object()

# Parameters of each kind, with their defaults (_REQUIRED: the caller must give it).
FAULT_KINDS: dict[str, dict[str, Any]] = {
    # Answer with an <Error> of this status, without running the handler.
    "status": {"status": 503, "message": "Service Unavailable"},
    # Expire the request's session just before handling it (so it gets 401).
    "expire_session": {},
    # Run the handler, then replace the body (and optionally type and status).
    "body": {"body": _REQUIRED, "content_type": None, "status": None},
    # Run the handler, then keep only the first ``size`` bytes of its body, sent as a whole answer.
    "truncate": {"size": _REQUIRED},
    # Sleep before answering.
    "delay": {"seconds": _REQUIRED},
    # Close the TCP connection with a reset, without any response.
    "reset": {},
    # Send the real response's headers and half its body, then reset the connection.
    "cut": {},
    # Answer 200 with an application/xml body of ``size`` bytes, streamed.
    "huge": {"size": _REQUIRED},
    # Answer with a redirect to ``location``, without running the handler.
    "redirect": {"status": 302, "location": _REQUIRED},
    # Run the handler, then send its body one byte every ``interval`` seconds.
    "trickle": {"interval": 0.25},
    # Serve a query as if it asked for page ``page``: paging that never advances.
    "fixed_page": {"page": 1},
}


@dataclass
class Fault:
    """One injected fault; ``remaining`` None means forever."""

    kind: str
    method: str | None
    path: re.Pattern[str] | None
    remaining: int | None
    params: dict[str, Any]

    def matches(self, method: str, path: str) -> bool:
        return ((self.method is None or self.method == method.upper())
                and (self.path is None or self.path.search(path) is not None))


def make_fault(kind: str, method: str | None, path: str | None, times: int | None,
               params: dict[str, Any]) -> Fault:
    """Validate an ``inject()`` call and fill in the defaults."""
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
    allowed = FAULT_KINDS[kind]
    unknown = set(params) - set(allowed)
    if unknown:
        raise TypeError(f"fault {kind!r} takes no parameter {', '.join(sorted(unknown))}")
    merged = {**allowed, **params}
    missing = [name for name, value in merged.items() if value is _REQUIRED]
    if missing:
        raise TypeError(f"fault {kind!r} needs {', '.join(missing)}")
    if times is not None and times < 1:
        raise ValueError("times must be at least 1, or None for forever")
    return Fault(kind, method.upper() if method else None,
                 re.compile(path) if path else None, times, merged)


class FaultRegistry:
    """Thread-safe list of pending faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """Use up one application of the first matching fault."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None
