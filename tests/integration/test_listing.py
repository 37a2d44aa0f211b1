# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Listing, name filter, linked details and restore points: few round trips, module == lookup."""

from __future__ import annotations

import math

import pytest

import emulator as data
from conftest import connection_to

PAGE_SIZE = 1000


def listing(run_playbook, em, *selections):
    run = run_playbook("listing.yml", {"connection": connection_to(em), "selections": list(selections)})
    assert run.returncode == 0, run.output
    assert run.result["lookup"] == run.result["module"], "module and lookup must return the same backups"
    return run.result["module"]


def test_all_backups_page_by_page_in_few_requests(bulk_em, run_playbook):
    [backups] = listing(run_playbook, bulk_em, {})
    expected_ids = list(bulk_em.data.backups)
    assert len(expected_ids) > 2000
    assert [backup["id"] for backup in backups] == expected_ids
    pages = math.ceil(len(expected_ids) / PAGE_SIZE)
    # Two calls (module, lookup), each: logon + pages + logoff.
    assert bulk_em.stats()["requests"] == 2 * (pages + 2)
    assert bulk_em.stats()["connections"] == 2
    queries = [entry for entry in bulk_em.request_log() if entry["path"] == "/api/query"]
    assert len(queries) == 2 * pages


def test_expand_fetches_each_linked_entity_once(bulk_em, run_playbook):
    [backups] = listing(run_playbook, bulk_em, {"expand": ["repository", "backup_server"]})
    repositories = {backup["repository"]["id"] for backup in backups if backup["repository"]}
    servers = {backup["backup_server"]["id"] for backup in backups if backup["backup_server"]}
    pages = math.ceil(len(backups) / PAGE_SIZE)
    assert bulk_em.stats()["requests"] == 2 * (pages + 2 + len(repositories) + len(servers))
    for backup in backups:
        if backup["repository"]:
            repository = bulk_em.data.repositories[backup["repository"]["id"]]
            assert (backup["repository"]["capacity"], backup["repository"]["free_space"], backup["repository"]["kind"]) == (
                repository.capacity, repository.free_space, repository.kind)
        server = bulk_em.data.backup_servers[backup["backup_server"]["id"]]
        assert (backup["backup_server"]["port"], backup["backup_server"]["version"]) == (server.port, server.version)
        assert isinstance(backup["backup_server"]["port"], int)


def test_seed_backup_expanded_through_rebased_links(em, run_playbook):
    [backups] = listing(run_playbook, em, {"name": data.SEED_BACKUP_NAME, "expand": ["repository", "backup_server"]})
    [seed] = backups
    assert seed["repository"]["href"].startswith("http://local.host:9399/api/"), "hrefs stay as EM gives them"
    assert seed["repository"]["kind"] == "Extendable"
    assert seed["backup_server"]["name"] == data.SEED_SERVER_NAME
    assert seed["backup_server"]["version"]


NAMES = {
    "escaping": data.ESCAPE_BACKUP_NAME,
    "unicode": data.UNICODE_BACKUP_NAME,
    "spaces": data.SPACES_BACKUP_NAME,
    "slashes": data.SLASH_BACKUP_NAME,
    "filter characters": data.FILTER_CHARS_BACKUP_NAME,
    "duplicates": data.DUPLICATE_BACKUP_NAME,
}


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_name_filter_matches_exactly(em, run_playbook, name):
    [backups] = listing(run_playbook, em, {"name": name})
    expected = [backup.id for backup in em.data.backups.values() if backup.name == name]
    assert expected
    assert [backup["id"] for backup in backups] == expected
    assert all(backup["name"] == name for backup in backups)
    query = next(entry for entry in em.request_log() if entry["path"] == "/api/query")
    assert "filter=Name%3D%3D%22" in query["query"], "the name is filtered by EM, not after a full listing"


def test_duplicate_names_on_several_servers_are_all_returned(em, run_playbook):
    [backups] = listing(run_playbook, em, {"name": data.DUPLICATE_BACKUP_NAME})
    assert sorted(backup["id"] for backup in backups) == sorted(data.DUPLICATE_BACKUP_IDS)
    assert len({backup["backup_server"]["id"] for backup in backups}) == len(data.DUPLICATE_BACKUP_IDS) > 1


def test_name_filter_keeps_only_exact_case_and_spaces(em, run_playbook):
    variants = [data.SEED_BACKUP_NAME.upper(), data.SPACES_BACKUP_NAME.strip(), "No such backup"]
    results = listing(run_playbook, em, *({"name": name} for name in variants))
    assert results == [[], [], []]


def test_restore_points_of_selected_and_of_all_backups(em, run_playbook):
    by_name, everything = listing(run_playbook, em, {"name": data.SQL_BACKUP_NAME, "restore_points": True}, {"restore_points": True})
    [sql] = by_name
    expected = [point.id for point in em.data.restore_points_of(data.SQL_BACKUP_ID)]
    assert [point["id"] for point in sql["restore_points"]] == expected
    assert sql["restore_points"][0]["uid"] == f"urn:veeam:RestorePoint:{expected[0]}"
    assert sql["restore_points"][0]["backup_date_utc"].endswith("Z")
    for backup in everything:
        assert [point["id"] for point in backup["restore_points"]] == [point.id for point in em.data.restore_points_of(backup["id"])]
