# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which jobs' last run went wrong, and why: findings over job sessions, for the filter and the report.

Private to veeam_em.rest: not a public API, may change without notice.

Pure functions, no I/O: the sessions of ``_sessions.job_sessions`` (or of the module or the
lookup) in, finding dicts out. A job is judged by its newest session among those given, so
that a failed run followed by a successful retry is no finding, and a failed retry is.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from ansible_collections.veeam_em.rest.plugins.module_utils._restore_points import point_date


class JobHealthError(ValueError):
    """The input is not the sessions of the module or the lookup; the message says what is wrong."""


def job_findings(sessions: Iterable[Any], results: Iterable[Any] = ("Failed",), kind: str = "failed_job") -> list[dict[str, Any]]:
    """One finding ``{kind, id, name, session, result, message}`` per job whose newest session has a result in
    ``results``, in the order of the sessions given (a job where its newest session is)."""
    wanted = _results(results)
    newest: dict[Any, tuple[int, dict[str, Any]]] = {}
    for position, session in enumerate(_sessions(sessions)):
        job = session["job"]
        key = job.get("id") or (job.get("name"), (session.get("backup_server") or {}).get("name"))
        if key not in newest or point_date(session, "creation_time_utc") > point_date(newest[key][1], "creation_time_utc"):
            newest[key] = (position, session)
    found = sorted(newest.values(), key=lambda pair: pair[0])
    return [_finding(session, kind) for _position, session in found if session.get("result") in wanted]


def session_message(session: dict[str, Any]) -> str:
    """What a job's run says: the job, its backup server, when it ran, its result and, when its tasks were read,
    each VM that did not succeed with EM's reason."""
    job = session["job"]
    server = (session.get("backup_server") or {}).get("name")
    retry = " (a retry)" if session.get("is_retry") else ""
    result = session.get("result") or "running"
    text = (f"job '{job.get('name')}' on {server or 'an unnamed backup server'}: {result} "
            f"in the run started {session.get('creation_time_utc')}{retry}")
    for task in session.get("tasks") or ():
        if task.get("result") != "Success":
            reason = task.get("reason")
            text += f"; {task.get('vm_name')}: {task.get('result') or 'running'}" + (f': "{reason}"' if reason else "")
    return text


def _finding(session: dict[str, Any], kind: str) -> dict[str, Any]:
    job = session["job"]
    return {"kind": kind, "id": job.get("id"), "name": job.get("name"), "session": session.get("id"),
            "result": session.get("result"), "message": session_message(session)}


def _sessions(sessions: Iterable[Any]) -> list[dict[str, Any]]:
    if isinstance(sessions, (str, bytes, dict)) or not isinstance(sessions, Iterable):
        raise JobHealthError(f"expected the list of sessions of veeam_em_backup_session_info or of the lookup, got {_type(sessions)}.")
    checked = []
    for index, session in enumerate(sessions):
        if not isinstance(session, dict) or not isinstance(session.get("job"), dict) or "result" not in session:
            raise JobHealthError(f"item {index} is no job session (a dict with job and result, as "
                                 f"veeam_em_backup_session_info returns them): {_type(session)}.")
        checked.append(session)
    return checked


def _results(results: Iterable[Any]) -> frozenset[Optional[str]]:
    if isinstance(results, str):
        results = [results]
    values = list(results) if isinstance(results, Iterable) else [results]
    if not values or not all(isinstance(value, str) for value in values):
        raise JobHealthError(f"results takes a list of EM's session results, such as ['Failed', 'Warning'], not {values!r}.")
    return frozenset(values)


def _type(value: Any) -> str:
    return "a dict" if isinstance(value, dict) else f"a {type(value).__name__}"
