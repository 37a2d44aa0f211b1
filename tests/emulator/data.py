# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's data set: backup servers, repositories, backups, restore points, jobs,
job sessions and their task sessions.

Plain data only (no HTTP, no XML), so that tests can import the same constants the
emulator serves. Every id is a lower-case UUID, as in all EM samples; the UID of an
object is ``urn:veeam:<Type>:<id>``.
"""
from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

# Deterministic ids for generated objects (restore points, bulk backups), so that two
# emulator runs with the same arguments serve identical data.
_NAMESPACE = uuid.UUID("5e3f5a52-9d7e-4b4c-8a43-6f1f0c0de7a1")


def stable_id(label: str) -> str:
    """Return a lower-case UUID derived from ``label`` (same label, same id)."""
    return str(uuid.uuid5(_NAMESPACE, label))


# --- The reference page's seed backup (backups_id.md), reproduced exactly ----------------
SEED_BACKUP_ID = "c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70"
SEED_BACKUP_NAME = "Simple backup_1"
SEED_REPOSITORY_ID = "b8832f03-2c9e-4222-8d0b-e43e0c912f93"
SEED_REPOSITORY_NAME = "Scale-out Backup Repository 2"
SEED_SERVER_ID = "8c88c6d6-931f-4044-8c0b-7a0c5f188b00"
SEED_SERVER_NAME = "local.host"
# EM builds Hrefs from its own name, not from the URL the client called: the seed
# backup keeps the reference page's base whatever host and port serve it.
SEED_HREF_BASE = "http://local.host:9399"
SEED_ENTITY_HREF = f"{SEED_HREF_BASE}/api/backups/{SEED_BACKUP_ID}?format=Entity"

# A ChildBackup of the seed (id and name from the GET /backups sample).
CHILD_BACKUP_ID = "e556fda9-07e1-4f49-9193-42d255a909ca"
CHILD_BACKUP_NAME = "VM number 0 Backup (Simple backup_1)"

# --- A standard VMware backup on a second backup server (ids from the notes, §7.3) --------
SQL_BACKUP_ID = "3b0c7f2e-5d1a-4e8b-9c44-0a1b2c3d4e5f"
SQL_BACKUP_NAME = "SQL Backup"
SQL_REPOSITORY_ID = "7d6e5f40-1a2b-4c3d-8e9f-001122334455"
SQL_REPOSITORY_NAME = "Default Backup Repository"
SQL_SERVER_ID = "a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d"
SQL_SERVER_NAME = "vbr01.lab.local"

# --- A third server and repository, for spread and old-version data ----------------------
LEGACY_SERVER_ID = "d48b9c09-d954-4515-9b75-57bc65ddbfdb"
LEGACY_SERVER_NAME = "10.0.0.15"
LINUX_REPOSITORY_ID = "68ec09a5-6e08-4852-bb95-17975700242a"
LINUX_REPOSITORY_NAME = "Linux Hardened Repository"

# --- Irregular backups --------------------------------------------------------------------
NO_REPOSITORY_BACKUP_ID = "2094dbd7-35be-4b70-9d3a-0540ba16b757"
NO_REPOSITORY_BACKUP_NAME = "Hyper-V Cluster Backup"
DOWN_PARENT_BACKUP_ID = "3c5fd2ee-cbdc-4684-a8a0-5ee95adf3bd5"
DOWN_PARENT_BACKUP_NAME = "Linux Agent Policy"

# --- Names that need care: escaping, Unicode, spaces, filter syntax ----------------------
ESCAPE_BACKUP_ID = "2f4fdc1d-9b18-4b0e-ab7d-5ad06d912b9f"
ESCAPE_BACKUP_NAME = "Backup & <Restore> \"Daily\" 'Ops'"
UNICODE_BACKUP_ID = "c194d787-0586-41de-bcc7-424ef18a9dd1"
UNICODE_BACKUP_NAME = "Sauvegarde – Zürich 日本語 💾"
SPACES_BACKUP_ID = "cf99e205-f03a-410c-87b8-df3bbf8187bb"
SPACES_BACKUP_NAME = "   Leading spaces  "
SLASH_BACKUP_ID = "e9ab6034-6e07-4119-8716-7035b2bd8837"
SLASH_BACKUP_NAME = "Finance/Payroll \\ Monthly"
FILTER_CHARS_BACKUP_ID = "b1f76ee0-7eb5-47c0-9990-2222e426b418"
FILTER_CHARS_BACKUP_NAME = "Tier=1; Web, App"
DUPLICATE_BACKUP_NAME = "Exchange Backup"
DUPLICATE_BACKUP_IDS = (
    "f6fc71df-744e-4073-b505-f45389af8886",  # on SEED_SERVER_ID
    "b13e4404-3291-40c9-a095-8a409d260972",  # on SQL_SERVER_ID
)

# The restore point whose name shows SQL Server's double spaces ("Oct  4 2025  8:00PM").
SQL_RESTORE_POINT_ID = stable_id(f"restore-point/{SQL_BACKUP_ID}/0")
SQL_RESTORE_POINT_NAME = "Oct  4 2025  8:00PM"

BULK_PLATFORMS = ("VMware", "HyperV", "vCloud", "AgentForWindows", "AgentForLinux")


@dataclass(frozen=True)
class BackupServer:
    """A VBR server connected to EM."""

    id: str
    name: str
    description: str
    port: int
    version: str
    wcf_port: int | None = None


@dataclass(frozen=True)
class Repository:
    """A backup repository of one backup server; ``kind`` is EM's ``Kind`` value."""

    id: str
    name: str
    server_id: str
    kind: str
    capacity: int
    free_space: int


