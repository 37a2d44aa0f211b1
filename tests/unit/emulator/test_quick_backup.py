# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's Quick Backup: the task EM answers with, only in the logon session that started it,
the job session it starts (Working, then Stopped), the restore point a success adds, the failure,
refusal and long-run controls, and the reset that undoes it all."""
from __future__ import annotations

import time

import pytest
import requests
import xmltodict

from emulator import LEGACY_SERVER_ID, SQL_SERVER_ID, VM_LEGACY, VM_WEB, Emulator

PASSWORD = "Veeam123!"
NS = "http://www.veeam.com/ent/v1.0"


class Session:
    """A logged-on client (``verify`` on each call: REQUESTS_CA_BUNDLE overrides a Session's)."""

    def __init__(self, em: Emulator) -> None:
        self.em = em
        self.http = requests.Session()
        self.http.trust_env = False
        answer = self.http.post(f"{em.url}/api/sessionMngr/?v=latest", auth=("admin", PASSWORD), verify=em.ca_path, timeout=5)
        self.http.headers["X-RestSvcSessionId"] = answer.headers["X-RestSvcSessionId"]
        self.session_id = xmltodict.parse(answer.content)["LogonSession"]["SessionId"]

    def get(self, path: str, **params: str) -> requests.Response:
        return self.http.get(f"{self.em.url}/api/{path}", params=params, verify=self.em.ca_path, timeout=5)

    def quick_backup(self, server_id: str, vm_ref: str) -> requests.Response:
        body = f'<QuickBackupStartupSpec xmlns="{NS}"><VmRef>{vm_ref}</VmRef></QuickBackupStartupSpec>'
        return self.http.post(f"{self.em.url}/api/backupServers/{server_id}?action=quickbackup", data=body.encode(),
                              headers={"Content-Type": "application/xml"}, verify=self.em.ca_path, timeout=5)

    def logoff(self) -> None:
        self.http.delete(f"{self.em.url}/api/logonSessions/{self.session_id}", verify=self.em.ca_path, timeout=5)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory):
    with Emulator(state_dir=tmp_path_factory.mktemp("em"), password=PASSWORD, quick_backup_seconds=0.3) as em:
        yield em


@pytest.fixture
def em(emulator: Emulator):
    with emulator.test_scope():
        yield emulator


@pytest.fixture
def session(em: Emulator):
    logged_on = Session(em)
    yield logged_on
    logged_on.logoff()


def ref_of(em: Emulator, vm_name: str) -> str:
    return next(point.hierarchy_ref for point in em.data.vm_restore_points.values() if point.vm_name == vm_name)


def task(answer: requests.Response) -> dict:
    return xmltodict.parse(answer.content, force_list=("Link",))["Task"]


def test_a_quick_backup_runs_as_a_job_session_and_adds_a_restore_point(em: Emulator, session: Session) -> None:
    points = len(em.data.vm_restore_points)
    started = session.quick_backup(LEGACY_SERVER_ID, ref_of(em, VM_LEGACY))
    assert started.status_code == 202
    running = task(started)
    assert (running["TaskId"], running["State"], running["Operation"], running.get("Result")) == ("task-1", "Running", "QuickBackup", None)
    finished = task(session.get("tasks/task-1"))
    assert (finished["State"], finished["Result"]["@Success"], finished["Result"]["Message"]) == ("Finished", "true", "Ok")
    [related] = [link for link in finished["Links"]["Link"] if link["@Rel"] == "Related"]
    assert related["@Type"] == "BackupJobSession"
    session_id = related["@Href"].split("/")[-1].split("?")[0]
    working = xmltodict.parse(session.get(f"backupSessions/{session_id}", format="Entity").content)["BackupJobSession"]
    assert (working["State"], working["Result"], "EndTimeUTC" in working) == ("Working", "None", False)
    time.sleep(0.4)
    stopped = xmltodict.parse(session.get(f"backupSessions/{session_id}", format="Entity").content)["BackupJobSession"]
    assert (stopped["State"], stopped["Result"], stopped["JobName"]) == ("Stopped", "Success", "Hyper-V Cluster Backup")
    [run] = em.quick_backup_runs()
    assert len(em.data.vm_restore_points) == points + 1 and run.vm_restore_point.vm_name == VM_LEGACY
    newest = xmltodict.parse(session.get("query", type="VmRestorePoint", format="Entities", sortDesc="CreationTime",
                                         filter=f'VmDisplayName=="{VM_LEGACY}"', pageSize="1").content)
    assert newest["QueryResult"]["Entities"]["VmRestorePoints"]["VmRestorePoint"]["@UID"].endswith(run.vm_restore_point.id)
    em.reset_quick_backups()
    assert len(em.data.vm_restore_points) == points and em.quick_backup_runs() == []
    assert session.get(f"backupSessions/{session_id}", format="Entity").status_code == 404


