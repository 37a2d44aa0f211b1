# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: veeam_em_vm_restore_point
short_description: Get each VM's newest restore point, or all of them, from Veeam Backup Enterprise Manager inside templates
version_added: 1.0.0
description:
  - Returns, for each VM name given as a term, the same item as the
    RV(veeam_em.rest.veeam_em_vm_restore_point_info#module:vms) items of
    M(veeam_em.rest.veeam_em_vm_restore_point_info), whether EM has a point of the VM or not
    (C(found) tells), in the order of the terms.
  - Call it with C(query()) (or C(lookup(..., wantlist=True))) wherever a list is expected, because Ansible's
    C(lookup()) returns a one-item list as that item.
  - All terms of one call share one EM session and one TCP/TLS connection, with the requests the module
    makes (one VM with O(latest=true) is a logon, two queries and a logoff); the logoff also happens when a
    request fails.
  - A keyword that is no option of this lookup (a typo such as C(lastest=false)) fails the lookup before a
    request is made, naming it and listing the options.
  - A lookup runs again each time its template is evaluated, with a logon of its own each time.
    Where the same VMs are used in many tasks, register the module's result once instead.
author:
  - veeam_em.rest developers (@veeam-em)
requirements:
  - requests
  - xmltodict
extends_documentation_fragment:
  - veeam_em.rest.connection
  - veeam_em.rest.connection.plugins
  - veeam_em.rest.vm_restore_point_selection
options:
  _terms:
    description:
      - VM names as EM shows them (C(VmDisplayName)), matched exactly (EM's filter ignores case, only exact
        matches are kept). A list term counts as its items.
      - An empty name, or one with a line break or another control character, fails the lookup before a
        request is made.
    type: list
    elements: str
    required: true
  ca_path:
    # A str, expanded by the plugin: as a path, an empty VEEAM_EM_CA_PATH (what an AWX
    # credential without a CA injects) would become the current directory.
    type: str
seealso:
  - module: veeam_em.rest.veeam_em_vm_restore_point_info
"""

EXAMPLES = r"""
- name: When was web01 last backed up, and where?
  ansible.builtin.debug:
    msg: >-
      {% set vm = lookup('veeam_em.rest.veeam_em_vm_restore_point', 'web01') %}
      {{ vm.latest_restore_point.creation_time_utc ~ ' in ' ~ vm.latest_restore_point.backup.name
         if vm.found else 'web01 has no restore point' }}
  vars:
    veeam_em_url: https://em01.example.com:9398
    veeam_em_username: "{{ vault_em_username }}"
    veeam_em_password: "{{ vault_em_password }}"

- name: The VMs without a restore point of the last 26 hours, in one EM session
  ansible.builtin.debug:
    msg: "{{ query('veeam_em.rest.veeam_em_vm_restore_point', 'web01', 'db01', 'app01', since='26h')
             | rejectattr('found') | map(attribute='name') }}"

- name: Every restore point of a VM in the last week, newest first
  ansible.builtin.debug:
    msg: "{{ item.creation_time_utc }} {{ item.point_type }} in {{ item.backup.name }}"
  loop: "{{ (query('veeam_em.rest.veeam_em_vm_restore_point', 'web01', latest=false, since='7d') | first).restore_points }}"
"""

RETURN = r"""
_raw:
  description:
    - A list, as C(query()) returns it; C(lookup()) turns a one-item list into that item.
    - One item per term, in term order, each exactly as an item of the
      RV(veeam_em.rest.veeam_em_vm_restore_point_info#module:vms) list of
      M(veeam_em.rest.veeam_em_vm_restore_point_info) (keys C(name), C(found), C(latest_restore_point),
      C(restore_points) with O(latest=false), and C(last_task) with O(last_task=true)); see that module's documentation for every key.
  type: list
  elements: dict
"""

from datetime import datetime, timezone

from ansible_collections.veeam_em.rest.plugins.module_utils._vm_restore_points import (
    VM_POINT_SELECTION_ARGUMENT_SPEC,
    get_vm_restore_points,
    vm_point_selection,
)
from ansible_collections.veeam_em.rest.plugins.plugin_utils._lookup import EMLookupBase, flatten, lookup_errors


class LookupModule(EMLookupBase):
    """VM restore points for templates, through the module's own code path."""

    LOOKUP_NAME = "veeam_em.rest.veeam_em_vm_restore_point"

    def run(self, terms, variables=None, **kwargs):
        self.set_em_options(variables, kwargs)
        with lookup_errors():
            now = datetime.now(timezone.utc)
            selection = vm_point_selection(list(flatten(terms)), {name: self.get_option(name) for name in VM_POINT_SELECTION_ARGUMENT_SPEC}, now)
            with self.em_session() as client:
                return get_vm_restore_points(client, selection, now)
