# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An EM session that a signal ending the process does not leave open.

Private to veeam_em.rest: not a public API, may change without notice.

Ansible ends the processes of a task with signals: on Ctrl-C, ansible-core 2.16
terminates its worker processes (SIGTERM), and newer cores (2.21) send them SIGINT,
which their own handler answers by ending the worker and its process group at once
(``os._exit``). A lookup runs in the worker, a module below it: either dies so without
logging off, and its EM session stays open until EM expires it (15 minutes idle).
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient

#: The signals by which Ansible (and a user's ``kill``) ends a task's processes.
ENDING_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Deferral:
    """The first signal stops the work (as a KeyboardInterrupt); the others wait for the logoff."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.interrupting = True

    def handle(self, signum: int, _frame: Any) -> None:
        self.received.append(signum)
        if self.interrupting:
            self.interrupting = False
            raise KeyboardInterrupt()


@contextmanager
def logged_off_on_signals(client: EMClient) -> Iterator[EMClient]:
    """``with client``, logged off before SIGINT or SIGTERM ends the process.

    While the session is open, the first such signal raises KeyboardInterrupt where
    the work is (so the client logs off on its way out), and any signal during the
    logoff waits for it, which the client's timeout bounds. Then the handlers that
    were there before are back, and the first signal goes to them: the process ends
    as Ansible meant it to. Handlers can only be set in the main thread; elsewhere,
    and for a signal that is ignored, nothing changes.
    """
    deferral = _Deferral()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in ENDING_SIGNALS:
            if signal.getsignal(signum) not in (signal.SIG_IGN, None):
                previous[signum] = signal.signal(signum, deferral.handle)
    try:
        with client:
            try:
                yield client
            finally:
                deferral.interrupting = False
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if deferral.received:
            signal.raise_signal(deferral.received[0])
