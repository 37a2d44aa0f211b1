#!/usr/bin/python
# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: veeam_em_vm_restore_point_info
short_description: Get each VM's restore points, or its newest one, from Veeam Backup Enterprise Manager
version_added: 1.0.0
description:
  - Logs on to Veeam Backup Enterprise Manager (EM), finds the restore points of the VMs with the given
    names in every backup that holds them, names the backup that holds each point, and logs off again,
    also when a read fails.
  - Answers the question asked before a risky change to a machine, such as patching, upgrading or
    migrating it. Does it have a restore point, how old is it, and in which backup is it?
    See the guide C(guide_protection_gate) in the collection's C(docs/docsite/rst/) for a play that
    gates hosts on it.
  - All requests of one call share one session and one TCP/TLS connection. One VM with O(latest=true)
    takes four requests (logon, the VM's newest point, its restore point for the backup, logoff).
    Many VMs take a request per 40 names and round, and one per 40 distinct restore points, never a
    request per point. The P(veeam_em.rest.veeam_em_vm_restore_point#lookup) lookup reads them
    exactly the same way.
author:
  - veeam_em.rest developers (@veeam-em)
requirements:
  - requests
  - xmltodict
extends_documentation_fragment:
  - veeam_em.rest.connection
  - veeam_em.rest.vm_restore_point_selection
  - veeam_em.rest.attributes.info_module
  - veeam_em.rest.attributes.actiongroup_veeam_em
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: posix
options:
  vm_names:
    description:
      - The VMs to ask about, by the names EM shows for them (C(VmDisplayName)), matched exactly, as
        M(veeam_em.rest.veeam_em_backup_info) matches names. EM's filter ignores case, so only exact matches are kept,
        and V(DB01) never gets the point of V(db01). One name may be given as a string.
      - RV(vms) has one item per name given, in the same order, whether EM has a point of the VM or not.
      - An empty name, or one with a line break or another control character, is refused before a request is made.
    type: list
    elements: str
    required: true
    aliases:
      - vm_name
seealso:
  - module: veeam_em.rest.veeam_em_backup_info
  - name: EM REST API, GET /query?type=VmRestorePoint
    description: The query this module sends.
    link: https://helpcenter.veeam.com/docs/vbr/em_rest/get_query_vmrestorepoint.html
  - name: EM REST API, /vmRestorePoints/{ID}
    description: The VM restore point this module returns.
    link: https://helpcenter.veeam.com/docs/vbr/em_rest/vmrestorepoints_id.html
"""

EXAMPLES = r"""
- name: The newest restore point of two VMs
  veeam_em.rest.veeam_em_vm_restore_point_info:
    url: https://em01.example.com:9398
    username: "{{ veeam_em_username }}"
    password: "{{ veeam_em_password }}"
    vm_names: [web01, db01]
  register: points

- name: Where and when
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.latest_restore_point.creation_time_utc }} in {{ item.latest_restore_point.backup.name }}"
  loop: "{{ points.vms | selectattr('found') }}"

- name: Fail when a VM has no restore point of the last 26 hours
  veeam_em.rest.veeam_em_vm_restore_point_info:
    vm_name: web01
    since: 26h
  register: fresh
  failed_when: fresh.missing | length > 0

- name: The newest point of a VM and how its last backup run ended, with EM's reason
  veeam_em.rest.veeam_em_vm_restore_point_info:
    vm_name: web01
    last_task: true
  register: web01

- name: Every restore point of a VM in the last week, newest first
  veeam_em.rest.veeam_em_vm_restore_point_info:
    vm_name: web01
    latest: false
    since: 7d
  register: week

# A gate for every host of a play, asked once: see the guide guide_protection_gate.
- name: Ask EM once about every host of the play
  veeam_em.rest.veeam_em_vm_restore_point_info:
    vm_names: "{{ ansible_play_hosts_all | map('extract', hostvars, 'veeam_em_vm_name') }}"
  delegate_to: localhost
  run_once: true
  register: protection