@dataclass(frozen=True)
class RestorePoint:
    """A restore point of a Standard or ChildBackup backup."""

    id: str
    backup_id: str
    backup_date: datetime  # UTC

    @property
    def name(self) -> str:
        """EM names restore points with SQL Server's default date style, which pads the
        day and the hour with a space: ``Oct  4 2025  8:00PM``."""
        when = self.backup_date
        hour = when.hour % 12 or 12
        half = "AM" if when.hour < 12 else "PM"
        return f"{when:%b} {when.day:>2} {when.year} {hour:>2}:{when.minute:02d}{half}"


@dataclass(frozen=True)
class VmRestorePoint:
    """One VM's share of a restore point (EM's ``/vmRestorePoints/{ID}``)."""

    id: str
    restore_point_id: str
    vm_name: str
    creation_time: datetime  # UTC
    algorithm: str
    point_type: str
    #: The VM in its hypervisor's hierarchy (``HierarchyObjRef``).
    hierarchy_ref: str

    @property
    def name(self) -> str:
        """EM names a VM restore point ``<VM name>@<creation time, local format>``."""
        return f"{self.vm_name}@{self.creation_time:%Y-%m-%d %H:%M:%S}"

    @property
    def backup_file_id(self) -> str:
        """The backup file (.vbk/.vib) that holds the point."""
        return stable_id(f"backup-file/{self.restore_point_id}")


@dataclass(frozen=True)
class Backup:
    """A backup as EM lists it.

    ``children_rel`` is the Rel of the childbackups link of a ParentBackup ("Up" in the
    13.x entity sample, "Down" elsewhere). ``href_base`` overrides the request's base
    URL for this backup's Hrefs (None: use the base the client called).
    """

    id: str
    name: str
    platform: str
    backup_type: str
    server_id: str
    repository_id: str | None
    parent_id: str | None = None
    children_rel: str | None = None
    backup_files_link: bool = False
    href_base: str | None = None


@dataclass(frozen=True)
class Job:
    """A backup job of one backup server; its backup carries its name (EM names a backup after its job)."""

    id: str
    name: str
    server_id: str
    job_type: str = "Backup"
    platform: str = "VMware"
    description: str = ""


@dataclass(frozen=True)
class JobSession:
    """One run of a job (``BackupJobSession``). ``end_time`` None: running, EM sends no
    ``EndTimeUTC``; ``result`` is EM's ``None`` then."""

    id: str
    job_id: str
    creation_time: datetime  # UTC
    end_time: datetime | None
    state: str
    result: str
    progress: int
    is_retry: bool


@dataclass(frozen=True)
class TaskSession:
    """One VM's share of a job run (``BackupTaskSession``); a running one has EM's
    ``1900-01-01`` placeholder as ``end_time`` (``END_PLACEHOLDER``)."""

    id: str
    session_id: str
    vm_name: str
    creation_time: datetime  # UTC
    end_time: datetime
    state: str
    result: str
    reason: str
    total_size: int


#: The ``EndTimeUTC`` of a task that has not ended.
END_PLACEHOLDER = datetime(1900, 1, 1, tzinfo=timezone.utc)


