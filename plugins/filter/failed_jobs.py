# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: failed_jobs
short_description: The jobs whose last run failed (or ended with another result), with each VM's reason
version_added: 1.0.0
author: veeam_em.rest contributors
description:
  - Takes the C(sessions) of M(veeam_em.rest.veeam_em_backup_session_info), or the items of the
    P(veeam_em.rest.veeam_em_backup_session#lookup) lookup, and returns a finding for each job whose newest session
    among those given has a result in O(results).
  - A job is judged by its newest session only (by C(creation_time_utc)). A failed run followed by a successful
    retry is no finding, a failed retry is one.
  - When the sessions were read with their tasks (O(veeam_em.rest.veeam_em_backup_session_info#module:tasks=true)),
    the message names each VM that did not succeed with EM's reason.
  - These are the C(failed_job) findings the P(veeam_em.rest.backup_report#role) role reports, with the same messages.
  - EM's text stays data. The messages are never templated again, on every supported ansible-core.
options:
  _input:
    description: The job sessions.
    type: list
    elements: dict
    required: true
  results:
    description: The session results that make a finding, among C(Success), C(Warning) and C(Failed).
    type: list
    elements: str
    default: [Failed]
"""

EXAMPLES = r"""
- name: The newest run of every job, with each VM's result
  veeam_em.rest.veeam_em_backup_session_info:
    tasks: true
  register: runs

- name: Which jobs failed last night, and why?
  ansible.builtin.debug:
    msg: "{{ runs.sessions | veeam_em.rest.failed_jobs | map(attribute='message') }}"

- name: Fail on a failed or a warning job
  ansible.builtin.assert:
    that: runs.sessions | veeam_em.rest.failed_jobs(results=['Failed', 'Warning']) | length == 0
    fail_msg: "{{ runs.sessions | veeam_em.rest.failed_jobs(results=['Failed', 'Warning']) | map(attribute='message') | join('; ') }}"
"""

RETURN = r"""
_value:
  description:
    - One finding per job whose newest session has a result in O(results), in the order of the sessions given.
    - "C(kind) is V(failed_job); C(id) and C(name) are the job's; C(session) is the session's id; C(result) its result;
      C(message) says what happened, such as
      V(job 'SQL Backup' on vbr01: Failed in the run started 2026-12-04T19:32:22.428Z (a retry\\); web01: Failed: \"Error: ...\")."
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.veeam_em.rest.plugins.module_utils._job_health import JobHealthError, job_findings
from ansible_collections.veeam_em.rest.plugins.plugin_utils._untrusted import as_data


def failed_jobs_filter(sessions, results=("Failed",)):
    try:
        return as_data(job_findings(sessions, results))
    except JobHealthError as error:
        raise AnsibleFilterError(f"veeam_em.rest.failed_jobs: {error}") from None


class FilterModule:
    """veeam_em.rest.failed_jobs"""

    def filters(self):
        return {"failed_jobs": failed_jobs_filter}