"""

RETURN = r"""
vms:
  description:
    - One item per name given in O(vm_names), in that order.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The VM name as given.
      type: str
      returned: always
      sample: web01
    found:
      description:
        - Whether EM has a restore point of the VM (created since O(since), when given).
      type: bool
      returned: always
      sample: true
    latest_restore_point:
      description:
        - The VM's newest restore point (the greatest C(creation_time_utc) in every backup that holds the VM),
          null when C(found) is false.
        - Elements that EM sends empty are empty strings; elements it leaves out are null.
      type: dict
      returned: always
      contains:
        id:
          description: The VM restore point's ID, a lower-case UUID.
          type: str
          sample: f45e5f83-99a0-4b8e-9195-9f88ee13da07
        uid:
          description: The VM restore point's UID.
          type: str
          sample: urn:veeam:VmRestorePoint:f45e5f83-99a0-4b8e-9195-9f88ee13da07
        name:
          description: The point's name as EM gives it, C(<VM name>@<date and time>).
          type: str
          sample: web01@2026-11-29 22:00:52
        vm_name:
          description: The VM's name as EM gives it (its C(VmDisplayName), else its C(VmName)).
          type: str
          sample: web01
        creation_time_utc:
          description: When the point was created, in UTC, as EM gives it (ISO 8601).
          type: str
          sample: "2026-11-29T22:00:52.107Z"
        algorithm:
          description: How the point was made, C(Full), C(Incremental), C(ReversedIncremental) or C(SyntheticFull).
          type: str
          sample: Incremental
        point_type:
          description: C(Full), C(Increment) or C(ReverseIncrement).
          type: str
          sample: Increment
        hierarchy_obj_ref:
          description: The VM in its hypervisor's hierarchy.
          type: str
          sample: urn:VMware:Vm:de28dc43-b8ee-4e17-8e63-3d38b6604033.vm-62228
        backup_server:
          description: C(id), C(name) and C(href) of the backup server that made the point; null when EM links none.
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
        restore_point:
          description: C(id), C(name) and C(href) of the restore point (of the whole job run) that the point belongs to.
          type: dict
          contains:
            id:
              description: The restore point's ID, lower case.
              type: str
            name:
              description: The restore point's name.
              type: str
            href:
              description: The restore point's URL, without query string.
              type: str
        backup:
          description:
            - C(id), C(name) and C(href) of the backup that holds the point, from its restore point's link.
            - Null when EM no longer has the restore point.
          type: dict
          contains:
            id:
              description: The backup's ID, lower case.
              type: str
            name:
              description: The backup's name.
              type: str
            href:
              description: The backup's URL, without query string.
              type: str
        href:
          description: The VM restore point's URL, without query string.
          type: str
          sample: https://em01.example.com:9398/api/vmRestorePoints/f45e5f83-99a0-4b8e-9195-9f88ee13da07
    last_task:
      description:
        - The VM's newest task session (its share of its newest job run), null when EM has none.
      type: dict
      returned: when O(last_task=true)
      contains:
        id:
          description: The task session's ID, lower case.
          type: str
        vm_name:
          description: The VM's name as EM gives it.
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
        session:
          description: C(id), C(name) and C(href) of the job session (the run) the task belongs to.
          type: dict
          contains:
            id:
              description: The job session's ID, lower case.
              type: str
            name:
              description: The job session's name.
              type: str
            href:
              description: The job session's URL, without query string.
              type: str
    restore_points:
      description:
        - Every restore point of the VM (created since O(since), when given), newest first, each with the keys
          of C(latest_restore_point); an empty list when C(found) is false.
      type: list
      elements: dict
      returned: when O(latest=false)
missing:
  description:
    - The names given in O(vm_names) for which EM has no restore point (or none created since O(since)),
      as given and in the order given. An empty list when every VM has one.
  returned: success
  type: list
  elements: str
  sample:
    - web02
"""

from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient, missing_libraries
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import (
    CONNECTION_ARGUMENT_SPEC,
    connection_settings,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import VeeamEMError
from ansible_collections.veeam_em.rest.plugins.module_utils._vm_restore_points import (
    VM_POINT_SELECTION_ARGUMENT_SPEC,
    get_vm_restore_points,
    missing_names,
    vm_point_selection,
)


def main() -> None:
    argument_spec = {**CONNECTION_ARGUMENT_SPEC, **VM_POINT_SELECTION_ARGUMENT_SPEC,
                     "vm_names": {"type": "list", "elements": "str", "required": True, "aliases": ["vm_name"]}}
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    for library, error in missing_libraries():
        module.fail_json(msg=missing_required_lib(library), exception=error)

    warnings: list[str] = []
    result, failure = {"changed": False}, None
    try:
        now = datetime.now(timezone.utc)
        selection = vm_point_selection(module.params["vm_names"], module.params, now)
        client = EMClient(connection_settings(module.params))
        warnings = client.warnings
        with client:
            result["vms"] = get_vm_restore_points(client, selection, now)
        result["missing"] = missing_names(result["vms"])
    except VeeamEMError as error:
        failure = str(error)
    for warning in warnings:
        module.warn(warning)
    if failure:
        module.fail_json(msg=failure)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
