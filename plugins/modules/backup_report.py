#!/usr/bin/python
# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The documentation of the action plugin plugins/action/backup_report.py, which does all the work on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_report
short_description: Write the backup_report role's report files and return its result
version_added: 1.0.0
description:
  - The step of the P(veeam_em.rest.backup_report#role) role that gets the backups, builds the report and writes
    its files; use the role, which also fails on findings.
  - Runs on the controller, in the action's own process, whatever the task's host, connection and C(become) -
    the controller's Python needs C(requests) and C(xmltodict); the host's Python is not used.
  - Gets the backups as M(veeam_em.rest.veeam_em_backup_info) would (every backup, or those of O(ids) and each of
    O(names), with their repository and backup server, and each latest restore point when O(max_age) is set; the
    ChildBackups of selected ParentBackups too), through the same code, in one EM session. Those calls get the
    options a task of that module would - the task's C(module_defaults) for M(veeam_em.rest.veeam_em_backup_info) and
    for C(group/veeam_em.rest.veeam_em), then the E(VEEAM_EM_*) variables of the controller's environment and of the
    task's C(environment) - checked against that module's options.
  - Checks O(max_age) and O(min_free_percent) before any request.
  - A failure (EM's answer, an unreachable EM, a file that cannot be written) fails the task with a message that
    says why, naming the path for a file; never with the password. The client's warnings (such as for
    C(validate_certs=false)) are the task's warnings.
  - With O(jobs), also gets each job's newest session and its tasks as M(veeam_em.rest.veeam_em_backup_session_info)
    does, in the same EM session.
  - Builds the report as the P(veeam_em.rest.backup_report_data#filter) filter does, lays it out in each of
    O(formats) and writes only the files whose text or mode differ, each through a temporary file renamed over it.
  - A report that shows the same as the earlier one keeps the earlier file's time, so that its files stay as they are.
  - Its result does not show with C(-v) (the report can be large), as the setup module's facts do not; register it.
  - EM's text stays data. Nothing in the result is templated again, on every supported ansible-core.
author:
  - veeam_em.rest developers (@veeam-em)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: EM is only read. In check mode nothing is written (no directory, no file) and C(changed) tells whether
      the files would change.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  dest:
    description: The directory on the controller to write to; created (mode 0755) when missing.
    type: path
    required: true
  basename:
    description: The files are C(<basename>.json), C(.md), C(.html), C(.xml).
    type: str
    default: backup_report
  mode:
    description: Permissions of the report files, octal (V(0644)) or symbolic (V(u=rw,g=r,o=r)).
    type: raw
    default: "0644"
  formats:
    description: The formats to write.
    type: list
    elements: str
    choices: [json, markdown, html, junit]
    default: [json, markdown, html]
  title:
    description: The report's title.
    type: str
    default: Veeam backup report
  ids:
    description: The backups to report, by ID or UID. With O(names) empty too, every backup.
    type: list
    elements: str
    default: []
  names:
    description: The backups to report, by exact name.
    type: list
    elements: str
    default: []
  expect:
    description: Expected backups, each with C(name) or C(id), and optionally C(repository) and C(backup_server).
    type: list
    elements: dict
    default: []
  max_age:
    description:
      - A backup whose latest restore point is older than this is stale; unset, not checked.
      - A duration, a whole number followed by V(m), V(h), V(d) or V(w) (such as V(26h) or V(7d)), or a whole number of
        seconds (V(3600)), as the P(veeam_em.rest.stale_backups#filter) filter takes it.
    type: raw
  min_free_percent:
    description:
      - A repository with less free space than this percentage (a number from 0 to 100) is low on space; unset, not checked.
      - Shown as given (V(41) as C(41 %)).
    type: raw
  fail_on:
    description: The kinds of findings that fail the role (recorded in the report's C(checks)).
    type: list
    elements: str
    choices: [missing, stale, low_space, failed_job, warning_job]
    default: [missing, stale, low_space]
  jobs:
    description:
      - Read the newest session of every job, with its tasks (with O(ids) or O(names), only of the jobs the reported
        backups are named after, the job of the backup's name on its backup server), in this process on the
        controller, with the connection options the module calls get; report them as C(jobs), with C(failed_job)
        and C(warning_job) findings.
      - With V(false), no job session is read.
    type: bool
    default: true
seealso:
  - name: The backup_report role
    description: C(ansible-doc -t role veeam_em.rest.backup_report)
    link: https://github.com/veeam-em/veeam_em.rest/tree/main/roles/backup_report
"""

EXAMPLES = r"""
- name: Write the report of every backup, with health checks
  veeam_em.rest.backup_report:
    dest: /var/reports/veeam
    formats: [json, html]
    max_age: 26h
    min_free_percent: 10
  register: report

- name: Show the findings
  ansible.builtin.debug:
    msg: "{{ report.backup_report_result.findings | map(attribute='message') }}"
"""

RETURN = r"""
backup_report_result:
  description:
    - The role's C(backup_report_result) - C(report) (what every format shows, documented with the role,
      C(ansible-doc -t role veeam_em.rest.backup_report)), C(read_at), C(files), C(unmet) (the expectations not
      met), C(findings).
  returned: success
  type: dict
"""
