# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: veeam_em_backup
short_description: Get backups from Veeam Backup Enterprise Manager inside templates
version_added: 1.0.0
description:
  - Returns, for each backup ID or UID given as a term, the same normalized backup as
    the RV(veeam_em.rest.veeam_em_backup_info#module:backups) items of
    M(veeam_em.rest.veeam_em_backup_info).
  - Without terms, returns the backups named O(name), or every backup, as a list.
  - Call it with C(query()) (or C(lookup(..., wantlist=True))) wherever a list is expected.
    Ansible's C(lookup()) returns a one-item list as that item, so a single backup comes back as a
    dictionary and several as a list; C(lookup(..., name=X)) is a dictionary when exactly one
    backup has that name, and a list otherwise. C(lookup()) with one ID and a key after it
    (C(lookup(..., backup_id).name)) relies on that and is fine.
  - All terms of one call share one EM session and one TCP/TLS connection
    (a logon, one request of EM's query service per 40 terms, a logoff, plus a read per term the
    query did not return); the logoff also happens when a term fails.
  - A keyword that is no option of this lookup (a typo such as C(restore_point=true)) fails the lookup
    before a request is made, naming it and listing the options.
  - A lookup runs again each time its template is evaluated, with a logon of its own each time.
    Where the same backups are used in many tasks, register the module's result once instead.
author:
  - veeam_em.rest developers (@veeam-em)
requirements:
  - requests
  - xmltodict
extends_documentation_fragment:
  - veeam_em.rest.connection
  - veeam_em.rest.connection.plugins
  - veeam_em.rest.backup_selection
options:
  _terms:
    description:
      - Backup IDs (UUIDs) or UIDs (C(urn:veeam:Backup:<UUID>)), in any case.
      - Anything else fails the lookup before a request is made.
      - Without terms, the lookup lists backups instead (see O(name)).
    type: list
    elements: str
  ca_path:
    # A str, expanded by the plugin: as a path, an empty VEEAM_EM_CA_PATH (what an AWX
    # credential without a CA injects) would become the current directory.
    type: str
  on_missing:
    description:
      - What to do with an ID that EM does not know (HTTP 404).
      - V(error) fails the lookup, naming the ID; V(warn) leaves the term out with a warning
        that names it; V(skip) leaves it out silently.
    type: str
    choices: [error, warn, skip]
    default: error
seealso:
  - module: veeam_em.rest.veeam_em_backup_info
"""

EXAMPLES = r"""
- name: Show the repository of a backup
  ansible.builtin.debug:
    msg: "{{ lookup('veeam_em.rest.veeam_em_backup', backup_id).repository.name }}"
  vars:
    backup_id: c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70
    veeam_em_url: https://em01.example.com:9398
    veeam_em_username: "{{ vault_em_username }}"
    veeam_em_password: "{{ vault_em_password }}"

- name: Several backups in one session, leaving out the ones EM does not know
  ansible.builtin.set_fact:
    backups: "{{ query('veeam_em.rest.veeam_em_backup', id1, id2, id3, on_missing='warn') }}"

- name: Connection options as keywords
  ansible.builtin.debug:
    msg: >-
      {{ lookup('veeam_em.rest.veeam_em_backup', 'urn:veeam:Backup:c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70',
                url='https://em01.example.com:9398', username=em_user, password=em_password,
                ca_path='/etc/pki/veeam/em-ca.pem') }}

- name: When each backup last had a restore point
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.latest_restore_point.backup_date_utc | default('never') }}"
  loop: "{{ query('veeam_em.rest.veeam_em_backup', latest_restore_point=true) }}"

- name: Every backup called "SQL Backup", with its repository's free space
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.repository.free_space | human_readable }} free"
  loop: "{{ query('veeam_em.rest.veeam_em_backup', name='SQL Backup', expand=['repository']) }}"

# With VEEAM_EM_URL, VEEAM_EM_USERNAME and VEEAM_EM_PASSWORD in the environment
# (as an AWX credential injects them), no connection option is needed.
- name: Backup names from the environment's EM
  ansible.builtin.debug:
    msg: "{{ query('veeam_em.rest.veeam_em_backup', id1, id2) | map(attribute='name') }}"
"""

RETURN = r"""
_raw:
  description:
    - A list, as C(query()) returns it; C(lookup()) turns a one-item list into that item.
    - One normalized backup per term, in term order, each exactly as an item of the
      RV(veeam_em.rest.veeam_em_backup_info#module:backups) list of M(veeam_em.rest.veeam_em_backup_info)
      (keys C(id), C(uid), C(name), C(href), C(platform), C(backup_type), C(repository), C(backup_server),
      C(parent_backup), C(links), and C(restore_points) or C(latest_restore_point) when asked for);
      see that module's documentation for every key.
    - Terms that EM does not know are left out with O(on_missing=warn) or O(on_missing=skip).
  type: list
  elements: dict
"""

from functools import partial

from ansible.errors import AnsibleLookupError

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import (
    BACKUP_SELECTION_ARGUMENT_SPEC,
    backup_selection,
    get_backups,
)
from ansible_collections.veeam_em.rest.plugins.plugin_utils._lookup import EMLookupBase, flatten, lookup_errors


class LookupModule(EMLookupBase):
    """Backups for templates, through the module's own code path."""

    LOOKUP_NAME = "veeam_em.rest.veeam_em_backup"

    def run(self, terms, variables=None, **kwargs):
        self.set_em_options(variables, kwargs)
        with lookup_errors():
            selection = backup_selection(list(flatten(terms)), {name: self.get_option(name) for name in BACKUP_SELECTION_ARGUMENT_SPEC})
            with self.em_session() as client:
                return get_backups(client, selection, on_missing=partial(_report_missing, self.get_option("on_missing"), client.warnings))


def _report_missing(on_missing: str, warnings: list[str], backup_id: str) -> None:
    """Fail, warn or stay silent about an id EM does not know, as ``on_missing`` says."""
    message = f"Backup {backup_id} was not found on EM (HTTP 404)"
    if on_missing == "error":
        raise AnsibleLookupError(f"{message}.")
    if on_missing == "warn":
        warnings.append(f"{message}; it is left out.")
