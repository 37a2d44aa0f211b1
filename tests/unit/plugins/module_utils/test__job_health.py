# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failed_job findings: a job judged by its newest session given, with each VM's reason."""

from __future__ import annotations

import pytest

from ansible_collections.veeam_em.rest.plugins.module_utils._job_health import JobHealthError, job_findings

REASON = '<b>Error</b>: "snapshot" | {{ 7*7 }}\nline two'


def session(session_id, job_id, result, created, name="SQL Backup", server="vbr01", is_retry=False, tasks=None):
    item = {"id": session_id, "job": {"id": job_id, "name": name, "href": None}, "backup_server": {"name": server},
            "creation_time_utc": created, "result": result, "is_retry": is_retry}
    if tasks is not None:
        item["tasks"] = tasks
    return item


def test_a_job_is_judged_by_its_newest_session():
    sessions = [session("s1", "j1", "Success", "2026-12-04T02:00:00Z"), session("s0", "j1", "Failed", "2026-12-04T01:00:00Z"),
                session("s2", "j2", "Failed", "2026-12-04T01:00:00Z", name="Exchange", is_retry=True),
                session("s3", "j2", "Failed", "2026-12-03T01:00:00Z", name="Exchange")]
    assert [(finding["id"], finding["session"]) for finding in job_findings(sessions)] == [("j2", "s2")], "a retry that succeeded is no finding"
    finding = job_findings(sessions)[0]
    assert finding == {"kind": "failed_job", "id": "j2", "name": "Exchange", "session": "s2", "result": "Failed",
                       "message": "job 'Exchange' on vbr01: Failed in the run started 2026-12-04T01:00:00Z (a retry)"}


def test_each_vm_that_did_not_succeed_with_its_reason():
    tasks = [{"vm_name": "app01", "result": "Success", "reason": ""}, {"vm_name": "web01", "result": "Failed", "reason": REASON},
             {"vm_name": "db01", "result": "Warning", "reason": ""}, {"vm_name": "run01", "result": None, "reason": ""}]
    [finding] = job_findings([session("s1", "j1", "Failed", "2026-12-04T02:00:00Z", tasks=tasks)])
    assert finding["message"] == (f"job 'SQL Backup' on vbr01: Failed in the run started 2026-12-04T02:00:00Z; web01: Failed: \"{REASON}\"; "
                                  "db01: Warning; run01: running")


def test_other_results_and_kinds_in_the_order_given():
    sessions = [session("s1", "j1", "Warning", "2026-12-04T02:00:00Z", name="b"), session("s2", "j2", "Failed", "2026-12-04T02:00:00Z", name="a"),
                session("s3", "j3", None, "2026-12-04T02:00:00Z", name="c")]
    findings = job_findings(sessions, ["Failed", "Warning"], kind="warning_job")
    assert [(finding["kind"], finding["name"]) for finding in findings] == [("warning_job", "b"), ("warning_job", "a")]
    assert job_findings(sessions, "Warning")[0]["id"] == "j1"
    assert job_findings([]) == []


@pytest.mark.parametrize("sessions, results, message", [
    ({"id": "s1"}, ["Failed"], "expected the list of sessions"),
    ([{"name": "SQL Backup"}], ["Failed"], "item 0 is no job session"),
    ([], [], "results takes a list"),
    ([], [1], "results takes a list"),
])
def test_what_is_no_session_is_refused(sessions, results, message):
    with pytest.raises(JobHealthError, match=message):
        job_findings(sessions, results)
