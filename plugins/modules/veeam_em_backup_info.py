#!/usr/bin/python
# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: veeam_em_backup_info
short_description: Get a backup from Veeam Backup Enterprise Manager
version_added: 1.0.0
description:
  - Logs on to Veeam Backup Enterprise Manager (EM), reads one backup from its REST API
    (C(GET /api/backups/<id>?format=Entity)), and logs off again, also when the read fails.
  - Returns the backup as plain data, with the repository and the backup server it belongs to
    resolved from the backup's links.
  - All requests of one call share one TCP/TLS connection: logon, read and logoff are three requests;
    with O(session_id), one.
author:
  - veeam_em.rest developers
requirements:
  - requests
  - xmltodict
extends_documentation_fragment:
  - veeam_em.rest.connection
  - veeam_em.rest.attributes.info_module
  - veeam_em.rest.attributes.actiongroup_veeam_em
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: posix
options:
  id:
    description:
      - The backup to get, as its ID (a UUID) or its UID (C(urn:veeam:Backup:<UUID>)), in any case.
      - Anything else is refused before a request is made.
    type: str
    required: true
    aliases:
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

# Ad-hoc, with the connection from the environment:
#   export VEEAM_EM_URL=https://em01.example.com:9398 VEEAM_EM_USERNAME=svc-ansible
#   export VEEAM_EM_PASSWORD='...'
#   ansible localhost -m veeam_em.rest.veeam_em_backup_info -a id=c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70
"""

RETURN = r"""
backups:
  description:
    - The backup, normalized from EM's XML. An empty list when EM does not know the id (HTTP 404).
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
      description: The platform of the backed-up machines, such as C(VMware), C(HyperV), C(AgentForWindows) or C(CustomPlatform); null when EM omits it.
      type: str
      returned: always
      sample: VMware
    backup_type:
      description: C(Standard), C(ParentBackup) or C(ChildBackup); null when EM omits it (API v1_3 and older).
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
    parent_backup:
      description: For a C(ChildBackup), the parent backup it belongs to; null otherwise.
      type: dict
      returned: always
      contains:
        id:
          description: The parent backup's ID, lower case.
          type: str
        name:
          description: The parent backup's name.
          type: str
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
"""

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import fetch_backup, parse_backup_id
from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient, missing_libraries
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import (
    CONNECTION_ARGUMENT_SPEC,
    connection_settings,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import VeeamEMError


def main() -> None:
    argument_spec = copy.deepcopy(CONNECTION_ARGUMENT_SPEC)
    argument_spec["id"] = {"type": "str", "required": True, "aliases": ["uid"]}
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    for library, error in missing_libraries():
        module.fail_json(msg=missing_required_lib(library), exception=error)

    warnings: list[str] = []
    backup, failure = None, None
    try:
        backup_id = parse_backup_id(module.params["id"])
        client = EMClient(connection_settings(module.params))
        warnings = client.warnings
        with client:
            backup = fetch_backup(client, backup_id)
    except VeeamEMError as error:
        failure = str(error)
    for warning in warnings:
        module.warn(warning)
    if failure:
        module.fail_json(msg=failure)
    module.exit_json(changed=False, backups=[backup] if backup else [])

if __name__ == "__main__":
    main()
