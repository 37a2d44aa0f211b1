# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: backup_report_failure
short_description: The message the backup_report role fails with, from its report
version_added: 1.0.0
author: veeam_em.rest contributors
description:
  - Takes a report of P(veeam_em.rest.backup_report_data#filter) (the role's C(backup_report_result.report)) and
    returns the findings of the kinds in its C(checks.fail_on), a heading per kind (C(missing), C(stale),
    C(low_space), C(failed_job), C(warning_job), in this order) and a line each; an empty string when there is none.
options:
  _input:
    description: The report.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Fail on the report's findings
  ansible.builtin.fail:
    msg: "{{ backup_report_result.report | veeam_em.rest.backup_report_failure }}"
  when: backup_report_result.report | veeam_em.rest.backup_report_failure | length > 0
"""

RETURN = r"""
_value:
  description:
    - Lines such as V(2 repositories have less than 41 % free space:) followed by one V(- <message>) line per finding.
  type: str
"""

from ansible_collections.veeam_em.rest.plugins.module_utils._report import failure_message
from ansible_collections.veeam_em.rest.plugins.plugin_utils._untrusted import as_data


def backup_report_failure(report):
    return as_data(failure_message(report) or "")


class FilterModule:
    """veeam_em.rest.backup_report_failure"""

    def filters(self):
        return {"backup_report_failure": backup_report_failure}
