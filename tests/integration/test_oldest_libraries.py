# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module on the oldest libraries it admits, as a RHEL 9 host runs it.

RHEL 9 (and execution environments built on it) has Python 3.9 with requests
2.25.1 on urllib3 1.26, the floors of requirements.txt (and PySocks, for SOCKS proxies). `make integration` builds
that interpreter (mk/oldest-libraries.mk) and names it in
VEEAM_EM_OLDEST_LIBRARIES_PYTHON; the module runs on it, the controller does not.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import connection_to
from emulator import TunnelProxy

SEED_ID = "c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70"


@pytest.fixture(scope="module")
def old_python():
    python = os.environ.get("VEEAM_EM_OLDEST_LIBRARIES_PYTHON")
    if not python:
        pytest.fail("VEEAM_EM_OLDEST_LIBRARIES_PYTHON is not set: run these tests with `make integration`.")
    probe = "import sys, requests, urllib3, xmltodict; print(sys.version_info[:2], requests.__version__, urllib3.__version__, xmltodict.__version__)"
    versions = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True).stdout.split(") ")
    assert versions[0] == "(3, 9" and versions[1].split()[:2] == ["2.25.1", "1.26.20"], versions
    return python


def run_module(run_playbook, python, module_args, *args):
    run = run_playbook("backup_info.yml", {"module_args": module_args}, "-vvv", "-e", f"ansible_python_interpreter={python}", *args)
    assert f"EXEC /bin/sh -c '{python} " in run.stdout, "the module must run on the old interpreter"
    assert "Traceback" not in run.output, run.output
    return run


def test_the_seed_backup_is_the_same_as_with_current_libraries(em, run_playbook, old_python, connection):
    current = run_playbook("backup_info.yml", {"module_args": {**connection, "id": SEED_ID, "expand": ["repository", "backup_server"]}})
    old = run_module(run_playbook, old_python, {**connection, "id": SEED_ID, "expand": ["repository", "backup_server"]})
    assert current.returncode == 0 and old.returncode == 0, old.output
    assert old.result["backups"] == current.result["backups"]
    assert old.result["backups"][0]["id"] == SEED_ID


def test_a_listing_pages_the_same_way(bulk_em, run_playbook, old_python):
    run = run_module(run_playbook, old_python, connection_to(bulk_em))
    assert run.returncode == 0, run.output
    assert [backup["id"] for backup in run.result["backups"]] == list(bulk_em.data.backups)
    assert bulk_em.stats()["connections"] == 1


def test_retries_and_backoff_as_with_urllib3_2(em, run_playbook, old_python, connection):
    em.inject("status", method="GET", status=503, times=2)
    run = run_module(run_playbook, old_python, {**connection, "id": SEED_ID, "retries": 2})
    assert run.returncode == 0, run.output
    assert [(entry["method"], entry["status"]) for entry in em.request_log()] == [
        ("POST", 201), ("GET", 503), ("GET", 503), ("GET", 200), ("DELETE", 204)]


def test_the_deadline_holds_for_a_trickling_answer(em, run_playbook, old_python, connection):
    em.inject("trickle", method="GET", interval=0.2, times=None)
    run = run_module(run_playbook, old_python, {**connection, "id": SEED_ID, "timeout": 2, "retries": 0})
    assert run.result["failed"]
    assert "did not answer within the timeout of 2 seconds" in run.result["msg"]


def test_a_redirect_is_refused(em, run_playbook, old_python, connection):
    em.inject("redirect", method="GET", location="http://127.0.0.1:9/api/backups")
    run = run_module(run_playbook, old_python, {**connection, "id": SEED_ID})
    assert run.result["failed"] and "with a redirect (HTTP 302) to http://127.0.0.1:9" in run.result["msg"]


@pytest.mark.parametrize("scheme", ["socks5h", "http"])
def test_em_through_a_proxy(em, run_playbook, old_python, connection, scheme):
    with TunnelProxy(allowed=(em.port,)) as proxy:
        env = {"HTTPS_PROXY": f"{scheme}://127.0.0.1:{proxy.port}", "NO_PROXY": "", "no_proxy": ""}
        run = run_playbook("backup_info.yml", {"module_args": {**connection, "id": SEED_ID}}, "-vvv",
                           "-e", f"ansible_python_interpreter={old_python}", env=env)
    assert "Traceback" not in run.output and not run.result.get("failed"), run.output
    assert [backup["id"] for backup in run.result["backups"]] == [SEED_ID]
    assert proxy.targets == [f"127.0.0.1:{em.port}"]


def test_the_deadline_holds_through_a_socks_proxy(em, run_playbook, old_python, connection):
    em.inject("trickle", method="GET", interval=0.2, times=None)
    with TunnelProxy(allowed=(em.port,)) as proxy:
        env = {"HTTPS_PROXY": f"socks5h://127.0.0.1:{proxy.port}", "NO_PROXY": "", "no_proxy": ""}
        run = run_playbook("backup_info.yml", {"module_args": {**connection, "id": SEED_ID, "timeout": 2, "retries": 0}},
                           "-e", f"ansible_python_interpreter={old_python}", env=env)
    assert run.result["failed"]
    assert f"did not answer within the timeout of 2 seconds (GET https://127.0.0.1:{em.port}/api/backups/{SEED_ID})" \
        f". The request went through the proxy socks5h://127.0.0.1:{proxy.port}." in run.result["msg"]
