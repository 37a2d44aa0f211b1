# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options that select job sessions; the spec is SESSION_SELECTION_ARGUMENT_SPEC."""

    DOCUMENTATION = r"""
options:
  latest:
    description:
      - V(true) returns only each job's newest session, the one with the greatest C(creation_time_utc). A retry is a
        session of its own, so a failed run followed by a failed retry gives the retry.
      - It is found without reading every session. The jobs go to EM's query service 40 per request, sorted newest
        first, first for the sessions of the last day; only the jobs left without one are asked about again, for the
        last 8 days and then without a bound. While more than half of every job is still open, a round reads all
        sessions of its window instead. A single job takes one request, whatever the age of its newest session.
      - V(false) returns every session of the jobs created since O(since), newest first. O(since) is then required
        (a job keeps years of sessions).
    type: bool
    default: true
  since:
    description:
      - Only sessions created at this moment or later. EM applies the filter (on C(CreationTime)); the others are
        never transferred.
      - With O(latest=true), a job whose newest session is older than this has no session in the result, and its
        name or ID is in C(missing).
      - Either a UTC date-time in ISO 8601, such as V(2026-11-28T06:00:00Z) (or a date, V(2026-11-28), for midnight
        UTC), or a duration back from now, a whole number followed by V(m) (minutes), V(h) (hours), V(d) (days) or
        V(w) (weeks), such as V(90m), V(26h), V(7d) or V(2w).
      - Anything else is refused before a request is made.
    type: str
  tasks:
    description:
      - V(true) adds each session's task sessions (one per VM of the run) as C(tasks), with EM's C(reason) for each
        VM, read through the query service, 40 sessions per request.
    type: bool
    default: false
"""
