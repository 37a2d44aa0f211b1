# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory plugin veeam_em.rest.veeam_em: real ansible-inventory and ansible-playbook processes
against the EM emulator, compared with what the module returns for the same entities."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import yaml

from conftest import BIN_DIR, EM_PASSWORD, EM_USERNAME, AnsibleRun, plain

GROUP = "veeam_em_backup_servers"
PLUGIN = "veeam_em.rest.veeam_em"


def secrets_of(em) -> list[str]:
    """The password, as it is, JSON-escaped and its first word, and every session token EM issued."""
    return [EM_PASSWORD, json.dumps(EM_PASSWORD)[1:-1], json.dumps(EM_PASSWORD, ensure_ascii=False)[1:-1],
            EM_PASSWORD.split()[0], *em.issued_tokens()]


@pytest.fixture
def run_inventory(tmp_path, ansible_env):
    """Write a configuration file and run ``ansible-inventory -i <it> --list`` (a failing source fails the run)."""

    def run(config: dict, *args: str, env: dict | None = None, name: str = "em.veeam_em.yml") -> AnsibleRun:
        source = tmp_path / name
        source.write_text(yaml.safe_dump({"plugin": PLUGIN, **config}), encoding="utf-8")
        command = [str(BIN_DIR / "ansible-inventory"), "-i", str(source), "--list", *args]
        process = subprocess.run(command, env={**ansible_env, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", **(env or {})},
                                 capture_output=True, text=True, timeout=300, check=False)
        # With -v, ansible-inventory prints its log lines before the JSON.
        listing = process.stdout[process.stdout.find("\n{") + 1:] if not process.stdout.startswith("{") else process.stdout
        result = plain(json.loads(listing)) if process.returncode == 0 else None
        return AnsibleRun(process.returncode, process.stdout, process.stderr, result)

    return run


@pytest.fixture
def module_backups(run_adhoc, em_environment):
    """What veeam_em_backup_info returns for every backup, with the given options."""

    def get(**options) -> list[dict]:
        run = run_adhoc("veeam_em.rest.veeam_em_backup_info", json.dumps({"restore_points": False, **options}), env=em_environment)
        assert run.returncode == 0, run.output
        return run.result["backups"]

    return get


def hosts_of(inventory: dict) -> dict[str, dict]:
    return inventory["_meta"]["hostvars"]


def members(inventory: dict, group: str) -> set[str]:
    return set(inventory.get(group, {}).get("hosts", []))


def queries(em) -> list[tuple[str, str, str]]:
    """(method, query type, logon path or "logoff", page) of each request EM received, in order."""
    found = []
    for entry in em.request_log():
        params = parse_qs(entry["query"])
        what = params["type"][0] if "type" in params else "logoff" if entry["path"].startswith("/api/logonSessions/") else entry["path"]
        found.append((entry["method"], what, params.get("page", [""])[0]))
    return found


def without_host(entity: dict) -> dict:
    """An entity with its ``href`` reduced to the path: EM spells hrefs with its own idea of its host name."""
    return {**entity, "href": urlsplit(entity["href"]).path}


def test_one_host_per_backup_server_with_the_modules_data(em, run_inventory, em_environment, module_backups):
    run = run_inventory({}, env=em_environment)
    assert run.returncode == 0, run.output
    hosts = hosts_of(run.result)
    servers = list(em.data.backup_servers.values())
    assert set(hosts) == {server.name for server in servers}
    assert members(run.result, GROUP) == set(hosts)

    backups = module_backups(expand=["backup_server", "repository"])
    for server in servers:
        variables = hosts[server.name]
        assert variables["ansible_host"] == server.name
        assert set(variables) == {"ansible_host", "veeam_em_backup_server", "veeam_em_repositories", "veeam_em_backup_count"}
        on_server = [backup for backup in backups if backup["backup_server"]["id"] == server.id]
        assert variables["veeam_em_backup_count"] == len(on_server) > 0
        # The server as the module's expand gives it, plus its UID.
        shown = variables["veeam_em_backup_server"]
        assert shown.pop("uid") == f"urn:veeam:BackupServer:{server.id}"
        assert {json.dumps(without_host(backup["backup_server"]), sort_keys=True) for backup in on_server} == {json.dumps(without_host(shown), sort_keys=True)}
        # Every repository of the server, each as the module's expand gives it, plus its free space in percent.
        repositories = variables["veeam_em_repositories"]
        assert [repository["id"] for repository in repositories] == [repository.id for repository in em.data.repositories_of(server.id)]
        for repository in repositories:
            assert repository.pop("free_percent") == round(100 * repository["free_space"] / repository["capacity"], 1)
        for backup in on_server:
            if backup["repository"] is not None:
                assert without_host(backup["repository"]) in [without_host(repository) for repository in repositories]


def test_backups_true_adds_each_servers_backups_as_the_module_returns_them(em, run_inventory, em_environment, module_backups):
    run = run_inventory({"backups": True}, env=em_environment)
    assert run.returncode == 0, run.output
    backups = module_backups()
    for name, variables in hosts_of(run.result).items():
        server_id = variables["veeam_em_backup_server"]["id"]
        assert variables["veeam_em_backups"] == [backup for backup in backups if backup["backup_server"]["id"] == server_id], name
        assert variables["veeam_em_backup_count"] == len(variables["veeam_em_backups"])


def test_latest_restore_point_of_each_backup_as_the_module_gives_it(em, run_inventory, em_environment, module_backups):
    run = run_inventory({"backups": True, "latest_restore_point": True}, env=em_environment)
    assert run.returncode == 0, run.output
    backups = {backup["id"]: backup for backup in module_backups(latest_restore_point=True)}
    shown = [backup for variables in hosts_of(run.result).values() for backup in variables["veeam_em_backups"]]
    assert len(shown) == len(backups) and any(backup["latest_restore_point"] for backup in shown)
    for backup in shown:
        assert backup["latest_restore_point"] == backups[backup["id"]]["latest_restore_point"], backup["name"]


def test_one_session_a_request_per_page_and_none_with_a_warm_cache(bulk_em, run_inventory, tmp_path):
    connection = {"url": bulk_em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "ca_path": bulk_em.ca_path}
    cache_dir = tmp_path / "cache"
    config = {**connection, "cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(cache_dir)}
    backup_pages = -(-len(bulk_em.data.backups) // 1000)
    assert backup_pages == 3

    cold = run_inventory(config, "-vvvv")
    assert cold.returncode == 0, cold.output
    assert queries(bulk_em) == [
        ("POST", "/api/sessionMngr/", ""),
        ("GET", "BackupServer", "1"),
        ("GET", "Repository", "1"),
        *[("GET", "Backup", str(page)) for page in range(1, backup_pages + 1)],
        ("DELETE", "logoff", ""),
    ]
    assert sum(variables["veeam_em_backup_count"] for variables in hosts_of(cold.result).values()) == len(bulk_em.data.backups)

    bulk_em.reset_stats()
    warm = run_inventory(config, "-vvvv")
    assert warm.returncode == 0, warm.output
    assert bulk_em.stats()["requests"] == 0
    assert warm.result == cold.result

    # Neither the password nor a session token in the -vvvv output or in the cache.
    cache_files = [path for path in cache_dir.rglob("*") if path.is_file()]
    assert cache_files
    for secret in secrets_of(bulk_em):
        assert secret not in cold.output + warm.output
        assert not [path for path in cache_files if secret.encode() in path.read_bytes()]

    # A cache made without backups does not answer for backups.
    with_backups = run_inventory({**config, "backups": True})
    assert with_backups.returncode == 0, with_backups.output
    assert bulk_em.stats()["logons"] == 1
    assert all("veeam_em_backups" in variables for variables in hosts_of(with_backups.result).values())


def test_the_cache_is_keyed_by_the_source_never_by_a_secret(em, run_inventory, tmp_path):
    """As Ansible's own inventory caches: EM, its API version, the user and the data options; nothing
    derived from a password or session, so another password is answered from a warm cache."""
    connection = {"url": em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "ca_path": em.ca_path}
    config = {**connection, "cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}

    def requests_for(options, succeeds=True) -> int:
        before = em.stats()["requests"]
        run = run_inventory(options)
        assert (run.returncode == 0) == succeeds, run.output
        return em.stats()["requests"] - before

    assert requests_for(config) > 0
    assert requests_for(config) == 0
    assert requests_for({**config, "password": "another password"}) == 0
    # Another API version, or another user, is not answered from the cache (EM refuses that user: no cache hides it) ...
    assert requests_for({**config, "api_version": "v1_7"}) > 0
    assert requests_for({**config, "api_version": "v1_7"}) == 0
    assert requests_for({**config, "username": "someone-else"}, succeeds=False) > 0
    logon = requests.post(f"{em.url}/api/sessionMngr/?v=latest", auth=(EM_USERNAME, EM_PASSWORD.encode()), verify=em.ca_path, timeout=5)
    token, session_id = logon.headers["X-RestSvcSessionId"], logon.text.split("<SessionId>")[1].split("<")[0]
    try:
        by_session = {key: value for key, value in config.items() if key not in ("username", "password")}
        assert requests_for({**by_session, "session_id": token}) > 0
        assert requests_for({**by_session, "session_id": token}) == 0
    finally:
        requests.delete(f"{em.url}/api/logonSessions/{session_id}", headers={"X-RestSvcSessionId": token}, verify=em.ca_path, timeout=5)
    # ... and the cache holds the source as it is, no secret and nothing made from one.
    [cache_file] = [path for path in (tmp_path / "cache").rglob("*") if path.is_file()]
    text = cache_file.read_text(encoding="utf-8")
    assert EM_PASSWORD not in text and json.dumps(EM_PASSWORD)[1:-1] not in text and token not in text
    source = json.loads(json.loads(text).get("__payload__", text))["source"]  # 2.19+ wrap the entry in a payload
    assert set(source) == {"url", "api_version", "username", "backups", "latest_restore_point"}
    assert (source["url"], source["username"], source["backups"]) == (f"{em.url}/api", None, False)


def test_the_documented_example(em, run_inventory, em_environment, ansible_env, tmp_path):
    """The example configuration of ``ansible-doc`` as it is written, but for the connection and the cache's place."""
    process = subprocess.run([str(BIN_DIR / "ansible-doc"), "-t", "inventory", "--json", PLUGIN],
                             env=ansible_env, capture_output=True, text=True, timeout=120, check=False)
    assert process.returncode == 0, process.stderr
    example = yaml.safe_load(json.loads(process.stdout)[PLUGIN]["examples"].replace("!vault", ""))
    connection = {"url", "username", "password", "ca_path"}
    config = {key: value for key, value in example.items() if key not in connection | {"plugin"}}
    run = run_inventory({**config, "cache_connection": str(tmp_path / "cache")}, env=em_environment)
    assert run.returncode == 0, run.output
    servers = em.data.backup_servers.values()
    assert members(run.result, GROUP) == {server.name for server in servers}
    for major in {server.version.split(".")[0] for server in servers}:
        assert members(run.result, f"vbr_{major}") == {server.name for server in servers if server.version.startswith(f"{major}.")}
    low_space = {em.data.backup_servers[repository.server_id].name for repository in em.data.repositories.values()
                 if repository.free_space < 0.1 * repository.capacity}
    assert members(run.result, "veeam_em_low_space") == low_space and low_space
    for server in servers:
        variables = hosts_of(run.result)[server.name]
        assert variables["ansible_host"] == f"{server.name}.corp.example.com"
        assert variables["vbr_version"] == server.version
        assert len(variables["veeam_em_backups"]) == variables["veeam_em_backup_count"] > 0


def test_strict_makes_a_compose_of_a_missing_variable_fail(em, run_inventory, em_environment):
    compose = {"compose": {"ansible_host": "veeam_em_no_such_variable.name"}}
    run = run_inventory({**compose, "strict": True}, env=em_environment)
    assert run.returncode != 0
    assert "veeam_em_no_such_variable" in run.output and "Traceback" not in run.output

    run = run_inventory({**compose, "strict": False}, env=em_environment)
    assert run.returncode == 0, run.output
    assert {name: variables["ansible_host"] for name, variables in hosts_of(run.result).items()} == {
        server.name: server.name for server in em.data.backup_servers.values()}


def test_vaulted_password_in_the_file(em, run_inventory, tmp_path, ansible_env):
    vault_password_file = tmp_path / "vault-password"
    vault_password_file.write_text("inventory vault secret\n")
    encrypted = subprocess.run([str(BIN_DIR / "ansible-vault"), "encrypt_string", "--vault-password-file", str(vault_password_file),
                                "--stdin-name", "password"], input=EM_PASSWORD, env=ansible_env, capture_output=True, text=True, timeout=60, check=True)
    source = tmp_path / "vaulted.veeam_em.yml"
    source.write_text(f"plugin: {PLUGIN}\nurl: {em.url}\nusername: {EM_USERNAME}\nca_path: {em.ca_path}\n{encrypted.stdout}", encoding="utf-8")
    assert EM_PASSWORD not in source.read_text(encoding="utf-8")
    process = subprocess.run([str(BIN_DIR / "ansible-inventory"), "-i", str(source), "--graph", "--vault-password-file", str(vault_password_file)],
                             env={**ansible_env, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True"}, capture_output=True, text=True, timeout=120, check=False)
    assert process.returncode == 0, process.stdout + process.stderr
    assert all(server.name in process.stdout for server in em.data.backup_servers.values())
    assert em.stats()["logons"] == 1


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("case", ["wrong password", "unreachable", "untrusted certificate"])
def test_failures_give_the_modules_message_and_name_the_source(case, em, run_inventory, run_adhoc):
    connection = {"url": em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "ca_path": em.ca_path, "timeout": 5, "retries": 0}
    if case == "wrong password":
        connection["password"] = "not the password"
    elif case == "unreachable":
        connection["url"] = f"https://127.0.0.1:{closed_port()}"
    else:
        del connection["ca_path"]
    module = run_adhoc("veeam_em.rest.veeam_em_backup_info", json.dumps(connection))
    assert module.returncode != 0 and module.result["msg"], module.output
    run = run_inventory(connection, name="failing.veeam_em.yml")
    assert run.returncode != 0
    assert module.result["msg"] in run.unwrapped
    assert "failing.veeam_em.yml" in run.unwrapped
    assert "Traceback" not in run.output and "not the password" not in run.output


def test_unreadable_answer_fails_with_the_collections_message(em, run_inventory, em_environment):
    em.inject("body", method="GET", body=b"<html><body>Service Unavailable</body></html>", content_type="text/html", times=None)
    run = run_inventory({}, env=em_environment, name="failing.veeam_em.yml")
    assert run.returncode != 0
    assert "EM returned an unreadable response (HTTP 200) for GET " in run.unwrapped
    assert "expected XML, got content type 'text/html'" in run.unwrapped
    assert "failing.veeam_em.yml" in run.unwrapped and "Traceback" not in run.output
    assert em.stats()["logoffs"] == 1


def test_playbook_on_the_backup_servers_reads_their_repositories(em, run_playbook, em_environment, tmp_path):
    source = tmp_path / "em.veeam_em.yml"
    source.write_text(f"plugin: {PLUGIN}\n", encoding="utf-8")
    run = run_playbook("inventory_repositories.yml", {}, "-i", str(source), env={**em_environment, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True"})
    assert run.returncode == 0, run.output
    assert run.result == {
        server.name: [repository.name for repository in em.data.repositories_of(server.id)] for server in em.data.backup_servers.values()
    }


def test_no_secret_in_verbose_output(em, run_inventory):
    """The password in the configuration file and -vvvv: neither it nor the session token shows up."""
    run = run_inventory({"url": em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "ca_path": em.ca_path}, "-vvvv")
    assert run.returncode == 0, run.output
    assert len(hosts_of(run.result)) == len(em.data.backup_servers)
    for secret in secrets_of(em):
        assert secret not in run.output


#: What AWX adds to the environment of every inventory update (awx/main/constants.py, STANDARD_INVENTORY_UPDATE_ENV).
AWX_INVENTORY_UPDATE_ENV = {"ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS": "never", "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True"}
#: ansible-runner as AWX drives an inventory update: ansible-inventory instead of ansible-playbook, AWX's arguments.
RUNNER_SCRIPT = """
import json, sys
import ansible_runner
directory, cmdline = sys.argv[1], sys.argv[2]
result = ansible_runner.run(private_data_dir=directory, binary="ansible-inventory", cmdline=cmdline, quiet=True)
print(json.dumps({"rc": result.rc, "status": result.status}))
"""


def test_awx_inventory_update_with_the_credential_type(em, ansible_env, tmp_path):
    """An inventory source "sourced from a project" with the collection's credential: ansible-runner runs
    ansible-inventory with the connection only in VEEAM_EM_* variables rendered from the credential type's injectors."""
    from test_awx import CREDENTIAL_TYPE_FILE, files_containing, inject

    credential_type = yaml.safe_load(CREDENTIAL_TYPE_FILE.read_text(encoding="utf-8"))
    directory = tmp_path / "inventory_update"
    for sub in ("env", "project"):
        (directory / sub).mkdir(parents=True)
    source = directory / "project" / "em.veeam_em.yml"
    source.write_text(yaml.safe_dump({"plugin": PLUGIN, "keyed_groups": [{"key": "veeam_em_backup_server.version.split('.') | first", "prefix": "vbr"}]}))
    inputs = {"url": em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "ca": Path(em.ca_path).read_text()}
    envvars = {**inject(credential_type, inputs, directory), **AWX_INVENTORY_UPDATE_ENV}
    (directory / "env" / "envvars").write_text(yaml.safe_dump(envvars, allow_unicode=True), encoding="utf-8")
    output = directory / "artifacts" / "output.json"
    # awx/main/tasks/jobs.py, RunInventoryUpdate.build_args, at AWX's default verbosity (1: -vvv).
    cmdline = f"--list --export -i {source} --output {output} --playbook-dir {source.parent} -vvv"
    process = subprocess.run([str(BIN_DIR / "python"), "-c", RUNNER_SCRIPT, str(directory), cmdline],
                             env=ansible_env, capture_output=True, text=True, timeout=300, check=False)
    assert process.returncode == 0, process.stdout + process.stderr
    assert json.loads(process.stdout.splitlines()[-1]) == {"rc": 0, "status": "successful"}, process.stdout

    inventory = plain(json.loads(output.read_text()))
    servers = em.data.backup_servers.values()
    assert members(inventory, GROUP) == set(hosts_of(inventory)) == {server.name for server in servers}
    for server in servers:
        assert server.name in members(inventory, f"vbr_{server.version.split('.')[0]}")
        variables = hosts_of(inventory)[server.name]
        assert variables["veeam_em_backup_server"]["version"] == server.version
        assert [repository["name"] for repository in variables["veeam_em_repositories"]] == [
            repository.name for repository in em.data.repositories_of(server.id)]
        assert variables["veeam_em_backup_count"] == sum(backup.server_id == server.id for backup in em.data.backups.values())
    assert em.stats()["logons"] == 1
    # The password and the session token are in none of the update's output and events; ansible-runner keeps
    # the environment it ran with in artifacts/<id>/command (guide_awx.rst says so), as for a job.
    (ident,) = (path.name for path in (directory / "artifacts").iterdir() if path.is_dir())
    assert (directory / "artifacts" / ident / "stdout").is_file()
    assert "veeam_em" in (directory / "artifacts" / ident / "stdout").read_text()
    assert files_containing(directory, EM_PASSWORD) == {"env/envvars", f"artifacts/{ident}/command"}
    for token in em.issued_tokens():
        assert not files_containing(directory, token)
