# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""veeam_em_backup_session_info, the veeam_em_backup_session lookup and the failed_jobs filter end to end:
each job's newest run (retries, running runs, two jobs of one name, exact names), every run since a
moment, each VM's result with EM's reason exactly, the failed jobs, and what it costs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs

import pytest

import emulator as data
from conftest import EM_PASSWORD, EM_USERNAME, connection_to
from emulator import Emulator

NAMES = [data.SQL_BACKUP_NAME, "zz-unknown", data.DUPLICATE_BACKUP_NAME, "sql backup", data.NO_REPOSITORY_BACKUP_NAME,
         data.NEVER_RUN_JOB_NAME, data.ESCAPE_BACKUP_NAME]
#: Jobs that generated emulators hold, for the cost bounds of the issue.
HUNDRED_JOBS, THIRTY_SESSIONS = 100, 30
#: 7 fixed jobs plus 105 generated ones, 12 + 105 * 29 = 3,057 sessions.
EVERY_JOB_BULK, EVERY_JOB_SESSIONS = 105, 29


def _date(text):
    return datetime.fromisoformat(text)


def run_sessions(run_playbook, em, names=(), options=None, *args, job_ids=(), with_lookup=True, results=("Failed",)):
    run = run_playbook("backup_sessions.yml", {"connection": connection_to(em), "job_names": list(names), "job_ids": list(job_ids),
                                               "session_options": options or {}, "with_lookup": with_lookup,
                                               "results": list(results)}, *args)
    assert run.returncode == 0 and run.result and not run.result.get("failed"), run.output
    return run.result


def failure(run_playbook, em, names=(), options=None, job_ids=()):
    run = run_playbook("backup_sessions.yml", {"connection": connection_to(em), "job_names": list(names), "job_ids": list(job_ids),
                                               "session_options": options or {}, "with_lookup": False})
    assert run.result and run.result.get("failed"), run.output
    assert "Traceback" not in run.output and EM_PASSWORD not in run.output
    return run.result["msg"]


def expected_order(em, jobs):
    """The module's order of jobs: name without regard to case, backup server name, job id."""
    return sorted(jobs, key=lambda job: (job.name.casefold(), em.data.backup_servers[job.server_id].name.casefold(), job.id))


def newest(em, job):
    sessions = em.data.sessions_of_job(job.id)
    return max(sessions, key=lambda session: session.creation_time) if sessions else None


def queries(em):
    return [parse_qs(entry["query"]) for entry in em.request_log() if entry["path"] == "/api/query"]


def assert_only_queries(em):
    """Never a GET per session or task: logon, queries, logoff."""
    routes = set(em.stats()["requests_by_route"])
    assert routes <= {"POST /api/sessionmngr/", "GET /api/query", "DELETE /api/logonsessions/<session_id>"}, routes


def test_the_newest_session_of_each_job_named(em, run_playbook):
    result = run_sessions(run_playbook, em, NAMES, {}, "--check")
    assert result["lookup"] == result["module"], "module and lookup return the same"
    assert em.stats()["logons"] == em.stats()["logoffs"] == 2, "one EM session for the module, one for the lookup"
    jobs = expected_order(em, [job for job in em.data.jobs.values() if job.name in NAMES and newest(em, job)])
    assert [session["id"] for session in result["module"]] == [newest(em, job).id for job in jobs]
    assert [session["job"]["id"] for session in result["module"] if session["job"]["name"] == data.DUPLICATE_BACKUP_NAME] == \
        [job.id for job in jobs if job.name == data.DUPLICATE_BACKUP_NAME] and len(data.DUPLICATE_JOB_IDS) == 2, \
        "two jobs of one name on two servers, both"
    assert result["missing"] == ["zz-unknown", "sql backup", data.NEVER_RUN_JOB_NAME], "a name in another case is missing"
    by_job = {session["job"]["id"]: session for session in result["module"]}
    retry = by_job[data.SQL_JOB_ID]
    assert retry["is_retry"] is True and retry["result"] == "Failed", "a failed run followed by a failed retry gives the retry"
    running = by_job[data.RUNNING_JOB_ID]
    assert running["result"] is None and running["end_time_utc"] is None and running["state"] == "Working"
    assert running["progress"] == 42 and isinstance(running["progress"], int)
    assert all("tasks" not in session for session in result["module"])


