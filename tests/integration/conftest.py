# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""End-to-end fixtures: the EM emulator over HTTPS, and real ansible processes against it.

The collection under test is the one found through ANSIBLE_COLLECTIONS_PATH
(make integration points it at the copy in build/collections). Each test
ends with the emulator holding no live session: a plugin that leaks one fails
the test that leaked it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]
#: Where the collection under test is installed (make integration sets it).
COLLECTIONS_PATH = os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(TESTS_DIR.parent / "build" / "collections"))
sys.path[:0] = [str(TESTS_DIR), COLLECTIONS_PATH]

from emulator import Emulator  # noqa: E402  (needs TESTS_DIR on sys.path)

PLAYBOOKS = Path(__file__).parent / "playbooks"
BIN_DIR = Path(sys.executable).parent
EM_USERNAME = "svc-ansible"
#: Characters that must survive Basic auth and never show up in any output.
EM_PASSWORD = "Pa55:w0rd & 'quote' \"dq\" ü"


@dataclass
class AnsibleRun:
    """What an ansible process left behind: exit code, output, and its result file if any."""

    returncode: int
    stdout: str
    stderr: str
    result: dict | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def unwrapped(self) -> str:
        """The output with the line wrapping of warnings undone: ansible-core 2.16 wraps them at 80
        columns, breaking after hyphens too."""
        return re.sub(r"\n\s*", " ", self.output.replace("-\n", "-"))


def plain(value):
    """``ansible-inventory --list`` output (or a module result) without the ``{"__ansible_unsafe": ...}`` wrapping of strings."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


#: Backups generated on top of the fixed data set, enough for several query pages.
BULK_BACKUPS = 2500


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    with Emulator(state_dir=tmp_path_factory.mktemp("emulator"), username=EM_USERNAME, password=EM_PASSWORD) as em:
        yield em


@pytest.fixture(scope="session")
def bulk_emulator(tmp_path_factory):
    with Emulator(state_dir=tmp_path_factory.mktemp("bulk"), username=EM_USERNAME, password=EM_PASSWORD, bulk=BULK_BACKUPS) as em:
        yield em


@pytest.fixture
def em(emulator):
    """The shared emulator, fresh for this test; the test fails if it leaves an EM session open."""
    with emulator.test_scope():
        yield emulator


@pytest.fixture
def bulk_em(bulk_emulator):
    with bulk_emulator.test_scope():
        yield bulk_emulator


def connection_to(em) -> dict:
    """Connection options for an emulator, as module arguments."""
    return {"url": em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "ca_path": em.ca_path, "timeout": 5, "retries": 1}


@pytest.fixture
def connection(em):
    return connection_to(em)


@pytest.fixture
def em_environment(em):
    """The connection as an AWX credential injects it: VEEAM_EM_* environment variables."""
    return {"VEEAM_EM_URL": em.url, "VEEAM_EM_USERNAME": EM_USERNAME, "VEEAM_EM_PASSWORD": EM_PASSWORD, "VEEAM_EM_CA_PATH": em.ca_path}


@pytest.fixture
def ansible_env(tmp_path):
    """Environment of the ansible processes: no VEEAM_EM_* leaking in, no stray config."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VEEAM_EM_", "ANSIBLE_"))}
    env.update(
        PATH=f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}",
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH,
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
        ANSIBLE_NOCOLOR="True",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
    )
    return env


@pytest.fixture
def run_playbook(tmp_path, ansible_env):
    """Run a playbook of tests/integration/playbooks; it writes its result to ``result_file``."""

    def run(name: str, extra_vars: dict, *args: str, env: dict | None = None) -> AnsibleRun:
        result_file = tmp_path / "result.json"
        result_file.unlink(missing_ok=True)
        # From a file: -vvvv prints the command line, and secrets must not show up in the output.
        vars_file = tmp_path / "extra_vars.json"
        vars_file.write_text(json.dumps({**extra_vars, "result_file": str(result_file)}))
        command = [str(BIN_DIR / "ansible-playbook"), str(PLAYBOOKS / name), "-e", f"@{vars_file}", *args]
        process = subprocess.run(command, env={**ansible_env, **(env or {})}, capture_output=True, text=True, timeout=300, check=False)
        result = json.loads(result_file.read_text()) if result_file.exists() else None
        return AnsibleRun(process.returncode, process.stdout, process.stderr, result)

    return run


@pytest.fixture
def run_adhoc(ansible_env):
    """Run ``ansible localhost -m <module> -a <args>``; its result is parsed from the output."""

    def run(module: str, module_args: str, *args: str, env: dict | None = None) -> AnsibleRun:
        command = [str(BIN_DIR / "ansible"), "localhost", "-m", module, "-a", module_args, *args]
        process = subprocess.run(command, env={**ansible_env, **(env or {})}, capture_output=True, text=True, timeout=300, check=False)
        _host, _sep, payload = process.stdout.partition(" => ")
        result = json.loads(payload) if payload.strip().startswith("{") else None
        return AnsibleRun(process.returncode, process.stdout, process.stderr, result)

    return run
