# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX: the credential type the collection ships, injected the way AWX injects it, drives a
playbook that ansible-runner (the engine under AWX) runs against the EM emulator.

Nothing here copies the credential type: the tests read extensions/awx/credential_type_veeam_em.yml
from the collection under test, check it against AWX's own schema for credential types, render
its injectors as AWX does and hand the resulting environment to ansible-runner in env/envvars.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from conftest import BIN_DIR, COLLECTIONS_PATH, EM_PASSWORD, EM_USERNAME, PLAYBOOKS

COLLECTION = Path(COLLECTIONS_PATH) / "ansible_collections" / "veeam_em" / "rest"
CREDENTIAL_TYPE_FILE = COLLECTION / "extensions" / "awx" / "credential_type_veeam_em.yml"
SEED_ID = "c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70"
SEED_NAME = "Simple backup_1"
INJECTED = {"VEEAM_EM_URL", "VEEAM_EM_USERNAME", "VEEAM_EM_PASSWORD", "VEEAM_EM_VALIDATE_CERTS", "VEEAM_EM_CA_PATH"}

# AWX's JSON schemas for a credential type's `inputs` and `injectors`
# (awx/main/fields.py: CredentialTypeInputField, CredentialTypeInjectorField).
AWX_INPUTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "required": {"type": "array", "items": {"type": "string"}},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"enum": ["string", "boolean"]},
                    "format": {"enum": ["ssh_private_key", "url"]},
                    "choices": {"type": "array", "minItems": 1, "items": {"type": "string"}, "uniqueItems": True},
                    "id": {"type": "string", "pattern": "^[a-zA-Z_]+[a-zA-Z0-9_]*$"},
                    "label": {"type": "string"},
                    "help_text": {"type": "string"},
                    "multiline": {"type": "boolean"},
                    "secret": {"type": "boolean"},
                    "ask_at_runtime": {"type": "boolean"},
                    "default": {},
                },
                "additionalProperties": False,
                "required": ["id", "label"],
            },
        },
    },
}
AWX_INJECTORS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "file": {
            "type": "object",
            "patternProperties": {r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$": {"type": "string"}},
            "additionalProperties": False,
        },
        "env": {
            "type": "object",
            "patternProperties": {"^[a-zA-Z_]+[a-zA-Z0-9_]*$": {"type": "string", "pattern": "^[\x00-\x7f]*$"}},
            "additionalProperties": False,
        },
        "extra_vars": {
            "type": "object",
            "patternProperties": {"^[a-zA-Z_]+[a-zA-Z0-9_]*$": {"type": "string"}},
            "additionalProperties": False,
        },
    },
}


@pytest.fixture(scope="module")
def credential_type() -> dict:
    return yaml.safe_load(CREDENTIAL_TYPE_FILE.read_text(encoding="utf-8"))


def inject(credential_type: dict, inputs: dict, private_data_dir: Path) -> dict[str, str]:
    """The environment AWX builds from a credential of this type.

    As awx_plugins.interfaces._temporary_private_inject_api.inject_credential does it: empty inputs
    are left out, a boolean never set is false, each ``template.<name>`` file is written (0600) into
    the job's env/ folder and named as ``tower.filename.<name>``, then every ``env`` template is
    rendered in Jinja2's immutable sandbox.
    """
    namespace = {name: value for name, value in inputs.items() if isinstance(value, bool) or value}
    for field in credential_type["inputs"]["fields"]:
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = ImmutableSandboxedEnvironment()
    files = {}
    for label, template in credential_type["injectors"].get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=private_data_dir / "env")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        files[label.split(".")[1]] = path
    namespace["tower"] = SimpleNamespace(filename=SimpleNamespace(**files))
    return {name: sandbox.from_string(template).render(**namespace) for name, template in credential_type["injectors"]["env"].items()}


def private_data_dir(tmp_path: Path) -> Path:
    """An ansible-runner private data dir with the job template's playbook and a localhost inventory."""
    directory = tmp_path / "job"
    for sub in ("env", "project", "inventory"):
        (directory / sub).mkdir(parents=True)
    shutil.copy(PLAYBOOKS / "awx_job_template.yml", directory / "project")
    # The execution environment's Python (here: the venv's) runs the modules, as in an EE.
    (directory / "inventory" / "hosts").write_text(f"localhost ansible_connection=local ansible_python_interpreter={BIN_DIR / 'python'}\n")
    return directory


def run_job(directory: Path, envvars: dict, ansible_env: dict) -> tuple[subprocess.CompletedProcess, dict | None]:
    """``ansible-runner run`` with ``envvars`` as the job's only source of EM settings; returns the process and the result file."""
    result_file = directory.parent / "result.json"
    (directory / "env" / "envvars").write_text(yaml.safe_dump(envvars, allow_unicode=True), encoding="utf-8")
    (directory / "env" / "extravars").write_text(yaml.safe_dump({"backup_id": SEED_ID, "result_file": str(result_file)}))
    process = subprocess.run([str(BIN_DIR / "ansible-runner"), "run", str(directory), "-p", "awx_job_template.yml"],
                             env=ansible_env, capture_output=True, text=True, timeout=120, check=False)
    result = json.loads(result_file.read_text()) if result_file.exists() else None
    return process, result


def assert_both_got_the_seed_backup(result: dict | None, process: subprocess.CompletedProcess) -> None:
    assert process.returncode == 0, process.stdout + process.stderr
    for source in ("module", "lookup"):
        assert [(backup["id"], backup["name"]) for backup in result[source]] == [(SEED_ID, SEED_NAME)], source
    assert result["lookup"] == result["module"]


