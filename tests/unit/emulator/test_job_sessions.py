# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's jobs, job sessions and task sessions: their routes, entities shaped as Veeam documents
them, the query types Job, BackupJobSession and BackupTaskSession, the Backup query's JobUid, and the
generated jobs of the cost tests."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import xmltodict

from emulator import (
    DUPLICATE_BACKUP_NAME,
    DUPLICATE_JOB_IDS,
    END_PLACEHOLDER,
    MARKUP_REASON,
    NEVER_RUN_JOB_ID,
    RUNNING_JOB_ID,
    SQL_BACKUP_ID,
    SQL_JOB_ID,
    VM_LEGACY,
    Emulator,
    bulk_job_id,
    bulk_job_result,
)

PASSWORD = "Veeam123!"
LISTS = ("Link", "Ref", "Job", "BackupJobSession", "BackupTaskSession")


class Session:
    """A logged-on keep-alive client (``verify`` on each call: REQUESTS_CA_BUNDLE overrides a Session's)."""

    def __init__(self, em: Emulator) -> None:
        self.em = em
        self.http = requests.Session()
        self.http.trust_env = False
        logon = self.http.post(f"{em.url}/api/sessionMngr/?v=latest", auth=("admin", PASSWORD), verify=em.ca_path, timeout=10)
        assert logon.status_code == 201
        self.http.headers["X-RestSvcSessionId"] = logon.headers["X-RestSvcSessionId"]

    def get(self, path: str, **params: str) -> requests.Response:
        return self.http.get(f"{self.em.url}/api{path}", params=params, verify=self.em.ca_path, timeout=10)

    def parsed(self, path: str, **params: str) -> dict:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return xmltodict.parse(response.content, force_list=lambda path, key, _value: bool(path) and key in LISTS)

    def query(self, query_type: str, **params: str) -> list[dict]:
        result = self.parsed("/query", type=query_type, format="Entities", **params)["QueryResult"]["Entities"]
        plural = next(iter(result))
        return (result[plural] or {}).get(query_type, [])


@pytest.fixture(scope="module")
def em(tmp_path_factory: pytest.TempPathFactory):
    with Emulator(state_dir=tmp_path_factory.mktemp("em"), password=PASSWORD) as emulator:
        yield emulator


@pytest.fixture
def session(em: Emulator) -> Session:
    return Session(em)


def _links(element: dict) -> list[tuple[str, str | None]]:
    return [(link["@Rel"], link.get("@Type")) for link in element["Links"]["Link"]]


def test_jobs_list_and_entity(em: Emulator, session: Session) -> None:
    refs = session.parsed("/jobs")["EntityReferences"]["Ref"]
    assert [ref["@UID"] for ref in refs] == [f"urn:veeam:Job:{job_id}" for job_id in em.data.jobs]
    job = session.parsed(f"/jobs/{SQL_JOB_ID.upper()}", format="Entity")["Job"]
    assert _links(job) == [("Up", "BackupServerReference"), ("Alternate", "JobReference"), ("Down", "BackupJobSessionReferenceList"),
                           ("Start", None), ("Retry", None)]
    assert [key for key in job if not key.startswith("@")] == ["Links", "JobType", "Platform", "Description", "ScheduleConfigured",
                                                               "ScheduleEnabled"]
    sessions = session.parsed(f"/jobs/{SQL_JOB_ID}/backupSessions")["EntityReferences"]["Ref"]
    assert len(sessions) == len(em.data.sessions_of_job(SQL_JOB_ID)) == 5
    assert session.get(f"/jobs/{NEVER_RUN_JOB_ID}/backupSessions").status_code == 200
    assert session.get("/jobs/00000000-0000-4000-8000-000000000000").status_code == 404


def test_backup_sessions_lists_the_last_30_days_only(em: Emulator, session: Session) -> None:
    refs = session.parsed("/backupSessions")["EntityReferences"]["Ref"]
    bound = em.data.now - timedelta(days=30)
    assert {ref["@UID"].rsplit(":", 1)[1] for ref in refs} == {s.id for s in em.data.job_sessions.values() if s.creation_time >= bound}
    assert len(refs) < len(em.data.job_sessions), "the SQL Backup run of 45 days ago is left out"
    assert _links(refs[0]) == [("Up", "BackupServerReference"), ("Up", "JobReference"), ("Alternate", "BackupJobSession"),
                               ("Down", "BackupTaskSessionReferenceList")]


