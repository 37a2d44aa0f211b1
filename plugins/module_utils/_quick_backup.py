# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fresh restore point on demand: EM's Quick Backup of VMs, in the jobs that protect them.

Private to veeam_em.rest: not a public API, may change without notice.

All in the caller's one EM logon session, since a task belongs to the session that
started it (EM answers 500 to any other): each VM's newest restore point is read as
the VM restore point module reads it; the VMs it leaves stale (or all, without
``max_age``) must each have a point with a ``HierarchyObjRef`` and a backup server, or
nothing starts. Then every backup is started (one POST each) before any is waited
for, so that several take about as long as the longest. Each poll reads the tasks not
yet finished (one GET each: EM has no query for tasks), which name the job session
they started or EM's refusal, and the job sessions not yet stopped, 40 per query.
The wait ends when every session has stopped, or ``wait_timeout`` after the last start:
then the running sessions are named and left to EM, nothing is cancelled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Optional
from xml.sax.saxutils import escape

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import _or_filters, _query, _shown
from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import InvalidInputError, VeeamEMError
from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import normalize_job_session, normalize_task
from ansible_collections.veeam_em.rest.plugins.module_utils._restore_points import parse_duration, point_date
from ansible_collections.veeam_em.rest.plugins.module_utils._sessions import SESSION_URN_PREFIX, add_tasks
from ansible_collections.veeam_em.rest.plugins.module_utils._vm_restore_points import get_vm_restore_points, vm_point_selection

QUICK_BACKUP_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "vm_names": {"type": "list", "elements": "str", "required": True, "aliases": ["vm_name"]},
    "max_age": {"type": "str"},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "raw", "default": "1h"},
    "poll_interval": {"type": "int", "default": 5},
}

#: Longest wait between two polls: polling is what keeps EM's logon session (15 idle minutes) alive.
MAX_POLL_INTERVAL = 300
_NAMESPACE = "http://www.veeam.com/ent/v1.0"


@dataclass(frozen=True)
class QuickBackupRequest:
    """What to back up and how long to wait; checked before any request."""

    names: tuple[str, ...]
    #: A VM whose newest point is younger is left alone (None: every VM is backed up).
    max_age: Optional[timedelta]
    wait: bool
    #: Seconds from the last start until the wait is given up.
    wait_timeout: float
    poll_interval: float


class QuickBackupFailed(VeeamEMError):
    """The quick backups did not all end well; ``vms`` says what became of each VM."""

    def __init__(self, message: str, vms: list[dict[str, Any]], changed: bool) -> None:
        super().__init__(message)
        self.vms, self.changed = vms, changed


def quick_backup_request(params: dict[str, Any], now: datetime) -> QuickBackupRequest:
    """Check the module's options, each failure naming its option."""
    names = tuple(vm_point_selection(params["vm_names"], {}, now).names)
    max_age = None
    if params.get("max_age") is not None:
        max_age = _duration(params["max_age"], "max_age")
    wait_timeout = _seconds(params.get("wait_timeout", "1h"))
    poll_interval = params.get("poll_interval", 5)
    if isinstance(poll_interval, bool) or not isinstance(poll_interval, int) or not 1 <= poll_interval <= MAX_POLL_INTERVAL:
        raise InvalidInputError(
            f"Invalid poll_interval {_shown(poll_interval)}: expected a whole number of seconds from 1 to {MAX_POLL_INTERVAL} "
            "(EM ends a logon session after 15 idle minutes, and the backups' tasks live only in that session)."
        )
    return QuickBackupRequest(names, max_age, bool(params.get("wait", True)), wait_timeout, float(poll_interval))


def start_spec(vm_ref: str) -> bytes:
    """The ``QuickBackupStartupSpec`` body naming one VM, its reference escaped."""
    return (f'<?xml version="1.0" encoding="utf-8"?><QuickBackupStartupSpec xmlns="{_NAMESPACE}">'
            f"<VmRef>{escape(vm_ref)}</VmRef></QuickBackupStartupSpec>").encode("utf-8")


@dataclass
class _Run:
    """One VM's quick backup while it is followed: its task, then its job session."""

    item: dict[str, Any]
    task_id: str
    finished: bool = False
    session_id: Optional[str] = None
    session: Optional[dict[str, Any]] = None
    failure: Optional[str] = None

    @property
    def stopped(self) -> bool:
        return self.session is not None and self.session["state"] == "Stopped"


