#!/usr/bin/python
# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: veeam_em_backup_info
short_description: Get backups from Veeam Backup Enterprise Manager
version_added: 1.0.0
description:
  - Logs on to Veeam Backup Enterprise Manager (EM), reads the backups with the given IDs, the backups
    with a given name, or all backups (EM's query service, page by page), and logs off again,
    also when a read fails.
  - Returns the backups as plain data, with the repository and the backup server each belongs to
    resolved from the backup's links, optionally with their details and the backups' restore points.
  - All requests of one call share one session and one TCP/TLS connection. One backup by ID takes three
    requests (logon, C(GET /api/backups/<id>?format=Entity), logoff); with O(session_id), one. More IDs are
    read through the query service, one request per 40 IDs, exactly as the
    P(veeam_em.rest.veeam_em_backup#lookup) lookup reads them. A listing takes one request per page
    of 1000 backups.
  - The parent of a child backup is named from the same call's backups when it is among them,
    otherwise read once per distinct parent.
author:
  - veeam_em.rest developers (@veeam-em)
requirements:
  - requests
  - xmltodict
extends_documentation_fragment:
  - veeam_em.rest.connection
  - veeam_em.rest.backup_selection
  - veeam_em.rest.attributes.info_module
  - veeam_em.rest.attributes.actiongroup_veeam_em
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: posix
options:
  id:
    description:
      - The backups to get, each as its ID (a UUID) or its UID (C(urn:veeam:Backup:<UUID>)), in any case.
        One ID may be given as a string.
      - All of them are read in one EM session; RV(backups) comes back in the order of the IDs given,
        and RV(missing) lists the IDs that EM does not know.
      - Anything else is refused before a request is made, naming the offending value.
      - Without O(id) and O(name), every backup is returned.
    type: list
    elements: str
    aliases:
      - ids
      - uid
seealso:
  - name: EM REST API, /backups/{ID}
    description: The EM resource this module reads.
    link: https://helpcenter.veeam.com/docs/vbr/em_rest/backups_id.html
"""

EXAMPLES = r"""
- name: Get a backup
  veeam_em.rest.veeam_em_backup_info:
    url: https://em01.example.com:9398
    username: "{{ veeam_em_username }}"
    password: "{{ veeam_em_password }}"
    ca_path: /etc/pki/veeam/em-ca.pem
    id: c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70
  register: result

- name: Show where it is stored
  ansible.builtin.debug:
    msg: "{{ result.backups[0].name }} is in {{ result.backups[0].repository.name }} on {{ result.backups[0].backup_server.name }}"

- name: Get several backups in one session, and tell which ones EM does not know
  veeam_em.rest.veeam_em_backup_info:
    url: https://em01.example.com:9398
    username: "{{ veeam_em_username }}"
    password: "{{ veeam_em_password }}"
    ids:
      - c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70
      - urn:veeam:Backup:3b0c7f2e-5d1a-4e8b-9c44-0a1b2c3d4e5f
  register: result

- name: Fail when a backup is gone
  ansible.builtin.assert:
    that: result.missing | length == 0
    fail_msg: "EM does not know {{ result.missing | join(', ') }}"

- name: Set the connection once for every module of the collection
  module_defaults:
    group/veeam_em.rest.veeam_em:
      url: https://em01.example.com:9398
      username: "{{ veeam_em_username }}"
      password: "{{ veeam_em_password }}"
  block:
    - name: Get a backup by its UID
      veeam_em.rest.veeam_em_backup_info:
        uid: urn:veeam:Backup:c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70
      register: result

# With VEEAM_EM_URL, VEEAM_EM_USERNAME and VEEAM_EM_PASSWORD set in the
# environment (as an AWX credential injects them), no connection option is needed:
- name: Get a backup with the connection from the environment
  veeam_em.rest.veeam_em_backup_info:
    id: c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70
  register: result

- name: Every backup named "SQL Backup", with repository sizes and server versions
  veeam_em.rest.veeam_em_backup_info:
    name: SQL Backup
    expand: [repository, backup_server]
  register: result

- name: Repositories that are more than 90 % full
  ansible.builtin.debug:
    msg: "{{ item.repository.name }}: {{ item.repository.free_space | human_readable }} free"
  loop: "{{ result.backups | selectattr('repository') | list }}"
  when: item.repository.free_space < 0.1 * item.repository.capacity

- name: All backups with their restore points
  veeam_em.rest.veeam_em_backup_info:
    restore_points: true
  register: all_backups

- name: The restore points of the last 7 days only, filtered by EM
  veeam_em.rest.veeam_em_backup_info:
    name: SQL Backup
    restore_points: true
    restore_points_since: 7d
  register: sql_week

- name: Each backup's newest restore point, without transferring all of them
  veeam_em.rest.veeam_em_backup_info:
    latest_restore_point: true
  register: latest

- name: Backups without a restore point in the last 26 hours (daily jobs, plus EM's 15-minute refresh)
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.latest_restore_point.backup_date_utc | default('no restore point') }}"
  loop: "{{ latest.backups | rejectattr('backup_type', 'equalto', 'ParentBackup') | list }}"
  when: >-
    item.latest_restore_point is none
    or (now(utc=true) - (item.latest_restore_point.backup_date_utc[:19] | to_datetime('%Y-%m-%dT%H:%M:%S'))).total_seconds() > 26 * 3600

# Ad-hoc, with the connection from the environment:
#   export VEEAM_EM_URL=https://em01.example.com:9398 VEEAM_EM_USERNAME=svc-ansible
#   export VEEAM_EM_PASSWORD='...'
#   ansible localhost -m veeam_em.rest.veeam_em_backup_info -a id=c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70
"""

RETURN = r"""
backups:
  description:
    - The backups, normalized from EM's XML, in the order of the IDs given with O(id), otherwise in EM's order.
      An empty list when EM knows none of the IDs or no backup has the name.
    - Elements that EM sends empty (such as C(<Description />)) are empty strings; elements it leaves out are null.
    - Child elements of C(<Backup>) that newer EM versions add appear as extra keys, in snake_case.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The backup's ID, a lower-case UUID.
      type: str
      returned: always
      sample: c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70
    uid:
      description: The backup's UID.
      type: str
      returned: always
      sample: urn:veeam:Backup:c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70
    name:
      description: The backup's name (usually its job's name), exactly as EM gives it, whitespace included.
      type: str
      returned: always
      sample: Simple backup_1
    href:
      description: The backup's URL as EM gives it, without query string.
      type: str
      returned: always
      sample: https://em01.example.com:9398/api/backups/c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70
    platform:
      description:
        - The platform of the backed-up machines, such as C(VMware), C(HyperV), C(AgentForWindows) or C(CustomPlatform).
        - Null when EM omits the element, an empty string when EM sends it empty.
      type: str
      returned: always
      sample: VMware
    backup_type:
      description: C(Standard), C(ParentBackup) or C(ChildBackup); null when EM omits it (API v1_3 and older), an empty string when EM sends it empty.
      type: str
      returned: always
      sample: Standard
    repository:
      description: The repository that holds the backup, from its C(RepositoryReference) link; null when there is none.
      type: dict
      returned: always
      contains:
        id:
          description: The repository's ID, lower case.
          type: str
          sample: b8832f03-2c9e-4222-8d0b-e43e0c912f93
        name:
          description: The repository's name.
          type: str
          sample: Scale-out Backup Repository 2
        href:
          description: The repository's URL, without query string.
          type: str
          sample: https://em01.example.com:9398/api/repositories/b8832f03-2c9e-4222-8d0b-e43e0c912f93
        capacity:
          description: The repository's size in bytes.
          type: int
          returned: when O(expand) has V(repository)
          sample: 107374182400000
        free_space:
          description: The repository's free space in bytes.
          type: int
          returned: when O(expand) has V(repository)
          sample: 53687091200000
        kind:
          description: The repository's kind, such as C(WindowsLocal), C(LinuxLocal) or C(Extendable) (scale-out).
          type: str
          returned: when O(expand) has V(repository)
          sample: Extendable
    backup_server:
      description: The backup server (VBR) that owns the backup, from its C(BackupServerReference) link; null when there is none.
      type: dict
      returned: always
      contains:
        id:
          description: The backup server's ID, lower case.
          type: str
          sample: 8c88c6d6-931f-4044-8c0b-7a0c5f188b00
        name:
          description: The backup server's name, its DNS name or IP address.
          type: str
          sample: vbr01.example.com
        href:
          description: The backup server's URL, without query string.
          type: str
          sample: https://em01.example.com:9398/api/backupServers/8c88c6d6-931f-4044-8c0b-7a0c5f188b00
        description:
          description: The backup server's description; an empty string when EM sends C(<Description />), null when EM omits it.
          type: str
          returned: when O(expand) has V(backup_server)
        port:
          description: The port EM collects data from the backup server on.
          type: int
          returned: when O(expand) has V(backup_server)
          sample: 9392
        version:
          description: The backup server's Veeam Backup & Replication version.
          type: str
          returned: when O(expand) has V(backup_server)
          sample: 13.0.0.1420
    parent_backup:
      description: For a C(ChildBackup), the parent backup it belongs to; null otherwise.
      type: dict
      returned: always
      contains:
        id:
          description: The parent backup's ID, lower case.
          type: str
        name:
          description:
            - The parent backup's real name. EM names every parent link C(Parent Backup); the name is taken
              from the parent among the same call's backups, else read from EM once per distinct parent.
            - Null when EM cannot give the parent (HTTP 404).
          type: str
          sample: Simple backup_1
        href:
          description: The parent backup's URL, without query string.
          type: str
    links:
      description: Every link of the backup, in EM's order, with its attributes as EM gives them (null when absent).
      type: list
      elements: dict
      returned: always
      contains:
        rel:
          description: The link's relation, such as C(Up), C(Down) or C(Alternate).
          type: str
        type:
          description: The linked resource's type, such as C(RepositoryReference).
          type: str
        name:
          description: The linked resource's name.
          type: str
        href:
          description: The link's URL, query string included.
          type: str
    restore_points:
      description: The backup's restore points, in EM's order; with O(restore_points_since), those created since then.
      type: list
      elements: dict
      returned: when O(restore_points=true)
      contains:
        id:
          description: The restore point's ID, lower case.
          type: str
        uid:
          description: The restore point's UID, C(urn:veeam:RestorePoint:<id>).
          type: str
        name:
          description: The restore point's name, as EM gives it (a date such as C(Oct  4 2025  8:00PM)).
          type: str
        href:
          description: The restore point's URL, without query string.
          type: str
        backup_date_utc:
          description: When the restore point was made, in UTC, as EM gives it (ISO 8601).
          type: str
          sample: "2025-10-14T20:00:31.23Z"
    latest_restore_point:
      description:
        - The backup's newest restore point, the one with the greatest C(backup_date_utc); null when it has none
          (always for a C(ParentBackup), whose C(ChildBackup)s hold its points).
        - Not limited by O(restore_points_since).
      type: dict
      returned: when O(latest_restore_point=true)
      contains:
        id:
          description: The restore point's ID, lower case.
          type: str
        uid:
          description: The restore point's UID, C(urn:veeam:RestorePoint:<id>).
          type: str
        name:
          description: The restore point's name, as EM gives it.
          type: str
        href:
          description: The restore point's URL, without query string.
          type: str
        backup_date_utc:
          description: When the restore point was made, in UTC, as EM gives it (ISO 8601).
          type: str
          sample: "2026-11-29T22:00:05.5Z"
