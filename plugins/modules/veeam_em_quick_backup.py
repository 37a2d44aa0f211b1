#!/usr/bin/python
# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: veeam_em_quick_backup
short_description: Take a fresh restore point of VMs now, with Veeam Backup Enterprise Manager's Quick Backup
version_added: 1.0.0
description:
  - Protect, then change. Before patching, upgrading or migrating a machine, asks Veeam Backup Enterprise Manager
    (EM) for a Quick Backup of its VM, an incremental backup in the job that already protects the VM, waits until
    it has ended and returns the VM's new restore point and the job session that made it.
  - With O(max_age), a VM whose newest restore point is younger is left alone, so the task changes nothing
    when the VMs are protected already. Without O(max_age), every VM named is backed up, so the task
    always changes something.
  - The VM is found through its newest restore point (the way M(veeam_em.rest.veeam_em_vm_restore_point_info)
    finds it, names matched exactly). The point's C(hierarchy_obj_ref) names the VM to EM, its backup server runs
    the backup. A VM due for a backup without a restore point, or whose point has no C(hierarchy_obj_ref) (agent
    backups, older EM versions), cannot be backed up this way; the task then fails before any backup is started,
    for every VM of the call, naming each such VM and why.
  - All backups are started first, then waited for together, so several VMs take about as long as the longest
    of their backups.
  - Everything happens in one EM logon session, which is logged off at the end, after a failure, a timeout or
    an interruption too. EM's tasks belong to the session that started them, so they can only be followed there.
    Each request has O(timeout) and O(retries); a quick backup request (a POST) is sent at most once and retried
    only when no connection could be made. Polling keeps EM's session alive.
  - When the wait ends at O(wait_timeout), the task fails naming each VM still being backed up and its job
    session; EM goes on with them, nothing is cancelled.
  - A VM's new restore point shows once EM has it. EM collects the backup servers' data on its own schedule
    (every 15 minutes by default, when nothing triggers it earlier), so RV(vms[].latest_restore_point) may still
    be the earlier point right after a backup that ended C(Success); RV(vms[].session) shows the result
    at once.
author:
  - veeam_em.rest developers (@veeam-em)
requirements:
  - requests
  - xmltodict
extends_documentation_fragment:
  - veeam_em.rest.connection
  - veeam_em.rest.attributes.actiongroup_veeam_em
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Only reads from EM; RV(vms[].backed_up) says which VMs would be backed up, and no backup is started.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  vm_names:
    description:
      - The VMs to back up, by the names EM shows for them (C(VmDisplayName)), matched exactly (also in case).
        One name may be given as a string.
      - RV(vms) has one item per name given, in the same order.
      - An empty name, or one with a line break or another control character, is refused before a request is made.
    type: list
    elements: str
    required: true
    aliases:
      - vm_name
  max_age:
    description:
      - Leave alone each VM whose newest restore point is younger than this, a whole number with C(m), C(h), C(d)
        or C(w), such as V(1h) or V(26h).
      - Without it, every VM named is backed up, each time the task runs.
    type: str
  wait:
    description:
      - Wait until each backup's job session has stopped, then return each VM's new restore point.
      - With V(false), return as soon as EM has started each backup. RV(vms[].session) is then the running job
        session (C(state) C(Working), C(result) null).
    type: bool
    default: true
  wait_timeout:
    description:
      - How long to wait, counted from the moment the last backup was started, in whole seconds (V(600)) or as a
        duration such as V(30m) or V(2h).
      - Then the task fails naming each VM still being backed up and its job session; EM goes on with them.
    type: raw
    default: 1h
  poll_interval:
    description:
      - Seconds between two looks at the running backups, from V(1) to V(300). The polls keep the EM session
        alive (EM ends one after 15 idle minutes), and the backups' tasks can be read only in that session.
    type: int
    default: 5
notes:
  - When several VMs are due at once, prefer one task with every VM in O(vm_names) to a loop of one VM per item.
    One task runs their backups side by side, in one EM session.
seealso:
  - module: veeam_em.rest.veeam_em_vm_restore_point_info
  - name: EM REST API, POST /backupServers/{ID}?action=quickbackup
    description: The request this module sends for each VM.
    link: https://helpcenter.veeam.com/docs/vbr/em_rest/post_backupservers_id_quickbackup.html
  - name: EM REST API, GET /tasks/{ID}
    description: How EM reports on a quick backup it has been asked for.
    link: https://helpcenter.veeam.com/docs/vbr/em_rest/get_tasks_id.html
