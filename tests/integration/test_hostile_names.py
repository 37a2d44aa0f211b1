# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Text from EM is data, never code, and never a host name that means something else.

The emulator's hostile data set (emulator.data.HOSTILE_SERVERS) names backup servers,
repositories and backups the way someone who can name things in EM would: templates that
run a command, ``all``, ``ungrouped``, the name of a static group, a name two servers
share, no name, ``localhost``, the name of a static host, another server's id. Real
``ansible-inventory`` and ``ansible-playbook`` processes read it together with a static
inventory source; make test runs this file on the oldest and the newest ansible-core the
collection claims (their templating differs).
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from conftest import BIN_DIR, EM_PASSWORD, EM_USERNAME, PLAYBOOKS, plain
from emulator import Emulator
from emulator import data

PLUGIN = "veeam_em.rest.veeam_em"
GROUP = "veeam_em_backup_servers"
#: Another inventory source: a static group and a static host named like hostile servers, hosts in and outside it.
STATIC_INVENTORY = {
    "all": {
        "vars": {"site": "static-site"},
        "children": {
            data.HOSTILE_GROUP_NAME: {"vars": {"backup_target": "static-nas"}, "hosts": {"nas01": {}}},
            "web": {"hosts": {"web01": {}}},
            "vbr": {"hosts": {data.HOSTILE_HOST_NAME: {"ansible_host": "10.9.9.9"}}},
        },
    },
}
STATIC_HOSTS = {"nas01": {"site": "static-site", "backup_target": "static-nas"}, "web01": {"site": "static-site"},
                data.HOSTILE_HOST_NAME: {"site": "static-site", "ansible_host": "10.9.9.9"}}
#: Each static host's groups, and no other.
STATIC_GROUPS = {"nas01": {data.HOSTILE_GROUP_NAME}, "web01": {"web"}, data.HOSTILE_HOST_NAME: {"vbr"}}
#: Why each server that is not named by EM's name is named by its id (the warning's words).
REASONS = {
    data.HOSTILE_TEMPLATE_NAME: "holds a template delimiter",
    "all": "is the name of a group",
    "ungrouped": "is the name of a group",
    data.HOSTILE_GROUP_NAME: "is the name of a group",
    data.HOSTILE_TWIN_NAME: "is shared with another backup server",
    "": "is empty",
    data.HOSTILE_CONTROLLER_NAME: "is a name of the controller (Ansible's implicit localhost)",
    data.HOSTILE_HOST_NAME: "is the name of a host from another inventory source",
    data.HOSTILE_ID_NAME: "is the id of another backup server",
}
#: What the inventory configuration does with EM's names: compose, keyed_groups, groups.
CONSTRUCTED = {
    "compose": {"ansible_host": "veeam_em_backup_server.name ~ '.corp.example.com'",
                "em_description": "veeam_em_backup_server.description",
                "em_repositories": "veeam_em_repositories | map(attribute='name') | join(', ')"},
    "keyed_groups": [{"key": "veeam_em_backup_server.name", "prefix": "em_name"},
                     {"key": "veeam_em_repositories | map(attribute='name') | list", "prefix": "em_repository"}],
    "groups": {"em_twins": f"veeam_em_backup_server.name == {data.HOSTILE_TWIN_NAME!r}",
               "em_templated_names": "veeam_em_backup_server.name is search('lookup')"},
}


@pytest.fixture(scope="module")
def hostile_emulator(tmp_path_factory):
    with Emulator(tmp_path_factory.mktemp("hostile"), username=EM_USERNAME, password=EM_PASSWORD, hostile=True) as em:
        yield em


@pytest.fixture
def hostile_em(hostile_emulator):
    with hostile_emulator.test_scope():
        yield hostile_emulator


@pytest.fixture
def sources(tmp_path, hostile_em):
    """``-i`` options: the static source first (its groups exist when the plugin runs), then EM."""
    static = tmp_path / "static.yml"
    static.write_text(yaml.safe_dump(STATIC_INVENTORY), encoding="utf-8")
    config = {"plugin": PLUGIN, "url": hostile_em.url, "username": EM_USERNAME, "password": EM_PASSWORD,
              "ca_path": hostile_em.ca_path, **CONSTRUCTED}
    em_source = tmp_path / "em.veeam_em.yml"
    em_source.write_text(yaml.safe_dump(config), encoding="utf-8")
    return ["-i", str(static), "-i", str(em_source)]


def run(command, tmp_path, ansible_env):
    """Run an ansible command in ``tmp_path``, where the hostile names would create their marker files."""
    env = {**ansible_env, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "True"}
    process = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    assert "Traceback" not in output
    ran = [marker for marker in data.HOSTILE_MARKERS if (tmp_path / marker).exists()]
    assert not ran, f"text from EM ran a command: {ran}"
    return process


