# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health filters in a playbook: the same findings as the backup_report role, from the module's
and the lookup's backups; clear errors for backups got without what they need; documented."""

from __future__ import annotations

import json
import subprocess

import pytest

import emulator as data
from conftest import BIN_DIR


def test_the_filters_find_what_the_role_reports(em, em_environment, run_playbook, tmp_path):
    run = run_playbook("health_filters.yml", {"case": "compare", "report_dest": str(tmp_path / "report")}, env=em_environment)
    assert run.returncode == 0, run.output
    found = run.result
    role_stale = [finding for finding in found["role"] if finding["kind"] == "stale"]
    role_low = [finding for finding in found["role"] if finding["kind"] == "low_space"]
    assert role_stale and role_low
    assert found["stale"] == role_stale, "same backups, same order, same messages"
    assert found["low_space"] == role_low
    assert found["lookup_stale"] == role_stale, "the lookup's backups"
    # Whole seconds as text, and the time as a datetime (now(utc=true): without a time zone, UTC).
    assert [finding["id"] for finding in found["stale_in_seconds"]] == [finding["id"] for finding in role_stale]
    assert [finding["message"].replace("93600 s", "26h") for finding in found["stale_in_seconds"]] == [finding["message"] for finding in role_stale]
    assert [finding["id"] for finding in found["stale_now"]] == [finding["id"] for finding in role_stale]
    assert data.CHILD_BACKUP_ID in {finding["id"] for finding in found["stale"]}
    assert {finding["id"] for finding in found["low_space"]} == {data.SQL_REPOSITORY_ID, data.LINUX_REPOSITORY_ID}
    # backup_report_data over the module's backups and every job's newest session: the role's findings, jobs' included.
    assert found["report_data"] == found["role"]
    assert {finding["kind"] for finding in found["role"]} >= {"stale", "low_space", "failed_job", "warning_job"}


@pytest.mark.parametrize("filter_name, filter_args, message", [
    ("stale_backups", {"max_age": "26h"},
     f"backup '{data.SQL_BACKUP_NAME}' has no latest_restore_point: get the backups with latest_restore_point: true"),
    ("low_space_repositories", {"min_free_percent": 10},
     "has no capacity: get the backups with expand: [repository]"),
    ("stale_backups", {"max_age": "yesterday"}, "max_age takes a duration, a whole number followed by m, h, d or w"),
    ("stale_backups", {"max_age": "26h", "now": "2026-11-30 12:00"},
     "now takes a UTC time such as 2024-05-01T22:00:05Z or a datetime such as now(utc=true), not '2026-11-30 12:00'"),
    ("low_space_repositories", {"min_free_percent": 120}, "min_free_percent takes a number from 0 to 100, not 120"),
])
def test_backups_without_what_a_filter_needs_fail_clearly(em, em_environment, run_playbook, filter_name, filter_args, message):
    run = run_playbook("health_filters.yml", {"case": "unexpanded", "backup_name": data.SQL_BACKUP_NAME, "filter_name": filter_name,
                                              "filter_args": filter_args}, env=em_environment)
    assert run.returncode != 0
    assert f"veeam_em.rest.{filter_name}: " in run.output and message in run.output, run.output
    assert "Traceback" not in run.output


@pytest.mark.parametrize("name", ["stale_backups", "low_space_repositories", "backup_report_data", "backup_report_failure", "failed_jobs"])
def test_ansible_doc_documents_each_filter_with_examples(ansible_env, name):
    process = subprocess.run([str(BIN_DIR / "ansible-doc"), "-t", "filter", "--json", f"veeam_em.rest.{name}"],
                             env=ansible_env, capture_output=True, text=True, timeout=120, check=False)
    assert process.returncode == 0, process.stderr
    assert "[WARNING]" not in process.stderr and "[ERROR]" not in process.stderr, process.stderr
    doc = json.loads(process.stdout)[f"veeam_em.rest.{name}"]
    assert doc["doc"]["name"] == name and doc["doc"]["options"]["_input"]["required"]
    assert f"veeam_em.rest.{name}" in doc["examples"]
    assert doc["return"]["_value"]["description"]