def test_a_job_session_as_documented_and_a_running_one_without_end(em: Emulator, session: Session) -> None:
    done = em.data.sessions_of_job(SQL_JOB_ID)[-1]
    entity = session.parsed(f"/backupSessions/{done.id}", format="Entity")["BackupJobSession"]
    assert [key for key in entity if not key.startswith("@")] == ["Links", "JobUid", "JobName", "JobType", "CreationTimeUTC", "EndTimeUTC",
                                                                  "State", "Result", "Progress", "IsRetry"]
    assert (entity["State"], entity["Result"], entity["IsRetry"]) == ("Stopped", "Failed", "true")
    running = em.data.sessions_of_job(RUNNING_JOB_ID)[-1]
    entity = session.parsed(f"/backupSessions/{running.id}", format="Entity")["BackupJobSession"]
    assert "EndTimeUTC" not in entity and (entity["State"], entity["Result"], entity["Progress"]) == ("Working", "None", "42")


def test_task_sessions_with_reasons_and_the_placeholder_of_a_running_one(em: Emulator, session: Session) -> None:
    running = em.data.sessions_of_job(RUNNING_JOB_ID)[-1]
    refs = session.parsed(f"/backupSessions/{running.id}/taskSessions")["EntityReferences"]["Ref"]
    assert len(refs) == 2 and all(ref["@Type"] == "BackupTaskSessionReference" for ref in refs)
    task = next(task for task in em.data.tasks_of_session(running.id) if task.vm_name == VM_LEGACY)
    entity = session.parsed(f"/backupTaskSessions/{task.id}", format="Entity")["BackupTaskSession"]
    assert (entity["@VmDisplayName"], entity["State"], entity["Result"]) == (VM_LEGACY, "InProgress", "None")
    assert entity["EndTimeUTC"].startswith(f"{END_PLACEHOLDER:%Y-%m-%d}") and entity["Reason"] is None
    markup = next(task for task in em.data.task_sessions.values() if task.reason == MARKUP_REASON)
    assert session.parsed(f"/backupTaskSessions/{markup.id}", format="Entity")["BackupTaskSession"]["Reason"] == MARKUP_REASON


def test_queries_on_job_sessions_and_tasks(em: Emulator, session: Session) -> None:
    newest = session.query("BackupJobSession", filter='JobName=="sql backup"', sortDesc="CreationTime", pageSize="1")
    assert [entity["@UID"] for entity in newest] == [f"urn:veeam:BackupJobSession:{em.data.sessions_of_job(SQL_JOB_ID)[-1].id}"]
    twins = session.query("BackupJobSession", filter=f'JobName=="{DUPLICATE_BACKUP_NAME}"')
    assert {entity["JobUid"] for entity in twins} == {f"urn:veeam:Job:{job_id}" for job_id in DUPLICATE_JOB_IDS}
    failed = session.query("BackupJobSession", filter="Result==Failed;IsRetry==true")
    assert [entity["JobUid"] for entity in failed] == [f"urn:veeam:Job:{SQL_JOB_ID}"]
    tasks = session.query("BackupTaskSession", filter=f'JobSessionUid=="urn:veeam:BackupJobSession:{em.data.sessions_of_job(SQL_JOB_ID)[-2].id}"')
    assert sorted(entity["@VmDisplayName"] for entity in tasks) == ['db "01" prod', "sql01", "web01"]
    jobs = session.query("Job", filter=f'Name=="{DUPLICATE_BACKUP_NAME.upper()}"')
    assert {entity["@UID"] for entity in jobs} == {f"urn:veeam:Job:{job_id}" for job_id in DUPLICATE_JOB_IDS}, "EM's filter ignores case"
    backups = session.parsed("/query", type="Backup", filter=f'JobUid=="urn:veeam:Job:{SQL_JOB_ID}"')["QueryResult"]["Refs"]["Ref"]
    assert [ref["@UID"] for ref in backups] == [f"urn:veeam:Backup:{SQL_BACKUP_ID}"], "a backup is its job's: same name, same server"


def test_generated_jobs_are_named_and_placed_as_the_generated_backups(tmp_path) -> None:
    em = Emulator(tmp_path, bulk=40, bulk_jobs=40, bulk_job_sessions=30)
    assert len(em.data.job_sessions) == 40 * 30 + 12
    for index in (0, 3, 7, 19, 39):
        job = em.data.jobs[bulk_job_id(index)]
        backup = next(backup for backup in em.data.backups.values() if backup.name == job.name)
        assert em.data.job_of_backup(backup) is job
        newest = em.data.sessions_of_job(job.id)[-1]
        assert newest.result == bulk_job_result(index)
        stale = em.data.now - newest.creation_time > timedelta(days=2)
        assert stale is (index % 20 == 19), "every 20th job last ran days ago"
    assert [bulk_job_result(index) for index in range(10)].count("Failed") == 1