def expected_host_names() -> dict[str, str]:
    """Server id -> host name: EM's name where it is safe, else the id."""
    unsafe = set(REASONS)
    servers = [*((server_id, name) for server_id, name, _description in data.HOSTILE_SERVERS),
               (data.SEED_SERVER_ID, data.SEED_SERVER_NAME), (data.SQL_SERVER_ID, data.SQL_SERVER_NAME),
               (data.LEGACY_SERVER_ID, data.LEGACY_SERVER_NAME)]
    return {server_id: server_id if name in unsafe else name for server_id, name in servers}


def test_inventory_keeps_em_names_literal_and_away_from_groups(hostile_em, sources, tmp_path, ansible_env):
    process = run([str(BIN_DIR / "ansible-inventory"), *sources, "--list"], tmp_path, ansible_env)
    listing = plain(json.loads(process.stdout))
    hostvars = listing["_meta"]["hostvars"]
    names = expected_host_names()

    # Every EM server is a host, the twins and the unnamed one included; the others keep their static selves:
    # their variables (ansible_host too) and their groups, no group of EM's.
    assert set(listing[GROUP]["hosts"]) == set(names.values()) and len(names) == len(hostile_em.data.backup_servers)
    assert set(hostvars) == set(names.values()) | set(STATIC_HOSTS)
    for host, variables in STATIC_HOSTS.items():
        assert hostvars[host] == variables, f"EM's data reached the static host {host}"
        assert {group for group, members in listing.items() if host in members.get("hosts", [])} == STATIC_GROUPS[host]
    assert set(listing["all"]["children"]) >= {"ungrouped", "web", "vbr", data.HOSTILE_GROUP_NAME, GROUP}
    # Ansible's localhost stays implicit: no host of that name.
    assert not {host for host in hostvars if host.casefold() in ("localhost", "127.0.0.1", "::1")}

    for server_id, host in names.items():
        server = hostile_em.data.backup_servers[server_id]
        variables = hostvars[host]
        # EM's exact text, never evaluated: not by the plugin, not by compose.
        assert variables["veeam_em_backup_server"]["name"] == server.name
        assert variables["veeam_em_backup_server"]["description"] == variables["em_description"] == server.description
        assert variables["ansible_host"] == f"{server.name}.corp.example.com"
        repositories = [repository.name for repository in hostile_em.data.repositories_of(server_id)]
        assert [repository["name"] for repository in variables["veeam_em_repositories"]] == repositories
        assert variables["em_repositories"] == ", ".join(repositories)
        if host == server_id:
            warning = f"The backup server {server_id} becomes the host {server_id}, not {server.name!r}: that name {REASONS[server.name]}."
            assert warning in " ".join(process.stderr.split())
    # keyed_groups made from EM's names: sanitized group names, no template among them.
    keyed = [group for group in listing if group.startswith(("em_name", "em_repository"))]
    assert keyed and not [group for group in keyed if any(character in group for character in "{}%#")]
    assert set(listing["em_twins"]["hosts"]) == {server_id for server_id, name, _description in data.HOSTILE_SERVERS if name == data.HOSTILE_TWIN_NAME}
    assert listing["em_templated_names"]["hosts"] == [data.HOSTILE_SERVERS[0][0]]


def test_a_play_over_all_hosts_prints_em_names_literally(hostile_em, sources, tmp_path, ansible_env):
    result_dir = tmp_path / "seen"
    result_dir.mkdir()
    # A lookup runs in the playbook's directory: the playbook is copied to where the markers are looked for.
    playbook = tmp_path / "hostile_names.yml"
    shutil.copyfile(PLAYBOOKS / "hostile_names.yml", playbook)
    process = run([str(BIN_DIR / "ansible-playbook"), *sources, str(playbook), "-e", f"result_dir={result_dir}"], tmp_path, ansible_env)
    seen = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in result_dir.glob("*.json")}
    names = expected_host_names()
    # hosts: all is every static host and every EM server: no name of EM's hid one.
    assert set(seen) == set(names.values()) | set(STATIC_HOSTS)
    for host, variables in STATIC_HOSTS.items():
        assert seen[host]["backup_target"] == variables.get("backup_target") and seen[host]["server_name"] is None
    for server_id, host in names.items():
        server = hostile_em.data.backup_servers[server_id]
        assert seen[host]["inventory_hostname"] == host
        assert seen[host]["server_name"] == server.name
        assert seen[host]["description"] == server.description
        assert seen[host]["message"] == f"{server.name} / {server.description}"
        assert seen[host]["backup_target"] is None
        assert GROUP in seen[host]["group_names"] and not [group for group in seen[host]["group_names"] if "{" in group]
        assert seen[host]["repositories"] == [repository.name for repository in hostile_em.data.repositories_of(server_id)]
    assert f"ok: [{names[data.HOSTILE_SERVERS[0][0]]}] => {{" in process.stdout
    assert "49" not in "".join(line for line in process.stdout.splitlines() if "msg" in line)


