# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A signal that ends the process logs the EM session off first, then reaches Ansible's handler."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from ansible_collections.veeam_em.rest.plugins.module_utils._signals import logged_off_on_signals

SEED = "backups/c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70"


@pytest.fixture
def ansible_handlers():
    """Handlers standing for Ansible's own (a worker's, which ends the process): they record the signals they get."""
    received = []
    previous = {signum: signal.signal(signum, lambda signum, _frame: received.append(signum)) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield received
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def methods(em):
    return [(entry["method"], entry["status"]) for entry in em.request_log()]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_work_logs_off_then_reaches_the_handler_before(em, client_for, ansible_handlers, signum):
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(KeyboardInterrupt):
        with logged_off_on_signals(client_for()) as client:
            client.get(SEED)
            os.kill(os.getpid(), signum)
            pytest.fail("the signal must stop the work")
    assert methods(em) == [("POST", 201), ("GET", 200), ("DELETE", 204)]
    assert ansible_handlers == [signum]
    assert {number: signal.getsignal(number) for number in handlers} == handlers


def test_signals_during_the_logoff_wait_for_it(em, client_for, ansible_handlers):
    em.inject("delay", method="DELETE", seconds=0.6)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with logged_off_on_signals(client_for()):
            threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()  # as 2.16 terminates its workers
            os.kill(os.getpid(), signal.SIGINT)
    assert time.monotonic() - started >= 0.6, "the SIGTERM must not cut the logoff short"
    assert methods(em) == [("POST", 201), ("DELETE", 204)]
    assert ansible_handlers == [signal.SIGINT], "the first signal, once, after the logoff"


def test_without_a_signal_nothing_is_delivered(em, client_for, ansible_handlers):
    with logged_off_on_signals(client_for()) as client:
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        client.get(SEED)
    assert methods(em)[-1] == ("DELETE", 204) and ansible_handlers == []


def test_outside_the_main_thread_the_handlers_stay(em, client_for, ansible_handlers):
    seen = []

    def work():
        with logged_off_on_signals(client_for()):
            seen.append(signal.getsignal(signal.SIGINT))

    before = signal.getsignal(signal.SIGINT)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join(10)
    assert seen == [before] and methods(em)[-1] == ("DELETE", 204)
