# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: low_space_repositories
short_description: The repositories of some backups that have less free space than a percentage
version_added: 1.0.0
author: veeam_em.rest contributors
description:
  - Takes the C(backups) of M(veeam_em.rest.veeam_em_backup_info) or of the P(veeam_em.rest.veeam_em_backup#lookup)
    lookup, got with O(veeam_em.rest.veeam_em_backup_info#module:expand=[repository]), and returns a finding for each
    of their repositories (each once) whose free space is less than O(min_free_percent) of its capacity.
  - These are the C(low_space) findings the P(veeam_em.rest.backup_report#role) role reports, with the same messages.
  - A repository of unknown size (no capacity or free space, or a capacity of 0) is not judged.
  - Fails, naming the repository, when a repository has no C(capacity) key (the backups were got without
    O(veeam_em.rest.veeam_em_backup_info#module:expand=[repository])).
  - EM's text stays data. The messages are never templated again, on every supported ansible-core.
options:
  _input:
    description: The backups, each with its expanded C(repository).
    type: list
    elements: dict
    required: true
  min_free_percent:
    description: A percentage from 0 to 100.
    type: float
    required: true
"""

EXAMPLES = r"""
- name: Get every backup with its repository's size
  veeam_em.rest.veeam_em_backup_info:
    expand: [repository]
  register: result

- name: Which repositories have less than 10 % free space?
  ansible.builtin.debug:
    msg: "{{ result.backups | veeam_em.rest.low_space_repositories(min_free_percent=10) | map(attribute='name') }}"

- name: The same through the lookup
  ansible.builtin.debug:
    msg: "{{ query('veeam_em.rest.veeam_em_backup', expand=['repository']) | veeam_em.rest.low_space_repositories(min_free_percent=10) }}"
"""

RETURN = r"""
_value:
  description:
    - One finding per repository low on space, sorted by name (then id).
    - "C(kind) is V(low_space); C(id) and C(name) are the repository's; C(message) says why, such as
      V(repository 'Default Backup Repository' (ID\\): 4.5 % free (502.00 GB of 10.91 TB\\), less than 10 %)."
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.veeam_em.rest.plugins.module_utils._report import ReportError, low_space_repositories
from ansible_collections.veeam_em.rest.plugins.plugin_utils._untrusted import as_data


def low_space_repositories_filter(backups, min_free_percent):
    try:
        return as_data(low_space_repositories(list(backups), min_free_percent))
    except ReportError as error:
        raise AnsibleFilterError(f"veeam_em.rest.low_space_repositories: {error}") from None


class FilterModule:
    """veeam_em.rest.low_space_repositories"""

    def filters(self):
        return {"low_space_repositories": low_space_repositories_filter}