def test_a_task_is_read_only_in_the_logon_session_that_started_it(em: Emulator, session: Session) -> None:
    session.quick_backup(SQL_SERVER_ID, ref_of(em, VM_WEB))
    other = Session(em)
    try:
        answer = other.get("tasks/task-1")
    finally:
        other.logoff()
    assert answer.status_code == 500
    assert xmltodict.parse(answer.content)["Error"]["@Message"] == "There is no backup task with id [task-1] in current rest session"


def test_a_failed_backup_stops_failed_with_the_tasks_reason(em: Emulator, session: Session) -> None:
    em.quick_backup(VM_WEB, outcome="fail", seconds=0, message="Error: <snapshot> & \"quota\"")
    session.quick_backup(SQL_SERVER_ID, ref_of(em, VM_WEB))
    session_id = task(session.get("tasks/task-1"))["Links"]["Link"][1]["@Href"].split("/")[-1].split("?")[0]
    tasks = xmltodict.parse(session.get(f"backupSessions/{session_id}/taskSessions", format="Entity").content)
    entity = tasks["BackupTaskSessions"]["BackupTaskSession"]
    assert (entity["Result"], entity["Reason"], entity["@VmDisplayName"]) == ("Failed", 'Error: <snapshot> & "quota"', VM_WEB)
    assert em.quick_backup_runs()[0].vm_restore_point is None


def test_a_refused_backup_finishes_its_task_unsuccessfully(em: Emulator, session: Session) -> None:
    em.quick_backup(VM_WEB, outcome="refuse", message="No & <way>")
    session.quick_backup(SQL_SERVER_ID, ref_of(em, VM_WEB))
    session.quick_backup(SQL_SERVER_ID, "urn:VMware:Vm:unknown.vm-1")
    refused, unknown = task(session.get("tasks/task-1")), task(session.get("tasks/task-2"))
    assert (refused["Result"]["@Success"], refused["Result"]["Message"]) == ("false", "No & <way>")
    assert unknown["Result"]["Message"] == "Cannot find VM urn:VMware:Vm:unknown.vm-1 in the jobs of backup server vbr01.lab.local."
    assert all(link["@Rel"] != "Related" for link in refused["Links"]["Link"])
    assert em.quick_backup_runs() == []


def test_a_long_backup_keeps_working(em: Emulator, session: Session) -> None:
    em.quick_backup(VM_WEB, seconds=3600)
    session.quick_backup(SQL_SERVER_ID, ref_of(em, VM_WEB))
    time.sleep(0.4)
    [run] = em.quick_backup_runs()
    assert not run.stopped and run.result == "None"


@pytest.mark.parametrize("body", [b"", b"<QuickBackupStartupSpec/>", b"not xml", f'<Other xmlns="{NS}"><VmRef>x</VmRef></Other>'.encode()])
def test_a_body_that_is_no_startup_spec_is_refused(em: Emulator, session: Session, body: bytes) -> None:
    answer = session.http.post(f"{em.url}/api/backupServers/{SQL_SERVER_ID}?action=quickbackup", data=body,
                               headers={"Content-Type": "application/xml"}, verify=em.ca_path, timeout=5)
    assert answer.status_code == 400 and em.quick_backup_runs() == []


def test_an_agent_point_has_no_hierarchy_ref_and_goes_with_the_reset(em: Emulator, session: Session) -> None:
    em.add_agent_point("agent-host01", hours_ago=3)
    found = xmltodict.parse(session.get("query", type="VmRestorePoint", format="Entities", filter='VmDisplayName=="agent-host01"').content)
    point = found["QueryResult"]["Entities"]["VmRestorePoints"]["VmRestorePoint"]
    assert "HierarchyObjRef" not in point and point["VmName"] == "agent-host01"
    em.reset_quick_backups()
    assert all(point.vm_name != "agent-host01" for point in em.data.vm_restore_points.values())