def test_a_session_as_documented_in_four_requests_without_a_get_per_session(em, run_playbook):
    [session] = run_sessions(run_playbook, em, [data.SQL_BACKUP_NAME], with_lookup=False)["module"]
    assert em.stats()["requests"] <= 4, em.request_log()
    assert_only_queries(em)
    source = em.data.job_sessions[session["id"]]
    server = em.data.backup_servers[data.SQL_SERVER_ID]
    assert session == {
        "id": source.id, "uid": f"urn:veeam:BackupJobSession:{source.id}", "name": em.data.session_name(source),
        "job": {"id": data.SQL_JOB_ID, "name": data.SQL_BACKUP_NAME, "href": f"{data.EM_HREF_BASE}/api/jobs/{data.SQL_JOB_ID}"},
        "job_type": "Backup",
        "backup_server": {"id": server.id, "name": server.name, "href": f"{data.EM_HREF_BASE}/api/backupServers/{server.id}"},
        "creation_time_utc": session["creation_time_utc"], "end_time_utc": session["end_time_utc"],
        "state": "Stopped", "result": "Failed", "progress": 100, "is_retry": True,
        "href": f"{data.EM_HREF_BASE}/api/backupSessions/{source.id}",
    }
    assert _date(session["creation_time_utc"]) == source.creation_time and _date(session["end_time_utc"]) == source.end_time


def test_job_ids_as_uuid_or_urn_with_missing_in_order(em, run_playbook):
    unknown = "00000000-0000-4000-8000-000000000001"
    ids = [f"URN:veeam:Job:{data.SQL_JOB_ID.upper()}", unknown, data.ESCAPE_JOB_ID, data.NEVER_RUN_JOB_ID]
    result = run_sessions(run_playbook, em, job_ids=ids, with_lookup=False)
    assert [session["job"]["id"] for session in result["module"]] == [data.ESCAPE_JOB_ID, data.SQL_JOB_ID]
    assert result["missing"] == [unknown, data.NEVER_RUN_JOB_ID], "as given, in the order given"


def test_the_job_name_alias(em, em_environment, run_adhoc):
    run = run_adhoc("veeam_em.rest.veeam_em_backup_session_info", f"job_name='{data.SQL_BACKUP_NAME}'", env=em_environment)
    assert run.returncode == 0 and run.result, run.output
    assert [session["job"]["id"] for session in run.result["sessions"]] == [data.SQL_JOB_ID] and run.result["missing"] == []


# The other refusals are unit tests of session_selection.
@pytest.mark.parametrize("options, job_ids, named", [
    ({}, ["not-a-uuid"], "Invalid job id 'not-a-uuid' in job_ids"),
    ({"latest": False}, [], "set since too"),
])
def test_bad_input_fails_before_any_request_naming_it(em, run_playbook, options, job_ids, named):
    assert named in failure(run_playbook, em, [data.SQL_BACKUP_NAME], options, job_ids)
    assert em.stats()["requests"] == 0