"""

EXAMPLES = r"""
- name: Back up web01 now unless it has a restore point of the last hour
  veeam_em.rest.veeam_em_quick_backup:
    url: https://em01.example.com:9398
    username: "{{ veeam_em_username }}"
    password: "{{ veeam_em_password }}"
    vm_name: web01
    max_age: 1h
  register: protected

- name: Where the new point is
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.latest_restore_point.creation_time_utc }} in {{ item.latest_restore_point.backup.name }}"
  loop: "{{ protected.vms }}"

# Protect each host of a play before patching it: see the guide guide_protection_gate.
- name: A fresh restore point of this host's VM, before the patches
  veeam_em.rest.veeam_em_quick_backup:
    vm_name: "{{ veeam_em_vm_name | default(inventory_hostname) }}"
    max_age: 1h
    wait_timeout: 30m
  delegate_to: localhost

- name: Start the backups of three VMs and go on without waiting
  veeam_em.rest.veeam_em_quick_backup:
    vm_names: [web01, web02, db01]
    wait: false
  register: started
"""

RETURN = r"""
vms:
  description:
    - One item per name given in O(vm_names), in that order; returned on failure too, so that a play can see
      which VMs were protected.
  returned: always, unless the options are invalid or EM could not be read
  type: list
  elements: dict
  contains:
    name:
      description: The VM name as given.
      type: str
      returned: always
      sample: web01
    backed_up:
      description:
        - Whether this task asked EM for a quick backup of the VM, whatever came of it; in check mode, whether
          it would.
      type: bool
      returned: always
      sample: true
    latest_restore_point:
      description:
        - The VM's newest restore point after the task, as M(veeam_em.rest.veeam_em_vm_restore_point_info) returns
          it (C(id), C(uid), C(name), C(vm_name), C(creation_time_utc), C(algorithm), C(point_type),
          C(hierarchy_obj_ref), C(backup_server), C(restore_point), C(backup), C(href)).
        - The new point when the backup ended C(Success) (once EM has it); the earlier one otherwise; null when
          EM has none.
      type: dict
      returned: always
    session:
      description:
        - The job session the backup ran in, as M(veeam_em.rest.veeam_em_backup_session_info) returns it with
          C(tasks) (C(id), C(uid), C(name), C(job), C(job_type), C(backup_server), C(creation_time_utc),
          C(end_time_utc), C(state), C(result), C(progress), C(is_retry), C(href), C(tasks)).
        - A quick backup's session holds the VM's task alone, with EM's C(reason) when it failed.
        - Null when no backup was started (the VM was fresh, EM refused the backup, or in check mode).
      type: dict
      returned: always
      sample:
        id: 3a431bfe-2267-5a7c-99de-137fff1d538f
        name: Prod VMs@2026-12-04 22:03:38
        state: Stopped
        result: Success
        tasks:
          - vm_name: web01
            result: Success
            reason: ""
"""

from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient, missing_libraries
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import (
    CONNECTION_ARGUMENT_SPEC,
    connection_settings,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import VeeamEMError
from ansible_collections.veeam_em.rest.plugins.module_utils._quick_backup import (
    QUICK_BACKUP_ARGUMENT_SPEC,
    QuickBackupFailed,
    quick_backup,
    quick_backup_request,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._signals import logged_off_on_signals


def main() -> None:
    module = AnsibleModule(argument_spec={**CONNECTION_ARGUMENT_SPEC, **QUICK_BACKUP_ARGUMENT_SPEC}, supports_check_mode=True)
    for library, error in missing_libraries():
        module.fail_json(msg=missing_required_lib(library), exception=error)

    warnings: list[str] = []
    result, failure = {"changed": False}, None
    try:
        now = datetime.now(timezone.utc)
        request = quick_backup_request(module.params, now)
        client = EMClient(connection_settings(module.params))
        warnings = client.warnings
        with logged_off_on_signals(client):
            result = quick_backup(client, request, now, module.check_mode)
    except QuickBackupFailed as error:
        result, failure = {"changed": error.changed, "vms": error.vms}, str(error)
    except VeeamEMError as error:
        failure = str(error)
    for warning in warnings:
        module.warn(warning)
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
