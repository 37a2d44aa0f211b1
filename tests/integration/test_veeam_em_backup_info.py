# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""veeam_em_backup_info end to end: real ansible processes, the emulator over HTTPS."""

from __future__ import annotations

import math
import random
import socket

import requests

from conftest import EM_PASSWORD, connection_to
from emulator import CHILD_BACKUP_ID, SQL_BACKUP_ID, bulk_backup_id

SEED_ID = "c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70"
UNKNOWN_ID = "00000000-1111-4222-8333-444444444444"
EM_HOST = "http://local.host:9399/api"
REPOSITORY = {
    "id": "b8832f03-2c9e-4222-8d0b-e43e0c912f93",
    "name": "Scale-out Backup Repository 2",
    "href": f"{EM_HOST}/repositories/b8832f03-2c9e-4222-8d0b-e43e0c912f93",
}
BACKUP_SERVER = {
    "id": "8c88c6d6-931f-4044-8c0b-7a0c5f188b00",
    "name": "local.host",
    "href": f"{EM_HOST}/backupServers/8c88c6d6-931f-4044-8c0b-7a0c5f188b00",
}
SEED_BACKUP = {
    "id": SEED_ID,
    "uid": f"urn:veeam:Backup:{SEED_ID}",
    "name": "Simple backup_1",
    "href": f"{EM_HOST}/backups/{SEED_ID}",
    "platform": "CustomPlatform",
    "backup_type": "ParentBackup",
    "repository": REPOSITORY,
    "backup_server": BACKUP_SERVER,
    "parent_backup": None,
    "links": [
        {"rel": "Up", "type": "RepositoryReference", **{key: REPOSITORY[key] for key in ("name", "href")}},
        {"rel": "Up", "type": "BackupServerReference", **{key: BACKUP_SERVER[key] for key in ("name", "href")}},
        {"rel": "Alternate", "type": "BackupReference", "name": "Simple backup_1", "href": f"{EM_HOST}/backups/{SEED_ID}"},
        {"rel": "Up", "type": "BackupList", "name": None, "href": f"{EM_HOST}/backups/{SEED_ID}/childbackups?format=Entity"},
    ],
}


def assert_round_trips(em, requests_made, connections=1):
    stats = em.stats()
    assert (stats["requests"], stats["connections"]) == (requests_made, connections), em.request_log()


def test_playbook_returns_the_seed_backup_in_three_requests_on_one_connection(em, connection, run_playbook):
    run = run_playbook("backup_info.yml", {"module_args": {**connection, "id": SEED_ID}})
    assert run.returncode == 0, run.output
    assert run.result["changed"] is False
    assert run.result["backups"] == [SEED_BACKUP]
    assert "warnings" not in run.result
    assert_round_trips(em, 3)
    assert [(entry["method"], entry["status"]) for entry in em.request_log()] == [("POST", 201), ("GET", 200), ("DELETE", 204)]


def test_adhoc_command_with_connection_from_environment(em, em_environment, run_adhoc):
    run = run_adhoc("veeam_em.rest.veeam_em_backup_info", f"id=urn:veeam:Backup:{SEED_ID.upper()}", env=em_environment)
    assert run.returncode == 0, run.output
    assert run.result["backups"] == [SEED_BACKUP]
    assert_round_trips(em, 3)


def test_module_defaults_group_and_check_mode(em, connection, run_playbook):
    run = run_playbook("module_defaults.yml", {"connection": connection, "backup_uid": f"urn:veeam:Backup:{SEED_ID}"}, "--check")
    assert run.returncode == 0, run.output
    assert run.result["backups"] == [SEED_BACKUP]
    assert_round_trips(em, 3)


def test_unknown_id_gives_an_empty_list(em, connection, run_playbook):
    run = run_playbook("backup_info.yml", {"module_args": {**connection, "id": UNKNOWN_ID}})
    assert run.returncode == 0, run.output
    assert run.result["backups"] == []
    assert_round_trips(em, 3)


