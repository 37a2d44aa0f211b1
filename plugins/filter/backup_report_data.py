# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: backup_report_data
short_description: The backup_report role's result and report files, from its module calls
version_added: 1.0.0
author: veeam_em.rest contributors
description:
  - The P(veeam_em.rest.backup_report#role) role's C(backup_report_result), and the text of its report files.
    Its C(report) is what the role writes in every format, as its JSON report holds it - backup servers, repositories and backups grouped and sorted by name,
    counts, sizes, the expectations checked, each backup's age, and the findings (C(missing), C(stale) as
    P(veeam_em.rest.stale_backups#filter) finds them, C(low_space) as
    P(veeam_em.rest.low_space_repositories#filter) finds them).
  - The role's own step; a playbook that wants one check uses those filters.
  - The report carries a fingerprint of what it shows, but for its time and the ages. When O(earlier) is the
    text of the report file written before, and it shows the same data, the report keeps that file's time
    and measures ages from it, so that the files stay the same.
  - EM's text stays data. Nothing in the result is templated again, on every supported ansible-core.
options:
  _input:
    description:
      - The registered results of the role's module calls - C(all) (every backup), C(by_id), C(by_name)
        (a loop's results), C(children) (every backup, to add the ChildBackups of selected ParentBackups).
    type: dict
    required: true
  read_at:
    description: The time the data was read, in UTC, as V(2024-05-01T22:00:00Z).
    type: str
    required: true
  title:
    description: The report's title.
    type: str
  ids:
    description: The ids the backups were selected by, as given.
    type: list
    elements: str
  names:
    description: The names the backups were selected by, as given.
    type: list
    elements: str
  expect:
    description: Expected backups, each with C(name) or C(id), and optionally C(repository) and C(backup_server).
    type: list
    elements: dict
  max_age:
    description: Freshness is checked with this duration (such as V(26h)); unset, it is not.
    type: str
  min_free_percent:
    description: Free space is checked with this percentage; unset, it is not.
    type: float
  fail_on:
    description: The kinds of findings that fail the role (recorded in C(checks)).
    type: list
    elements: str
  jobs:
    description:
      - The newest session of each job to report, with its tasks, as the module returns them in
        RV(veeam_em.rest.veeam_em_backup_session_info#module:sessions) with
        O(veeam_em.rest.veeam_em_backup_session_info#module:tasks=true) (or the
        P(veeam_em.rest.veeam_em_backup_session#lookup) lookup's items).
      - They are the report's C(jobs), and their Failed and Warning results its C(failed_job) and C(warning_job)
        findings, as the role's C(backup_report_jobs) gives them.
      - Unset, the report has no jobs (C(checks.jobs) is false).
    type: list
    elements: dict
  earlier:
    description: The text of the report file written before, if any.
    type: str
    default: ''
  earlier_format:
    description: The format of O(earlier).
    type: str
    choices: [json, markdown, html, junit]
    default: json
  files:
    description: The paths of the report files, as C(files) of the result.
    type: list
    elements: str
  formats:
    description:
      - The formats to lay the report out in (V(json), V(markdown), V(html), V(junit)), each by the role's template
        (C(roles/backup_report/templates/report.*.j2)) in a sandboxed Jinja environment of its own.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Get every backup as the role does
  veeam_em.rest.veeam_em_backup_info:
    expand: [repository, backup_server]
    latest_restore_point: true
  register: every_backup

- name: Build the report of every backup, with health checks, in Markdown
  ansible.builtin.set_fact:
    output: >-
      {{ {'all': every_backup} | veeam_em.rest.backup_report_data(read_at=now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ'),
         title='Backups', max_age='26h', min_free_percent=10, formats=['markdown']) }}

- name: Get the newest session of every job, with each VM's result
  veeam_em.rest.veeam_em_backup_session_info:
    tasks: true
  register: last_runs

- name: Build the report with the jobs' last runs, failing on a failed job
  ansible.builtin.set_fact:
    with_jobs: >-
      {{ {'all': every_backup} | veeam_em.rest.backup_report_data(read_at=now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ'),
         jobs=last_runs.sessions, fail_on=['failed_job']) }}

- name: Show the findings
  ansible.builtin.debug:
    msg: "{{ output.result.findings | map(attribute='message') }}"
"""

RETURN = r"""
_value:
  description:
    - C(result) - the role's C(backup_report_result).
    - C(result.report) - C(title), C(generated_at), C(fingerprint), C(selection), C(missing), C(checks), C(findings),
      C(totals), C(backup_servers), C(expectations); documented with the role
      (C(ansible-doc -t role veeam_em.rest.backup_report)).
    - C(result.read_at) (O(read_at)), C(result.files) (O(files)), C(result.unmet) (the expectations not met),
      C(result.findings) (those of the report).
    - C(contents) - the text of each format in O(formats), such as C(contents.html).
  type: dict
"""

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.veeam_em.rest.plugins.module_utils._report import (
    ReportError, build_report, collect_backups, earlier_marker, parse_time, report_result)
from ansible_collections.veeam_em.rest.plugins.plugin_utils._render import render
from ansible_collections.veeam_em.rest.plugins.plugin_utils._untrusted import as_data


def backup_report_data(calls, read_at, title=None, ids=None, names=None, expect=None, max_age=None, min_free_percent=None,
                       fail_on=None, earlier="", earlier_format="json", files=None, formats=None, jobs=None):
    settings = {"title": title, "ids": list(ids or []), "names": list(names or []), "expect": list(expect or []),
                "max_age": max_age, "min_free_percent": min_free_percent, "fail_on": list(fail_on or [])}
    try:
        collected = collect_backups(calls)
        if jobs is not None:
            collected["jobs"] = job_sessions_given(jobs)
        report = build_report(collected, settings, parse_time(read_at), earlier_marker(earlier, earlier_format))
    except (ReportError, ValueError, KeyError) as error:
        raise AnsibleFilterError(f"veeam_em.rest.backup_report_data: {error}") from None
    contents = {report_format: render(report, report_format) for report_format in formats or []}
    return as_data({"result": report_result(report, read_at, list(files or [])), "contents": contents})


def job_sessions_given(jobs: Any) -> list:
    """``jobs`` as a list of job sessions, or a ReportError that says what the option takes.

    Checked here so that a wrong value (a module result instead of its ``sessions``, a list of names)
    is named, not met later as a missing key deep in the report."""
    if isinstance(jobs, Mapping) or not isinstance(jobs, Sequence) or isinstance(jobs, str):
        raise ReportError(f"jobs takes a list of job sessions (the sessions of veeam_em_backup_session_info), not {type(jobs).__name__}")
    for position, job_session in enumerate(jobs):
        if not isinstance(job_session, Mapping) or not all(key in job_session for key in ("id", "job", "result", "backup_server")):
            raise ReportError(f"jobs[{position}] is not a job session as veeam_em_backup_session_info returns it")
    return list(jobs)


class FilterModule:
    """veeam_em.rest.backup_report_data"""

    def filters(self):
        return {"backup_report_data": backup_report_data}
