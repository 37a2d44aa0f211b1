# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each VM's restore points, by VM name: one code path for module and lookup.

Private to veeam_em.rest: not a public API, may change without notice.

A VM's points are spread over the backups that hold it; EM's query type
``VmRestorePoint`` finds them by ``VmDisplayName`` across all of them. The newest
point per VM is found without reading every point: names go in OR filters of
up to 40 names (fewer when long names would make a request line over 8 KiB), sorted
newest first on ``CreationTime`` so that paging stops once every name of the batch has
a point, and bounded by the same widening windows as a
backup's newest point (one day, eight days, no bound), each round asking only about
the names the narrower one left without a point. A single name needs no window: the
newest of its points is one request of page size 1. The backup holding each point is
named by its restore point's link, read through one query per 40 restore points.

Names are matched exactly, as the backup module matches them: EM's filter ignores case, so
the points of ``DB01`` come back for ``db01`` too and are left out. Each VM's newest task
session (``last_task``: did its last backup run succeed, and if not, why) is found the same
way, through ``BackupTaskSession`` queries on ``VmDisplayName``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterator, Optional

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import _or_filters, _query, _shown, filter_length, or_filter, value_batches
from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import InvalidInputError
from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import (
    normalize_restore_point,
    normalize_task_session,
    normalize_vm_restore_point,
    restore_point_backup,
    task_session_job_session,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._restore_points import (
    creation_time_filter,
    newest_in_windows,
    parse_since,
    point_date,
    window_bounds,
)

#: Options of every plugin that reads VM restore points, besides how the names are given.
VM_POINT_SELECTION_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "latest": {"type": "bool", "default": True},
    "since": {"type": "str"},
    "last_task": {"type": "bool", "default": False},
}


@dataclass(frozen=True)
class VmPointSelection:
    """Which VMs to ask about and which of their points to return; checked before any request."""

    names: tuple[str, ...]
    latest: bool
    #: Only points created at this moment or later (None: no bound).
    since: Optional[datetime] = None
    #: Add each VM's newest task session.
    last_task: bool = False


def vm_point_selection(names: list[Any], options: dict[str, Any], now: datetime) -> VmPointSelection:
    """Check the VM names and options of any plugin; ``since`` is a moment by then."""
    if not names:
        raise InvalidInputError("Give at least one VM name (vm_names), as EM shows it, such as web01.")
    for name in names:
        if not isinstance(name, str) or not name.strip() or any(ord(character) < 32 or ord(character) == 127 for character in name):
            raise InvalidInputError(
                f"Invalid VM name {_shown(name)}: expected the VM's name as EM shows it (VmDisplayName), "
                "a non-empty text without line breaks or other control characters."
            )
        filter_length("VmDisplayName", name)
    since = options.get("since")
    return VmPointSelection(tuple(names), bool(options.get("latest", True)),
                            parse_since(since, now, option="since") if since is not None else None, bool(options.get("last_task")))


def get_vm_restore_points(client: EMClient, selection: VmPointSelection, now: datetime) -> list[dict[str, Any]]:
    """One item per name given, in that order: ``{name, found, latest_restore_point}`` and, without
    ``latest``, ``restore_points`` (newest first); with ``last_task``, the VM's newest task session."""
    names = list(dict.fromkeys(selection.names))
    if selection.latest:
        latest = newest_in_windows(names, window_bounds(now, selection.since), _name_batches,
                                   lambda batch, bound: _newest_of(client, batch, bound))
        every: dict[str, list[dict[str, Any]]] = {name: [point] for name, point in latest.items()}
    else:
        every = _every_point(client, names, selection.since)
    name_backups(client, [point for points in every.values() for point in points])
    tasks = newest_in_windows(names, window_bounds(now, None), _name_batches,
                              lambda batch, bound: _newest_tasks(client, batch, bound)) if selection.last_task else {}
    items = []
    for name in selection.names:
        points = every.get(name, [])
        item = {"name": name, "found": bool(points), "latest_restore_point": points[0] if points else None}
        if not selection.latest:
            item["restore_points"] = points
        if selection.last_task:
            item["last_task"] = tasks.get(name)
        items.append(item)
    return items


def missing_names(items: list[dict[str, Any]]) -> list[str]:
    """The names of the items without a point, in their order."""
    return [item["name"] for item in items if not item["found"]]


