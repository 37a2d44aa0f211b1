# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Quick Backup: options checked before any request, the body escaped, EM's task as data, and the wait
against the emulator on a clock the test drives (a timeout of an hour takes no time)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from emulator import VM_LEGACY, VM_TEMPLATE, VM_WEB

from ansible_collections.veeam_em.rest.plugins.module_utils._errors import InvalidInputError
from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import MalformedEntityError, normalize_task
from ansible_collections.veeam_em.rest.plugins.module_utils._quick_backup import (
    QuickBackupFailed,
    quick_backup,
    quick_backup_request,
    start_spec,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._xml import parse_document

NOW = datetime(2026, 12, 4, 22, 0, tzinfo=timezone.utc)
SESSION_ID = "d34e76fb-86d6-41e9-b84f-88a87b52e07a"


def request(**options):
    return quick_backup_request({"vm_names": ["web01"], **options}, NOW)


def test_defaults():
    parsed = request()
    assert (parsed.names, parsed.max_age, parsed.wait, parsed.wait_timeout, parsed.poll_interval) == (("web01",), None, True, 3600.0, 5.0)


@pytest.mark.parametrize("value, seconds", [(600, 600.0), ("600", 600.0), ("30m", 1800.0), ("2h", 7200.0), ("1d", 86400.0)])
def test_wait_timeout_in_seconds_or_as_a_duration(value, seconds):
    assert request(wait_timeout=value).wait_timeout == seconds


@pytest.mark.parametrize("options, message", [
    ({"max_age": "1 hour"}, "Invalid max_age '1 hour': expected a duration"),
    ({"max_age": "0h"}, "Invalid max_age '0h'"),
    ({"max_age": "99999999999999w"}, "Invalid max_age '99999999999999w'"),
    ({"wait_timeout": "soon"}, "Invalid wait_timeout 'soon': expected whole seconds (such as 600) or a duration"),
    ({"wait_timeout": 0}, "Invalid wait_timeout 0"),
    ({"wait_timeout": True}, "Invalid wait_timeout True"),
    ({"wait_timeout": 1.5}, "Invalid wait_timeout 1.5"),
    ({"poll_interval": 0}, "Invalid poll_interval 0: expected a whole number of seconds from 1 to 300"),
    ({"poll_interval": 301}, "Invalid poll_interval 301: expected a whole number of seconds from 1 to 300 (EM ends a logon session"),
    ({"vm_names": []}, "Give at least one VM name (vm_names)"),
    ({"vm_names": ["web01", " "]}, "Invalid VM name ' '"),
])
def test_bad_options_are_named(options, message):
    with pytest.raises(InvalidInputError) as error:
        request(**options)
    assert str(error.value).startswith(message)


def test_the_vm_reference_is_escaped_in_the_body():
    reference = 'urn:VMware:Vm:a&b<c>"d".vm-1'
    root, content = parse_document(start_spec(reference))
    assert (root, content["VmRef"], content["@xmlns"]) == ("QuickBackupStartupSpec", reference, "http://www.veeam.com/ent/v1.0")


def task_document(state, result="", links=""):
    return parse_document(f'<Task xmlns="http://www.veeam.com/ent/v1.0" Type="Task" Href="https://em/api/tasks/task-7">'
                          f'<Links><Link Rel="Delete" Type="Task" Href="https://em/api/tasks/task-7" />{links}</Links>'
                          f"<TaskId>task-7</TaskId><State>{state}</State><Operation>QuickBackup</Operation>{result}</Task>".encode())[1]


def test_a_running_task():
    expected = {"id": "task-7", "state": "Running", "finished": False, "success": None, "message": None, "session": None}
    assert normalize_task(task_document("Running")) == expected


def test_a_finished_task_names_its_job_session():
    link = f'<Link Rel="Related" Type="BackupJobSession" Href="https://em/api/backupSessions/{SESSION_ID.upper()}?format=Entity" />'
    task = normalize_task(task_document("Finished", '<Result Success="true"><Message>Ok</Message></Result>', link))
    assert (task["finished"], task["success"], task["message"]) == (True, True, "Ok")
    assert task["session"] == {"id": SESSION_ID, "name": None, "href": f"https://em/api/backupSessions/{SESSION_ID.upper()}"}


def test_a_refused_task_keeps_ems_message():
    task = normalize_task(task_document("Finished", '<Result Success="false"><Message>VM &lt;x&gt; {{ 7*7 }}</Message></Result>'))
    assert (task["success"], task["message"], task["session"]) == (False, "VM <x> {{ 7*7 }}", None)


def test_operation_finished_is_not_finished():
    assert normalize_task(task_document("OperationFinished"))["finished"] is False


@pytest.mark.parametrize("task_id", ["../backups", "task 7", ""])
def test_a_task_id_that_cannot_go_into_a_url_is_refused(task_id):
    content = task_document("Running")
    content["TaskId"] = task_id
    with pytest.raises(MalformedEntityError, match="TaskId is not an id such as task-7"):
        normalize_task(content)


class FakeClock:
    """A clock the wait reads and sleeps on: sleeping moves it on at once."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_wait_ends_at_wait_timeout_naming_the_running_session(em, client_for):
    em.quick_backup(VM_LEGACY, seconds=3600)
    em.quick_backup(VM_TEMPLATE, seconds=0)
    clock = FakeClock()
    now = datetime.now(timezone.utc)
    with pytest.raises(QuickBackupFailed) as failure:
        with client_for() as client:
            quick_backup(client, request(vm_names=[VM_LEGACY, VM_WEB, VM_TEMPLATE], max_age="3h", wait_timeout="10", poll_interval=4),
                         now - timedelta(hours=1), False, clock, clock.sleep)
    assert clock.sleeps == [4, 4, 2], "polls every poll_interval, the last sleep cut to the deadline"
    [running] = [run for run in em.quick_backup_runs() if run.vm_name == VM_LEGACY]
    assert str(failure.value) == (f"Gave up waiting 10 s (wait_timeout) after the last quick backup was started; still running: "
                                  f"VM hv-legacy in job session 'Hyper-V Cluster Backup@{running.creation_time:%Y-%m-%d %H:%M:%S}' "
                                  f"(id {running.id}). EM goes on with them: nothing was cancelled.")
    assert failure.value.changed is True
    legacy, web01, template = failure.value.vms
    assert (legacy["session"]["state"], template["session"]["result"]) == ("Working", "Success")
    assert (web01["backed_up"], web01["session"]) == (False, None), "a fresh VM is left alone, and still reported"
    tasks_read = [entry["path"] for entry in em.request_log() if entry["path"].startswith("/api/tasks/")]
    assert tasks_read == ["/api/tasks/task-1", "/api/tasks/task-2"], "a finished task is not read again"


def test_check_mode_only_reads(em, client_for):
    with client_for() as client:
        result = quick_backup(client, request(vm_names=[VM_LEGACY, VM_WEB], max_age="26h"), datetime.now(timezone.utc), True)
    assert [(item["name"], item["backed_up"]) for item in result["vms"]] == [(VM_LEGACY, True), (VM_WEB, False)]
    assert result["changed"] is True
    assert {entry["method"] for entry in em.request_log()[1:-1]} == {"GET"}


def test_fresh_vms_need_nothing(em, client_for):
    with client_for() as client:
        result = quick_backup(client, request(vm_names=[VM_WEB], max_age="26h"), datetime.now(timezone.utc) + timedelta(minutes=1), False)
    assert result["changed"] is False and result["vms"][0]["session"] is None
    assert em.quick_backup_runs() == []
