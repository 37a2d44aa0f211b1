# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module and lookup against bodies shaped like Veeam's documented ones (documented_em.py):
the contract holds, parents get their real names, empty elements are empty strings."""

from __future__ import annotations

import pytest

import documented_em as doc
from conftest import EM_PASSWORD, EM_USERNAME

STANDARD_BACKUP = {
    "id": doc.STANDARD_ID,
    "uid": f"urn:veeam:Backup:{doc.STANDARD_ID}",
    "name": doc.STANDARD_NAME,
    "href": f"{doc.EM_BASE}/backups/{doc.STANDARD_ID}",
    "platform": "VMware",
    "backup_type": "Standard",
    "repository": {"id": doc.REPOSITORY_ID, "name": doc.REPOSITORY_NAME, "href": f"{doc.EM_BASE}/repositories/{doc.REPOSITORY_ID}"},
    "backup_server": {"id": doc.SERVER_ID, "name": doc.SERVER_NAME, "href": f"{doc.EM_BASE}/backupServers/{doc.SERVER_ID}"},
    "parent_backup": None,
    "links": [
        {"rel": "Up", "type": "RepositoryReference", "name": doc.REPOSITORY_NAME, "href": f"{doc.EM_BASE}/repositories/{doc.REPOSITORY_ID}"},
        {"rel": "Up", "type": "BackupServerReference", "name": doc.SERVER_NAME, "href": f"{doc.EM_BASE}/backupServers/{doc.SERVER_ID}"},
        {"rel": "Alternate", "type": "BackupReference", "name": doc.STANDARD_NAME, "href": f"{doc.EM_BASE}/backups/{doc.STANDARD_ID}"},
        {"rel": "Down", "type": "RestorePointReferenceList", "name": None, "href": f"{doc.EM_BASE}/backups/{doc.STANDARD_ID}/restorePoints"},
        {"rel": "Down", "type": "BackupFileReferenceList", "name": None, "href": f"{doc.EM_BASE}/backups/{doc.STANDARD_ID}/backupFiles"},
    ],
}
PARENT = {"id": doc.PARENT_ID, "name": doc.PARENT_NAME, "href": f"{doc.EM_BASE}/backups/{doc.PARENT_ID}"}
GONE_PARENT = {"id": doc.GONE_PARENT_ID, "name": None, "href": f"{doc.EM_BASE}/backups/{doc.GONE_PARENT_ID}"}
LOGON, QUERY, LOGOFF = ("POST", "/api/sessionMngr/"), ("GET", "/api/query"), "DELETE"


@pytest.fixture(scope="module")
def documented_server(tmp_path_factory):
    with doc.DocumentedEM(tmp_path_factory.mktemp("documented-em"), EM_USERNAME, EM_PASSWORD) as server:
        yield server


@pytest.fixture
def documented(documented_server):
    """The server, fresh for this test; the test fails if it leaves an EM session open."""
    documented_server.reset()
    yield documented_server
    assert documented_server.live_sessions() == 0, "an EM session was left open"


def connection_to(server) -> dict:
    return {"url": server.url, "username": EM_USERNAME, "password": EM_PASSWORD, "ca_path": server.ca_path, "timeout": 5, "retries": 1}


def module(run_playbook, server, **module_args):
    run = run_playbook("backup_info.yml", {"module_args": {**connection_to(server), **module_args}})
    assert run.returncode == 0, run.output
    return run.result


def lookup(run_playbook, server, ids, **options):
    run = run_playbook("lookup.yml", {"backup_ids": ids, "lookup_options": {**connection_to(server), **options}})
    assert run.returncode == 0 and "backups" in run.result, run.output
    return run.result["backups"]


def requests_between_logon_and_logoff(server) -> list[tuple[str, str]]:
    log = server.requests()
    assert log[0] == LOGON and log[-1][0] == LOGOFF, log
    return log[1:-1]


def test_backup_entity_with_byte_order_mark_declaration_and_schemas_normalizes_to_the_contract(documented, run_playbook):
    result = module(run_playbook, documented, id=doc.STANDARD_ID)
    assert result["backups"] == [STANDARD_BACKUP]
    assert result["missing"] == []
    assert requests_between_logon_and_logoff(documented) == [("GET", f"/api/backups/{doc.STANDARD_ID}")]
    assert lookup(run_playbook, documented, [doc.STANDARD_ID]) == [STANDARD_BACKUP]


def test_parent_and_child_listed_together_cost_no_extra_request(documented, run_playbook):
    result = module(run_playbook, documented, id=[doc.CHILD_IDS[0], doc.PARENT_ID])
    child, parent = result["backups"]
    assert (child["backup_type"], parent["backup_type"]) == ("ChildBackup", "ParentBackup")
    assert child["parent_backup"] == PARENT, "the parent's real name, not EM's 'Parent Backup'"
    assert requests_between_logon_and_logoff(documented) == [QUERY]
    documented.reset()
    assert lookup(run_playbook, documented, [doc.CHILD_IDS[0], doc.PARENT_ID]) == result["backups"]
    assert requests_between_logon_and_logoff(documented) == [QUERY]


def test_children_read_without_their_parent_read_it_once(documented, run_playbook):
    result = module(run_playbook, documented, id=list(doc.CHILD_IDS))
    assert [backup["parent_backup"] for backup in result["backups"]] == [PARENT, PARENT]
    assert requests_between_logon_and_logoff(documented) == [QUERY, ("GET", f"/api/backups/{doc.PARENT_ID}")]
    assert documented.connections() == 1


def test_a_parent_em_answers_404_for_has_no_name_and_the_call_succeeds(documented, run_playbook):
    result = module(run_playbook, documented, id=list(doc.ORPHAN_IDS))
    assert [backup["parent_backup"] for backup in result["backups"]] == [GONE_PARENT, GONE_PARENT]
    assert requests_between_logon_and_logoff(documented) == [QUERY, ("GET", f"/api/backups/{doc.GONE_PARENT_ID}")]
    assert result["missing"] == []


def test_full_listing_reads_only_the_parent_that_is_not_listed(documented, run_playbook):
    backups = module(run_playbook, documented)["backups"]
    assert [backup["id"] for backup in backups] == [backup.id for backup in doc.BACKUPS]
    parents = {backup["id"]: backup["parent_backup"] for backup in backups}
    assert [parents[child_id] for child_id in (*doc.CHILD_IDS, *doc.ORPHAN_IDS)] == [PARENT, PARENT, GONE_PARENT, GONE_PARENT]
    assert requests_between_logon_and_logoff(documented) == [QUERY, ("GET", f"/api/backups/{doc.GONE_PARENT_ID}")]


def test_backup_server_with_empty_description_gives_an_empty_string(documented, run_playbook):
    [backup] = module(run_playbook, documented, id=doc.STANDARD_ID, expand=["backup_server", "repository"])["backups"]
    assert backup["backup_server"] == {**STANDARD_BACKUP["backup_server"], "description": "", "port": 9392, "version": "12.3.1.1139"}
    assert backup["repository"]["capacity"] == 54975581388800
    assert requests_between_logon_and_logoff(documented)[1:] == [
        ("GET", f"/api/backupServers/{doc.SERVER_ID}"), ("GET", f"/api/repositories/{doc.REPOSITORY_ID}")]
