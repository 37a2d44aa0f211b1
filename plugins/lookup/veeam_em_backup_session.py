# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: veeam_em_backup_session
short_description: Get the runs of backup jobs (job sessions) from Veeam Backup Enterprise Manager inside templates
version_added: 1.0.0
description:
  - Returns, for the jobs named in the terms, exactly the
    RV(veeam_em.rest.veeam_em_backup_session_info#module:sessions) of
    M(veeam_em.rest.veeam_em_backup_session_info), in the same order.
  - Call it with C(query()) (or C(lookup(..., wantlist=True))) wherever a list is expected, because Ansible's
    C(lookup()) returns a one-item list as that item.
  - All terms of one call share one EM session and one TCP/TLS connection, with the requests the module
    makes (one job's newest session is a logon, two queries and a logoff); the logoff also happens when a
    request fails.
  - A keyword that is no option of this lookup (a typo such as C(lastest=false)) fails the lookup before a
    request is made, naming it and listing the options.
  - A lookup runs again each time its template is evaluated, with a logon of its own each time.
    Where the same sessions are used in many tasks, register the module's result once instead.
author:
  - veeam_em.rest developers (@veeam-em)
requirements:
  - requests
  - xmltodict
extends_documentation_fragment:
  - veeam_em.rest.connection
  - veeam_em.rest.connection.plugins
  - veeam_em.rest.backup_session_selection
options:
  _terms:
    description:
      - Job names, matched exactly (EM's filter ignores case, only exact matches are kept). A list term counts as
        its items. Without a term, the sessions of every job that has one.
      - An empty name, or one with a line break or another control character, fails the lookup before a
        request is made.
    type: list
    elements: str
  ca_path:
    # A str, expanded by the plugin: as a path, an empty VEEAM_EM_CA_PATH (what an AWX
    # credential without a CA injects) would become the current directory.
    type: str
seealso:
  - module: veeam_em.rest.veeam_em_backup_session_info
  - plugin: veeam_em.rest.failed_jobs
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Did last night's SQL Backup succeed?
  ansible.builtin.debug:
    msg: "{{ lookup('veeam_em.rest.veeam_em_backup_session', 'SQL Backup').result }}"
  vars:
    veeam_em_url: https://em01.example.com:9398
    veeam_em_username: "{{ vault_em_username }}"
    veeam_em_password: "{{ vault_em_password }}"

- name: The failed jobs among two, with each VM's reason, in one EM session
  ansible.builtin.debug:
    msg: "{{ query('veeam_em.rest.veeam_em_backup_session', 'SQL Backup', 'Exchange Backup', tasks=true)
             | veeam_em.rest.failed_jobs | map(attribute='message') }}"

- name: Every run of a job in the last week, newest first
  ansible.builtin.debug:
    msg: "{{ item.creation_time_utc }} {{ item.result }}"
  loop: "{{ query('veeam_em.rest.veeam_em_backup_session', 'SQL Backup', latest=false, since='7d') }}"
"""

RETURN = r"""
_raw:
  description:
    - A list, as C(query()) returns it; C(lookup()) turns a one-item list into that item.
    - Exactly the RV(veeam_em.rest.veeam_em_backup_session_info#module:sessions) of
      M(veeam_em.rest.veeam_em_backup_session_info); see that module's documentation for every key.
  type: list
  elements: dict
"""

from datetime import datetime, timezone

from ansible_collections.veeam_em.rest.plugins.module_utils._sessions import (
    SESSION_SELECTION_ARGUMENT_SPEC,
    job_sessions,
    session_selection,
)
from ansible_collections.veeam_em.rest.plugins.plugin_utils._lookup import EMLookupBase, flatten, lookup_errors


class LookupModule(EMLookupBase):
    """Job sessions for templates, through the module's own code path."""

    LOOKUP_NAME = "veeam_em.rest.veeam_em_backup_session"

    def run(self, terms, variables=None, **kwargs):
        self.set_em_options(variables, kwargs)
        with lookup_errors():
            now = datetime.now(timezone.utc)
            selection = session_selection(list(flatten(terms)), (), {name: self.get_option(name) for name in SESSION_SELECTION_ARGUMENT_SPEC}, now)
            with self.em_session() as client:
                sessions, _missing = job_sessions(client, selection.job_names, (), selection.latest, selection.since, selection.tasks, now)
                return sessions
