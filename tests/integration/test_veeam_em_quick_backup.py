# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""veeam_em_quick_backup end to end: a stale VM backed up once in one EM session, idempotent within
max_age, check mode reading only, backups side by side, each failure named with EM's words, and a
logoff whatever happens (the ``em`` fixture fails a test that leaves a session open)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import requests

import emulator as data
from conftest import BIN_DIR, EM_PASSWORD, EM_USERNAME, PLAYBOOKS, connection_to

#: Four VMs on two backup servers: three in "SQL Backup" on vbr01, one in the Hyper-V job on 10.0.0.15.
FOUR_VMS = [data.VM_WEB, data.VM_SQL, data.VM_QUOTED, data.VM_LEGACY]


def quick_backup(run_playbook, em, names, options=None, *args):
    run = run_playbook("quick_backup.yml", {"connection": connection_to(em), "vm_names": names, "qb_options": options or {}}, *args)
    assert run.result is not None, run.output
    assert EM_PASSWORD not in run.output and not any(token in run.output for token in em.issued_tokens())
    return run.result


def requests_of(em):
    """(method, path) of each request, the logon and the logoff named as such."""
    named = []
    for entry in em.request_log():
        if entry["path"] == "/api/sessionMngr/":
            named.append("logon")
        elif entry["method"] == "DELETE":
            named.append("logoff")
        elif entry["method"] == "POST":
            named.append(f"POST {entry['path']}?{entry['query']}")
        else:
            named.append(f"GET {entry['path']}")
    return named


def newest_point(em, name):
    return max((point for point in em.data.vm_restore_points.values() if point.vm_name == name), key=lambda point: point.creation_time)


def assert_one_session(em):
    stats = em.stats()
    assert (stats["logons"], stats["logoffs"], stats["live_sessions"]) == (1, 1, 0), em.request_log()
    assert requests_of(em)[-1] == "logoff"


def test_a_stale_vm_gets_one_quick_backup_then_none_within_max_age(em, run_playbook):
    before = newest_point(em, data.VM_LEGACY)
    result = quick_backup(run_playbook, em, [data.VM_LEGACY], {"max_age": "1h"})
    assert result["changed"] is True and not result.get("failed"), result
    [run] = em.quick_backup_runs()
    [item] = result["vms"]
    assert item["name"] == data.VM_LEGACY and item["backed_up"] is True
    assert item["latest_restore_point"]["id"] == run.vm_restore_point.id != before.id
    assert item["latest_restore_point"]["backup"]["name"] == data.NO_REPOSITORY_BACKUP_NAME
    session = item["session"]
    assert (session["id"], session["state"], session["result"], session["job"]["name"]) == (run.id, "Stopped", "Success", data.NO_REPOSITORY_BACKUP_NAME)
    assert session["backup_server"]["id"] == data.LEGACY_SERVER_ID
    assert [(task["vm_name"], task["result"], task["reason"]) for task in session["tasks"]] == [(data.VM_LEGACY, "Success", "")]
    assert requests_of(em).count(f"POST /api/backupServers/{data.LEGACY_SERVER_ID}?action=quickbackup") == 1
    assert_one_session(em)
    print(f"one stale VM, backup of 1 s, poll_interval 1: {em.stats()['requests']} requests")  # the report's figure
    assert em.stats()["requests"] <= 12, requests_of(em)

    em.reset_stats()
    again = quick_backup(run_playbook, em, [data.VM_LEGACY], {"max_age": "1h"})
    assert again["changed"] is False and not again.get("failed"), again
    assert again["vms"] == [{"name": data.VM_LEGACY, "backed_up": False, "latest_restore_point": item["latest_restore_point"], "session": None}]
    assert not [name for name in requests_of(em) if name.startswith("POST /api/backupServers")]
    assert len(em.quick_backup_runs()) == 1
    assert_one_session(em)

    em.reset_stats()
    always = quick_backup(run_playbook, em, [data.VM_LEGACY])
    assert always["changed"] is True and always["vms"][0]["backed_up"] is True
    assert len(em.quick_backup_runs()) == 2, "without max_age the VM is always backed up"
    assert always["vms"][0]["latest_restore_point"]["id"] == em.quick_backup_runs()[1].vm_restore_point.id


def test_check_mode_starts_nothing_and_only_reads(em, run_playbook):
    result = quick_backup(run_playbook, em, [data.VM_LEGACY, data.VM_WEB], {"max_age": "26h"}, "--check")
    assert result["changed"] is True and not result.get("failed"), result
    assert [(item["name"], item["backed_up"], item["session"]) for item in result["vms"]] == [(data.VM_LEGACY, True, None), (data.VM_WEB, False, None)]
    assert result["vms"][0]["latest_restore_point"]["id"] == newest_point(em, data.VM_LEGACY).id
    assert em.quick_backup_runs() == []
    assert {entry["method"] for entry in em.request_log()[1:-1]} == {"GET"}
    assert_one_session(em)


#: How long each of the four side-by-side backups runs in EM.
BACKUP_SECONDS = 3