class DataSet:
    """Every object by lower-case id, in listing order, with the reverse indexes the
    sub-collections (children, restore points, repository contents) need."""

    def __init__(
        self,
        servers: Iterable[BackupServer],
        repositories: Iterable[Repository],
        backups: Iterable[Backup],
        restore_points: Iterable[RestorePoint],
        now: datetime | None = None,
        vm_restore_points: Iterable[VmRestorePoint] = (),
        jobs: Iterable[Job] = (),
        job_sessions: Iterable[JobSession] = (),
        task_sessions: Iterable[TaskSession] = (),
    ) -> None:
        #: The moment the restore points' dates count back from.
        self.now = now
        self.backup_servers = {server.id: server for server in servers}
        self.repositories = {repository.id: repository for repository in repositories}
        self.backups = {backup.id: backup for backup in backups}
        self.restore_points = {point.id: point for point in restore_points}
        self.vm_restore_points = {point.id: point for point in vm_restore_points}
        self._children = _group(self.backups.values(), lambda b: b.parent_id)
        self._points = _group(self.restore_points.values(), lambda p: p.backup_id)
        self._in_repository = _group(self.backups.values(), lambda b: b.repository_id)
        self._on_server = _group(self.repositories.values(), lambda r: r.server_id)
        self._vm_points = _group(self.vm_restore_points.values(), lambda p: p.restore_point_id)
        self.jobs = {job.id: job for job in jobs}
        self.job_sessions = {session.id: session for session in job_sessions}
        self.task_sessions = {task.id: task for task in task_sessions}
        self._job_sessions = _group(self.job_sessions.values(), lambda s: s.job_id)
        self._tasks = _group(self.task_sessions.values(), lambda t: t.session_id)
        self._job_by_name = {(job.server_id, job.name): job for job in self.jobs.values()}

    def sessions_of_job(self, job_id: str) -> list[JobSession]:
        """A job's sessions, oldest first."""
        return self._job_sessions.get(job_id, [])

    def tasks_of_session(self, session_id: str) -> list[TaskSession]:
        """A job session's task sessions, in the order the job processed the VMs."""
        return self._tasks.get(session_id, [])

    def recent_sessions(self) -> list[JobSession]:
        """What ``GET /api/backupSessions`` lists: the sessions of the last 30 days."""
        bound = (self.now or datetime.now(timezone.utc)) - timedelta(days=30)
        return [session for session in self.job_sessions.values() if session.creation_time >= bound]

    def job_of_backup(self, backup: Backup) -> Job | None:
        """The job a backup is named after: the job of that name on the backup's server."""
        return self._job_by_name.get((backup.server_id, backup.name))

    def session_name(self, session: JobSession) -> str:
        """EM names a job session ``<job name>@<creation time>``."""
        return f"{self.jobs[session.job_id].name}@{session.creation_time:%Y-%m-%d %H:%M:%S}"

    def session_server(self, session: JobSession) -> BackupServer:
        return self.backup_servers[self.jobs[session.job_id].server_id]

    def children_of(self, backup_id: str) -> list[Backup]:
        """Child backups of a ParentBackup (empty for other backups)."""
        return self._children.get(backup_id, [])

    def restore_points_of(self, backup_id: str) -> list[RestorePoint]:
        """Restore points of one backup, oldest first."""
        return self._points.get(backup_id, [])

    def vm_restore_points_of(self, restore_point_id: str) -> list[VmRestorePoint]:
        """The VM restore points of one restore point, in the order the job processed the VMs."""
        return self._vm_points.get(restore_point_id, [])

    def backup_of_vm_point(self, point: VmRestorePoint) -> Backup:
        """The backup holding a VM restore point (through its restore point)."""
        return self.backups[self.restore_points[point.restore_point_id].backup_id]

    def backups_in(self, repository_id: str) -> list[Backup]:
        """Backups stored in one repository."""
        return self._in_repository.get(repository_id, [])

    def repositories_of(self, server_id: str) -> list[Repository]:
        """Repositories of one backup server."""
        return self._on_server.get(server_id, [])


