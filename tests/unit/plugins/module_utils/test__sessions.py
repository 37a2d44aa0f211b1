# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Job sessions and task sessions: the entities as data, the selection checked before any request, and
each job's newest session found through sorted, windowed queries of the emulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest

from emulator import DUPLICATE_JOB_IDS, ESCAPE_JOB_ID, RUNNING_JOB_ID, SQL_JOB_ID, UNICODE_JOB_ID

from ansible_collections.veeam_em.rest.plugins.module_utils._errors import InvalidInputError, NotFoundError
from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import (
    MalformedEntityError,
    normalize_job_session,
    normalize_task_session,
    task_session_job_session,
    task_session_job_session_id,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._sessions import (
    add_tasks,
    job_session,
    job_sessions,
    parse_job_id,
    session_selection,
    sort_sessions,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._xml import parse_document

NOW = datetime(2026, 12, 4, 22, 0, 0, tzinfo=timezone.utc)
EM = "https://em01.example.test:9398/api"
SESSION_ID = "d46e39e0-1131-4585-91a7-e828ce7eafae"
JOB_ID = "4856ab37-2235-45e8-affe-d515878b01a9"
SERVER_ID = "ce15a8c7-aa49-495e-b05b-ee3398c91018"
TASK_ID = "88767486-89d6-4340-92f0-2ad615a8f21b"


def session_entity(body: str, uid: str = f"urn:veeam:BackupJobSession:{SESSION_ID}") -> dict:
    """A <BackupJobSession> with the links Veeam documents."""
    _root, content = parse_document(
        f'<BackupJobSession xmlns="http://www.veeam.com/ent/v1.0" Type="BackupJobSession" Href="{EM}/backupSessions/{SESSION_ID}?format=Entity" '
        f'Name="Files &amp; more@2026-12-04 20:00:09.607" UID="{uid}"><Links>'
        f'<Link Rel="Up" Type="BackupServerReference" Href="{EM}/backupServers/{SERVER_ID}" Name="srv02" />'
        f'<Link Rel="Up" Type="JobReference" Href="{EM}/jobs/{JOB_ID}" Name="Files &amp; more" />'
        f'<Link Rel="Stop" Href="{EM}/backupSessions/{SESSION_ID}?action=stop" />'
        f"</Links>{body}</BackupJobSession>".encode())
    return content


def task_entity(body: str, attributes: str = 'VmDisplayName="srv04"') -> dict:
    _root, content = parse_document(
        f'<BackupTaskSession xmlns="http://www.veeam.com/ent/v1.0" Href="{EM}/backupTaskSessions/{TASK_ID}?format=Entity" '
        f'Name="srv04@2026-12-04 20:01:00" UID="urn:veeam:BackupTaskSession:{TASK_ID}" {attributes}><Links>'
        f'<Link Rel="Up" Type="BackupJobSessionReference" Href="{EM}/backupSessions/{SESSION_ID}" Name="Files@2026-12-04 20:00:09" />'
        f"</Links>{body}</BackupTaskSession>".encode())
    return content


def test_a_job_session_as_documented():
    session = normalize_job_session(session_entity(
        f"<JobUid>urn:veeam:Job:{JOB_ID.upper()}</JobUid><JobName>Files &amp; more</JobName><JobType>Backup</JobType>"
        "<CreationTimeUTC>2026-12-04T20:00:09.607Z</CreationTimeUTC><EndTimeUTC>2026-12-04T20:02:54.717Z</EndTimeUTC>"
        "<State>Stopped</State><Result>Warning</Result><Progress>100</Progress><IsRetry>true</IsRetry>"))
    assert session == {
        "id": SESSION_ID, "uid": f"urn:veeam:BackupJobSession:{SESSION_ID}", "name": "Files & more@2026-12-04 20:00:09.607",
        "job": {"id": JOB_ID, "name": "Files & more", "href": f"{EM}/jobs/{JOB_ID}"}, "job_type": "Backup",
        "backup_server": {"id": SERVER_ID, "name": "srv02", "href": f"{EM}/backupServers/{SERVER_ID}"},
        "creation_time_utc": "2026-12-04T20:00:09.607Z", "end_time_utc": "2026-12-04T20:02:54.717Z", "state": "Stopped",
        "result": "Warning", "progress": 100, "is_retry": True, "href": f"{EM}/backupSessions/{SESSION_ID}",
    }


@pytest.mark.parametrize("end", ["", "<EndTimeUTC>1900-01-01T00:00:00Z</EndTimeUTC>", "<EndTimeUTC />"])
def test_a_running_session_has_null_result_and_end(end):
    session = normalize_job_session(session_entity(
        f"<CreationTimeUTC>2026-12-04T20:00:09Z</CreationTimeUTC>{end}<State>Working</State><Result>None</Result>"
        "<Progress>42</Progress><IsRetry>false</IsRetry>"))
    assert (session["result"], session["end_time_utc"], session["progress"], session["is_retry"]) == (None, None, 42, False)
    assert session["job"] == {"id": JOB_ID, "name": "Files & more", "href": f"{EM}/jobs/{JOB_ID}"}, "from the link without JobUid"


def test_a_session_whose_id_is_no_uuid_is_refused_by_name():
    with pytest.raises(MalformedEntityError, match="job session named 'Files & more@"):
        normalize_job_session(session_entity("", uid="urn:veeam:BackupJobSession:../../logonSessions"))


def test_a_task_as_documented_with_its_reason_exactly():
    reason = "<b>Error</b>: \"quoted\" | {{ 7*7 }}\nnext line"
    task = normalize_task_session(task_entity(
        f"<JobSessionUid>urn:veeam:BackupJobSession:{SESSION_ID}</JobSessionUid><CreationTimeUTC>2026-12-04T20:01:00Z</CreationTimeUTC>"
        "<EndTimeUTC>2026-12-04T20:05:00Z</EndTimeUTC><State>Completed</State><Result>Failed</Result>"
        f"<Reason>{reason.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</Reason><TotalSize>64424509440</TotalSize>"))
    assert task == {"id": TASK_ID, "vm_name": "srv04", "state": "Completed", "result": "Failed", "reason": reason,
                    "creation_time_utc": "2026-12-04T20:01:00Z", "end_time_utc": "2026-12-04T20:05:00Z", "total_size": 64424509440}
    assert task_session_job_session_id(task_entity(f"<JobSessionUid>urn:veeam:BackupJobSession:{SESSION_ID.upper()}</JobSessionUid>")) == SESSION_ID
    assert task_session_job_session(task_entity("")) == {"id": SESSION_ID, "name": "Files@2026-12-04 20:00:09", "href": f"{EM}/backupSessions/{SESSION_ID}"}


def test_a_running_task_and_one_without_reason_or_display_name():
    task = normalize_task_session(task_entity(
        "<EndTimeUTC>1900-01-01T00:00:00Z</EndTimeUTC><State>InProgress</State><Result>None</Result><Reason />", attributes=""))
    assert (task["vm_name"], task["result"], task["end_time_utc"], task["reason"], task["total_size"]) == ("srv04", None, None, "", None)
    assert task_session_job_session_id(task_entity("")) == SESSION_ID, "from the link without JobSessionUid"


@pytest.mark.parametrize("names, ids, options, message", [
    ([""], [], {}, "Invalid job name ''"),
    (["a\nb"], [], {}, "Invalid job name 'a\\nb'"),
    ([3], [], {}, "Invalid job name 3"),
    ([], ["nope"], {}, "Invalid job id 'nope' in job_ids"),
    ([], [f"urn:veeam:Backup:{JOB_ID}"], {}, "Invalid job id"),
    (["SQL Backup"], [], {"latest": False}, "latest=false returns every session"),
    (["SQL Backup"], [], {"since": "26 hours"}, "Invalid since '26 hours'"),
])
def test_bad_selections_are_refused(names, ids, options, message):
    with pytest.raises(InvalidInputError) as caught:
        session_selection(names, ids, options, NOW)
    assert message in str(caught.value)


def test_a_selection_takes_ids_as_given_and_since_as_a_moment():
    selection = session_selection(["SQL Backup"], [f"URN:VEEAM:JOB:{JOB_ID.upper()}"], {"latest": False, "since": "7d", "tasks": True}, NOW)
    assert (selection.job_names, selection.job_ids, selection.latest, selection.since, selection.tasks) == (
        ("SQL Backup",), (f"URN:VEEAM:JOB:{JOB_ID.upper()}",), False, NOW - timedelta(days=7), True)
    assert parse_job_id(JOB_ID.upper()) == parse_job_id(f"urn:veeam:Job:{JOB_ID}") == JOB_ID


def test_sessions_are_ordered_by_job_name_server_and_id_newest_first():
    def session(session_id, job_name, job_id, server, created):
        return {"id": session_id, "job": {"id": job_id, "name": job_name}, "backup_server": {"name": server}, "creation_time_utc": created}
    sessions = [session("1", "b", "j2", "S2", "2026-12-01T00:00:00Z"), session("2", "B", "j3", "s1", "2026-12-02T00:00:00Z"),
                session("3", "a", "j1", "x", "2026-11-30T00:00:00Z"), session("4", "b", "j2", "S2", "2026-12-03T00:00:00Z"),
                session("3", "a", "j1", "x", "2026-11-30T00:00:00Z")]
    assert [item["id"] for item in sort_sessions(sessions)] == ["3", "2", "4", "1"]


def _queries(em):
    return [parse_qs(entry["query"]) for entry in em.request_log() if entry["path"] == "/api/query"]


def test_one_job_by_name_is_a_job_query_and_a_page_of_one_session(em, client_for):
    with client_for() as client:
        sessions, missing = job_sessions(client, ["SQL Backup"])
    assert [session["job"]["id"] for session in sessions] == [SQL_JOB_ID] and sessions[0]["is_retry"] and missing == []
    job_query, session_query = _queries(em)
    assert job_query["type"] == ["Job"] and job_query["filter"] == ['Name=="SQL Backup"']
    assert session_query["filter"] == [f'JobUid=="urn:veeam:Job:{SQL_JOB_ID}"'] and session_query["pageSize"] == ["1"]
    assert session_query["sortDesc"] == ["CreationTime"]


def test_windows_widen_only_for_the_jobs_left_without_a_session(em, client_for):
    with client_for() as client:
        sessions, missing = job_sessions(client, job_ids=[SQL_JOB_ID, UNICODE_JOB_ID, RUNNING_JOB_ID, DUPLICATE_JOB_IDS[1]], now=em.data.now)
    assert {session["job"]["id"] for session in sessions} == {SQL_JOB_ID, UNICODE_JOB_ID, RUNNING_JOB_ID, DUPLICATE_JOB_IDS[1]}
    first, *later = _queries(em)
    assert first["filter"][0].count("JobUid==") == 4 and ";CreationTime>=" in first["filter"][0]
    # The Unicode-named job last ran 20 days ago: alone after the last day, asked about without a bound.
    assert [query["filter"][0] for query in later] == [f'JobUid=="urn:veeam:Job:{UNICODE_JOB_ID}"']
    assert missing == []


def test_every_job_reads_the_window_without_a_job_filter(em, client_for):
    with client_for() as client:
        sessions, _missing = job_sessions(client, now=em.data.now)
    assert len(sessions) == 6
    job_query, window, *rest = _queries(em)
    assert job_query["type"] == ["Job"] and "filter" not in job_query
    assert window["filter"][0].startswith("CreationTime>=") and "JobUid" not in window["filter"][0]
    assert all("JobUid==" in query["filter"][0] for query in rest)


def test_tasks_are_one_query_per_forty_sessions_ordered_by_vm_name(em, client_for):
    with client_for() as client:
        sessions, _missing = job_sessions(client, job_ids=[ESCAPE_JOB_ID, SQL_JOB_ID], latest=False, since=em.data.now - timedelta(days=60))
        em.reset_stats()
        add_tasks(client, sessions)
    [query] = _queries(em)
    assert query["type"] == ["BackupTaskSession"] and query["filter"][0].count("JobSessionUid==") == 6
    for session in sessions:
        assert [task["vm_name"] for task in session["tasks"]] == sorted((task.vm_name for task in em.data.tasks_of_session(session["id"])),
                                                                        key=lambda name: (name.casefold(), name))


def test_one_session_by_id_with_its_tasks(em, client_for):
    source = em.data.sessions_of_job(SQL_JOB_ID)[-2]
    with client_for() as client:
        session = job_session(client, source.id)
        with pytest.raises(NotFoundError):
            job_session(client, "00000000-0000-4000-8000-000000000000")
    assert session["id"] == source.id and [task["vm_name"] for task in session["tasks"]] == ['db "01" prod', "sql01", "web01"]
    assert em.stats()["requests_by_route"]["GET /api/backupsessions/<object_id>"] == 2


@pytest.mark.parametrize("stem", ["j" * 200, "作" * 72], ids=["200 ASCII", "72 CJK"])
def test_a_hundred_long_job_names_make_no_request_line_over_8_kib(em, client_for, stem):
    names = [f"{index:02d}{stem}"[:len(stem)] for index in range(100)]
    with client_for() as client:
        sessions, missing = job_sessions(client, names, latest=False, since=em.data.now - timedelta(days=1))
        assert (sessions, missing) == ([], names)
        sessions, missing = job_sessions(client, names)
    assert (sessions, missing) == ([], names)
    queries = [entry for entry in em.request_log() if entry["path"] == "/api/query"]
    assert queries and all(entry["status"] == 200 for entry in queries)
    assert max(len(f"GET {entry['path']}?{entry['query']} HTTP/1.1") for entry in queries) <= 8 * 1024
    job_queries = [parse_qs(entry["query"]) for entry in queries if "type=Job&" in entry["query"]]
    assert {term for query in job_queries for term in query["filter"][0].split(",")} == {f'Name=="{name}"' for name in names}


def test_a_job_name_too_long_for_any_request_is_refused_before_any_request():
    with pytest.raises(InvalidInputError, match="is too long to be sent to EM as a JobName"):
        session_selection(["SQL Backup", "作" * 1000], [], {}, NOW)