def quick_backup(client: EMClient, request: QuickBackupRequest, now: datetime, check_mode: bool,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """``{changed, vms}``; raises ``QuickBackupFailed`` (with ``vms``) when a backup failed, was
    refused or is still running at the timeout, or when a VM due for one cannot have one."""
    items = _newest_points(client, request.names, now)
    due = [item for item in items if _due(item, request.max_age, now)]
    for item in due:
        item["backed_up"] = True
    unable = [f"VM {item['name']}: {reason}" for item in due for reason in [_cannot_start(item)] if reason]
    if unable:
        for item in due:
            item["backed_up"] = False
        raise QuickBackupFailed("No quick backup was started, since not every VM due for one can have one. "
                                + " ".join(unable), items, changed=False)
    if check_mode or not due:
        return {"changed": bool(due), "vms": items}
    runs: list[_Run] = []
    try:
        for item in due:
            point = item["latest_restore_point"]
            document = client.post(f"backupServers/{point['backup_server']['id']}", start_spec(point["hierarchy_obj_ref"]),
                                   params={"action": "quickbackup"})
            runs.append(_Run(item, normalize_task(document.content)["id"]))
        running = _wait(client, runs, request, clock() + request.wait_timeout, clock, sleep)
        _read_sessions(client, runs, now)
    except VeeamEMError as error:
        raise QuickBackupFailed(f"{error}{_started(runs)}", items, changed=True) from None
    failures = [run.failure for run in runs if run.failure]
    if running:
        failures.append(_timeout_message(running, request.wait_timeout))
    if failures:
        raise QuickBackupFailed(" ".join(failures), items, changed=True)
    return {"changed": True, "vms": items}


def _newest_points(client: EMClient, names: tuple[str, ...], now: datetime) -> list[dict[str, Any]]:
    """One item per name: ``{name, backed_up, latest_restore_point, session}`` (names matched exactly)."""
    return [{"name": found["name"], "backed_up": False, "latest_restore_point": found["latest_restore_point"], "session": None}
            for found in get_vm_restore_points(client, vm_point_selection(list(names), {}, now), now)]


def _due(item: dict[str, Any], max_age: Optional[timedelta], now: datetime) -> bool:
    point = item["latest_restore_point"]
    return max_age is None or point is None or point_date(point, "creation_time_utc") < now - max_age


def _cannot_start(item: dict[str, Any]) -> Optional[str]:
    """Why EM cannot be asked for a quick backup of the VM, or None when it can."""
    point = item["latest_restore_point"]
    if point is None:
        return "EM has no restore point of it, so no job that protects it is known."
    reference = point["hierarchy_obj_ref"]
    if not reference:
        return "its newest restore point has no HierarchyObjRef (an agent backup, or an older EM): EM cannot back it up on demand."
    if any(ord(character) < 32 or ord(character) == 127 for character in reference):
        return "its newest restore point's HierarchyObjRef holds control characters: it cannot be sent to EM."
    if not point["backup_server"] or not point["backup_server"]["id"]:
        return "its newest restore point names no backup server to run the backup."
    return None


def _wait(client: EMClient, runs: list[_Run], request: QuickBackupRequest, deadline: float,
          clock: Callable[[], float], sleep: Callable[[float], None]) -> list[_Run]:
    """Poll until every task has finished and, with ``wait``, every job session has stopped; the runs
    still going at ``deadline`` (none when all ended)."""
    while True:
        for run in runs:
            if not run.finished:
                _poll_task(client, run)
        if request.wait:
            _poll_sessions(client, [run for run in runs if run.session_id and not run.stopped])
        pending = [run for run in runs if not run.finished or (request.wait and run.session_id and not run.stopped)]
        left = deadline - clock()
        if not pending or left <= 0:
            return pending
        sleep(min(request.poll_interval, left))


def _poll_task(client: EMClient, run: _Run) -> None:
    task = normalize_task(client.get(f"tasks/{run.task_id}").content)
    if not task["finished"]:
        return
    run.finished = True
    name = run.item["name"]
    if not task["success"]:
        run.failure = _sentence(f"VM {name}: EM refused the quick backup (task {task['id']}): {task['message'] or 'EM gave no reason'}")
    elif not task["session"] or not task["session"]["id"]:
        run.failure = f"VM {name}: EM finished task {task['id']} without naming the job session of the backup."
    else:
        run.session_id = task["session"]["id"]


def _poll_sessions(client: EMClient, runs: list[_Run]) -> None:
    """The job sessions of ``runs`` as they are now, 40 per query."""
    by_id = {run.session_id: run for run in runs}
    for uid_filter in _or_filters("UID", [f"{SESSION_URN_PREFIX}{session_id}" for session_id in by_id]):
        params = {"type": "BackupJobSession", "format": "Entities", "filter": uid_filter}
        for entity in _query(client, params, "BackupJobSessions", "BackupJobSession"):
            session = normalize_job_session(entity)
            if session["id"] in by_id:
                by_id[session["id"]].session = session


def _read_sessions(client: EMClient, runs: list[_Run], now: datetime) -> None:
    """Each started backup's job session with its task (the sessions not read yet in one query, their
    tasks in another), each failed one's reason, and the new newest point of each VM whose backup
    succeeded."""
    started = [run for run in runs if run.session_id]
    _poll_sessions(client, [run for run in started if run.session is None])
    add_tasks(client, [run.session for run in started if run.session is not None])
    for run in started:
        run.item["session"] = run.session
    succeeded = []
    for run in runs:
        if run.session is None or not run.stopped:
            continue
        if run.session["result"] == "Failed":
            run.failure = _failure_message(run)
        else:
            succeeded.append(run)
    if succeeded:
        fresh = {item["name"]: item for item in _newest_points(client, tuple(run.item["name"] for run in succeeded), now)}
        for run in succeeded:
            if fresh[run.item["name"]]["latest_restore_point"] is not None:
                run.item["latest_restore_point"] = fresh[run.item["name"]]["latest_restore_point"]


def _failure_message(run: _Run) -> str:
    session = run.session or {}
    reasons = [task["reason"] for task in session.get("tasks", []) if task.get("result") == "Failed" and task.get("reason")]
    return _sentence(f"VM {run.item['name']}: the quick backup failed in job session {session.get('name')!r} (id {session.get('id')}): "
                     f"{' '.join(reasons) if reasons else 'EM gave no reason'}")


def _sentence(text: str) -> str:
    """``text`` ending in a full stop, unless EM's words end it already."""
    return text if text.rstrip().endswith((".", "!", "?")) else f"{text}."


def _timeout_message(pending: list[_Run], wait_timeout: float) -> str:
    running = []
    for run in pending:
        if run.session_id:
            session = run.session or {}
            running.append(f"VM {run.item['name']} in job session {session.get('name')!r} (id {run.session_id})")
        else:
            running.append(f"VM {run.item['name']} (EM's task {run.task_id} has not started the backup yet)")
    return (f"Gave up waiting {wait_timeout:g} s (wait_timeout) after the last quick backup was started; still running: "
            f"{', '.join(running)}. EM goes on with them: nothing was cancelled.")


def _started(runs: list[_Run]) -> str:
    if not runs:
        return ""
    named = ", ".join(f"VM {run.item['name']} (task {run.task_id}{f', job session {run.session_id}' if run.session_id else ''})"
                      for run in runs)
    return f" Quick backups already started, which EM goes on with: {named}."


def _duration(value: Any, option: str) -> timedelta:
    try:
        duration = parse_duration(value) if isinstance(value, str) else None
    except OverflowError:
        duration = None
    if duration is None or duration <= timedelta(0):
        raise InvalidInputError(
            f"Invalid {option} {_shown(value)}: expected a duration, a whole number with m, h, d or w, such as 90m, 26h or 7d."
        )
    return duration


def _seconds(value: Any) -> float:
    """``wait_timeout``: whole seconds (a number, or digits), or a duration such as ``30m``."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return float(value)
    try:
        duration = parse_duration(value) if isinstance(value, str) else None
    except OverflowError:
        duration = None
    if duration is None or duration <= timedelta(0):
        raise InvalidInputError(
            f"Invalid wait_timeout {_shown(value)}: expected whole seconds (such as 600) or a duration such as 30m or 2h."
        )
    return duration.total_seconds()