def name_backups(client: EMClient, points: list[dict[str, Any]]) -> None:
    """Set each point's ``backup`` from its restore point's link, one query per 40 restore points."""
    restore_point_ids = list(dict.fromkeys(point["restore_point"]["id"] for point in points
                                           if point["restore_point"] and point["restore_point"]["id"]))
    backups: dict[str, Optional[dict[str, Optional[str]]]] = {}
    for uid_filter in _or_filters("UID", [f"urn:veeam:RestorePoint:{point_id}" for point_id in restore_point_ids]):
        for entity in _query(client, {"type": "RestorePoint", "format": "Entities", "filter": uid_filter}, "RestorePoints", "RestorePoint"):
            backups[normalize_restore_point(entity)["id"]] = restore_point_backup(entity)
    for point in points:
        linked = point["restore_point"]
        backup = backups.get(linked["id"]) if linked and linked["id"] else None
        point["backup"] = dict(backup) if backup else None


def _name_batches(names: list[str]) -> list[list[str]]:
    return value_batches("VmDisplayName", names)


def _newest_of(client: EMClient, batch: list[str], bound: Optional[datetime]) -> dict[str, dict[str, Any]]:
    """The newest point since ``bound`` of each name of ``batch``."""
    return _newest_per_name(batch, lambda page_size: _points_of(client, batch, bound, page_size))


def _newest_tasks(client: EMClient, batch: list[str], bound: Optional[datetime]) -> dict[str, dict[str, Any]]:
    """The newest task session since ``bound`` of each VM of ``batch``, with its job ``session``."""
    params = {"type": "BackupTaskSession", "format": "Entities", "sortDesc": "CreationTime", "filter": _names_filter(batch, bound)}

    def tasks(page_size: Optional[int]) -> Iterator[tuple[str, dict[str, Any]]]:
        for entity in _query(client, params, "BackupTaskSessions", "BackupTaskSession", page_size):
            task = normalize_task_session(entity)
            task["session"] = task_session_job_session(entity)
            yield task["vm_name"] or "", task
    return _newest_per_name(batch, tasks)


def _newest_per_name(batch: list[str], found: Callable[[Optional[int]], Iterator[tuple[str, dict[str, Any]]]]) -> dict[str, dict[str, Any]]:
    """The newest of the (name, item) pairs that ``found(page size)`` gives newest first, per name of ``batch``.

    One name takes a page of one item, which is the answer unless it is another VM's whose name differs in case
    only (EM's filter ignores case); then, and for several names, pages of the default size are read until every
    name has one.
    """
    if len(batch) == 1:
        first = next(found(1), None)
        if first is None:
            return {}
        if first[0] == batch[0]:
            return {first[0]: first[1]}
    return _first_per_name(batch, found(None))


def _first_per_name(batch: list[str], found: Iterator[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The newest of the (name, item) pairs per name of ``batch``, names matched exactly; stops reading once each has one."""
    wanted = set(batch)
    newest: dict[str, dict[str, Any]] = {}
    for name, item in found:
        if name in wanted and (name not in newest or _created(item) > _created(newest[name])):
            newest[name] = item
        if len(newest) == len(wanted):
            break
    return newest


def _every_point(client: EMClient, names: list[str], since: Optional[datetime]) -> dict[str, list[dict[str, Any]]]:
    """Every point (since ``since``) of each name, newest first, by name (matched exactly)."""
    wanted = set(names)
    every: dict[str, list[dict[str, Any]]] = {}
    for batch in value_batches("VmDisplayName", names):
        for name, point in _points_of(client, batch, since, None):
            if name in wanted:
                every.setdefault(name, []).append(point)
    for points in every.values():
        points.sort(key=_created, reverse=True)
    return every


def _points_of(client: EMClient, names: list[str], bound: Optional[datetime], page_size: Optional[int]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(VM name, normalized point) of the points of these VMs (in any case: EM's filter ignores it) created since
    ``bound``, newest first."""
    params = {"type": "VmRestorePoint", "format": "Entities", "sortDesc": "CreationTime", "filter": _names_filter(names, bound)}
    for entity in _query(client, params, "VmRestorePoints", "VmRestorePoint", page_size):
        point = normalize_vm_restore_point(entity)
        yield point["vm_name"] or "", point


def _names_filter(names: list[str], bound: Optional[datetime]) -> str:
    """``VmDisplayName`` is one of ``names`` (a batch of ``value_batches``), and created since ``bound`` when given."""
    name_filter = or_filter("VmDisplayName", names)
    return f"({name_filter});{creation_time_filter(bound)}" if bound is not None else name_filter


def _created(point: dict[str, Any]) -> datetime:
    return point_date(point, "creation_time_utc")