def _group(items: Iterable[Any], key: Callable[[Any], str | None]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for item in items:
        value = key(item)
        if value is not None:
            groups.setdefault(value, []).append(item)
    return groups


def _servers() -> list[BackupServer]:
    return [
        BackupServer(SEED_SERVER_ID, SEED_SERVER_NAME, "", 9392, "13.0.0.1420", wcf_port=9405),
        BackupServer(SQL_SERVER_ID, SQL_SERVER_NAME, "Lab VBR server", 9392, "12.1.2.172"),
        BackupServer(LEGACY_SERVER_ID, LEGACY_SERVER_NAME, "Branch office", 9392, "9.5.4.2866"),
    ]


def _repositories() -> list[Repository]:
    return [
        Repository(SEED_REPOSITORY_ID, SEED_REPOSITORY_NAME, SEED_SERVER_ID, "Extendable",
                   96_000_000_000_000, 41_234_567_890_123),
        Repository(SQL_REPOSITORY_ID, SQL_REPOSITORY_NAME, SQL_SERVER_ID, "WindowsLocal",
                   12_000_138_625_024, 0),
        Repository(LINUX_REPOSITORY_ID, LINUX_REPOSITORY_NAME, LEGACY_SERVER_ID, "LinuxLocal",
                   55_000_000_000_000, 22_000_000_000_000),
    ]


def _backups() -> list[Backup]:
    seed, sql, legacy = SEED_SERVER_ID, SQL_SERVER_ID, LEGACY_SERVER_ID
    return [
        Backup(SEED_BACKUP_ID, SEED_BACKUP_NAME, "CustomPlatform", "ParentBackup", seed,
               SEED_REPOSITORY_ID, children_rel="Up", href_base=SEED_HREF_BASE),
        Backup(CHILD_BACKUP_ID, CHILD_BACKUP_NAME, "CustomPlatform", "ChildBackup", seed,
               SEED_REPOSITORY_ID, parent_id=SEED_BACKUP_ID),
        Backup(SQL_BACKUP_ID, SQL_BACKUP_NAME, "VMware", "Standard", sql, SQL_REPOSITORY_ID,
               backup_files_link=True),
        Backup(NO_REPOSITORY_BACKUP_ID, NO_REPOSITORY_BACKUP_NAME, "HyperV", "Standard", legacy,
               None),
        Backup(DOWN_PARENT_BACKUP_ID, DOWN_PARENT_BACKUP_NAME, "AgentForLinux", "ParentBackup",
               sql, SQL_REPOSITORY_ID, children_rel="Down"),
        Backup(ESCAPE_BACKUP_ID, ESCAPE_BACKUP_NAME, "VMware", "Standard", sql, SQL_REPOSITORY_ID),
        Backup(UNICODE_BACKUP_ID, UNICODE_BACKUP_NAME, "vCloud", "Standard", legacy,
               LINUX_REPOSITORY_ID),
        Backup(SPACES_BACKUP_ID, SPACES_BACKUP_NAME, "HyperV", "Standard", legacy,
               LINUX_REPOSITORY_ID),
        Backup(SLASH_BACKUP_ID, SLASH_BACKUP_NAME, "AgentForWindows", "Standard", sql,
               SQL_REPOSITORY_ID),
        Backup(DUPLICATE_BACKUP_IDS[0], DUPLICATE_BACKUP_NAME, "VMware", "Standard", seed,
               SEED_REPOSITORY_ID),
        Backup(DUPLICATE_BACKUP_IDS[1], DUPLICATE_BACKUP_NAME, "VMware", "Standard", sql,
               SQL_REPOSITORY_ID),
        Backup(FILTER_CHARS_BACKUP_ID, FILTER_CHARS_BACKUP_NAME, "VMware", "Standard", seed,
               SEED_REPOSITORY_ID),
    ]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def _ago(hours: float, microseconds: int = 0) -> Callable[[datetime], datetime]:
    """A backup date ``hours`` before the data set's moment; the microseconds vary so that
    BackupDateUTC shows 0 to 6 fractional digits, as EM does."""
    return lambda now: now - timedelta(hours=hours) + timedelta(microseconds=microseconds)


def _fixed(text: str) -> Callable[[datetime], datetime]:
    return lambda _now: _utc(text)


# Backup dates per backup, relative to the moment the data set is built (the emulator's
# start), so that fresh and stale backups stay so on any day. Ages of the newest points:
# SQL Backup 2 h, the escape-named backup 5 h (fresh for 26h), the ChildBackup 30 h, the
# Hyper-V one 9 days, the Unicode-named one 20 days; the others have none. SQL Backup's
# first point keeps a fixed date: its name shows SQL Server's double spaces.
_RESTORE_POINT_DATES = {
    SQL_BACKUP_ID: (_fixed("2025-10-04T20:00:31.230000"), _ago(74, 230000), _ago(50), _ago(2, 123456)),
    CHILD_BACKUP_ID: (_ago(78, 500000), _ago(54, 250000), _ago(30, 100)),
    NO_REPOSITORY_BACKUP_ID: (_ago(240), _ago(216, 900000)),
    ESCAPE_BACKUP_ID: (_ago(5, 750000),),
    UNICODE_BACKUP_ID: (_ago(480, 500000),),
}


def _restore_points(now: datetime) -> list[RestorePoint]:
    return [
        RestorePoint(stable_id(f"restore-point/{backup_id}/{index}"), backup_id, when(now))
        for backup_id, dates in _RESTORE_POINT_DATES.items()
        for index, when in enumerate(dates)
    ]


# --- VMs in the restore points -------------------------------------------------------------
# Every restore point of a backup holds a VM restore point of each VM the backup lists. Some
# VMs are in two backups (their newest point is in one of them), names hold quotes, spaces,
# non-ASCII letters and template syntax. Ages of each VM's newest point, from the dates above:
# web01, sql01 and the quoted name 2 h (SQL Backup); the non-ASCII one and the template-named
# one 5 h (the escape-named backup); app01 30 h (the ChildBackup); hv-legacy 9 days; APP01
# (app01 in upper case, another VM) 20 days.
VM_WEB = "web01"
VM_SQL = "sql01"
VM_QUOTED = 'db "01" prod'
VM_APP = "app01"
VM_UNICODE = "Zürich 日本 vm"
VM_TEMPLATE = "{{ 7*7 }}"
VM_LEGACY = "hv-legacy"
#: Another VM whose name differs from app01's in case only: names are matched exactly.
VM_APP_UPPER = "APP01"
_VMS_OF_BACKUP = {
    SQL_BACKUP_ID: (VM_WEB, VM_SQL, VM_QUOTED),
    CHILD_BACKUP_ID: (VM_WEB, VM_APP),
    ESCAPE_BACKUP_ID: (VM_UNICODE, VM_TEMPLATE),
    NO_REPOSITORY_BACKUP_ID: (VM_APP, VM_LEGACY),
    UNICODE_BACKUP_ID: (VM_UNICODE, VM_APP_UPPER),
}
#: A VM's point is created this long after its restore point's date, per VM before it in the job.
_VM_STEP = timedelta(seconds=41, microseconds=370000)


def _vm_restore_points(points: Iterable[RestorePoint], vms_of_backup: Callable[[str], Iterable[str]],
                       platform_of: Callable[[str], str]) -> Iterable[VmRestorePoint]:
    """The VM points of each restore point: the first of a backup's chain is a full, the others
    increments; a VM's ``HierarchyObjRef`` is the same in every backup."""
    full_done: set[str] = set()
    for point in points:
        first = point.backup_id not in full_done
        full_done.add(point.backup_id)
        for position, vm_name in enumerate(vms_of_backup(point.backup_id)):
            platform = platform_of(point.backup_id)
            vm_ref = (f"urn:HyperV:Vm:{stable_id('hyperv-host')}.{stable_id(f'vm/{vm_name}')}" if platform == "HyperV"
                      else f"urn:VMware:Vm:{stable_id('vcenter')}.vm-{int(stable_id(f'vm/{vm_name}')[:4], 16)}")
            yield VmRestorePoint(stable_id(f"vm-restore-point/{point.id}/{vm_name}"), point.id, vm_name,
                                 point.backup_date + _VM_STEP * (position + 1),
                                 "Full" if first else "Incremental", "Full" if first else "Increment", vm_ref)


def bulk_vm_name(backup_index: int, vm_index: int) -> str:
    """Name of the ``vm_index``-th VM of the ``backup_index``-th generated backup."""
    return f"bulk-vm-{backup_index:05d}-{vm_index}"


def _bulk_restore_points(count: int, per_backup: int, now: datetime) -> Iterable[RestorePoint]:
    """``per_backup`` daily points for each generated backup, oldest first. The newest is
    1 to 20 hours old for 19 backups in 20, and 3 to 9 days old for every 20th (stale)."""
    for index in range(count):
        backup_id = bulk_backup_id(index)
        newest_age = timedelta(days=3 + index % 7) if index % 20 == 19 else timedelta(hours=1 + index % 20)
        for day in reversed(range(per_backup)):
            yield RestorePoint(stable_id(f"restore-point/{backup_id}/{per_backup - 1 - day}"), backup_id,
                               now - newest_age - timedelta(days=day))


def _bulk_backups(count: int, repositories: list[Repository]) -> Iterable[Backup]:
    """Generated Standard backups spread over every repository (and so every server)
    and several platforms, for paging tests and benchmarks."""
    spread = itertools.cycle(repositories)
    platforms = itertools.cycle(BULK_PLATFORMS)
    for index in range(count):
        repository = next(spread)
        yield Backup(bulk_backup_id(index), f"Bulk Backup {index:05d}",
                     next(platforms), "Standard", repository.server_id, repository.id)


def bulk_backup_id(index: int) -> str:
    """Id of the ``index``-th generated backup (0-based)."""
    return stable_id(f"bulk-backup/{index}")


# --- Jobs and their runs ----------------------------------------------------------------------
# A job per backup it makes (same name, same server), plus one that never ran. Runs count back
# from the data set's moment. SQL Backup: daily runs, one outside the 30 days GET /backupSessions
# lists, the newest a Failed run followed by its Failed retry (the retry is the newest session).
# Exchange Backup: two jobs of one name on two servers (Success and Warning). The escape-named job
# failed with reasons holding markup, a template, a "|" and a line break. Hyper-V Cluster Backup is
# running (Result None, no EndTimeUTC; its running task has the 1900-01-01 placeholder). The
# Unicode-named job last ran 20 days ago; "Tier=1; Web, App" never ran.
SQL_JOB_ID = stable_id("job/sql")
ESCAPE_JOB_ID = stable_id("job/escape")
RUNNING_JOB_ID = stable_id("job/hyper-v")
UNICODE_JOB_ID = stable_id("job/unicode")
NEVER_RUN_JOB_ID = stable_id("job/never-run")
NEVER_RUN_JOB_NAME = FILTER_CHARS_BACKUP_NAME
DUPLICATE_JOB_IDS = (stable_id("job/exchange/seed"), stable_id("job/exchange/sql"))
#: EM's reasons for the failed VMs (EM's text: escaped in every output, never templated).
SNAPSHOT_REASON = "Error: Failed to create VM snapshot. <b>Details</b>: task timed out & was cancelled"
RETRY_REASON = "Error: Failed to create VM snapshot (retry 1 of 3) | quiescing failed\nNext attempt in 10 min"
MARKUP_REASON = "<script>alert('x')</script> Processing failed: \"disk\" & <i>volume</i> | C:\\ unreachable"
TEMPLATE_REASON = "{{ lookup('pipe', 'touch veeam_em_pwned_by_reason') }} {{ 7*7 }} | line one\nline two"
WARNING_REASON = "Changed block tracking is disabled: a full read of every disk was needed."


def _jobs() -> list[Job]:
    return [
        Job(SQL_JOB_ID, SQL_BACKUP_NAME, SQL_SERVER_ID, description="Nightly SQL servers"),
        Job(DUPLICATE_JOB_IDS[0], DUPLICATE_BACKUP_NAME, SEED_SERVER_ID),
        Job(DUPLICATE_JOB_IDS[1], DUPLICATE_BACKUP_NAME, SQL_SERVER_ID),
        Job(ESCAPE_JOB_ID, ESCAPE_BACKUP_NAME, SQL_SERVER_ID),
        Job(RUNNING_JOB_ID, NO_REPOSITORY_BACKUP_NAME, LEGACY_SERVER_ID, platform="HyperV"),
        Job(UNICODE_JOB_ID, UNICODE_BACKUP_NAME, LEGACY_SERVER_ID, platform="vCloud"),
        Job(NEVER_RUN_JOB_ID, NEVER_RUN_JOB_NAME, SEED_SERVER_ID),
    ]


#: (hours ago, minutes it took or None while running, result, is retry, ((VM, result, reason), ...)).
_RUNS: dict[str, tuple] = {
    SQL_JOB_ID: (
        (45 * 24, 12, "Success", False, ((VM_WEB, "Success", ""), (VM_SQL, "Success", ""), (VM_QUOTED, "Success", "")),),
        (74, 14, "Success", False, ((VM_WEB, "Success", ""), (VM_SQL, "Success", ""), (VM_QUOTED, "Success", "")),),
        (50, 31, "Warning", False, ((VM_WEB, "Success", ""), (VM_SQL, "Success", ""), (VM_QUOTED, "Warning", WARNING_REASON)),),
        (3, 20, "Failed", False, ((VM_WEB, "Failed", SNAPSHOT_REASON), (VM_SQL, "Success", ""), (VM_QUOTED, "Success", "")),),
        (2.5, 6, "Failed", True, ((VM_WEB, "Failed", RETRY_REASON),),),
    ),
    DUPLICATE_JOB_IDS[0]: ((28, 9, "Warning", False, ((VM_APP, "Success", ""),)), (4, 8, "Success", False, ((VM_APP, "Success", ""),))),
    DUPLICATE_JOB_IDS[1]: ((6, 11, "Warning", False, ((VM_SQL, "Warning", WARNING_REASON),)),),
    ESCAPE_JOB_ID: ((5.5, 17, "Failed", False, ((VM_UNICODE, "Failed", MARKUP_REASON), (VM_TEMPLATE, "Failed", TEMPLATE_REASON))),),
    RUNNING_JOB_ID: ((24, 30, "Success", False, ((VM_APP, "Success", ""), (VM_LEGACY, "Success", ""))),
                     (0.25, None, "None", False, ((VM_APP, "Success", ""), (VM_LEGACY, "None", "")))),
    UNICODE_JOB_ID: ((480, 25, "Success", False, ((VM_UNICODE, "Success", ""),)),),
}


def _runs(job_id: str, runs: Iterable[tuple], now: datetime) -> Iterable[tuple[JobSession, list[TaskSession]]]:
    """The sessions of one job, oldest first, each with its task sessions (a VM 47 s after the one before)."""
    for index, (hours, minutes, result, is_retry, vms) in enumerate(runs):
        start = now - timedelta(hours=hours) + timedelta(microseconds=index * 107000)
        end = start + timedelta(minutes=minutes) if minutes is not None else None
        session = JobSession(stable_id(f"job-session/{job_id}/{index}"), job_id, start, end,
                             "Working" if end is None else "Stopped", result, 42 if end is None else 100, is_retry)
        tasks = []
        for position, (vm_name, vm_result, reason) in enumerate(vms):
            created = start + timedelta(seconds=47 * (position + 1))
            running = vm_result == "None"
            tasks.append(TaskSession(stable_id(f"task-session/{session.id}/{vm_name}"), session.id, vm_name, created,
                                     END_PLACEHOLDER if running else created + timedelta(minutes=3),
                                     "InProgress" if running else "Completed", vm_result, reason,
                                     (position + 3) * 10_737_418_240))
        yield session, tasks


def _bulk_jobs(count: int, repositories: list[Repository]) -> Iterable[Job]:
    """Generated jobs named and placed as the generated backups of the same index."""
    spread = itertools.cycle(repositories)
    for index in range(count):
        yield Job(bulk_job_id(index), f"Bulk Backup {index:05d}", next(spread).server_id)


def bulk_job_id(index: int) -> str:
    """Id of the ``index``-th generated job (0-based)."""
    return stable_id(f"bulk-job/{index}")


def bulk_job_result(index: int) -> str:
    """The result of the newest run of the ``index``-th generated job: every tenth Failed (index 3, 13, ...),
    every tenth Warning (7, 17, ...), the others Success; older runs succeeded."""
    return {3: "Failed", 7: "Warning"}.get(index % 10, "Success")


def _bulk_runs(count: int, per_job: int, vms: int, now: datetime) -> Iterable[tuple[str, tuple]]:
    """``per_job`` daily runs of each generated job, dated as the generated restore points; each run has
    ``vms`` tasks, the first VM failing in a Failed run."""
    for index in range(count):
        newest_age = 24 * (3 + index % 7) if index % 20 == 19 else 1 + index % 20
        runs = []
        for day in reversed(range(per_job)):
            result = bulk_job_result(index) if day == 0 else "Success"
            tasks = tuple((bulk_vm_name(index, vm), "Failed" if result == "Failed" and vm == 0 else "Success",
                           SNAPSHOT_REASON if result == "Failed" and vm == 0 else "") for vm in range(vms))
            runs.append((newest_age + 24 * day, 15, result, False, tasks))
        yield bulk_job_id(index), tuple(runs)


def build_dataset(bulk: int = 0, bulk_restore_points: int = 0, now: datetime | None = None,
                  hostile: bool = False, bulk_vms: int = 0, bulk_jobs: int = 0, bulk_job_sessions: int = 0,
                  bulk_job_vms: int = 2) -> DataSet:
    """The fixed data set plus ``bulk`` generated backups appended after it, each with
    ``bulk_restore_points`` restore points holding ``bulk_vms`` VMs each; dates count back
    from ``now`` (default: this moment, to the second). ``hostile`` adds the servers,
    repositories and backups of someone who can name things in EM (see HOSTILE_SERVERS).
    ``bulk_jobs`` generated jobs (named and placed as the generated backups) have
    ``bulk_job_sessions`` daily runs each, of ``bulk_job_vms`` tasks."""
    now = now or datetime.now(timezone.utc).replace(microsecond=0)
    servers, repositories, backups = _servers(), _repositories(), _backups()
    if hostile:
        servers += [BackupServer(server_id, name, description, 9392, "12.3.0.310")
                    for server_id, name, description in HOSTILE_SERVERS]
        repositories += [Repository(stable_id(f"hostile-repository/{server_id}"), HOSTILE_REPOSITORY_NAME, server_id,
                                    "WindowsLocal", 10_000_000_000_000, 500_000_000_000)
                         for server_id, _name, _description in HOSTILE_SERVERS]
        backups += [Backup(stable_id(f"hostile-backup/{server_id}"), HOSTILE_BACKUP_NAME, "VMware", "Standard", server_id,
                           stable_id(f"hostile-repository/{server_id}"))
                    for server_id, _name, _description in HOSTILE_SERVERS]
    backups_with_bulk = list(itertools.chain(backups, _bulk_backups(bulk, repositories)))
    points = list(itertools.chain(_restore_points(now), _bulk_restore_points(bulk, bulk_restore_points, now)))
    bulk_index = {bulk_backup_id(index): index for index in range(bulk)} if bulk_vms else {}
    platforms = {backup.id: backup.platform for backup in backups_with_bulk}

    def vms_of_backup(backup_id: str) -> Iterable[str]:
        if backup_id in bulk_index:
            return [bulk_vm_name(bulk_index[backup_id], vm) for vm in range(bulk_vms)]
        return _VMS_OF_BACKUP.get(backup_id, ())

    vm_points = _vm_restore_points(points, vms_of_backup, platforms.__getitem__)
    runs = itertools.chain(((job_id, _RUNS.get(job_id, ())) for job_id in (job.id for job in _jobs())),
                           _bulk_runs(bulk_jobs, bulk_job_sessions, bulk_job_vms, now))
    sessions, tasks = [], []
    for job_id, job_runs in runs:
        for session, session_tasks in _runs(job_id, job_runs, now):
            sessions.append(session)
            tasks.extend(session_tasks)
    jobs = itertools.chain(_jobs(), _bulk_jobs(bulk_jobs, repositories))
    return DataSet(servers, repositories, backups_with_bulk, points, now, vm_points, jobs, sessions, tasks)


# --- Someone who can name things in EM (build_dataset(hostile=True)) ----------------------
#: Files that the templates in the names below create in the working directory if run.
HOSTILE_MARKERS = ("veeam_em_pwned_by_server", "veeam_em_pwned_by_repository", "veeam_em_pwned_by_backup")
#: A server name that runs a command wherever it is templated.
HOSTILE_TEMPLATE_NAME = "{{ lookup('pipe', 'touch veeam_em_pwned_by_server; id -un') }}"
#: The name of a group that another inventory source defines, and of Ansible's own groups.
HOSTILE_GROUP_NAME = "backup"
#: Two servers share this name.
HOSTILE_TWIN_NAME = "twin.example.com"
HOSTILE_DESCRIPTION = "{{ 7*7 }}"
#: (id, name, description) of each hostile server.
HOSTILE_SERVERS = (
    ("0b8d6a55-7b1e-4c3a-9a8e-5f0d1c2b3a41", HOSTILE_TEMPLATE_NAME, HOSTILE_DESCRIPTION),
    ("1c9e7b66-8c2f-4d4b-8b9f-6a1e2d3c4b52", "all", "{% if true %}statement{% endif %}"),
    ("2daf8c77-9d30-4e5c-9ca0-7b2f3e4d5c63", "ungrouped", "{# comment #}"),
    ("3eb09d88-ae41-4f6d-8db1-8c304f5e6d74", HOSTILE_GROUP_NAME, HOSTILE_DESCRIPTION),
    ("4fc1ae99-bf52-4a7e-9ec2-9d41506f7e85", HOSTILE_TWIN_NAME, "first of two"),
    ("50d2bfaa-c063-4b8f-8fd3-ae5261708f96", HOSTILE_TWIN_NAME, "second of two"),
    ("61e3c0bb-d174-4c90-90e4-bf6372819fa7", "", "no name"),
)
HOSTILE_REPOSITORY_NAME = "{{ lookup('pipe', 'touch veeam_em_pwned_by_repository') }}"
HOSTILE_BACKUP_NAME = "{{ lookup('pipe', 'touch veeam_em_pwned_by_backup') }} {{ 7*7 }}"


#: Ids of the fixed (not generated) backups, for tests that go through all of them.
FIXED_BACKUP_IDS = frozenset(backup.id for backup in _backups())
