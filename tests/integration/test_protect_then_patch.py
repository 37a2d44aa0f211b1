# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The protect-then-patch play of docs/docsite/rst/guide_protection_gate.rst, as printed there, over
several hosts: each VM is backed up once, then patched; a second run within the hour starts nothing."""

from __future__ import annotations

import re
import subprocess
import textwrap

import yaml

import emulator as data
from conftest import BIN_DIR, EM_PASSWORD, TESTS_DIR

GUIDE = TESTS_DIR.parent / "docs" / "docsite" / "rst" / "guide_protection_gate.rst"

#: Host name -> its veeam_em_vm_name (None: the host name is the VM name); on two backup servers.
HOSTS = {"web01": None, "sql-server": data.VM_SQL, "db-prod": data.VM_QUOTED, "legacy": data.VM_LEGACY}


def protect_then_patch_play() -> str:
    """The guide's code block that holds the play with the quick backup, dedented."""
    blocks = re.findall(r"^\.\. code-block:: yaml\+jinja\n\n((?:    .*\n|\n)+)", GUIDE.read_text(encoding="utf-8"), re.MULTILINE)
    [play] = [block for block in blocks if "veeam_em.rest.veeam_em_quick_backup:" in block and "hosts: all" in block]
    return textwrap.dedent(play)


def run_play(tmp_path, ansible_env, em_environment):
    playbook = tmp_path / "protect_then_patch.yml"
    playbook.write_text(protect_then_patch_play(), encoding="utf-8")
    hosts = {name: {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    **({"veeam_em_vm_name": vm_name} if vm_name else {})} for name, vm_name in HOSTS.items()}
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}, allow_unicode=True), encoding="utf-8")
    process = subprocess.run([str(BIN_DIR / "ansible-playbook"), "-i", str(inventory), str(playbook)],
                             env={**ansible_env, **em_environment}, capture_output=True, text=True,
                             timeout=300, check=False)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    assert EM_PASSWORD not in output
    recap = dict(re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", output, re.MULTILINE))
    assert set(recap) == set(HOSTS), output
    return output, recap


def test_each_vm_is_backed_up_once_then_patched_and_a_second_run_starts_nothing(em, em_environment, ansible_env, tmp_path):
    for host, vm_name in HOSTS.items():
        em.quick_backup(vm_name or host, seconds=0)  # done at the first look: the play's poll_interval is 5 s
    output, recap = run_play(tmp_path, ansible_env, em_environment)
    runs = em.quick_backup_runs()
    assert sorted(run.vm_name for run in runs) == sorted(vm or host for host, vm in HOSTS.items()), "each VM backed up once"
    assert all(run.result == "Success" for run in runs)
    for host, vm_name in HOSTS.items():
        point = next(run.vm_restore_point for run in runs if run.vm_name == (vm_name or host))
        assert re.search(rf"{re.escape(host)} patched, restore point {point.creation_time:%Y-%m-%dT%H:%M:%S}", output), output
    assert set(recap.values()) == {"1"}, "the quick backup is the play's one change on each host"
    stats = em.stats()
    assert stats["logons"] == stats["logoffs"] == len(HOSTS), "one EM session per host, each logged off"

    em.reset_stats()
    output, recap = run_play(tmp_path, ansible_env, em_environment)
    assert len(em.quick_backup_runs()) == len(HOSTS), "within the hour, nothing is started"
    assert not [entry for entry in em.request_log() if entry["method"] == "POST" and entry["path"] != "/api/sessionMngr/"]
    assert set(recap.values()) == {"0"}, output
    for host in HOSTS:
        assert f"{host} patched" in output