def test_many_ids_in_one_session_in_the_order_given_with_the_missing_ones(em, connection, run_playbook):
    other_unknown = "99999999-1111-4222-8333-444444444444"
    given = [SQL_BACKUP_ID, UNKNOWN_ID.upper(), f"urn:veeam:Backup:{SEED_ID.upper()}", other_unknown, CHILD_BACKUP_ID]
    run = run_playbook("backup_info.yml", {"module_args": {**connection, "ids": given}})
    assert run.returncode == 0, run.output
    assert [backup["id"] for backup in run.result["backups"]] == [SQL_BACKUP_ID, SEED_ID, CHILD_BACKUP_ID]
    assert run.result["backups"][1] == SEED_BACKUP
    assert run.result["missing"] == [UNKNOWN_ID.upper(), other_unknown], "as given, in the order given"
    assert run.result["backups"][2]["parent_backup"]["name"] == "Simple backup_1", "the parent is among the backups"
    # logon, one query for the five ids, a GET confirming each id it did not return, logoff
    assert_round_trips(em, 1 + 1 + 2 + 1)
    assert em.stats()["logons"] == em.stats()["logoffs"] == 1


def test_missing_is_not_returned_without_ids(em, connection, run_playbook):
    run = run_playbook("backup_info.yml", {"module_args": {**connection, "name": "SQL Backup"}})
    assert run.returncode == 0, run.output
    assert "missing" not in run.result
    run = run_playbook("backup_info.yml", {"module_args": {**connection, "id": SEED_ID}})
    assert run.result["missing"] == []


def test_hundred_ids_module_and_lookup_make_the_same_requests(bulk_em, run_playbook):
    known = [bulk_backup_id(index) for index in range(0, 900, 10)]
    unknown = [f"00000000-0000-4000-8000-{n:012d}" for n in range(10)]
    given = [*known, *unknown]
    random.Random(10).shuffle(given)
    connection = connection_to(bulk_em)
    module = run_playbook("backup_info.yml", {"module_args": {**connection, "id": given}})
    assert module.returncode == 0, module.output
    module_stats = bulk_em.stats()
    bulk_em.reset_stats()
    lookup = run_playbook("lookup.yml", {"backup_ids": given, "lookup_options": {**connection, "on_missing": "skip"}})
    assert lookup.returncode == 0, lookup.output
    lookup_stats = bulk_em.stats()
    assert [backup["id"] for backup in module.result["backups"]] == [backup_id for backup_id in given if backup_id in known]
    assert module.result["missing"] == [backup_id for backup_id in given if backup_id in unknown]
    assert module.result["backups"] == lookup.result["backups"], "module == lookup, item for item"
    # logon, a query per 40 ids, a GET confirming each id the queries did not return, logoff
    expected = 1 + math.ceil(len(given) / 40) + len(unknown) + 1
    assert (module_stats["requests"], module_stats["connections"], module_stats["logons"]) == (expected, 1, 1)
    assert (lookup_stats["requests"], lookup_stats["connections"], lookup_stats["logons"]) == (expected, 1, 1)


def test_every_backup_of_the_data_set_normalizes_consistently(em, connection, run_playbook):
    for backup_id in em.backup_ids():
        run = run_playbook("backup_info.yml", {"module_args": {**connection, "id": backup_id}})
        assert run.returncode == 0, run.output
        [backup] = run.result["backups"]
        assert backup["id"] == backup_id and backup["uid"] == f"urn:veeam:Backup:{backup_id}"
        assert all(key.isidentifier() for key in backup)
        for link_type, key in (("RepositoryReference", "repository"), ("BackupServerReference", "backup_server")):
            links = [link for link in backup["links"] if link["type"] == link_type]
            assert (backup[key]["name"] if backup[key] else None) == (links[0]["name"] if links else None)
        assert (backup["parent_backup"] is not None) == (backup["backup_type"] == "ChildBackup")