def test_every_session_since_newest_first(em, run_playbook):
    since = datetime.now(timezone.utc) - timedelta(hours=60)
    result = run_sessions(run_playbook, em, [data.SQL_BACKUP_NAME, data.DUPLICATE_BACKUP_NAME],
                          {"latest": False, "since": since.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert result["lookup"] == result["module"]
    jobs = expected_order(em, [job for job in em.data.jobs.values() if job.name in (data.SQL_BACKUP_NAME, data.DUPLICATE_BACKUP_NAME)])
    expected = [session.id for job in jobs for session in sorted(em.data.sessions_of_job(job.id), key=lambda s: s.creation_time, reverse=True)
                if session.creation_time >= since.replace(microsecond=0)]
    assert [session["id"] for session in result["module"]] == expected and len(expected) == 6
    everything = run_sessions(run_playbook, em, [data.SQL_BACKUP_NAME], {"latest": False, "since": "60d"}, with_lookup=False)
    assert len(everything["module"]) == len(em.data.sessions_of_job(data.SQL_JOB_ID)) == 5, "older than the 30 days /backupSessions lists"


def test_tasks_with_reasons_exactly_and_the_failed_jobs(em, run_playbook):
    names = [data.SQL_BACKUP_NAME, data.ESCAPE_BACKUP_NAME, data.NO_REPOSITORY_BACKUP_NAME, data.DUPLICATE_BACKUP_NAME]
    result = run_sessions(run_playbook, em, names, {"tasks": True})
    assert result["lookup"] == result["module"]
    for session in result["module"]:
        tasks = sorted(em.data.tasks_of_session(session["id"]), key=lambda task: (task.vm_name.casefold(), task.vm_name))
        assert [task["id"] for task in session["tasks"]] == [task.id for task in tasks]
        for task, source in zip(session["tasks"], tasks):
            assert task["vm_name"] == source.vm_name and task["reason"] == source.reason, "EM's text exactly"
            assert task["total_size"] == source.total_size
            running = source.result == "None"
            assert task["result"] == (None if running else source.result)
            assert (task["end_time_utc"] is None) is running, "the 1900-01-01 placeholder is null"
    reasons = {task["reason"] for session in result["module"] for task in session["tasks"]}
    assert {data.RETRY_REASON, data.MARKUP_REASON, data.TEMPLATE_REASON} <= reasons
    assert result["failed_module"] == result["failed_lookup"]
    assert [(finding["kind"], finding["id"]) for finding in result["failed_module"]] == \
        [("failed_job", data.ESCAPE_JOB_ID), ("failed_job", data.SQL_JOB_ID)]
    escape = result["failed_module"][0]
    assert escape["name"] == data.ESCAPE_BACKUP_NAME and escape["result"] == "Failed"
    assert escape["session"] == newest(em, em.data.jobs[data.ESCAPE_JOB_ID]).id
    assert data.MARKUP_REASON in escape["message"] and data.TEMPLATE_REASON in escape["message"], "never templated"
    assert data.SQL_SERVER_NAME in escape["message"]
    sql = result["failed_module"][1]
    assert f'{data.VM_WEB}: Failed: "{data.RETRY_REASON}"' in sql["message"] and "(a retry)" in sql["message"]
    assert result["messages"] == [finding["message"] for finding in result["failed_module"]], "kept as data when templated again"
    assert not (Path.cwd() / "veeam_em_pwned_by_reason").exists()


def test_the_filter_takes_other_results(em, run_playbook):
    result = run_sessions(run_playbook, em, [data.DUPLICATE_BACKUP_NAME, data.SQL_BACKUP_NAME], results=["Failed", "Warning"])
    assert [finding["id"] for finding in result["failed_module"]] == [data.DUPLICATE_JOB_IDS[1], data.SQL_JOB_ID]
    assert [finding["result"] for finding in result["failed_module"]] == ["Warning", "Failed"]
    assert result["failed_lookup"] == result["failed_module"]


@pytest.mark.parametrize("expression, message", [
    ("[{'name': 'SQL Backup'}] | veeam_em.rest.failed_jobs", "veeam_em.rest.failed_jobs: item 0 is no job session"),
    ("[] | veeam_em.rest.failed_jobs(results=[3])", "veeam_em.rest.failed_jobs: results takes a list of EM's session results"),
])
def test_the_filter_refuses_what_it_cannot_judge(run_adhoc, expression, message):
    run = run_adhoc("ansible.builtin.debug", f"msg={{{{ {expression} }}}}")
    assert run.returncode != 0
    assert message in run.output and "Traceback" not in run.output


def test_every_job_that_has_a_session(em, run_playbook):
    result = run_sessions(run_playbook, em)
    assert result["lookup"] == result["module"] and result["missing"] == []
    jobs = expected_order(em, [job for job in em.data.jobs.values() if newest(em, job)])
    assert [session["id"] for session in result["module"]] == [newest(em, job).id for job in jobs]


def test_an_account_that_may_not_list_jobs_gets_every_jobs_newest_session(em, run_playbook):
    expected = run_sessions(run_playbook, em, with_lookup=False)["module"]
    em.inject("status", method="GET", path="^/api/query$", times=1, status=403, message="Access denied.")
    result = run_sessions(run_playbook, em, with_lookup=False)
    assert result["module"] == expected
    assert any(query.get("type") == ["Job"] for query in queries(em))


def test_unknown_lookup_keywords_are_refused_before_any_request(em, run_playbook):
    run = run_playbook("backup_sessions.yml", {"connection": connection_to(em), "job_names": [data.SQL_BACKUP_NAME],
                                               "session_options": {"lastest": False}})
    assert run.result and run.result.get("failed"), run.output
    assert "Unknown option 'lastest' for the veeam_em.rest.veeam_em_backup_session lookup" in run.result["msg"]
    assert em.stats()["logons"] == 1, "only the module's"


@pytest.fixture(scope="module")
def hundred_jobs(tmp_path_factory):
    with Emulator(state_dir=tmp_path_factory.mktemp("jobs"), username=EM_USERNAME, password=EM_PASSWORD,
                  bulk_jobs=HUNDRED_JOBS, bulk_job_sessions=THIRTY_SESSIONS) as em:
        yield em


@pytest.fixture(scope="module")
def every_job_em(tmp_path_factory):
    with Emulator(state_dir=tmp_path_factory.mktemp("every-job"), username=EM_USERNAME, password=EM_PASSWORD,
                  bulk_jobs=EVERY_JOB_BULK, bulk_job_sessions=EVERY_JOB_SESSIONS) as em:
        yield em


def test_a_hundred_jobs_of_thirty_sessions_take_at_most_fifteen_requests(hundred_jobs, run_playbook):
    with hundred_jobs.test_scope() as em:
        names = [f"Bulk Backup {index:05d}" for index in range(HUNDRED_JOBS)]
        result = run_sessions(run_playbook, em, names, {"tasks": True}, with_lookup=False, results=["Failed"])
        assert em.stats()["requests"] <= 15, em.stats()
        assert_only_queries(em)
        expected = [newest(em, em.data.jobs[data.bulk_job_id(index)]).id for index in range(HUNDRED_JOBS)]
        assert [session["id"] for session in result["module"]] == expected
        failed = [index for index in range(HUNDRED_JOBS) if data.bulk_job_result(index) == "Failed"]
        assert [finding["id"] for finding in result["failed_module"]] == [data.bulk_job_id(index) for index in failed]
        for index, finding in zip(failed, result["failed_module"]):
            assert f'{data.bulk_vm_name(index, 0)}: Failed: "{data.SNAPSHOT_REASON}"' in finding["message"]


def test_every_job_of_112_with_3000_sessions_takes_at_most_forty_requests(every_job_em, run_playbook):
    with every_job_em.test_scope() as em:
        assert len(em.data.jobs) == 112 and len(em.data.job_sessions) >= 3000
        result = run_sessions(run_playbook, em, (), {"tasks": True}, with_lookup=False)
        assert em.stats()["requests"] <= 40, em.stats()
        assert_only_queries(em)
        jobs = expected_order(em, [job for job in em.data.jobs.values() if newest(em, job)])
        assert [session["id"] for session in result["module"]] == [newest(em, job).id for job in jobs] and len(jobs) == 111
