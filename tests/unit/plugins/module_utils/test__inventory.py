# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup servers with their repositories and backups: normalized like ``expand`` does it, one listing per entity type."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from ansible_collections.veeam_em.rest.plugins.module_utils import _backups
from ansible_collections.veeam_em.rest.plugins.module_utils._backups import backup_selection, get_backups
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import VeeamEMError
from ansible_collections.veeam_em.rest.plugins.module_utils._inventory import (
    CONTROLLER_NAMES,
    backup_servers,
    host_names,
    with_free_percent,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import (
    normalize_backup_server,
    normalize_repository,
    repository_server_id,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._xml import parse_document

API = "https://em02.example.net:9398/api"
SERVER_ID = "0b6f3c1e-2a4d-4f59-9e7a-6c5d4b3a2f10"
REPOSITORY_ID = "4e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b"

SERVER_XML = f"""<?xml version="1.0" encoding="utf-8"?>
<BackupServer xmlns="http://www.veeam.com/ent/v1.0" Type="BackupServer" Name="vbr-east.example.net"
    Href="{API}/backupServers/{SERVER_ID.upper()}?format=Entity" UID="urn:veeam:BackupServer:{SERVER_ID.upper()}">
  <Links><Link Rel="Down" Type="RepositoryReferenceList" Href="{API}/backupServers/{SERVER_ID}/repositories" /></Links>
  <Description>East data centre</Description>
  <Port>9392</Port>
  <Version>12.3.1.1139</Version>
  <WcfPort>9405</WcfPort>
</BackupServer>""".encode()

REPOSITORY_XML = f"""<?xml version="1.0" encoding="utf-8"?>
<Repository xmlns="http://www.veeam.com/ent/v1.0" Type="Repository" Name="East &amp; Archive"
    Href="{API}/repositories/{REPOSITORY_ID}?format=Entity">
  <Links>
    <Link Rel="Alternate" Type="RepositoryReference" Href="{API}/repositories/{REPOSITORY_ID}" Name="East &amp; Archive" />
    <Link Rel="Up" Type="BackupServerReference" Href="{API}/backupServers/{SERVER_ID.upper()}" Name="vbr-east.example.net" />
  </Links>
  <Capacity>8000000000000</Capacity>
  <FreeSpace>600000000000</FreeSpace>
  <Kind>LinuxLocal</Kind>
</Repository>""".encode()


def entity(body: bytes) -> dict:
    return parse_document(body)[1]


def test_backup_server_as_expand_gives_it_with_its_uid():
    assert normalize_backup_server(entity(SERVER_XML)) == {
        "id": SERVER_ID,
        "uid": f"urn:veeam:BackupServer:{SERVER_ID}",
        "name": "vbr-east.example.net",
        "href": f"{API}/backupServers/{SERVER_ID.upper()}",
        "description": "East data centre",
        "port": 9392,
        "version": "12.3.1.1139",
    }


def test_repository_without_uid_takes_its_id_from_the_href_and_knows_its_server():
    repository = entity(REPOSITORY_XML)
    assert normalize_repository(repository) == {
        "id": REPOSITORY_ID,
        "name": "East & Archive",
        "href": f"{API}/repositories/{REPOSITORY_ID}",
        "capacity": 8_000_000_000_000,
        "free_space": 600_000_000_000,
        "kind": "LinuxLocal",
    }
    assert repository_server_id(repository) == SERVER_ID
    assert repository_server_id({"Links": {"Link": []}}) is None


@pytest.mark.parametrize(("capacity", "free_space", "percent"), [
    (8_000_000_000_000, 600_000_000_000, 7.5), (3, 1, 33.3), (100, 0, 0.0), (0, 0, None), (None, 5, None), (100, None, None),
])
def test_free_percent(capacity, free_space, percent):
    assert with_free_percent({"capacity": capacity, "free_space": free_space})["free_percent"] == percent


def test_one_listing_per_entity_type_page_by_page_grouped_by_server(em, client_for, monkeypatch):
    monkeypatch.setattr(_backups, "PAGE_SIZE", 2)
    selection = backup_selection([], {})
    with client_for() as client:
        servers = backup_servers(client, selection, with_backups=True)
        every_backup = get_backups(client, selection, on_missing=lambda backup_id: None)
    data = em.data
    assert [entry["backup_server"]["id"] for entry in servers] == list(data.backup_servers)
    for entry in servers:
        server_id = entry["backup_server"]["id"]
        assert [repository["id"] for repository in entry["repositories"]] == [repository.id for repository in data.repositories_of(server_id)]
        assert entry["backups"] == [backup for backup in every_backup if backup["backup_server"]["id"] == server_id]
        assert entry["backup_count"] == len(entry["backups"]) > 0
    # Logon, then pages of 2: servers, repositories, backups; then the backups again for the comparison; logoff.
    pages = [(entry["method"], parse_qs(entry["query"]).get("type", [""])[0]) for entry in em.request_log()]
    servers_pages, repository_pages, backup_pages = (-(-len(items) // 2) for items in (data.backup_servers, data.repositories, data.backups))
    assert pages == [("POST", ""), *[("GET", "BackupServer")] * servers_pages, *[("GET", "Repository")] * repository_pages,
                     *[("GET", "Backup")] * (2 * backup_pages), ("DELETE", "")]


def test_without_backups_only_their_count(em, client_for):
    with client_for() as client:
        servers = backup_servers(client, backup_selection([], {}), with_backups=False)
    assert all(set(entry) == {"backup_server", "repositories", "backup_count"} for entry in servers)
    assert sum(entry["backup_count"] for entry in servers) == len(em.data.backups)


def server(name, server_id):
    return {"id": server_id, "name": name}


IDS = [f"{index:08x}-0000-4000-8000-000000000000" for index in range(10)]


def names_of(servers, groups=("all", "ungrouped"), hosts=()):
    return host_names(servers, groups=groups, hosts=hosts, controller_names=CONTROLLER_NAMES)


def test_host_names_are_em_names_where_they_mean_nothing_else():
    servers = [server("vbr01.example.net", IDS[0]), server("{{ lookup('pipe', 'id') }}", IDS[1]), server("all", IDS[2]),
               server("ungrouped", IDS[3]), server("backup", IDS[4]), server("twin", IDS[5]), server("twin", IDS[6]),
               server("", IDS[7]), server(None, IDS[8]), server("x {% raw %}", IDS[9]), server("  ", "a" * 8 + IDS[0][8:])]
    assert names_of(servers, groups={"all", "ungrouped", "backup"}) == [
        ("vbr01.example.net", None),
        (IDS[1], "holds a template delimiter"),
        (IDS[2], "is the name of a group"),
        (IDS[3], "is the name of a group"),
        (IDS[4], "is the name of a group"),
        (IDS[5], "is shared with another backup server"),
        (IDS[6], "is shared with another backup server"),
        (IDS[7], "is empty"),
        (IDS[8], "is empty"),
        (IDS[9], "holds a template delimiter"),
        ("a" * 8 + IDS[0][8:], "is empty"),
    ]


@pytest.mark.parametrize("name", ["{# x", "a{{b", "{%"])
def test_every_template_delimiter_keeps_a_name_from_being_a_host_name(name):
    assert names_of([server(name, IDS[0])]) == [(IDS[0], "holds a template delimiter")]


@pytest.mark.parametrize("name", ["localhost", "LOCALHOST", "LocalHost", "127.0.0.1", "::1"])
def test_a_name_of_the_controller_is_never_a_host_name_in_any_case(name):
    """A host named so would replace Ansible's implicit localhost in every ``hosts: localhost`` play."""
    assert names_of([server(name, IDS[0])]) == [(IDS[0], "is a name of the controller (Ansible's implicit localhost)")]


def test_the_controller_names_are_those_given():
    """The plugin adds ansible.constants.LOCALHOST, which module_utils may not import."""
    assert host_names([server("controller.example.net", IDS[0])], groups=(), hosts=(), controller_names={"Controller.example.net"}) == [
        (IDS[0], "is a name of the controller (Ansible's implicit localhost)")]
    assert host_names([server("localhost.example.net", IDS[0])], groups=(), hosts=(), controller_names=CONTROLLER_NAMES) == [
        ("localhost.example.net", None)]


def test_a_host_of_another_source_keeps_its_name():
    """EM must not choose where Ansible connects for a host that the user defined elsewhere (host names are exact)."""
    servers = [server("vbr01.lab.local", IDS[0]), server("VBR01.lab.local", IDS[1])]
    assert names_of(servers, hosts={"vbr01.lab.local"}) == [
        (IDS[0], "is the name of a host from another inventory source"), ("VBR01.lab.local", None)]


def test_a_name_that_is_another_servers_id_does_not_merge_the_two():
    """Else 8 servers would be 7 hosts: the second one's variables over the first one's."""
    servers = [server("all", IDS[0]), server(IDS[0], IDS[1]), server("vbr02", IDS[2]), server(IDS[2], IDS[3]), server(IDS[4], IDS[4])]
    assert names_of(servers) == [
        (IDS[0], "is the name of a group"),
        (IDS[1], "is the id of another backup server"),
        ("vbr02", None),
        (IDS[3], "is the id of another backup server"),
        (IDS[4], None),  # its own id: named by it as it would be anyway
    ]
    assert len({name for name, _reason in names_of(servers)}) == len(servers)


@pytest.mark.parametrize(("groups", "hosts", "holder"), [({IDS[0]}, (), "group"), ((), {IDS[0]}, "host")])
def test_an_id_that_another_source_took_fails_before_any_host(groups, hosts, holder):
    """No name is left that neither takes another source's host or group nor loses the server."""
    with pytest.raises(VeeamEMError) as raised:
        names_of([server("vbr01", IDS[1]), server("localhost", IDS[0])], groups={"all", *groups}, hosts=hosts)
    assert str(raised.value) == (
        f"The backup server {IDS[0]} cannot be a host: its name 'localhost' is a name of the controller (Ansible's implicit localhost), and its id "
        f"is the name of a {holder} from another inventory source. Rename that {holder}, or read this EM through one inventory source only.")
    # A server named by EM's name may have an id that is taken: its host is its name.
    assert names_of([server("vbr01", IDS[0])], groups={"all", *groups}, hosts=hosts) == [("vbr01", None)]