def test_existing_session_is_used_as_is_and_not_logged_off(em, connection, run_playbook):
    logon = requests.post(f"{em.url}/api/sessionMngr/?v=latest", auth=(connection["username"], EM_PASSWORD.encode()), verify=em.ca_path, timeout=5)
    token = logon.headers["X-RestSvcSessionId"]
    em.reset_stats()
    module_args = {"url": em.url, "session_id": token, "ca_path": em.ca_path, "id": SEED_ID}
    run = run_playbook("backup_info.yml", {"module_args": module_args})
    assert run.returncode == 0, run.output
    assert run.result["backups"] == [SEED_BACKUP]
    assert_round_trips(em, 1)
    assert em.stats()["live_sessions"] == 1
    session_id = logon.text.split("<SessionId>")[1].split("<")[0]
    requests.delete(f"{em.url}/api/logonSessions/{session_id}", headers={"X-RestSvcSessionId": token}, verify=em.ca_path, timeout=5)


def test_secrets_never_reach_the_output_at_vvvv(em, connection, run_playbook):
    run = run_playbook("backup_info.yml", {"module_args": {**connection, "id": SEED_ID}}, "-vvvv")
    assert run.returncode == 0, run.output
    tokens = em.issued_tokens()
    assert tokens, "the run logged on"
    for secret in [EM_PASSWORD, *tokens]:
        assert secret not in run.output
        assert secret not in str(run.result)


# Failures: each is asserted by what the user reads.

def test_wrong_password_fails_as_authentication(em, connection, run_playbook):
    run = run_playbook("backup_info.yml", {"module_args": {**connection, "password": "not-the-Password-42", "id": SEED_ID}}, "-vvvv")
    assert run.result["failed"] is True
    assert "refused the logon of user 'svc-ansible' (HTTP 401)" in run.result["msg"]
    assert "not-the-Password-42" not in run.output
    assert_round_trips(em, 1)


def test_invalid_ids_fail_before_any_request(em, connection, run_playbook):
    for bad_id in ("abc", "../sessionMngr", "urn:veeam:Repository:b8832f03-2c9e-4222-8d0b-e43e0c912f93", f"{SEED_ID}/restorePoints"):
        run = run_playbook("backup_info.yml", {"module_args": {**connection, "id": bad_id}})
        assert run.result["failed"] is True
        assert f"Invalid backup id {bad_id!r}" in run.result["msg"]
    run = run_playbook("backup_info.yml", {"module_args": {**connection, "id": [SEED_ID, UNKNOWN_ID, "not-a-backup"]}})
    assert run.result["failed"] is True
    assert "Invalid backup id 'not-a-backup'" in run.result["msg"], "an id among valid ones is named"
    assert_round_trips(em, 0, connections=0)


def test_untrusted_certificate_fails_by_default_with_a_fix(em, connection, run_playbook):
    module_args = {key: value for key, value in connection.items() if key != "ca_path"}
    run = run_playbook("backup_info.yml", {"module_args": {**module_args, "id": SEED_ID}})
    assert run.result["failed"] is True
    assert "Could not verify the TLS certificate of EM at 127.0.0.1" in run.result["msg"]
    assert "ca_path" in run.result["msg"]
    assert em.stats()["requests"] == 0


def test_validate_certs_false_works_and_warns(em, connection, run_playbook):
    module_args = {key: value for key, value in connection.items() if key != "ca_path"}
    run = run_playbook("backup_info.yml", {"module_args": {**module_args, "validate_certs": False, "id": SEED_ID}})
    assert run.returncode == 0, run.output
    assert run.result["backups"] == [SEED_BACKUP]
    assert [warning for warning in run.result["warnings"] if "validate_certs is false" in warning]


def test_unreachable_em_names_host_and_port(em, connection, run_playbook):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    run = run_playbook("backup_info.yml", {"module_args": {**connection, "url": f"https://127.0.0.1:{closed_port}", "id": SEED_ID}})
    assert run.result["failed"] is True
    assert f"Could not reach EM at 127.0.0.1:{closed_port}" in run.result["msg"]
    assert "Connection refused" in run.result["msg"]
    assert "Traceback" not in run.output


def test_missing_credentials_are_explained(em, connection, run_playbook):
    module_args = {"url": em.url, "ca_path": em.ca_path, "id": SEED_ID}
    run = run_playbook("backup_info.yml", {"module_args": module_args})
    assert run.result["failed"] is True
    assert "EM credentials are missing: set username and password" in run.result["msg"]
    assert em.stats()["requests"] == 0