def test_four_vms_on_two_servers_are_all_started_first_and_take_the_time_of_one(em, run_playbook):
    for name in FOUR_VMS:
        em.quick_backup(name, seconds=BACKUP_SECONDS)
    result = quick_backup(run_playbook, em, FOUR_VMS, {"poll_interval": 1})
    assert result["changed"] is True and not result.get("failed"), result
    runs = {run.vm_name: run for run in em.quick_backup_runs()}
    assert [item["name"] for item in result["vms"]] == FOUR_VMS
    for item in result["vms"]:
        assert item["backed_up"] is True and item["session"]["result"] == "Success", item
        assert item["latest_restore_point"]["id"] == runs[item["name"]].vm_restore_point.id
    names = requests_of(em)
    posts = [index for index, name in enumerate(names) if name.startswith("POST /api/backupServers")]
    polls = [index for index, name in enumerate(names) if name.startswith("GET /api/tasks/")]
    assert len(posts) == 4 and max(posts) < min(polls), names
    assert {names[index].split("/")[3].split("?")[0] for index in posts} == {data.SQL_SERVER_ID, data.LEGACY_SERVER_ID}
    log = em.request_log()
    took = log[-1]["time"] - log[posts[0]]["time"]
    print(f"four VMs, backups of {BACKUP_SECONDS} s each: {took:.1f} s from the first start to the logoff, {len(log)} requests")
    # One after another they would take 4 * BACKUP_SECONDS; side by side one, plus a poll and Ansible's own time on a busy machine.
    assert took < 2 * BACKUP_SECONDS, f"side by side, four {BACKUP_SECONDS} s backups take about {BACKUP_SECONDS} s, not {4 * BACKUP_SECONDS}"
    assert max(run.creation_time for run in runs.values()) < min(run.end_time for run in runs.values())
    assert_one_session(em)


def test_a_failed_backup_fails_with_the_vm_session_and_ems_reason(em, run_playbook):
    before = newest_point(em, data.VM_WEB)
    em.quick_backup(data.VM_WEB, outcome="fail")
    result = quick_backup(run_playbook, em, [data.VM_WEB, data.VM_LEGACY])
    assert result["failed"] is True and result["changed"] is True
    runs = {run.vm_name: run for run in em.quick_backup_runs()}
    failed = runs[data.VM_WEB]
    assert result["msg"] == (f"VM {data.VM_WEB}: the quick backup failed in job session '{data.SQL_BACKUP_NAME}@"
                             f"{failed.creation_time:%Y-%m-%d %H:%M:%S}' (id {failed.id}): {failed.reason}.")
    assert "{{ 7*7 }}" in result["msg"] and "<vim.fault.TaskInProgress>" in result["msg"], "EM's text, as it is"
    web01, legacy = result["vms"]
    assert web01["backed_up"] is True and web01["latest_restore_point"]["id"] == before.id, "the earlier point"
    assert (web01["session"]["result"], web01["session"]["tasks"][0]["reason"]) == ("Failed", failed.reason)
    assert legacy["session"]["result"] == "Success" and legacy["latest_restore_point"]["id"] == runs[data.VM_LEGACY].vm_restore_point.id
    assert_one_session(em)


def test_a_refused_backup_fails_with_ems_message(em, run_playbook):
    em.quick_backup(data.VM_SQL, outcome="refuse", message="Job \"SQL Backup\" is disabled & <locked>")
    result = quick_backup(run_playbook, em, [data.VM_SQL, data.VM_APP], {"max_age": "1h"})
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"] == ('VM sql01: EM refused the quick backup (task task-1): Job "SQL Backup" is disabled & <locked>. '
                             f"VM app01: EM refused the quick backup (task task-2): VM app01 is not processed by any job of "
                             f"backup server {data.SEED_SERVER_NAME}.")
    assert [(item["backed_up"], item["session"]) for item in result["vms"]] == [(True, None), (True, None)]
    assert em.quick_backup_runs() == []
    assert_one_session(em)


def test_a_vm_without_a_point_or_hierarchy_ref_starts_nothing_for_any_vm(em, run_playbook):
    em.add_agent_point("agent-host01", hours_ago=40)
    em.add_agent_point("agent-fresh", hours_ago=0.5)
    result = quick_backup(run_playbook, em, [data.VM_LEGACY, "agent-host01", "agent-fresh", "nowhere01", "WEB01"], {"max_age": "1h"})
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == (
        "No quick backup was started, since not every VM due for one can have one. "
        "VM agent-host01: its newest restore point has no HierarchyObjRef (an agent backup, or an older EM): EM cannot back it up on demand. "
        "VM nowhere01: EM has no restore point of it, so no job that protects it is known. "
        "VM WEB01: EM has no restore point of it, so no job that protects it is known.")
    assert [item["backed_up"] for item in result["vms"]] == [False] * 5
    assert result["vms"][2]["latest_restore_point"]["hierarchy_obj_ref"] is None, "a fresh VM needs nothing, whatever its point holds"
    assert em.quick_backup_runs() == [] and "POST" not in {entry["method"] for entry in em.request_log()[1:]}
    assert_one_session(em)


