# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Quick Backup (``POST /api/backupServers/{ID}?action=quickbackup``), its tasks and job sessions.

EM answers the POST with a ``Task`` that belongs to the logon session that started it
(``GET /api/tasks/{ID}`` from any other session answers 500). The task is Running in the
POST's answer and Finished when next read: with ``Success="true"`` and a link to the job
session it started, or ``Success="false"`` and EM's message when EM refused the backup.
The job session is Working for a configurable time, then Stopped: Success with a new
restore point (and the VM's point in it) in the VM's backup, or Failed with the VM's task
``Reason``. Time is real: nothing runs in the background, a run's state is worked out
from the clock whenever the emulator serves a request (``advance``), which is also when a
finished run's restore point is added to the data set. ``reset`` undoes it all.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from .data import END_PLACEHOLDER, Backup, DataSet, Job, JobSession, RestorePoint, TaskSession, VmRestorePoint, stable_id

#: What a quick backup of a VM comes to: ``success`` (a new point), ``fail`` (the session
#: stops Failed with a reason) or ``refuse`` (EM finishes the task unsuccessfully).
OUTCOMES = ("success", "fail", "refuse")
DEFAULT_FAIL_REASON = 'Error: Failed to create VM snapshot. <vim.fault.TaskInProgress> "Another task is in progress" | {{ 7*7 }}'
DEFAULT_REFUSE_MESSAGE = "Quick backup of {vm} cannot start: the VM is already being processed by job {job}."
NO_TASK_MESSAGE = "There is no backup task with id [{task}] in current rest session"


@dataclass(frozen=True)
class Behaviour:
    """How the quick backups of one VM go."""

    outcome: str = "success"
    #: How long its job session runs; None: the emulator's default.
    seconds: float | None = None
    #: The task's message (refuse) or the task session's reason (fail); None: the default text.
    message: str | None = None


@dataclass
class QuickBackupRun:
    """One job session started by a quick backup, with its one task session (the VM's)."""

    id: str
    task_session_id: str
    vm_name: str
    vm_ref: str
    backup: Backup
    job: Job
    creation_time: datetime
    started: float  # the clock's time at the start
    seconds: float
    outcome: str
    reason: str
    #: The restore point it made, once Stopped with Success.
    restore_point: RestorePoint | None = None
    vm_restore_point: VmRestorePoint | None = None
    end_time: datetime | None = None

    def sessions(self) -> tuple[JobSession, list[TaskSession]]:
        """The job session and its task session as EM shows them now."""
        end = self.end_time
        session = JobSession(self.id, self.job.id, self.creation_time, end, "Stopped" if end else "Working",
                             self.result, 100 if end else 0, False)
        task = TaskSession(self.task_session_id, self.id, self.vm_name, self.creation_time, end or END_PLACEHOLDER,
                           "Completed" if end else "InProgress", self.result, self.reason if end else "",
                           1_073_741_824 if end and self.outcome == "success" else 0)
        return session, [task]

    @property
    def stopped(self) -> bool:
        return self.end_time is not None

    @property
    def result(self) -> str:
        """``None`` while it runs, as EM sends it."""
        if not self.stopped:
            return "None"
        return "Success" if self.outcome == "success" else "Failed"


@dataclass
class Task:
    """EM's asynchronous operation answering the POST; owned by one logon session."""

    id: str
    owner: str  # the SessionId of the logon session that started it
    run: QuickBackupRun | None
    #: EM's message when it refused the backup (the task then finishes unsuccessfully).
    refusal: str | None = None
    reads: int = field(default=0)

    @property
    def finished(self) -> bool:
        """Running in the POST's answer, Finished from the first read on."""
        return self.reads > 0


class QuickBackups:
    """The quick backups started while the emulator runs, and how they are to go."""

    def __init__(self, data: DataSet, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.data = data
        self.default_seconds = seconds
        self._clock = clock
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget every task, run and behaviour; take the points the runs made out of the data set."""
        with self._lock:
            self.behaviours: dict[str, Behaviour] = {}
            self.tasks: dict[str, Task] = {}
            self.runs: dict[str, QuickBackupRun] = {}
            self._numbers = itertools.count(1)
            self.data.forget_runs()

    def behave(self, vm_name: str, behaviour: Behaviour) -> None:
        if behaviour.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {behaviour.outcome!r}; known: {', '.join(OUTCOMES)}")
        with self._lock:
            self.behaviours[vm_name] = behaviour

    def start(self, server_id: str, vm_ref: str, owner: str) -> Task:
        """What ``POST /api/backupServers/{server_id}?action=quickbackup`` does: a Running task."""
        with self._lock:
            number = next(self._numbers)
            task = Task(f"task-{number}", owner, None)
            self.tasks[task.id] = task
            point = self._newest_point(server_id, vm_ref)
            if point is None:
                server = self.data.backup_servers[server_id].name
                task.refusal = f"Cannot find VM {vm_ref} in the jobs of backup server {server}."
                return task
            backup = self.data.backup_of_vm_point(point)
            job = self.data.job_of_backup(backup)
            if job is None:
                server = self.data.backup_servers[server_id].name
                task.refusal = f"VM {point.vm_name} is not processed by any job of backup server {server}."
                return task
            behaviour = self.behaviours.get(point.vm_name, Behaviour())
            if behaviour.outcome == "refuse":
                task.refusal = behaviour.message or DEFAULT_REFUSE_MESSAGE.format(vm=point.vm_name, job=job.name)
                return task
            now = datetime.now(timezone.utc)
            run = QuickBackupRun(
                stable_id(f"quick-backup-session/{number}/{now.isoformat()}"),
                stable_id(f"quick-backup-task-session/{number}/{now.isoformat()}"),
                point.vm_name, vm_ref, backup, job, now, self._clock(),
                self.default_seconds if behaviour.seconds is None else behaviour.seconds,
                behaviour.outcome, behaviour.message or DEFAULT_FAIL_REASON if behaviour.outcome == "fail" else "")
            self.runs[run.id] = run
            self.data.put_job_session(*run.sessions())
            task.run = run
            return task

    def read_task(self, task_id: str, reader: str) -> Task | None:
        """The task as ``GET /api/tasks/{ID}`` sees it from the logon session ``reader``; None for another's."""
        with self._lock:
            task = self.tasks.get(task_id)
            if task is None or task.owner != reader:
                return None
            task.reads += 1
            return task

    def advance(self) -> None:
        """Stop every run whose time is up; a successful one adds its restore point to the data set."""
        with self._lock:
            now = self._clock()
            for run in self.runs.values():
                if not run.stopped and now - run.started >= run.seconds:
                    self._stop(run)

    def _stop(self, run: QuickBackupRun) -> None:
        run.end_time = run.creation_time + timedelta(seconds=run.seconds)
        self.data.put_job_session(*run.sessions())
        if run.outcome != "success":
            return
        point = RestorePoint(stable_id(f"quick-backup-restore-point/{run.id}"), run.backup.id, run.end_time)
        vm_point = VmRestorePoint(stable_id(f"quick-backup-vm-restore-point/{run.id}"), point.id, run.vm_name,
                                  run.end_time + timedelta(milliseconds=10), "Incremental", "Increment", run.vm_ref)
        self.data.add_restore_point(point, [vm_point])
        run.restore_point, run.vm_restore_point = point, vm_point

    def _newest_point(self, server_id: str, vm_ref: str) -> VmRestorePoint | None:
        """The VM's newest point in a backup of that server: the job that protects it there."""
        points = [point for point in self.data.vm_restore_points.values()
                  if point.hierarchy_ref == vm_ref and self.data.backup_of_vm_point(point).server_id == server_id]
        return max(points, key=lambda point: point.creation_time, default=None)
