# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options that select backups and what to add to them; the spec is BACKUP_SELECTION_ARGUMENT_SPEC."""

    DOCUMENTATION = r"""
options:
  name:
    description:
      - Get only the backups with exactly this name (case and spaces count), through EM's query service.
      - Without an ID and without O(name), every backup EM knows is returned, page by page.
    type: str
  expand:
    description:
      - Linked entities to read and merge into each backup. Each distinct repository or backup server
        is read once, however many backups link to it.
      - V(repository) adds C(capacity) and C(free_space) (bytes) and C(kind) to the backup's C(repository).
      - V(backup_server) adds C(description), C(port) and C(version) to the backup's C(backup_server).
    type: list
    elements: str
    choices: [backup_server, repository]
    default: []
  restore_points:
    description:
      - Add each backup's restore points as C(restore_points), read through EM's query service
        (a few requests for all backups, not one per backup).
    type: bool
    default: false
"""
