# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: stale_backups
short_description: The backups whose latest restore point is older than a duration
version_added: 1.0.0
author: veeam_em.rest contributors
description:
  - Takes the C(backups) of M(veeam_em.rest.veeam_em_backup_info) or of the P(veeam_em.rest.veeam_em_backup#lookup)
    lookup, got with O(veeam_em.rest.veeam_em_backup_info#module:latest_restore_point=true), and returns a finding for
    each backup whose latest restore point is older than O(max_age), or that has none.
  - These are the C(stale) findings the P(veeam_em.rest.backup_report#role) role reports, with the same messages.
  - A C(ParentBackup) holds no restore points of its own and is never stale; its C(ChildBackup)s are judged.
  - Fails, naming the backup, when a backup has no C(latest_restore_point) key (the backups were got without
    O(veeam_em.rest.veeam_em_backup_info#module:latest_restore_point=true)).
  - EM's text stays data. The messages are never templated again, on every supported ansible-core.
options:
  _input:
    description: The backups, each with C(latest_restore_point).
    type: list
    elements: dict
    required: true
  max_age:
    description:
      - A duration, a whole number followed by V(m) (minutes), V(h) (hours), V(d) (days) or V(w) (weeks),
        such as V(26h) or V(7d); or a whole number of seconds.
    type: raw
    required: true
  now:
    description:
      - The time ages are measured at, in UTC, as V(2024-05-01T22:00:00Z). Defaults to the current time.
    type: str
"""

EXAMPLES = r"""
- name: Get every backup with its latest restore point
  veeam_em.rest.veeam_em_backup_info:
    latest_restore_point: true
  register: result

- name: Which backups are stale?
  ansible.builtin.debug:
    msg: "{{ result.backups | veeam_em.rest.stale_backups(max_age='26h') | map(attribute='message') }}"

- name: Fail when a backup has no restore point within a week
  ansible.builtin.assert:
    that: result.backups | veeam_em.rest.stale_backups(max_age='7d') | length == 0
    fail_msg: "{{ result.backups | veeam_em.rest.stale_backups(max_age='7d') | map(attribute='message') | join('; ') }}"

- name: The backups without a restore point in the last hour (3600 seconds), measured at one moment
  ansible.builtin.set_fact:
    stale_now: "{{ result.backups | veeam_em.rest.stale_backups(max_age=3600, now=now(utc=true)) }}"
"""

RETURN = r"""
_value:
  description:
    - One finding per stale backup, sorted by name (then id).
    - "C(kind) is V(stale); C(id) and C(name) are the backup's; C(message) says why, such as
      V(backup 'SQL Backup' (ID\\): latest restore point 2024-05-01T22:00:05Z is 30.0 h old, more than 26h)
      or V(backup 'SQL Backup' (ID\\): no restore point)."
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.veeam_em.rest.plugins.module_utils._report import ReportError, stale_backups, utc_moment
from ansible_collections.veeam_em.rest.plugins.plugin_utils._untrusted import as_data


def stale_backups_filter(backups, max_age, now=None):
    try:
        return as_data(stale_backups(list(backups), max_age, utc_moment(now, "now") if now is not None else None))
    except (ReportError, ValueError) as error:
        raise AnsibleFilterError(f"veeam_em.rest.stale_backups: {error}") from None


class FilterModule:
    """veeam_em.rest.stale_backups"""

    def filters(self):
        return {"stale_backups": stale_backups_filter}
