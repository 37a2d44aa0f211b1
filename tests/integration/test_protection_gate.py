# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The protection gate play of docs/docsite/rst/guide_protection_gate.rst, as printed there, over several
hosts: it fails exactly the hosts without a recent restore point, naming age and backup, in one EM session."""

from __future__ import annotations

import json
import re
import subprocess
import textwrap

import yaml

import emulator as data
from conftest import BIN_DIR, EM_PASSWORD, TESTS_DIR

GUIDE = TESTS_DIR.parent / "docs" / "docsite" / "rst" / "guide_protection_gate.rst"

#: Host name -> its veeam_em_vm_name (None: the host name is the VM name), and whether the gate lets it pass.
HOSTS = {
    "web01": (None, True),                         # 2 h, also in a 30 h old backup
    "sql-server": (data.VM_SQL, True),             # 2 h
    "db-prod": (data.VM_QUOTED, True),             # 2 h, a name with quotes and spaces
    "zurich": (data.VM_UNICODE, True),             # 5 h, also in a 20 days old backup
    "app01": (None, False),                        # 30 h: stale
    "legacy": (data.VM_LEGACY, False),             # 9 days: stale
    "web02": (None, False),                        # EM has no point of it
}


def gate_play() -> str:
    """The guide's code block that holds the play over all hosts, dedented."""
    blocks = re.findall(r"^\.\. code-block:: yaml\+jinja\n\n((?:    .*\n|\n)+)", GUIDE.read_text(encoding="utf-8"), re.MULTILINE)
    [play] = [block for block in blocks if "hosts: all" in block]
    return textwrap.dedent(play)


def run_gate(ansible_env, em_environment, tmp_path, *args):
    """The guide's play over HOSTS: (exit code, output, each failed host's message)."""
    playbook = tmp_path / "gate.yml"
    playbook.write_text(gate_play(), encoding="utf-8")
    hosts = {name: {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    **({"veeam_em_vm_name": vm_name} if vm_name else {})} for name, (vm_name, _passes) in HOSTS.items()}
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}, allow_unicode=True), encoding="utf-8")
    process = subprocess.run([str(BIN_DIR / "ansible-playbook"), "-i", str(inventory), str(playbook), *args],
                             env={**ansible_env, **em_environment}, capture_output=True, text=True, timeout=300, check=False)
    output = process.stdout + process.stderr
    failures = {host: json.loads(f'"{message}"')
                for host, message in re.findall(r"^fatal: \[(\S+)\]: FAILED! => .*?\"msg\": \"(.*?)\"\}?$", output, re.MULTILINE)}
    return process.returncode, output, failures


def test_gate_fails_exactly_the_unprotected_hosts_naming_age_and_backup(em, em_environment, ansible_env, tmp_path):
    returncode, output, failures = run_gate(ansible_env, em_environment, tmp_path)
    assert returncode == 2, output
    recap = dict(re.findall(r"^(\S+)\s+: ok=\d+\s+changed=\d+\s+unreachable=\d+\s+failed=(\d+)", output, re.MULTILINE))
    assert {name: recap[name] == "0" for name in HOSTS} == {name: passes for name, (_vm, passes) in HOSTS.items()}, output
    assert set(failures) == {"app01", "legacy", "web02"}, output
    assert re.fullmatch(r'VM app01: newest restore point 30\.\d h old \(over 26 h\), in backup "' + re.escape(data.CHILD_BACKUP_NAME) + '"',
                        failures["app01"]), "app01's last run succeeded: nothing more to say"
    assert re.fullmatch(r'VM hv-legacy: newest restore point 21\d\.\d h old \(over 26 h\), in backup "' + re.escape(data.NO_REPOSITORY_BACKUP_NAME)
                        + '"; last backup run still running', failures["legacy"]), failures["legacy"]
    assert failures["web02"] == "VM web02: EM has no restore point of it"
    for name in ("web01", "sql-server", "db-prod", "zurich"):
        assert f"{name} may be patched" in output
    assert "app01 may be patched" not in output
    stats = em.stats()
    assert (stats["logons"], stats["logoffs"]) == (1, 1), "one EM session for every host of the play"
    assert EM_PASSWORD not in output


def test_gate_says_why_the_last_backup_run_failed_with_ems_reason(em, em_environment, ansible_env, tmp_path):
    # As a user overrides the play's bound: a string from the command line.
    returncode, output, failures = run_gate(ansible_env, em_environment, tmp_path, "-e", "protection_max_age_hours=1")
    assert returncode == 2, output
    assert re.fullmatch(r'VM web01: newest restore point 2\.\d h old \(over 1 h\), in backup "' + re.escape(data.SQL_BACKUP_NAME) + '"',
                        failures["web01"].split(";")[0]), failures["web01"]
    assert failures["web01"].endswith(f'; last backup run Failed: "{data.RETRY_REASON}"'), "the failed retry of last night, EM's text exactly"
    assert failures["zurich"].endswith(f'; last backup run Failed: "{data.MARKUP_REASON}"'), failures["zurich"]
