#!/usr/bin/python
# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: veeam_em_backup_session_info
short_description: Get the runs of backup jobs (job sessions), with each VM's result and reason, from Veeam Backup Enterprise Manager
version_added: 1.0.0
description:
  - Logs on to Veeam Backup Enterprise Manager (EM), reads the job sessions (one per run of a job) of the jobs with
    the given names or IDs, or of every job, and logs off again, also when a read fails.
  - Answers the question every monitoring asks first. Did last night's backup jobs succeed, and for a failure, which
    VM failed and why? The P(veeam_em.rest.failed_jobs#filter) filter turns the result into findings.
  - All requests of one call share one session and one TCP/TLS connection, and EM's query service answers them all,
    never a request per session or task. One job's newest session by name takes four requests (logon, the job, its
    newest session, logoff). Many jobs take a request per 40 names and per 40 jobs and round; every job of an EM
    with a hundred jobs and thousands of sessions, fewer than ten. O(tasks=true) adds a request per 40 sessions.
    The P(veeam_em.rest.veeam_em_backup_session#lookup) lookup reads them exactly the same way.
author:
  - veeam_em.rest developers (@veeam-em)
requirements:
  - requests
  - xmltodict
extends_documentation_fragment:
  - veeam_em.rest.connection
  - veeam_em.rest.backup_session_selection
  - veeam_em.rest.attributes.info_module
  - veeam_em.rest.attributes.actiongroup_veeam_em
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: posix
options:
  job_names:
    description:
      - The jobs, by their names, matched exactly (EM's filter ignores case, only exact matches are kept).
        Two jobs of one name (on two backup servers) are both returned. One name may be given as a string.
      - An empty name, or one with a line break or another control character, is refused before a request is made.
      - Without O(job_names) and O(job_ids), the sessions of every job that has one. The jobs come from EM's job list
        (query type C(Job)); an account that may not list jobs (EM answers HTTP 403) gets every job's newest session
        from the sessions themselves, which means reading every session, O(since) bounding them.
    type: list
    elements: str
    default: []
    aliases:
      - job_name
  job_ids:
    description:
      - The jobs, each as its ID (a UUID) or its UID (C(urn:veeam:Job:<UUID>)), in any case.
      - Anything else is refused before a request is made, naming the offending value.
    type: list
    elements: str
    default: []
seealso:
  - plugin: veeam_em.rest.failed_jobs
    plugin_type: filter
  - plugin: veeam_em.rest.veeam_em_backup_session
    plugin_type: lookup
  - name: EM REST API, GET /query?type=BackupJobSession
    description: The query this module sends for the sessions.
    link: https://helpcenter.veeam.com/docs/vbr/em_rest/get_query_backupjobsession.html
  - name: EM REST API, GET /query?type=BackupTaskSession
    description: The query this module sends for the tasks.
    link: https://helpcenter.veeam.com/docs/vbr/em_rest/get_query_backuptasksession.html
"""

EXAMPLES = r"""
- name: The newest run of every job, with each VM's result
  veeam_em.rest.veeam_em_backup_session_info:
    url: https://em01.example.com:9398
    username: "{{ veeam_em_username }}"
    password: "{{ veeam_em_password }}"
    tasks: true
  register: runs

- name: Which jobs failed, and why?
  ansible.builtin.debug:
    msg: "{{ runs.sessions | veeam_em.rest.failed_jobs | map(attribute='message') }}"

- name: The newest run of two jobs
  veeam_em.rest.veeam_em_backup_session_info:
    job_names: [SQL Backup, Exchange Backup]
  register: two

- name: Every run of a job in the last week, newest first
  veeam_em.rest.veeam_em_backup_session_info:
    job_ids: urn:veeam:Job:4856ab37-2235-45e8-affe-d515878b01a9
    latest: false
    since: 7d
  register: week
"""

RETURN = r"""
sessions:
  description:
    - The sessions, ordered by job name (without regard to case), then backup server name, then job ID; a job's
      sessions newest first.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The session's ID, a lower-case UUID.
      type: str
      sample: d46e39e0-1131-4585-91a7-e828ce7eafae
    uid:
      description: The session's UID.
      type: str
      sample: urn:veeam:BackupJobSession:d46e39e0-1131-4585-91a7-e828ce7eafae
    name:
      description: The session's name as EM gives it, C(<job name>@<date and time>).
      type: str
      sample: SQL Backup@2026-12-04 19:32:22
    job:
      description: C(id), C(name) and C(href) of the job that ran.
      type: dict
      contains:
        id:
          description: The job's ID, lower case.
          type: str
        name:
          description: The job's name.
          type: str
        href:
          description: The job's URL, without query string.
          type: str
    job_type:
      description: EM's job type, such as C(Backup) or C(BackupCopy).
      type: str
      sample: Backup
    backup_server:
      description: C(id), C(name) and C(href) of the backup server that ran the job.
      type: dict
      contains:
        id:
          description: The backup server's ID, lower case.
          type: str
        name:
          description: The backup server's name.
          type: str
        href:
          description: The backup server's URL, without query string.
          type: str
    creation_time_utc:
      description: When the run started, in UTC, as EM gives it (ISO 8601).
      type: str
      sample: "2026-12-04T19:32:22.428Z"
    end_time_utc:
      description: When the run ended, in UTC; null while it runs.
      type: str
      sample: "2026-12-04T19:38:22.428Z"
    state:
      description: EM's state of the run, such as C(Working) or C(Stopped).
      type: str
      sample: Stopped
    result:
      description: C(Success), C(Warning) or C(Failed); null while the run goes on.
      type: str
      sample: Failed
    progress:
      description: How far the run got, in percent.
      type: int
      sample: 100
    is_retry:
      description: Whether the run is a retry of a failed run (which processes only the VMs that failed).
      type: bool
      sample: false
    href:
      description: The session's URL, without query string.
      type: str
    tasks:
      description:
        - One task session per VM of the run, ordered by C(vm_name).
      type: list
      elements: dict
      returned: when O(tasks=true)
      contains:
        id:
          description: The task session's ID, lower case.
          type: str
        vm_name:
          description: The VM's name as EM shows it.
          type: str
          sample: web01
        state:
          description: C(Pending), C(InProgress) or C(Completed).
          type: str
          sample: Completed
        result:
          description: C(Success), C(Warning) or C(Failed); null while the VM is processed.
          type: str
          sample: Failed
        reason:
          description: EM's text on what went wrong, exactly as EM gives it; an empty string when it gives none.
          type: str
          sample: "Error: Failed to create VM snapshot."
        creation_time_utc:
          description: When the VM's processing started, in UTC.
          type: str
        end_time_utc:
          description: When it ended, in UTC; null while it goes on.
          type: str
        total_size:
          description: The size of the VM's data, in bytes.
          type: int
missing:
  description:
    - The names in O(job_names) and the IDs in O(job_ids) that have no session (or none created since O(since)),
      as given and in the order given. An empty list when every job has one.
  returned: success
  type: list
  elements: str
  sample:
    - Exchange Backup
"""

from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient, missing_libraries
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import (
    CONNECTION_ARGUMENT_SPEC,
    connection_settings,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import VeeamEMError
from ansible_collections.veeam_em.rest.plugins.module_utils._sessions import (
    SESSION_SELECTION_ARGUMENT_SPEC,
    job_sessions,
    session_selection,
)


def main() -> None:
    argument_spec = {**CONNECTION_ARGUMENT_SPEC, **SESSION_SELECTION_ARGUMENT_SPEC,
                     "job_names": {"type": "list", "elements": "str", "default": [], "aliases": ["job_name"]},
                     "job_ids": {"type": "list", "elements": "str", "default": []}}
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    for library, error in missing_libraries():
        module.fail_json(msg=missing_required_lib(library), exception=error)

    warnings: list[str] = []
    result, failure = {"changed": False}, None
    try:
        now = datetime.now(timezone.utc)
        selection = session_selection(module.params["job_names"], module.params["job_ids"], module.params, now)
        client = EMClient(connection_settings(module.params))
        warnings = client.warnings
        with client:
            result["sessions"], result["missing"] = job_sessions(client, selection.job_names, selection.job_ids, selection.latest,
                                                                 selection.since, selection.tasks, now)
    except VeeamEMError as error:
        failure = str(error)
    for warning in warnings:
        module.warn(warning)
    if failure:
        module.fail_json(msg=failure)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
