# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every EM session the collection opens is closed: after Ctrl-C and after a 401.

Ctrl-C is what a terminal sends: SIGINT to ansible-playbook's whole process group,
while EM holds the request. ansible-core 2.16 then terminates its worker processes and
2.21 ends them through its own SIGINT handler: the module (below the worker) and the
lookup (in the worker) must log off all the same. make integration-oldest runs this
file on 2.16.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from conftest import BIN_DIR, PLAYBOOKS, connection_to

SEED_ID = "c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70"
#: How long EM holds the GET that Ctrl-C interrupts: longer than the test waits for the logoff.
HELD_SECONDS = 8


def methods(em):
    return [(entry["method"], entry["status"]) for entry in em.request_log()]


def wait_for(condition, seconds):
    """Poll ``condition`` for up to ``seconds``; its last value."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def playbook_for(plugin, em, tmp_path):
    """The command line of a playbook that gets the seed backup through ``plugin``."""
    options = {**connection_to(em), "timeout": 30, "retries": 0}
    if plugin == "module":
        name, extra_vars = "backup_info.yml", {"module_args": {**options, "id": SEED_ID}}
    else:
        name, extra_vars = "lookup.yml", {"backup_ids": [SEED_ID], "lookup_options": options}
    vars_file = tmp_path / "extra_vars.json"
    vars_file.write_text(json.dumps({**extra_vars, "result_file": str(tmp_path / "result.json")}))
    return [str(BIN_DIR / "ansible-playbook"), str(PLAYBOOKS / name), "-e", f"@{vars_file}"]


@pytest.mark.parametrize("plugin", ["module", "lookup"])
def test_ctrl_c_while_em_holds_the_request_leaves_no_session(em, ansible_env, tmp_path, plugin):
    em.inject("delay", method="GET", seconds=HELD_SECONDS)
    process = subprocess.Popen(playbook_for(plugin, em, tmp_path), env=ansible_env, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: em.stats()["live_sessions"] == 1, 60), "the plugin never logged on"
        time.sleep(1)  # the GET follows the logon at once: EM now holds it
        interrupted = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        output = process.communicate(timeout=30)[0]
        assert wait_for(lambda: em.stats()["live_sessions"] == 0, 5), f"the session stays open after Ctrl-C:\n{output}"
        assert time.monotonic() - interrupted < HELD_SECONDS - 1, "logged off only when EM answered"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode != 0 and not (tmp_path / "result.json").exists(), output
    assert (em.stats()["logons"], em.stats()["logoffs"]) == (1, 1)
    em.wait_idle(HELD_SECONDS + 5)


@pytest.mark.parametrize("plugin", ["module", "lookup"])
def test_a_401_on_a_session_em_still_holds_closes_it_before_logging_on_again(em, run_playbook, connection, plugin):
    em.inject("status", method="GET", status=401, message="Authorization header expected but not found, or found but expired.")
    if plugin == "module":
        run = run_playbook("backup_info.yml", {"module_args": {**connection, "id": SEED_ID}})
    else:
        run = run_playbook("lookup.yml", {"backup_ids": [SEED_ID], "lookup_options": connection})
    assert not run.result.get("failed"), run.output
    assert [backup["id"] for backup in run.result["backups"]] == [SEED_ID]
    assert methods(em) == [("POST", 201), ("GET", 401), ("DELETE", 204), ("POST", 201), ("GET", 200), ("DELETE", 204)]
    assert (em.stats()["logons"], em.stats()["logoffs"]) == (2, 2)
    assert "[WARNING]" not in run.output
