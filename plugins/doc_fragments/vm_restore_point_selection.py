# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options that select VM restore points; the spec is VM_POINT_SELECTION_ARGUMENT_SPEC."""

    DOCUMENTATION = r"""
options:
  latest:
    description:
      - V(true) returns only each VM's newest restore point, the one with the greatest C(creation_time_utc)
        among all the VM's points in every backup that holds it.
      - It is found without reading every point. The names go to EM's query service 40 per request
        (fewer when long names would make a request line over 8 KiB),
        sorted newest first, first for the points of the last day; only the names left without one are asked
        about again, for the last 8 days and then without a bound. A single VM takes one request
        (plus one to name the backup), whatever the age of its newest point.
      - V(false) returns every restore point of each VM, newest first, as C(restore_points).
    type: bool
    default: true
  since:
    description:
      - Only restore points created at this moment or later. EM applies the filter (on C(CreationTime)); the others
        are never transferred.
      - With O(latest=true), a VM whose newest point is older than this is returned with C(found=false),
        and its name is in C(missing).
      - Either a UTC date-time in ISO 8601, such as V(2026-11-28T06:00:00Z) (or a date, V(2026-11-28), for
        midnight UTC), or a duration back from now, a whole number followed by V(m) (minutes), V(h) (hours),
        V(d) (days) or V(w) (weeks), such as V(90m), V(26h), V(7d) or V(2w).
      - Anything else is refused before a request is made.
      - EM refreshes its data from the backup servers every 15 minutes by default, so allow for that in the bound,
        for example V(26h) for daily backups.
    type: str
  last_task:
    description:
      - V(true) adds C(last_task) to each VM's item, the VM's newest task session (its share of its newest job run, by
        C(creation_time_utc)) with EM's C(result) and C(reason), so that a gate can say why a VM has no fresh point.
        Null when EM has none. Read through the query service, one request per 40 VMs and round.
    type: bool
    default: false
"""
