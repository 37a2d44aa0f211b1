# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Logon sessions: tokens, SessionIds and the idle timeout.

As in EM's samples, the token sent in ``X-RestSvcSessionId`` (base64 of 16 random
bytes, so it holds ``+ / =``) differs from the ``SessionId`` GUID that names the
session in ``/api/logonSessions/{ID}``.
"""
from __future__ import annotations

import base64
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Session:
    """One live logon session."""

    token: str
    session_id: str
    user_name: str
    last_used: float


class SessionStore:
    """Thread-safe sessions that expire after ``idle_timeout`` seconds without a request
    (EM: 15 minutes). Expired sessions are dropped when next looked at."""

    def __init__(self, idle_timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_timeout = idle_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._by_token: dict[str, Session] = {}
        #: Every token ever handed out, so tests can prove none leaks into output.
        self.issued_tokens: list[str] = []

    def create(self, user_name: str) -> Session:
        session = Session(
            token=base64.b64encode(os.urandom(16)).decode("ascii"),
            session_id=str(uuid.uuid4()),
            user_name=user_name,
            last_used=self._clock(),
        )
        with self._lock:
            self._by_token[session.token] = session
            self.issued_tokens.append(session.token)
        return session

    def touch(self, token: str) -> Session | None:
        """The live session of ``token``, its idle time restarted; None if unknown or
        expired."""
        now = self._clock()
        with self._lock:
            session = self._by_token.get(token)
            if session is None:
                return None
            if now - session.last_used > self.idle_timeout:
                del self._by_token[token]
                return None
            session.last_used = now
            return session

    def expire(self, token: str) -> None:
        """End the session of ``token`` as if it had timed out."""
        with self._lock:
            self._by_token.pop(token, None)

    def expire_all(self) -> None:
        with self._lock:
            self._by_token.clear()

    def remove(self, session_id: str) -> bool:
        """Log off the session named ``session_id``; False if there is none."""
        with self._lock:
            self._drop_expired()
            for token, session in self._by_token.items():
                if session.session_id == session_id:
                    del self._by_token[token]
                    return True
        return False

    def find(self, session_id: str) -> Session | None:
        with self._lock:
            self._drop_expired()
            return next((s for s in self._by_token.values() if s.session_id == session_id),
                        None)

    def live(self) -> list[Session]:
        """Sessions not yet expired, oldest first."""
        with self._lock:
            self._drop_expired()
            return list(self._by_token.values())

    def _drop_expired(self) -> None:
        deadline = self._clock() - self.idle_timeout
        for token in [t for t, s in self._by_token.items() if s.last_used < deadline]:
            del self._by_token[token]
