# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``Emulator``: one EM instance for a test, with the controls tests need (counters,
request log, faults, session expiry)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from .app import EmulatorApp
from .certs import CA_CERT, server_certificate
from .data import FIXED_BACKUP_IDS, DataSet, build_dataset
from .faults import FaultRegistry, make_fault
from .recorder import Recorder
from .server import EmulatorServer
from .sessions import SessionStore

DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "Veeam123!"


class Emulator:
    """An EM REST API emulator served over HTTPS from a background thread.

    ``state_dir`` holds the test CA (``ca.pem``) and server certificate, reused when
    present. ``cert_kind`` selects the server certificate: "valid", or "wrong_host" /
    "expired" for TLS failure tests. ``bulk_restore_points`` gives each of the ``bulk``
    generated backups that many daily restore points, most of them recent; every
    restore point is dated back from the moment the emulator is created; ``bulk_vms``
    puts that many VMs into each of those restore points. ``hostile`` adds objects named
    by someone who would abuse the names (data.HOSTILE_SERVERS). ``bulk_jobs`` adds that many
    generated jobs (named and placed as the generated backups), each with ``bulk_job_sessions``
    daily runs (data.bulk_job_result gives the newest one's result). Usable as a context
    manager.
    """

    def __init__(self, state_dir: Path | str, host: str = "127.0.0.1", port: int = 0,
                 username: str = DEFAULT_USERNAME, password: str = DEFAULT_PASSWORD,
                 bulk: int = 0, session_idle_timeout: float = 900.0,
                 cert_kind: str = "valid", bulk_restore_points: int = 0, hostile: bool = False,
                 bulk_vms: int = 0, bulk_jobs: int = 0, bulk_job_sessions: int = 0) -> None:
        self.state_dir = Path(state_dir)
        self.host = host
        self.username = username
        self.password = password
        self._port = port
        self._cert_kind = cert_kind
        self._sessions = SessionStore(session_idle_timeout)
        self._faults = FaultRegistry()
        self._recorder = Recorder()
        self._app = EmulatorApp(build_dataset(bulk, bulk_restore_points, hostile=hostile, bulk_vms=bulk_vms,
                                              bulk_jobs=bulk_jobs, bulk_job_sessions=bulk_job_sessions),
                                self._sessions, self._faults,
                                self._recorder, username, password)
        self._server: EmulatorServer | None = None
        self._bound_port: int | None = None

    def start(self) -> Emulator:
        """Create or reuse the certificates and serve; returns once connections are
        accepted."""
        cert = server_certificate(self.state_dir, self._cert_kind)
        self._server = EmulatorServer(self._app, self.host, self._port, cert,
                                      self._recorder.connection_opened)
        self._server.start()
        self._bound_port = self._server.port
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (idempotent)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port; kept after stop() so tests can check a refused connection."""
        if self._bound_port is None:
            raise RuntimeError("the emulator was never started")
        return self._bound_port

    @property
    def url(self) -> str:
        """Base URL without ``/api``, e.g. ``https://127.0.0.1:40123``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def ca_path(self) -> str:
        """The test CA certificate to verify the emulator with (``verify=em.ca_path``)."""
        return str(self.state_dir / CA_CERT)

    @property
    def data(self) -> DataSet:
        """The data set being served (read-only by convention)."""
        return self._app.data

    def backup_ids(self) -> list[str]:
        """Ids of the fixed data set's backups, in listing order (bulk ones left out)."""
        return [backup_id for backup_id in self.data.backups if backup_id in FIXED_BACKUP_IDS]

    def issued_tokens(self) -> list[str]:
        """Every session token handed out since start, to check that none leaks."""
        return list(self._sessions.issued_tokens)

    def stats(self) -> dict[str, Any]:
        """requests (all /api requests), connections, logons, logoffs, live_sessions,
        requests_by_route ("GET /api/backups/<object_id>": n)."""
        return self._app.stats()

    def request_log(self) -> list[dict[str, Any]]:
        """One dict per /api request: method, path, query, status (None when the
        connection was reset), session (whether a valid token was used)."""
        return self._recorder.log()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is in progress (True), or ``timeout`` seconds (False).

        A request held by a ``delay`` fault outlives the client that gave up on
        it; waiting keeps it out of the next test's counters.
        """
        return self._app.wait_idle(timeout)

    @contextmanager
    def test_scope(self) -> Iterator[Emulator]:
        """One test's use of a shared emulator: fresh counters and no fault before it;
        after it, no request still running and no EM session left open."""
        self.clear_faults()
        self.wait_idle()
        self.reset_stats()
        yield self
        self.clear_faults()
        if not self.wait_idle():
            raise AssertionError("a request to the emulator is still running")
        if self.stats()["live_sessions"]:
            raise AssertionError(f"{self.stats()['live_sessions']} EM session(s) left open")

    def reset_stats(self) -> None:
        """Zero the counters and empty the log; sessions stay."""
        self._recorder.reset()

    def inject(self, kind: str, *, method: str | None = None, path: str | None = None,
               times: int | None = 1, **params: Any) -> None:
        """Make the next ``times`` (None: all) /api requests matching ``method`` and the
        ``path`` regex (searched in the path) suffer a fault; see faults.FAULT_KINDS."""
        self._faults.add(make_fault(kind, method, path, times, params))

    def clear_faults(self) -> None:
        self._faults.clear()

    def expire_all_sessions(self) -> None:
        """Every live token now gets 401, as after EM's idle timeout."""
        self._sessions.expire_all()
