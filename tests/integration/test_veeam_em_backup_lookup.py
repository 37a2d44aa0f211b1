# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The veeam_em_backup lookup end to end: same data as the module, one session per call."""

from __future__ import annotations

import pytest
import requests

from conftest import EM_PASSWORD, EM_USERNAME

SEED_ID = "c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70"
UNKNOWN_ID = "00000000-1111-4222-8333-444444444444"


def assert_round_trips(em, requests_made, connections=1):
    stats = em.stats()
    assert (stats["requests"], stats["connections"]) == (requests_made, connections), em.request_log()


def test_lookup_equals_the_module_for_every_backup(em, connection, run_playbook):
    backup_ids = em.backup_ids()
    run = run_playbook("module_and_lookup.yml", {"connection": connection, "backup_ids": [*backup_ids, UNKNOWN_ID]})
    assert run.returncode == 0, run.output
    assert [backup["id"] for backup in run.result["module"]] == backup_ids
    assert run.result["missing"] == [UNKNOWN_ID]
    assert run.result["lookup"] == run.result["module"]
    assert em.stats()["logons"] == 2, "one session for the module's call, one for the lookup's"


@pytest.mark.parametrize("keyword, value", [("restore_point", True), ("on_mising", "warn")])
def test_unknown_keyword_fails_before_any_request_naming_it(em, connection, run_playbook, keyword, value):
    run = run_playbook("lookup.yml", {"backup_ids": [SEED_ID], "lookup_options": {**connection, keyword: value}})
    assert run.result["failed"] is True
    assert f"Unknown option '{keyword}'" in run.result["msg"]
    for known in ("restore_points", "on_missing", "expand", "name", "url", "ca_path"):
        assert known in run.result["msg"].split("options are:", 1)[1]
    assert EM_PASSWORD not in run.output
    assert_round_trips(em, 0, connections=0)


def test_three_ids_take_one_query_between_logon_and_logoff(em, connection, run_playbook):
    backup_ids = em.backup_ids()[:3]
    run = run_playbook("lookup.yml", {"backup_ids": backup_ids, "lookup_options": connection})
    assert run.returncode == 0, run.output
    assert [backup["id"] for backup in run.result["backups"]] == backup_ids
    assert_round_trips(em, 3)
    [query] = [entry for entry in em.request_log() if entry["method"] == "GET"]
    assert query["path"] == "/api/query" and all(backup_id in query["query"] for backup_id in backup_ids)


def test_hundred_ids_take_at_most_102_requests(em, connection, run_playbook):
    known = em.backup_ids()
    unknown = [f"00000000-0000-4000-8000-{n:012d}" for n in range(100 - len(known))]
    run = run_playbook("lookup.yml", {"backup_ids": [*known, *unknown], "lookup_options": {**connection, "on_missing": "skip"}})
    assert run.returncode == 0, run.output
    assert [backup["id"] for backup in run.result["backups"]] == known
    # logon, a query per 40 ids, a GET confirming each id the queries did not return, logoff
    assert_round_trips(em, 1 + 3 + len(unknown) + 1)
    assert em.stats()["requests"] <= 102


def test_session_id_means_no_logon_and_no_logoff(em, connection, run_playbook):
    logon = requests.post(f"{em.url}/api/sessionMngr/?v=latest", auth=(EM_USERNAME, EM_PASSWORD.encode()), verify=em.ca_path, timeout=5)
    token = logon.headers["X-RestSvcSessionId"]
    em.reset_stats()
    options = {"url": em.url, "session_id": token, "ca_path": em.ca_path}
    run = run_playbook("lookup.yml", {"backup_ids": [SEED_ID, SEED_ID.upper()], "lookup_options": options})
    assert run.returncode == 0, run.output
    assert [backup["id"] for backup in run.result["backups"]] == [SEED_ID, SEED_ID]
    assert [entry["method"] for entry in em.request_log()] == ["GET"], "one id, asked twice, is fetched once"
    session_id = logon.text.split("<SessionId>")[1].split("<")[0]
    requests.delete(f"{em.url}/api/logonSessions/{session_id}", headers={"X-RestSvcSessionId": token}, verify=em.ca_path, timeout=5)


@pytest.mark.parametrize("on_missing", ["error", "warn", "skip"])
def test_on_missing(em, connection, run_playbook, on_missing):
    run = run_playbook("lookup.yml", {"backup_ids": [SEED_ID, UNKNOWN_ID], "lookup_options": {**connection, "on_missing": on_missing}})
    warning = f"Backup {UNKNOWN_ID} was not found on EM (HTTP 404); it is left out."
    if on_missing == "error":
        assert run.result["failed"] is True
        assert f"Backup {UNKNOWN_ID} was not found on EM (HTTP 404)." in run.result["msg"]
    else:
        assert run.returncode == 0, run.output
        assert [backup["id"] for backup in run.result["backups"]] == [SEED_ID]
        assert (warning in " ".join(run.output.split())) == (on_missing == "warn")
    assert_round_trips(em, 4)


def test_options_from_variables(em, connection, run_playbook):
    variables = {f"veeam_em_{name}": value for name, value in connection.items()}
    run = run_playbook("lookup.yml", {"backup_ids": [SEED_ID], **variables})
    assert run.returncode == 0, run.output
    assert run.result["backups"][0]["name"] == "Simple backup_1"


def test_options_from_environment(em, em_environment, run_playbook):
    run = run_playbook("lookup.yml", {"backup_ids": [SEED_ID]}, env=em_environment)
    assert run.returncode == 0, run.output
    assert run.result["backups"][0]["name"] == "Simple backup_1"


def test_keyword_beats_variable_and_environment(em, connection, em_environment, run_playbook):
    wrong = {**em_environment, "VEEAM_EM_PASSWORD": "wrong-from-env"}
    run = run_playbook("lookup.yml", {"backup_ids": [SEED_ID], "veeam_em_password": "wrong-from-var",
                                      "lookup_options": {"password": EM_PASSWORD}}, env=wrong)
    assert run.returncode == 0, run.output


def test_invalid_term_fails_before_any_request(em, connection, run_playbook):
    run = run_playbook("lookup.yml", {"backup_ids": [SEED_ID, "../sessionMngr"], "lookup_options": connection})
    assert run.result["failed"] is True
    assert "Invalid backup id '../sessionMngr'" in run.result["msg"]
    assert_round_trips(em, 0, connections=0)


def test_failures_log_off_and_keep_secrets_out_of_vvvv(em, connection, run_playbook):
    em.inject("status", method="GET", status=500, message="Object reference not set to an instance of an object.", times=None)
    run = run_playbook("lookup.yml", {"backup_ids": [SEED_ID], "lookup_options": connection}, "-vvvv")
    assert run.result["failed"] is True
    assert "EM answered HTTP 500 for GET" in run.result["msg"]
    assert "Object reference not set to an instance of an object." in run.result["msg"]
    assert em.request_log()[-1]["method"] == "DELETE"
    for secret in [EM_PASSWORD, *em.issued_tokens()]:
        assert secret not in run.output