def test_a_play_on_localhost_still_runs_on_the_controller(hostile_em, sources, tmp_path, ansible_env):
    """EM's server named localhost is a host named by its id: ``hosts: localhost`` is Ansible's implicit
    localhost, with its local connection (as an inventory host it would be an SSH connection, refused)."""
    result_file = tmp_path / "controller.json"
    run([str(BIN_DIR / "ansible-playbook"), *sources, str(PLAYBOOKS / "controller.yml"), "-e", f"result_file={result_file}"], tmp_path, ansible_env)
    assert json.loads(result_file.read_text(encoding="utf-8")) == {
        "inventory_hostname": "localhost", "connection": "local", "server_id": None, "group_names": []}


def test_an_id_taken_by_an_earlier_source_fails_the_source_naming_the_server(hostile_em, sources, tmp_path, ansible_env):
    """The server named localhost must be named by its id, which a static host already is: the EM source
    adds no host at all (Ansible, as configured by default, goes on with the other sources and a warning)."""
    [server_id] = [server_id for server_id, name, _description in data.HOSTILE_SERVERS if name == data.HOSTILE_CONTROLLER_NAME]
    static = tmp_path / "taken.yml"
    static.write_text(yaml.safe_dump({"all": {"hosts": {server_id: {"ansible_host": "10.9.9.10"}}}}), encoding="utf-8")
    process = subprocess.run([str(BIN_DIR / "ansible-inventory"), "-i", str(static), "-i", sources[-1], "--list"], cwd=tmp_path,
                             env=ansible_env, capture_output=True, text=True, timeout=300, check=False)
    assert process.returncode == 0 and "Traceback" not in process.stderr, process.stderr
    assert (f"The backup server {server_id} cannot be a host: its name 'localhost' is a name of the controller (Ansible's implicit localhost), "
            "and its id is the name of a host from another inventory source.") in " ".join(process.stderr.split())
    listing = plain(json.loads(process.stdout))
    assert listing["_meta"]["hostvars"] == {server_id: {"ansible_host": "10.9.9.10"}} and GROUP not in listing


def test_module_and_lookup_return_em_names_literally(hostile_em, run_playbook):
    """Every backup (the hostile servers' ones with templated names): they come back as EM sent them.

    All of them, not those with the hostile name: a name given as an extra variable would be
    templated by the playbook itself, as any trusted input is.
    """
    connection = {"url": hostile_em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "ca_path": hostile_em.ca_path}
    outcome = run_playbook("listing.yml", {"connection": connection, "selections": [{"expand": ["repository", "backup_server"]}]})
    assert outcome.returncode == 0, outcome.output
    hostile_names = {name for _id, name, _description in data.HOSTILE_SERVERS}
    for how in ("module", "lookup"):
        [listing] = outcome.result[how]
        assert len(listing) == len(hostile_em.data.backups)
        backups = [backup for backup in listing if backup["id"] not in data.FIXED_BACKUP_IDS]
        assert len(backups) == len(data.HOSTILE_SERVERS), how
        for backup in backups:
            assert backup["name"] == data.HOSTILE_BACKUP_NAME
            assert backup["repository"]["name"] == data.HOSTILE_REPOSITORY_NAME
            assert backup["backup_server"]["name"] in hostile_names
            assert backup["backup_server"]["description"] in {description for _id, _name, description in data.HOSTILE_SERVERS}
    assert outcome.result["module"] == outcome.result["lookup"]


#: A backup entity as a tampered EM (or something between it and Ansible) might send it: its UID
#: would close a JUnit test case and open one of its own.
FORGED_UID = 'x"></testcase><testcase classname="forged" name="all good'
FORGED_BACKUP = f"""<?xml version="1.0" encoding="utf-8"?>
<Backup xmlns="http://www.veeam.com/ent/v1.0" Type="Backup" Name="Forged"
    Href="https://em.example.net:9398/api/backups/{data.SEED_BACKUP_ID}?format=Entity"
    UID="urn:veeam:Backup:{FORGED_UID.replace('"', '&quot;').replace('<', '&lt;').replace('>', '&gt;')}">
  <Links />
  <Platform>VMware</Platform>
  <BackupType>Standard</BackupType>
</Backup>
""".encode()


@pytest.mark.parametrize("playbook", ["backup_info.yml", "lookup.yml"])
def test_a_backup_with_a_forged_uid_fails_the_call_cleanly(em, run_playbook, playbook):
    em.inject("body", method="GET", path=f"/api/backups/{data.SEED_BACKUP_ID}$", body=FORGED_BACKUP, content_type="application/xml")
    connection = {"url": em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "ca_path": em.ca_path}
    if playbook == "backup_info.yml":
        outcome = run_playbook(playbook, {"module_args": {**connection, "id": data.SEED_BACKUP_ID}})
    else:
        outcome = run_playbook(playbook, {"backup_ids": [data.SEED_BACKUP_ID], "lookup_options": connection})
    assert outcome.result["failed"], outcome.result
    assert "EM sent a backup named 'Forged' whose id is not a UUID" in outcome.result["msg"]
    assert "testcase" not in outcome.output and "Traceback" not in outcome.output
    assert [entry["method"] for entry in em.request_log()] == ["POST", "GET", "DELETE"]
