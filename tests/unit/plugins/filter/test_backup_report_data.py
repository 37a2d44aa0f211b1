# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup_report_data filter with the jobs' last runs: the role's jobs and findings, and a wrong
``jobs`` named, not met as a missing key."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.veeam_em.rest.plugins.filter.backup_report_data import backup_report_data

READ_AT = "2026-11-30T12:00:00Z"
SERVER = {"id": "a0000000-0000-4000-8000-000000000001", "name": "vbr-a", "href": "https://em/api/backupServers/a"}
BACKUP = {"id": "00000000-0000-4000-8000-000000000001", "uid": "urn:veeam:Backup:00000000-0000-4000-8000-000000000001",
          "name": "Nightly", "href": "https://em/api/backups/1", "platform": "VMware", "backup_type": "Backup",
          "repository": None, "backup_server": SERVER, "parent_backup": None, "links": [],
          "latest_restore_point": {"id": "p", "name": "point", "backup_date_utc": "2026-11-30T02:00:00Z"}}


def job_session(number: int, job_name: str, result: str, reason: str = "") -> dict:
    """A job session as veeam_em_backup_session_info returns it with tasks: true."""
    job_id = f"90000000-0000-4000-8000-{number:012d}"
    return {"id": f"91000000-0000-4000-8000-{number:012d}", "uid": "u", "name": f"{job_name}@2026-11-30 02:00:00",
            "job": {"id": job_id, "name": job_name, "href": f"https://em/api/jobs/{job_id}"}, "job_type": "Backup",
            "backup_server": SERVER, "creation_time_utc": "2026-11-30T02:00:00Z", "end_time_utc": "2026-11-30T02:20:00Z",
            "state": "Stopped", "result": result, "progress": 100, "is_retry": False, "href": "h",
            "tasks": [{"id": "t", "vm_name": "db01", "state": "Completed", "result": result, "reason": reason,
                       "creation_time_utc": "2026-11-30T02:00:47Z", "end_time_utc": "2026-11-30T02:03:47Z", "total_size": 1}]}


def report_with(**options) -> dict:
    return backup_report_data({"all": {"backups": [BACKUP]}}, READ_AT, **options)["result"]["report"]


def test_jobs_given_are_the_reports_jobs_and_their_failures_its_findings():
    sessions = [job_session(1, "Nightly", "Failed", "Error: {{ 7*7 }} snapshot"), job_session(2, "Weekly", "Success")]
    report = report_with(jobs=sessions, fail_on=["failed_job"])
    assert report["jobs"] == sessions and report["checks"]["jobs"] is True
    [finding] = report["findings"]
    assert (finding["kind"], finding["name"], finding["session"]) == ("failed_job", "Nightly", sessions[0]["id"])
    assert 'db01: Failed: "Error: {{ 7*7 }} snapshot"' in finding["message"], "EM's reason, as EM sent it"


def test_without_jobs_the_report_has_none():
    report = report_with()
    assert report["jobs"] is None and report["checks"]["jobs"] is False and report["findings"] == []


@pytest.mark.parametrize("jobs, named", [
    ({"sessions": []}, "jobs takes a list of job sessions (the sessions of veeam_em_backup_session_info), not dict"),
    ("Nightly", "jobs takes a list of job sessions (the sessions of veeam_em_backup_session_info), not str"),
    ([{"id": "x"}], "jobs[0] is not a job session as veeam_em_backup_session_info returns it"),
    (["Nightly"], "jobs[0] is not a job session as veeam_em_backup_session_info returns it"),
])
def test_other_jobs_values_are_refused_naming_the_option(jobs, named):
    with pytest.raises(AnsibleFilterError, match=r"^veeam_em\.rest\.backup_report_data: ") as raised:
        report_with(jobs=jobs)
    assert named in str(raised.value)
