# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the emulator as a process (for integration tests and benchmarks):

    cd tests && python -m emulator --port 0 --state-dir DIR

Prints one JSON line (url, ca_path, username, password, pid) once it accepts
connections, writes the same to DIR/emulator.json, and serves until SIGTERM or SIGINT.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from .certs import CERT_KINDS
from .core import DEFAULT_PASSWORD, DEFAULT_USERNAME, Emulator


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9398, help="0 picks a free port")
    parser.add_argument("--state-dir", type=Path, required=True,
                        help="CA, certificates and emulator.json (created if missing)")
    parser.add_argument("--username", default=DEFAULT_USERNAME)
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    parser.add_argument("--bulk", type=int, default=0, help="extra generated backups")
    parser.add_argument("--bulk-restore-points", type=int, default=0,
                        help="daily restore points of each generated backup, most of them recent")
    parser.add_argument("--bulk-vms", type=int, default=0,
                        help="VMs in each restore point of the generated backups")
    parser.add_argument("--bulk-jobs", type=int, default=0,
                        help="extra generated jobs, named and placed as the generated backups")
    parser.add_argument("--bulk-job-sessions", type=int, default=0,
                        help="daily runs of each generated job")
    parser.add_argument("--session-idle-timeout", type=float, default=900.0,
                        help="seconds without a request before a session expires")
    parser.add_argument("--cert-kind", choices=CERT_KINDS, default="valid")
    parser.add_argument("--hostile", action="store_true",
                        help="add servers, repositories and backups named to abuse templating and host names")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    emulator = Emulator(args.state_dir, host=args.host, port=args.port,
                        username=args.username, password=args.password, bulk=args.bulk,
                        session_idle_timeout=args.session_idle_timeout,
                        cert_kind=args.cert_kind, bulk_restore_points=args.bulk_restore_points,
                        bulk_vms=args.bulk_vms, hostile=args.hostile,
                        bulk_jobs=args.bulk_jobs, bulk_job_sessions=args.bulk_job_sessions)
    with emulator:
        info = json.dumps({"url": emulator.url, "ca_path": emulator.ca_path,
                           "username": args.username, "password": args.password,
                           "pid": os.getpid()})
        (args.state_dir / "emulator.json").write_text(info + "\n", encoding="utf-8")
        print(info, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