def test_a_timeout_names_the_running_session_and_leaves_it_to_em(em, run_playbook):
    em.quick_backup(data.VM_WEB, seconds=3600)
    result = quick_backup(run_playbook, em, [data.VM_WEB, data.VM_LEGACY], {"wait_timeout": 2, "poll_interval": 1})
    assert result["failed"] is True and result["changed"] is True
    running = next(run for run in em.quick_backup_runs() if run.vm_name == data.VM_WEB)
    assert result["msg"] == (f"Gave up waiting 2 s (wait_timeout) after the last quick backup was started; still running: "
                             f"VM web01 in job session '{data.SQL_BACKUP_NAME}@{running.creation_time:%Y-%m-%d %H:%M:%S}' (id {running.id}). "
                             "EM goes on with them: nothing was cancelled.")
    web01, legacy = result["vms"]
    assert (web01["session"]["id"], web01["session"]["state"], web01["session"]["result"]) == (running.id, "Working", None)
    assert legacy["session"]["result"] == "Success"
    log = em.request_log()
    last_start = max(entry["time"] for entry in log if entry["method"] == "POST" and "quickbackup" in entry["query"])
    waited = log[-1]["time"] - last_start
    assert 2 <= waited < 5, f"gave up {waited:.1f} s after the last start"
    assert not running.stopped, "nothing is cancelled"
    assert_one_session(em)


def test_wait_false_returns_the_running_session(em, run_playbook):
    before = newest_point(em, data.VM_WEB)
    em.quick_backup(data.VM_WEB, seconds=3600)
    started = time.monotonic()
    result = quick_backup(run_playbook, em, [data.VM_WEB], {"wait": False})
    assert time.monotonic() - started < 30
    assert result["changed"] is True and not result.get("failed"), result
    [item] = result["vms"]
    [run] = em.quick_backup_runs()
    assert item["backed_up"] is True and item["latest_restore_point"]["id"] == before.id
    assert (item["session"]["id"], item["session"]["state"], item["session"]["result"], item["session"]["end_time_utc"]) == (run.id, "Working", None, None)
    assert [task["state"] for task in item["session"]["tasks"]] == ["InProgress"]
    assert_one_session(em)


def test_an_error_while_polling_names_what_was_started_and_logs_off(em, run_playbook):
    em.inject("status", method="GET", path="^/api/tasks/", status=500, message="Internal error")
    result = quick_backup(run_playbook, em, [data.VM_WEB])
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"].startswith("EM answered HTTP 500 for GET ")
    assert result["msg"].endswith("Quick backups already started, which EM goes on with: VM web01 (task task-1).")
    assert_one_session(em)


def test_tasks_belong_to_the_logon_session_that_started_them(em, run_playbook):
    """Why one EM session from the first request to the last: EM answers 500 for a task in any other."""
    quick_backup(run_playbook, em, [data.VM_LEGACY])
    logon = requests.post(f"{em.url}/api/sessionMngr/", params={"v": "latest"}, auth=(EM_USERNAME, EM_PASSWORD.encode()),
                          verify=em.ca_path, timeout=5)
    headers = {"X-RestSvcSessionId": logon.headers["X-RestSvcSessionId"]}
    try:
        answer = requests.get(f"{em.url}/api/tasks/task-1", headers=headers, verify=em.ca_path, timeout=5)
    finally:
        session_id = logon.text.split("<SessionId>")[1].split("<")[0]
        requests.delete(f"{em.url}/api/logonSessions/{session_id}", headers=headers, verify=em.ca_path, timeout=5)
    assert answer.status_code == 500 and "There is no backup task with id [task-1] in current rest session" in answer.text


def test_ctrl_c_while_waiting_logs_off(em, ansible_env, tmp_path):
    em.quick_backup(data.VM_WEB, seconds=3600)
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps({"connection": connection_to(em), "vm_names": [data.VM_WEB], "result_file": str(tmp_path / "r.json")}))
    process = subprocess.Popen([str(BIN_DIR / "ansible-playbook"), str(PLAYBOOKS / "quick_backup.yml"), "-e", f"@{extra}"],
                               env=ansible_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not any(entry["path"].startswith("/api/tasks/") for entry in em.request_log()):
            assert time.monotonic() < deadline and process.poll() is None, "the backup was never polled"
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
        output = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0, output
    deadline = time.monotonic() + 10
    while em.stats()["live_sessions"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert em.stats()["logoffs"] == 1, em.request_log()


def test_bad_options_fail_before_any_request(em, run_playbook):
    """Each option's check is unit-tested (test__quick_backup.py); here, that the module makes no request first."""
    result = quick_backup(run_playbook, em, [data.VM_WEB], {"max_age": "1 hour"})
    assert result["failed"] is True and result["msg"].startswith("Invalid max_age '1 hour': expected a duration"), result
    assert em.stats()["requests"] == 0
