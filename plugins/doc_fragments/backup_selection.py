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
      - Every restore point of every selected backup is transferred; where only the newest one matters,
        O(latest_restore_point) costs a small fraction of that.
    type: bool
    default: false
  restore_points_since:
    description:
      - With O(restore_points=true), only the restore points created at this moment or later. EM applies the
        filter (on the points' C(CreationTime)); the others are never transferred.
      - Either a UTC date-time in ISO 8601, such as V(2026-11-28T06:00:00Z) (or a date, V(2026-11-28), for
        midnight UTC), or a duration back from now, a whole number followed by V(m) (minutes), V(h) (hours),
        V(d) (days) or V(w) (weeks), such as V(90m), V(26h), V(7d) or V(2w).
      - Anything else, and a moment before the year 1000 (which EM refuses), is refused before a request is made.
      - EM refreshes its data from the backup servers every 15 minutes by default, so its newest points may be
        up to that much behind the backup servers.
    type: str
  latest_restore_point:
    description:
      - Add each backup's newest restore point (the one with the greatest C(backup_date_utc)) as
        C(latest_restore_point), or null when the backup has none. A C(ParentBackup) holds no restore points of
        its own (its C(ChildBackup)s do), so its C(latest_restore_point) is null.
      - Read through the query service without transferring every restore point of every backup (as
        O(restore_points) does). One query for the points of the last day answers every backup that has one;
        only the backups it leaves without a point are asked about again, by UID in batches, for the last
        8 days and then without a bound.
      - To judge freshness, allow for EM's refresh interval (15 minutes by default) on top of the backup
        schedule, for example C(26h) for daily backups.
    type: bool
    default: false
"""