def files_containing(directory: Path, secret: str) -> set[str]:
    """Files that hold ``secret`` as it is, JSON-escaped (job events, runner's command file) or its first word."""
    needles = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], secret.split()[0]}
    return {str(path.relative_to(directory)) for path in directory.rglob("*")
            if path.is_file() and any(needle.encode() in path.read_bytes() for needle in needles)}


def test_credential_type_passes_awx_validation(credential_type):
    """What AWX checks when the type is created: schema, unique ids, and templates that use only defined fields."""
    assert credential_type["kind"] == "cloud"  # the only kinds AWX allows for custom types: cloud, net
    assert credential_type["name"]
    jsonschema.validate(credential_type["inputs"], AWX_INPUTS_SCHEMA)
    jsonschema.validate(credential_type["injectors"], AWX_INJECTORS_SCHEMA)
    ids = [field["id"] for field in credential_type["inputs"]["fields"]]
    assert len(ids) == len(set(ids)) and "tower" not in ids
    assert set(credential_type["inputs"]["required"]) == {"url", "username", "password"}
    assert [field["id"] for field in credential_type["inputs"]["fields"] if field.get("secret")] == ["password"]
    # Every variable the credential sets, and nothing else (no extra_vars: modules read the environment).
    assert set(credential_type["injectors"]) == {"env", "file"}
    assert set(credential_type["injectors"]["env"]) == INJECTED
    # AWX renders each template with every field set to 'EXAMPLE' and undefined names fatal.
    namespace = {field_id: "EXAMPLE" for field_id in ids}
    namespace["tower"] = SimpleNamespace(filename=SimpleNamespace(ca="EXAMPLE_FILENAME"))
    sandbox = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for injector in credential_type["injectors"].values():
        for template in injector.values():
            sandbox.from_string(template).render(namespace)


def test_injectors_set_exactly_the_connection_variables(credential_type, em, em_environment, tmp_path):
    (tmp_path / "env").mkdir()
    ca = Path(em.ca_path).read_text()
    env = inject(credential_type, {"url": em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "ca": ca}, tmp_path)
    ca_file = Path(env.pop("VEEAM_EM_CA_PATH"))
    assert env == {**{key: value for key, value in em_environment.items() if key != "VEEAM_EM_CA_PATH"}, "VEEAM_EM_VALIDATE_CERTS": "True"}
    assert ca_file.parent == tmp_path / "env" and ca_file.read_text() == ca
    assert stat.S_IMODE(ca_file.stat().st_mode) == 0o600

    # No CA: the variable is empty (AWX sets every env injector), and verification stays on.
    env = inject(credential_type, {"url": em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "ca": ""}, tmp_path)
    assert (env["VEEAM_EM_CA_PATH"], env["VEEAM_EM_VALIDATE_CERTS"]) == ("", "True")
    env = inject(credential_type, {"url": em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "skip_tls_verify": True}, tmp_path)
    assert (env["VEEAM_EM_CA_PATH"], env["VEEAM_EM_VALIDATE_CERTS"]) == ("", "False")


def test_job_with_the_credential_gets_the_seed_backup(credential_type, em, ansible_env, tmp_path):
    directory = private_data_dir(tmp_path)
    inputs = {"url": em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "ca": Path(em.ca_path).read_text()}
    envvars = inject(credential_type, inputs, directory)
    assert set(envvars) == INJECTED
    process, result = run_job(directory, envvars, ansible_env)
    assert_both_got_the_seed_backup(result, process)
    # One logon for the module and one for the lookup; both logged off (the em fixture checks).
    assert [entry["method"] for entry in em.request_log()].count("POST") == 2
    # The password is in none of the job's output and events (artifacts/<id>/stdout, job_events/).
    # ansible-runner keeps the environment it ran with, in plain text, in artifacts/<id>/command
    # (guide_awx.rst says so; AWX deletes the job's private data dir afterwards).
    assert EM_PASSWORD.split()[0] not in process.stdout + process.stderr
    (ident,) = (path.name for path in (directory / "artifacts").iterdir())
    assert files_containing(directory, EM_PASSWORD) == {"env/envvars", f"artifacts/{ident}/command"}


def test_job_without_ca_and_verification_skipped(credential_type, em, ansible_env, tmp_path):
    directory = private_data_dir(tmp_path)
    inputs = {"url": em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "skip_tls_verify": True}
    process, result = run_job(directory, inject(credential_type, inputs, directory), ansible_env)
    assert_both_got_the_seed_backup(result, process)
    assert "validate_certs is false" in process.stdout + process.stderr


def test_job_without_ca_trusts_what_the_execution_environment_trusts(credential_type, em, ansible_env, tmp_path):
    """No CA in the credential: EM's CA is in the EE's trust store (REQUESTS_CA_BUNDLE, as a custom EE sets it)."""
    directory = private_data_dir(tmp_path)
    inputs = {"url": em.url, "username": EM_USERNAME, "password": EM_PASSWORD}
    envvars = {**inject(credential_type, inputs, directory), "REQUESTS_CA_BUNDLE": em.ca_path}
    assert (envvars["VEEAM_EM_CA_PATH"], envvars["VEEAM_EM_VALIDATE_CERTS"]) == ("", "True")
    process, result = run_job(directory, envvars, ansible_env)
    assert_both_got_the_seed_backup(result, process)


def test_docs_recipe_for_awx_credential_type_keeps_the_injector_templates(credential_type, run_playbook):
    """guide_awx.rst loads the file with the file lookup and from_yaml for awx.awx.credential_type:
    Ansible must hand the injectors' Jinja2 to AWX untouched, not render them itself."""
    run = run_playbook("awx_credential_type.yml", {"credential_type_file": str(CREDENTIAL_TYPE_FILE)})
    assert run.returncode == 0, run.output
    assert run.result == credential_type