missing:
  description:
    - The IDs given with O(id) that EM does not know (HTTP 404), as given and in the order given.
    - An empty list when EM knows them all.
  returned: when O(id) is given
  type: list
  elements: str
  sample:
    - 00000000-1111-4222-8333-444444444444
"""

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import (
    BACKUP_INFO_ARGUMENT_SPEC,
    BACKUP_INFO_MUTUALLY_EXCLUSIVE,
    backup_info,
    backup_selection,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient, missing_libraries
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import connection_settings
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import VeeamEMError
from ansible_collections.veeam_em.rest.plugins.module_utils._signals import logged_off_on_signals


def main() -> None:
    module = AnsibleModule(argument_spec=copy.deepcopy(BACKUP_INFO_ARGUMENT_SPEC), mutually_exclusive=BACKUP_INFO_MUTUALLY_EXCLUSIVE,
                           supports_check_mode=True)
    for library, error in missing_libraries():
        module.fail_json(msg=missing_required_lib(library), exception=error)

    given_ids = module.params["id"] or []
    warnings: list[str] = []
    result, failure = {"changed": False, "backups": []}, None
    try:
        selection = backup_selection(given_ids, module.params)
        client = EMClient(connection_settings(module.params))
        warnings = client.warnings
        with logged_off_on_signals(client):
            result.update(backup_info(client, given_ids, selection))
    except VeeamEMError as error:
        failure = str(error)
    for warning in warnings:
        module.warn(warning)
    if failure:
        module.fail_json(msg=failure)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
